"""Key list, key detail and the actions on one key.

Each action works three ways: htmx loads a confirmation panel into the page
and swaps the page's key section with the answer; without JavaScript the same
links open a confirmation page whose form posts normally and redirects.
From a row of the key list (htmx targets ``#key-<id>``) the confirmation opens
in a row below it and the answer is the row itself, swapped in place.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget

from apikeys import selectors, services
from apikeys.conf import apikeys_settings
from apikeys.dashboard.access import ProjectAccess, project_admin_required, project_member_required
from apikeys.dashboard.actor import actor_of
from apikeys.dashboard.forms import DeleteKeyForm, EditKeyForm
from apikeys.dashboard.views.projects import project_context
from apikeys.models import APIKey
from apikeys.permissions import registry


def _partial_wanted(request: HttpRequest) -> bool:
    # A history restore asks for the whole page: htmx found no snapshot to show.
    htmx = getattr(request, "htmx", None)
    if not htmx:
        return False
    return not htmx.history_restore_request and not htmx.boosted


def _row_wanted(request: HttpRequest, key: APIKey) -> bool:
    """Whether htmx asks from the key's row in the list (its id is the target)."""
    htmx = getattr(request, "htmx", None)
    return _partial_wanted(request) and htmx is not None and htmx.target == f"key-{key.key_id}"


def _key_or_404(access: ProjectAccess, key_id: str) -> APIKey:
    try:
        return selectors.get_key(access.project, key_id)
    except APIKey.DoesNotExist:
        raise Http404("No such key in this project.") from None


@require_GET
@vary_on_headers("HX-Request")
@project_member_required
def key_list(request: HttpRequest, access: ProjectAccess) -> HttpResponse:
    params = selectors.KeyListParams.from_query(request.GET)
    listing = selectors.key_list(access.project, params)
    context = project_context(
        request,
        access,
        listing=listing,
        summary=listing.summary,
        params=params,
        highlight=request.GET.get("highlight", ""),
        status_choices=selectors.STATUS_CHOICES,
        flag_choices=selectors.FLAG_CHOICES,
        permissions=registry.permissions,
        sort_links=_sort_links(params),
        prev_query=params.query(page=str(listing.page.number - 1)),
        next_query=params.query(page=str(listing.page.number + 1)),
    )
    template = "apikeys/key_list.html"
    if _partial_wanted(request):
        context["oob"] = True
        response = render(request, template + "#key-table", context)
        # Push the cleaned URL (no empty fields), so bookmarks and Back stay tidy.
        query = params.query()
        response["HX-Push-Url"] = request.path + (f"?{query}" if query else "")
        return response
    return render(request, template, context)


SORT_COLUMNS = [
    ("name", "Name"),
    ("created", "Created"),
    ("last_used", "Last used"),
    ("expires", "Expires"),
]


def _sort_links(params: selectors.KeyListParams) -> list[dict[str, object]]:
    """Each sortable column's link: a click sorts by it, a second click reverses."""
    links = []
    for column, label in SORT_COLUMNS:
        active = params.sort.lstrip("-") == column
        descending = params.sort.startswith("-")
        if active:
            next_sort = column if descending else f"-{column}"
        else:
            next_sort = column if column == "name" else f"-{column}"
        links.append(
            {
                "label": label,
                "active": active,
                "aria_sort": ("descending" if descending else "ascending") if active else "none",
                "query": params.query(sort=next_sort, page=""),
            }
        )
    return links


def _detail_context(
    request: HttpRequest, access: ProjectAccess, key_id: str, **extra: object
) -> dict[str, object]:
    try:
        detail = selectors.key_detail(access.project, key_id)
    except APIKey.DoesNotExist:
        raise Http404("No such key in this project.") from None
    return project_context(
        request,
        access,
        detail=detail,
        key=detail.key,
        # Usage is written once a window per process (SPEC §5): the page says so.
        usage_delay_seconds=apikeys_settings.USAGE_RESOLUTION,
        **extra,
    )


@require_GET
@vary_on_headers("HX-Request")
@project_member_required
def key_detail(request: HttpRequest, access: ProjectAccess, key_id: str) -> HttpResponse:
    template = "apikeys/key_detail.html"
    if _partial_wanted(request):
        template += "#key-section"
    return render(request, template, _detail_context(request, access, key_id))


def _after_action(
    request: HttpRequest, access: ProjectAccess, key: APIKey, notice: str, *, error: bool = False
) -> HttpResponse:
    """htmx: the key section (or the list row) again, with the notice in it; otherwise
    redirect with a message."""
    if _row_wanted(request, key):
        return _after_row_action(request, access, key.key_id, notice, error=error)
    if _partial_wanted(request):
        context = _detail_context(request, access, key.key_id, notice=notice, notice_error=error)
        return render(request, "apikeys/key_detail.html#key-section", context)
    (messages.error if error else messages.success)(request, notice)
    return redirect("apikeys:key-detail", slug=access.project.slug, key_id=key.key_id)


