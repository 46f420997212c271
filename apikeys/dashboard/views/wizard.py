"""The four-step key wizard and the page that shows a new key once.

Security model of the show-once page (all must hold):

* The wizard's state lives in the session under a random wizard id, and holds
  only what the admin typed: name, description, permissions, expiry choice.
* The plaintext exists only in the return value of ``services.key_create`` and
  in the body of the POST response that created it; that response carries
  ``Cache-Control: no-store``. Nothing writes it to the session, the messages
  framework, a cookie, the cache or the database.
* The wizard id is a single-use token: the create POST removes the state from
  the session (saved at once) and claims the id in the database
  (``services.token_claim``: one INSERT on a unique column, no cache involved),
  so a double click, a resubmit or Back + submit creates no second key and
  shows no secret. The unique (project, name) constraint is the last line.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from django import forms as django_forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from apikeys import services
from apikeys.dashboard.access import ProjectAccess, project_admin_required
from apikeys.dashboard.actor import actor_of
from apikeys.dashboard.forms import (
    EXPIRY_DATE,
    DetailsForm,
    ExpirationForm,
    PermissionsForm,
)
from apikeys.dashboard.showonce import example_call
from apikeys.dashboard.views.projects import project_context
from apikeys.permissions import registry

STEPS = ("details", "permissions", "expiration", "review")
STEP_TITLES = {
    "details": "Details",
    "permissions": "Permissions",
    "expiration": "Expiration",
    "review": "Review and create",
}
SESSION_KEY = "apikeys.wizards"
MAX_OPEN_WIZARDS = 5  # per session; the oldest is dropped
TOKEN_PURPOSE = "wizard"


# --- State in the session ---------------------------------------------------


def _wizards(request: HttpRequest) -> dict[str, Any]:
    return dict(request.session.get(SESSION_KEY, {}))


def _load(request: HttpRequest, access: ProjectAccess, wizard_id: str) -> dict[str, Any] | None:
    state = _wizards(request).get(wizard_id)
    if state is None or state.get("project") != access.project.slug:
        return None
    return state


def _store(request: HttpRequest, wizard_id: str, state: dict[str, Any]) -> None:
    wizards = _wizards(request)
    wizards[wizard_id] = state
    while len(wizards) > MAX_OPEN_WIZARDS:
        wizards.pop(next(iter(wizards)))
    request.session[SESSION_KEY] = wizards


def _discard(request: HttpRequest, wizard_id: str) -> None:
    wizards = _wizards(request)
    wizards.pop(wizard_id, None)
    request.session[SESSION_KEY] = wizards


def _raw(post: QueryDict) -> dict[str, list[str]]:
    """What was typed on a step, without the CSRF token or the button pressed."""
    return {k: post.getlist(k) for k in post if k not in ("csrfmiddlewaretoken", "action")}


def _as_querydict(values: dict[str, list[str]]) -> QueryDict:
    data = QueryDict(mutable=True)
    for name, items in values.items():
        data.setlist(name, items)
    return data


def _initial(form_class: type[django_forms.Form], values: dict[str, list[str]]) -> dict[str, Any]:
    """Typed values as a form's initial data: lists for multi-choice fields, else strings."""
    initial: dict[str, Any] = {}
    for name, field in form_class.base_fields.items():
        if name in values:
            multiple = isinstance(field, django_forms.MultipleChoiceField)
            initial[name] = values[name] if multiple else (values[name] or [""])[0]
    return initial


def _form(step: str, access: ProjectAccess, now: datetime, **kwargs: Any) -> django_forms.Form:
    if step == "details":
        return DetailsForm(project=access.project, **kwargs)
    if step == "permissions":
        return PermissionsForm(**kwargs)
    return ExpirationForm(project=access.project, now=now, **kwargs)


def _first_open_step(state: dict[str, Any]) -> str:
    for step in STEPS[:-1]:
        if step not in state["done"]:
            return step
    return "review"


def _redirect_step(access: ProjectAccess, wizard_id: str, step: str) -> HttpResponse:
    return redirect(
        "apikeys:key-new-step", slug=access.project.slug, wizard_id=wizard_id, step=step
    )


def _finished(access: ProjectAccess, request: HttpRequest) -> HttpResponse:
    messages.info(
        request,
        "That key wizard has already finished: the key was created and its secret shown "
        "once. If the secret was not saved, delete the key and create another.",
    )
    return redirect("apikeys:key-list", slug=access.project.slug)


def _not_open(access: ProjectAccess, request: HttpRequest) -> HttpResponse:
    """A wizard id this session never opened (made up, mistyped, or from a session
    that ended): nothing was created from it, so say that and offer a new one."""
    messages.warning(
        request,
        "That key wizard is not open: the link is wrong, or the wizard was started in a "
        "session that has ended. No key was created from it; start again with "
        "“Create API key”.",
    )
    return redirect("apikeys:key-list", slug=access.project.slug)


# --- Views ------------------------------------------------------------------


@require_GET
@never_cache
@project_admin_required
def wizard_start(request: HttpRequest, access: ProjectAccess) -> HttpResponse:
    wizard_id = secrets.token_urlsafe(16)
    _store(
        request,
        wizard_id,
        {"project": access.project.slug, "values": {}, "drafts": {}, "done": [], "invalid": ""},
    )
    return _redirect_step(access, wizard_id, "details")


