"""Step 4: review the choices and create the key, then show its secret once.

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

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apikeys import services
from apikeys.dashboard.access import ProjectAccess
from apikeys.dashboard.actor import actor_of
from apikeys.dashboard.forms import DetailsForm, ExpirationForm, PermissionsForm
from apikeys.dashboard.showonce import example_call
from apikeys.dashboard.views.projects import project_context
from apikeys.dashboard.views.wizard.state import (
    TOKEN_PURPOSE,
    already_finished,
    as_querydict,
    discard_state,
    redirect_to_step,
    store_state,
)
from apikeys.permissions import registry


def review_summary(access: ProjectAccess, state: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The wizard's choices as the review step shows them (and as create uses them)."""
    values = state["values"]
    details = DetailsForm(project=access.project, data=as_querydict(values.get("details", {})))
    perms = PermissionsForm(data=as_querydict(values.get("permissions", {})))
    expiry = ExpirationForm(
        project=access.project, now=now, data=as_querydict(values.get("expiration", {}))
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


def create_key(
    request: HttpRequest,
    access: ProjectAccess,
    wizard_id: str,
    state: dict[str, Any],
    now: datetime,
) -> HttpResponse:
    summary = review_summary(access, state, now)
    if summary["invalid"]:
        state["invalid"] = summary["invalid"]
        store_state(request, wizard_id, state)
        messages.error(request, "Something changed since you filled this in; check this step.")
        return redirect_to_step(access, wizard_id, summary["invalid"])

    # Consume the single-use wizard token before creating anything.
    discard_state(request, wizard_id)
    request.session.save()
    if not services.token_claim(purpose=TOKEN_PURPOSE, token=wizard_id):
        return already_finished(access, request)

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
        store_state(request, wizard_id, state)
        messages.error(request, str(error))
        return redirect_to_step(access, wizard_id, failed_step)

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
