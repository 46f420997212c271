"""The audit log page: filters, pagination, and the same filters exported as a stream."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from apikeys.dashboard.access import ProjectAccess, project_member_required
from apikeys.dashboard.templatetags.dashboard import parse_iso_datetime, utc
from apikeys.dashboard.views.projects import project_context
from apikeys.models import APIKey, AuditEvent
from apikeys.reports import exports as audit_export

PAGE_SIZE = 50


def describe_changes(changes: object) -> list[tuple[str, str]]:
    """``[(field, "before → after")]`` for an update, ``[(name, value)]`` otherwise."""
    if not isinstance(changes, dict):
        return [("details", _text(changes))] if changes else []
    described = []
    for field, change in changes.items():
        if isinstance(change, dict) and set(change) == {"before", "after"}:
            described.append((field, f"{_text(change['before'])} → {_text(change['after'])}"))
        else:
            described.append((field, _text(change)))
    return described


def _text(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value) or "none"
    moment = parse_iso_datetime(value)
    return utc(moment) if moment is not None else str(value)


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("", "Any action"), *AuditEvent.Action.choices], required=False, label="Action"
    )
    actor = forms.CharField(required=False, max_length=150, label="Actor (username)")
    key = forms.CharField(required=False, max_length=100, label="Key (id or name)")
    since = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError("“From” must be on or before “To”.")
        return data


def _filtered(
    request: HttpRequest, access: ProjectAccess
) -> tuple[AuditFilterForm, QuerySet[AuditEvent]]:
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        # A filter that cannot be read lists nothing: all events would pass for a result.
        return form, AuditEvent.objects.none()
    filters = form.cleaned_data
    events = audit_export.audit_events(
        access.project,
        action=filters.get("action", ""),
        actor=filters.get("actor", ""),
        key=filters.get("key", ""),
        since=filters.get("since"),
        until=filters.get("until"),
    )
    return form, events


def filter_errors(form: AuditFilterForm) -> list[str]:
    """Each error of the filters as one sentence, naming its field: “From: Enter a valid date.”"""
    if form.is_valid():
        return []
    sentences: list[str] = []
    for name, errors in form.errors.items():
        # The bound field's label, which Django derives from the name when the field
        # sets none: the field's own .label is then None ("None: Select a valid choice").
        prefix = "" if name == "__all__" else f"{form[name].label}: "
        sentences.extend(f"{prefix}{error}" for error in errors)
    return sentences


@require_GET
@vary_on_headers("HX-Request")
@project_member_required
def audit_log(request: HttpRequest, access: ProjectAccess) -> HttpResponse:
    form, events = _filtered(request, access)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(event, describe_changes(event.changes)) for event in page.object_list]
    # Key names link to the key while it exists; a deleted key's events keep its name.
    live_keys = set(
        APIKey.objects.filter(
            project=access.project, key_id__in={event.key_id for event, _ in rows if event.key_id}
        ).values_list("key_id", flat=True)
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = project_context(
        request,
        access,
        nav_section="audit",
        form=form,
        page=page,
        rows=rows,
        filter_query=query.urlencode(),
        filter_errors=filter_errors(form),
        live_keys=live_keys,
    )
    template = "apikeys/audit_log.html"
    if getattr(request, "htmx", False):
        template += "#audit-results"
    return render(request, template, context)


@require_GET
@project_member_required  # type: ignore[arg-type]  # a streamed answer, not HttpResponse
def audit_export_view(
    request: HttpRequest, access: ProjectAccess, fmt: str
) -> StreamingHttpResponse:
    form, events = _filtered(request, access)
    if not form.is_valid():
        errors = " ".join(filter_errors(form))
        return HttpResponseBadRequest(  # type: ignore[return-value]
            f"These filters cannot be exported: {errors}\n", content_type="text/plain"
        )
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    filename = f"audit-{access.project.slug}-{stamp}.{fmt}"
    if fmt == "csv":
        return audit_export.export_csv(events, filename=filename)
    return audit_export.export_json(events, filename=filename)
