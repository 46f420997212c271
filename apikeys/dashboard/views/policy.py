"""The project's settings: key policy and members. Admins change; auditors read.

Every change goes through apikeys.services, so each one leaves an audit event;
the services keep the last admin (services.LastAdminError), this page says why.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from apikeys import services
from apikeys.dashboard.access import ProjectAccess, project_admin_required, project_member_required
from apikeys.dashboard.actor import actor_of
from apikeys.dashboard.views.projects import project_context
from apikeys.models import Membership

MAX_DAYS = 3650


class PolicyForm(forms.Form):
    max_key_lifetime_days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_DAYS,
        label="Maximum key lifetime (days)",
        help_text="Empty: keys may live for ever (unless an expiry is required).",
    )
    expiry_required = forms.BooleanField(
        required=False,
        label="Every key must have an expiry date",
    )
    stale_threshold_days = forms.IntegerField(
        min_value=1,
        max_value=MAX_DAYS,
        label="Stale after (days unused)",
        help_text="An active key unused this long is flagged Stale (CIS AWS benchmark: 45).",
    )


class MemberAddForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.AUDITOR)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices)


def _page(
    request: HttpRequest,
    access: ProjectAccess,
    *,
    policy_form: PolicyForm | None = None,
    member_form: MemberAddForm | None = None,
    status: int = 200,
) -> HttpResponse:
    project = access.project
    if policy_form is None:
        policy_form = PolicyForm(
            initial={
                "max_key_lifetime_days": project.max_key_lifetime_days,
                "expiry_required": project.expiry_required,
                "stale_threshold_days": project.stale_threshold_days,
            }
        )
    if not access.can_manage:
        for field in policy_form.fields.values():
            field.disabled = True
    members = (
        Membership.objects.filter(project=project)
        .select_related("user")
        .order_by("role", "user__username")
    )
    context = project_context(
        request,
        access,
        nav_section="settings",
        policy_form=policy_form,
        member_form=member_form or MemberAddForm(),
        members=members,
        roles=Membership.Role.choices,
    )
    return render(request, "apikeys/settings.html", context, status=status)


@require_http_methods(["GET", "POST"])
@project_member_required
def project_settings(request: HttpRequest, access: ProjectAccess) -> HttpResponse:
    if request.method == "GET":
        return _page(request, access)
    if not access.can_manage:
        raise PermissionDenied("Auditors can read this project's policy but not change it.")
    form = PolicyForm(request.POST)
    if not form.is_valid():
        return _page(request, access, policy_form=form, status=422)
    services.policy_update(
        project=access.project,
        actor=actor_of(request),
        max_key_lifetime_days=form.cleaned_data["max_key_lifetime_days"],
        expiry_required=form.cleaned_data["expiry_required"],
        stale_threshold_days=form.cleaned_data["stale_threshold_days"],
    )
    messages.success(
        request, "The key policy is saved. It applies to every key created or rotated from now on."
    )
    return redirect("apikeys:settings", slug=access.project.slug)


@require_POST
@project_admin_required
def member_add(request: HttpRequest, access: ProjectAccess) -> HttpResponse:
    form = MemberAddForm(request.POST)
    if not form.is_valid():
        return _page(request, access, member_form=form, status=422)
    username = form.cleaned_data["username"].strip()
    user_model = get_user_model()
    user = user_model.objects.filter(**{user_model.USERNAME_FIELD: username}).first()
    if user is None:
        form.add_error(
            "username",
            f"No user named {username!r}. There is no sign-up page: whoever runs this site"
            " creates accounts (in Django's admin, for instance); add them once it exists.",
        )
        return _page(request, access, member_form=form, status=422)
    if Membership.objects.filter(project=access.project, user=user).exists():
        form.add_error("username", f"{username} is already a member; change their role below.")
        return _page(request, access, member_form=form, status=422)
    services.member_set(
        project=access.project,
        user=user,
        role=form.cleaned_data["role"],
        actor=actor_of(request),
    )
    messages.success(request, f"{username} is now a member ({form.cleaned_data['role']}).")
    return redirect("apikeys:settings", slug=access.project.slug)


def _membership(access: ProjectAccess, user_id: int) -> Membership:
    membership = (
        Membership.objects.select_related("user")
        .filter(project=access.project, user_id=user_id)
        .first()
    )
    if membership is None:
        raise Http404("No such member.")
    return membership


@require_POST
@project_admin_required
def member_role(request: HttpRequest, access: ProjectAccess, user_id: int) -> HttpResponse:
    membership = _membership(access, user_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose admin or auditor.")
        return redirect("apikeys:settings", slug=access.project.slug)
    try:
        services.member_set(
            project=access.project,
            user=membership.user,
            role=form.cleaned_data["role"],
            actor=actor_of(request),
        )
    except services.LastAdminError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, f"{membership.user.get_username()} is now {form.cleaned_data['role']}."
        )
    return redirect("apikeys:settings", slug=access.project.slug)


@require_POST
@project_admin_required
def member_remove(request: HttpRequest, access: ProjectAccess, user_id: int) -> HttpResponse:
    membership = _membership(access, user_id)
    try:
        services.member_remove(
            project=access.project, user=membership.user, actor=actor_of(request)
        )
    except services.LastAdminError as error:
        messages.error(request, str(error))
        return redirect("apikeys:settings", slug=access.project.slug)
    name = membership.user.get_username()
    messages.success(
        request,
        f"{name} is no longer a member. Keys they created are flagged in the security review.",
    )
    if membership.user == request.user and not request.user.is_superuser:  # type: ignore[comparison-overlap]
        return redirect("apikeys:project-list")
    return redirect("apikeys:settings", slug=access.project.slug)
