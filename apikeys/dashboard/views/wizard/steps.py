"""Steps 1-3 (details, permissions, expiration): each validated on the server, Back
keeping what was typed, a step further on reachable only once those before are done."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from django import forms as django_forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from apikeys import services
from apikeys.dashboard.access import ProjectAccess, project_admin_required
from apikeys.dashboard.forms import (
    EXPIRY_DATE,
    DetailsForm,
    ExpirationForm,
    PermissionsForm,
)
from apikeys.dashboard.views.projects import project_context
from apikeys.dashboard.views.wizard.review import create_key, review_summary
from apikeys.dashboard.views.wizard.state import (
    STEP_TITLES,
    STEPS,
    TOKEN_PURPOSE,
    already_finished,
    as_querydict,
    first_open_step,
    initial_values,
    load_state,
    not_open,
    redirect_to_step,
    store_state,
    typed_values,
)
from apikeys.permissions import registry


def _form(step: str, access: ProjectAccess, now: datetime, **kwargs: Any) -> django_forms.Form:
    if step == "details":
        return DetailsForm(project=access.project, **kwargs)
    if step == "permissions":
        return PermissionsForm(**kwargs)
    return ExpirationForm(project=access.project, now=now, **kwargs)


@require_GET
@never_cache
@project_admin_required
def wizard_start(request: HttpRequest, access: ProjectAccess) -> HttpResponse:
    wizard_id = secrets.token_urlsafe(16)
    store_state(
        request,
        wizard_id,
        {"project": access.project.slug, "values": {}, "drafts": {}, "done": [], "invalid": ""},
    )
    return redirect_to_step(access, wizard_id, "details")


@require_http_methods(["GET", "POST"])
@never_cache
@project_admin_required
def wizard_step(
    request: HttpRequest, access: ProjectAccess, wizard_id: str, step: str
) -> HttpResponse:
    if step not in STEPS:
        raise Http404("No such wizard step.")
    state = load_state(request, access, wizard_id)
    if state is None:
        if services.token_is_used(purpose=TOKEN_PURPOSE, token=wizard_id):
            return already_finished(access, request)
        return not_open(access, request)
    now = timezone.now()
    open_step = first_open_step(state)
    if STEPS.index(step) > STEPS.index(open_step):
        return redirect_to_step(access, wizard_id, open_step)

    if request.method == "POST" and request.POST.get("action") == "back":
        if step != "review":
            state["drafts"][step] = typed_values(request.POST)
            store_state(request, wizard_id, state)
        return redirect_to_step(access, wizard_id, STEPS[max(STEPS.index(step) - 1, 0)])

    if step == "review":
        if request.method == "POST":
            return create_key(request, access, wizard_id, state, now)
        return _render(request, access, wizard_id, state, step, None, now)

    if request.method == "POST":
        form = _form(step, access, now, data=request.POST)
        if form.is_valid():
            state["values"][step] = typed_values(request.POST)
            state["drafts"].pop(step, None)
            if step not in state["done"]:
                state["done"].append(step)
            if state.get("invalid") == step:
                state["invalid"] = ""
            store_state(request, wizard_id, state)
            return redirect_to_step(access, wizard_id, STEPS[STEPS.index(step) + 1])
        return _render(request, access, wizard_id, state, step, form, now, status=422)

    values = state["drafts"].get(step) or state["values"].get(step) or {}
    if state.get("invalid") == step and values:
        # Sent back here by a failed create: show the error beside the field.
        form = _form(step, access, now, data=as_querydict(values))
        form.is_valid()
    else:
        form = _form(
            step, access, now, initial=initial_values(type(_form(step, access, now)), values)
        )
    return _render(request, access, wizard_id, state, step, form, now)


def _render(
    request: HttpRequest,
    access: ProjectAccess,
    wizard_id: str,
    state: dict[str, Any],
    step: str,
    form: django_forms.Form | None,
    now: datetime,
    status: int = 200,
) -> HttpResponse:
    index = STEPS.index(step)
    context = project_context(
        request,
        access,
        wizard_id=wizard_id,
        step=step,
        step_number=index + 1,
        step_title=STEP_TITLES[step],
        steps=[
            {
                "slug": s,
                "number": i + 1,
                "title": STEP_TITLES[s],
                "current": s == step,
                "done": s in state["done"],
                "reachable": i <= STEPS.index(first_open_step(state)),
            }
            for i, s in enumerate(STEPS)
        ],
        form=form,
        presets=registry.presets,
        permissions=registry.permissions,
        expiry_date_choice=EXPIRY_DATE,
        now=now,
    )
    if step == "review":
        summary = review_summary(access, state, now)
        if summary["invalid"]:
            state["invalid"] = summary["invalid"]
            store_state(request, wizard_id, state)
            return redirect_to_step(access, wizard_id, summary["invalid"])
        context["summary"] = summary
    if isinstance(form, ExpirationForm):
        context["choice_dates"] = form.choice_dates()
    return render(request, "apikeys/key_wizard.html", context, status=status)