@require_http_methods(["GET", "POST"])
@never_cache
@project_admin_required
def wizard_step(
    request: HttpRequest, access: ProjectAccess, wizard_id: str, step: str
) -> HttpResponse:
    if step not in STEPS:
        raise Http404("No such wizard step.")
    state = _load(request, access, wizard_id)
    if state is None:
        if services.token_is_used(purpose=TOKEN_PURPOSE, token=wizard_id):
            return _finished(access, request)
        return _not_open(access, request)
    now = timezone.now()
    open_step = _first_open_step(state)
    if STEPS.index(step) > STEPS.index(open_step):
        return _redirect_step(access, wizard_id, open_step)

    if request.method == "POST" and request.POST.get("action") == "back":
        if step != "review":
            state["drafts"][step] = _raw(request.POST)
            _store(request, wizard_id, state)
        return _redirect_step(access, wizard_id, STEPS[max(STEPS.index(step) - 1, 0)])

    if step == "review":
        if request.method == "POST":
            return _create(request, access, wizard_id, state, now)
        return _render(request, access, wizard_id, state, step, None, now)

    if request.method == "POST":
        form = _form(step, access, now, data=request.POST)
        if form.is_valid():
            state["values"][step] = _raw(request.POST)
            state["drafts"].pop(step, None)
            if step not in state["done"]:
                state["done"].append(step)
            if state.get("invalid") == step:
                state["invalid"] = ""
            _store(request, wizard_id, state)
            return _redirect_step(access, wizard_id, STEPS[STEPS.index(step) + 1])
        return _render(request, access, wizard_id, state, step, form, now, status=422)

    values = state["drafts"].get(step) or state["values"].get(step) or {}
    if state.get("invalid") == step and values:
        # Sent back here by a failed create: show the error beside the field.
        form = _form(step, access, now, data=_as_querydict(values))
        form.is_valid()
    else:
        form = _form(step, access, now, initial=_initial(type(_form(step, access, now)), values))
    return _render(request, access, wizard_id, state, step, form, now)


def _summary(access: ProjectAccess, state: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The wizard's choices as the review step shows them (and as create uses them)."""
    values = state["values"]
    details = DetailsForm(project=access.project, data=_as_querydict(values.get("details", {})))
    perms = PermissionsForm(data=_as_querydict(values.get("permissions", {})))
    expiry = ExpirationForm(
        project=access.project, now=now, data=_as_querydict(values.get("expiration", {}))
    )
    invalid = [
        name
        for name, form in (("details", details), ("permissions", perms), ("expiration", expiry))
        if not form.is_valid()
    ]
    if invalid:
        return {"invalid": invalid[0]}
    preset = perms.cleaned_data["preset"]
    return {
        "invalid": "",
        "name": details.cleaned_data["name"],
        "description": details.cleaned_data["description"],
        "preset": registry.presets.get(preset),
        "permissions": [registry.permissions[c] for c in perms.cleaned_data["permissions"]],
        "permission_codes": list(perms.cleaned_data["permissions"]),
        "expiry": expiry.cleaned_data["expiry"],
        "expires_at": expiry.cleaned_data["expires_at"],
        "allowed_ips": expiry.cleaned_data["allowed_ips"],
    }


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
                "reachable": i <= STEPS.index(_first_open_step(state)),
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
        summary = _summary(access, state, now)
        if summary["invalid"]:
            state["invalid"] = summary["invalid"]
            _store(request, wizard_id, state)
            return _redirect_step(access, wizard_id, summary["invalid"])
        context["summary"] = summary
    if isinstance(form, ExpirationForm):
        context["choice_dates"] = form.choice_dates()
    return render(request, "apikeys/key_wizard.html", context, status=status)


def _create(
    request: HttpRequest,
    access: ProjectAccess,
    wizard_id: str,
    state: dict[str, Any],
    now: datetime,
) -> HttpResponse:
    summary = _summary(access, state, now)
    if summary["invalid"]:
        state["invalid"] = summary["invalid"]
        _store(request, wizard_id, state)
        messages.error(request, "Something changed since you filled this in; check this step.")
        return _redirect_step(access, wizard_id, summary["invalid"])

    # Consume the single-use wizard token before creating anything.
    _discard(request, wizard_id)
    request.session.save()
    if not services.token_claim(purpose=TOKEN_PURPOSE, token=wizard_id):
        return _finished(access, request)

    # The expiration form computed the date at this request's ``now``.
    expires_at = summary["expires_at"]
    try:
        key, plaintext = services.key_create(
            project=access.project,
            name=summary["name"],
            description=summary["description"],
            permissions=summary["permission_codes"],
            expires_at=expires_at,
            allowed_ips=summary["allowed_ips"],
            actor=actor_of(request),
            now=now,
        )
    except (services.KeyInputError, services.PolicyError) as error:
        # Nothing was created: give the wizard back so the admin can fix the step.
        services.token_release(purpose=TOKEN_PURPOSE, token=wizard_id)
        failed_step = "details" if isinstance(error, services.KeyInputError) else "expiration"
        state["invalid"] = failed_step
        _store(request, wizard_id, state)
        messages.error(request, str(error))
        return _redirect_step(access, wizard_id, failed_step)

    context = project_context(
        request,
        access,
        key=key,
        plaintext=plaintext,
        example_curl=example_call(summary["permission_codes"]).curl(
            request.build_absolute_uri("/")
        ),
        permissions=summary["permissions"],
    )
    # never_cache on the view adds Cache-Control: no-store to this response.
    return render(request, "apikeys/key_created.html", context)
