"""Rotate a key: a form with an optional grace period, then the successor shown once.

The successor's secret is rendered straight from the POST that made it
(Cache-Control: no-store, nothing stored), with the dashboard's show-once
page. A one-time token in the form makes a double click or a resubmitted
POST rotate once, not twice: the second post gets no key and no secret.
"""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from apikeys import selectors, services
from apikeys.dashboard.access import ProjectAccess, project_admin_required
from apikeys.dashboard.actor import actor_of
from apikeys.dashboard.showonce import example_call
from apikeys.dashboard.views.projects import project_context
from apikeys.models import APIKey
from apikeys.reports.transition import old_key_until

TOKEN_PURPOSE = "rotate"  # services.token_claim: once, in the database, not the cache

GRACE_CHOICES = [
    ("", "None: the old key works until I deactivate it or it expires"),
    *((code, services.grace_label(code)) for code in services.GRACE_PERIODS),
]
# A key without an expiry never expires: its "None" choice must not say it might.
NO_GRACE_NO_EXPIRY = "None: the old key works until I deactivate it"


class RotateForm(forms.Form):
    grace = forms.ChoiceField(
        choices=GRACE_CHOICES,
        required=False,
        widget=forms.RadioSelect,
        label="Grace period for the old key",
    )
    token = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, key: APIKey, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        grace = self.fields["grace"]
        if key.expires_at is None and isinstance(grace, forms.ChoiceField):
            grace.choices = [("", NO_GRACE_NO_EXPIRY), *GRACE_CHOICES[1:]]


@never_cache
@require_http_methods(["GET", "POST"])
@project_admin_required
def key_rotate(request: HttpRequest, access: ProjectAccess, key_id: str) -> HttpResponse:
    try:
        key = selectors.get_key(access.project, key_id)
    except APIKey.DoesNotExist:
        raise Http404("No such key in this project.") from None

    if request.method == "GET":
        form = RotateForm(initial={"grace": "", "token": secrets.token_urlsafe(24)}, key=key)
        return _form_page(request, access, key, form)

    form = RotateForm(request.POST, key=key)
    if not form.is_valid():
        form = RotateForm(
            initial={"grace": request.POST.get("grace", ""), "token": secrets.token_urlsafe(24)},
            key=key,
        )
        return _form_page(request, access, key, form, status=422)
    if not services.token_claim(purpose=TOKEN_PURPOSE, token=form.cleaned_data["token"]):
        messages.warning(
            request,
            "This rotation was already submitted; its key was shown then and cannot be "
            "shown again. Rotate again if you did not save it.",
        )
        return redirect("apikeys:key-detail", slug=access.project.slug, key_id=key.key_id)

    grace_code = form.cleaned_data["grace"]
    grace = services.GRACE_PERIODS[grace_code] if grace_code else None
    try:
        successor, plaintext = services.key_rotate(key=key, actor=actor_of(request), grace=grace)
    except services.AlreadyRotatedError as error:
        # Rotated meanwhile (another tab, a colleague): the page now says what to rotate.
        services.token_release(purpose=TOKEN_PURPOSE, token=form.cleaned_data["token"])
        return _form_page(request, access, key, form, successor=error.successor, status=409)
    except (services.PolicyError, services.KeyInputError) as error:
        services.token_release(purpose=TOKEN_PURPOSE, token=form.cleaned_data["token"])
        form.add_error(None, str(error))
        return _form_page(request, access, key, form, status=422)

    key.refresh_from_db()  # the rotation set its rotated_at and grace end on another instance
    context = project_context(
        request,
        access,
        key=successor,
        plaintext=plaintext,
        rotated_from=key,
        old_key_until=old_key_until(key, timezone.now()),
        example_curl=example_call(successor.permissions).curl(request.build_absolute_uri("/")),
        permissions=successor.permission_objects(),
    )
    # never_cache adds Cache-Control: no-store; the secret lives in this body only.
    return render(request, "apikeys/key_rotated.html", context)


def _form_page(
    request: HttpRequest,
    access: ProjectAccess,
    key: APIKey,
    form: RotateForm,
    *,
    successor: APIKey | None = None,
    status: int = 200,
) -> HttpResponse:
    """The form, or, for a key that already has a working successor, a link to that
    successor instead (services.key_rotate would refuse it)."""
    project = access.project
    lifetime = services.default_lifetime(project)
    context = project_context(
        request,
        access,
        key=key,
        form=form,
        live_successor=successor or selectors.live_successor(key),
        successor_lifetime_days=lifetime.days if lifetime else None,
    )
    return render(request, "apikeys/key_rotate.html", context, status=status)