def _after_row_action(
    request: HttpRequest,
    access: ProjectAccess,
    key_id: str,
    notice: str,
    *,
    error: bool = False,
    deleted: bool = False,
) -> HttpResponse:
    """The key's row again (none after a delete); out of band its confirmation row gone,
    the notice, the summary and the count under the filters of the page (htmx's URL)."""
    now = timezone.now()
    current = request.headers.get("HX-Current-URL")
    params = selectors.KeyListParams.from_url(current) if current else None
    count = selectors.filtered_keys(access.project, params, now=now).count() if params else None
    context = project_context(
        request,
        access,
        row=None if deleted else selectors.key_row(access.project, key_id, now=now),
        key_id=key_id,
        summary=selectors.key_summary(access.project, now=now),
        oob_summary=True,
        params=params,
        count=count,
        oob_count=True,
        notice=notice,
        notice_error=error,
        # Focus stays on the row; with the row gone, on the message saying so.
        swap_focus="status" if deleted else "row",
    )
    return render(request, "apikeys/key_list.html#row-response", context)


def _confirm(
    request: HttpRequest,
    access: ProjectAccess,
    key: APIKey,
    *,
    action: str,
    form: DeleteKeyForm | None = None,
) -> HttpResponse:
    context = project_context(request, access, key=key, action=action, form=form)
    if _row_wanted(request, key):
        context["hx_target"] = f"#key-{key.key_id}"
        return render(request, "apikeys/key_list.html#confirm-row", context)
    template = "apikeys/key_confirm.html"
    if _partial_wanted(request):
        template += "#confirm-panel"
    else:
        # A page of its own (a new tab, a bookmark): there is no key section to swap,
        # so the form posts normally and the answer is the key's page.
        context["standalone"] = True
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
@project_admin_required
def key_deactivate(request: HttpRequest, access: ProjectAccess, key_id: str) -> HttpResponse:
    key = _key_or_404(access, key_id)
    if request.method == "GET":
        return _confirm(request, access, key, action="deactivate")
    key = services.key_deactivate(key=key, actor=actor_of(request))
    return _after_action(
        request, access, key, f"Key “{key.name}” is deactivated; the API refuses it from now on."
    )


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
@project_admin_required
def key_reactivate(request: HttpRequest, access: ProjectAccess, key_id: str) -> HttpResponse:
    key = _key_or_404(access, key_id)
    if request.method == "GET":
        return _confirm(request, access, key, action="reactivate")
    try:
        key = services.key_reactivate(key=key, actor=actor_of(request))
    except services.PolicyError as error:
        return _after_action(request, access, key, str(error), error=True)
    return _after_action(request, access, key, f"Key “{key.name}” is active again.")


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
@project_admin_required
def key_delete(request: HttpRequest, access: ProjectAccess, key_id: str) -> HttpResponse:
    key = _key_or_404(access, key_id)
    require_name = selectors.used_recently(key, timezone.now())
    if request.method == "GET":
        form = DeleteKeyForm(key=key, require_name=require_name)
        return _confirm(request, access, key, action="delete", form=form)
    form = DeleteKeyForm(request.POST, key=key, require_name=require_name)
    if not form.is_valid():
        response = _confirm(request, access, key, action="delete", form=form)
        if _row_wanted(request, key):
            return reswap(retarget(response, f"#confirm-{key.key_id}"), "outerHTML")
        return _form_errors(response, request)
    name, key_id, from_row = key.name, key.key_id, _row_wanted(request, key)
    services.key_delete(key=key, actor=actor_of(request))
    notice = f"Key “{name}” is deleted; the API refuses it from now on."
    if from_row:
        return _after_row_action(request, access, key_id, notice, deleted=True)
    messages.success(request, notice)
    list_url = reverse("apikeys:key-list", kwargs={"slug": access.project.slug})
    if _partial_wanted(request):
        return HttpResponseClientRedirect(list_url)
    return redirect(list_url)


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
@project_admin_required
def key_edit(request: HttpRequest, access: ProjectAccess, key_id: str) -> HttpResponse:
    key = _key_or_404(access, key_id)
    form = EditKeyForm(request.POST or None, key=key)
    if request.method == "POST" and form.is_valid():
        try:
            key = services.key_update(
                key=key,
                actor=actor_of(request),
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                permissions=form.cleaned_data["permissions"],
                allowed_ips=form.cleaned_data["allowed_ips"],
            )
        except services.KeyInputError as error:
            form.add_error("name", str(error))
        else:
            return _after_action(request, access, key, f"Key “{key.name}” is saved.")
    template = "apikeys/key_edit.html"
    standalone = not _partial_wanted(request)
    if not standalone:
        template += "#edit-panel"
    context = project_context(
        request, access, key=key, form=form, permissions=registry.permissions, standalone=standalone
    )
    response = render(request, template, context)
    return _form_errors(response, request) if form.errors else response


def _form_errors(response: HttpResponse, request: HttpRequest) -> HttpResponse:
    """A form with errors: 422 for a plain post; for htmx (which swaps only 2xx) a 200
    that goes back into the action panel instead of replacing the key section."""
    if _partial_wanted(request):
        return reswap(retarget(response, "#action-panel"), "innerHTML")
    response.status_code = 422
    return response
