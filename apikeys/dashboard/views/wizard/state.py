"""The wizard's state in the session, what was typed on each step, and where the wizard
sends the admin (the next open step, or the list when the wizard is over).

The state lives in the session under a random wizard id and holds only what the
admin typed: name, description, permissions, expiry choice (never a secret).
"""

from __future__ import annotations

from typing import Any

from django import forms as django_forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect

from apikeys.dashboard.access import ProjectAccess

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


def _wizards(request: HttpRequest) -> dict[str, Any]:
    return dict(request.session.get(SESSION_KEY, {}))


def load_state(
    request: HttpRequest, access: ProjectAccess, wizard_id: str
) -> dict[str, Any] | None:
    state = _wizards(request).get(wizard_id)
    if state is None or state.get("project") != access.project.slug:
        return None
    return state


def store_state(request: HttpRequest, wizard_id: str, state: dict[str, Any]) -> None:
    wizards = _wizards(request)
    wizards[wizard_id] = state
    while len(wizards) > MAX_OPEN_WIZARDS:
        wizards.pop(next(iter(wizards)))
    request.session[SESSION_KEY] = wizards


def discard_state(request: HttpRequest, wizard_id: str) -> None:
    wizards = _wizards(request)
    wizards.pop(wizard_id, None)
    request.session[SESSION_KEY] = wizards


def typed_values(post: QueryDict) -> dict[str, list[str]]:
    """What was typed on a step, without the CSRF token or the button pressed."""
    return {k: post.getlist(k) for k in post if k not in ("csrfmiddlewaretoken", "action")}


def as_querydict(values: dict[str, list[str]]) -> QueryDict:
    data = QueryDict(mutable=True)
    for name, items in values.items():
        data.setlist(name, items)
    return data


def initial_values(
    form_class: type[django_forms.Form], values: dict[str, list[str]]
) -> dict[str, Any]:
    """Typed values as a form's initial data: lists for multi-choice fields, else strings."""
    initial: dict[str, Any] = {}
    for name, field in form_class.base_fields.items():
        if name in values:
            multiple = isinstance(field, django_forms.MultipleChoiceField)
            initial[name] = values[name] if multiple else (values[name] or [""])[0]
    return initial


def first_open_step(state: dict[str, Any]) -> str:
    for step in STEPS[:-1]:
        if step not in state["done"]:
            return step
    return "review"


def redirect_to_step(access: ProjectAccess, wizard_id: str, step: str) -> HttpResponse:
    return redirect(
        "apikeys:key-new-step", slug=access.project.slug, wizard_id=wizard_id, step=step
    )


def already_finished(access: ProjectAccess, request: HttpRequest) -> HttpResponse:
    messages.info(
        request,
        "That key wizard has already finished: the key was created and its secret shown "
        "once. If the secret was not saved, delete the key and create another.",
    )
    return redirect("apikeys:key-list", slug=access.project.slug)


def not_open(access: ProjectAccess, request: HttpRequest) -> HttpResponse:
    """A wizard id this session never opened (made up, mistyped, or from a session
    that ended): nothing was created from it, so say that and offer a new one."""
    messages.warning(
        request,
        "That key wizard is not open: the link is wrong, or the wizard was started in a "
        "session that has ended. No key was created from it; start again with "
        "“Create API key”.",
    )
    return redirect("apikeys:key-list", slug=access.project.slug)
