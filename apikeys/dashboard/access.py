"""Who may see a project's pages, and who may change them.

A project's pages answer 404 to anyone who is not a member, exactly as for a
project that does not exist, so a URL never reveals that a project exists.
Members with the auditor role read everything and change nothing (403 on any
write); admins and Django superusers manage keys.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from apikeys.models import Membership, Project

ADMIN = Membership.Role.ADMIN
AUDITOR = Membership.Role.AUDITOR


@dataclass(frozen=True)
class ProjectAccess:
    """A project as one user sees it: the project and the role they act with."""

    project: Project
    role: str

    @property
    def can_manage(self) -> bool:
        return self.role == ADMIN

    @property
    def role_label(self) -> str:
        return Membership.Role(self.role).label


def project_access(user: Any, slug: str) -> ProjectAccess:
    """The project and the user's role in it; Http404 when they are not a member.

    One query: the membership is read together with the project.
    """
    if not getattr(user, "is_authenticated", False):
        raise Http404("No such project.")
    if user.is_superuser:
        project = Project.objects.filter(slug=slug).first()
        if project is None:
            raise Http404("No such project.")
        return ProjectAccess(project=project, role=ADMIN)
    membership = (
        Membership.objects.select_related("project").filter(project__slug=slug, user=user).first()
    )
    if membership is None:
        raise Http404("No such project.")
    return ProjectAccess(project=membership.project, role=membership.role)


def user_projects(user: Any) -> list[ProjectAccess]:
    """The projects a user may open, with the role they act with there (one query)."""
    if not getattr(user, "is_authenticated", False):
        return []
    if user.is_superuser:
        return [ProjectAccess(project=p, role=Membership.Role.ADMIN) for p in Project.objects.all()]
    memberships = Membership.objects.filter(user=user).select_related("project")
    return sorted(
        (ProjectAccess(project=m.project, role=m.role) for m in memberships),
        key=lambda access: access.project.name.lower(),
    )


View = Callable[..., HttpResponse]


def project_member_required(view: View) -> View:
    """Sign-in, then membership: the view gets ``access`` in place of ``slug``."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, slug: str, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        access = project_access(request.user, slug)
        return view(request, access, *args, **kwargs)

    return wrapper


def project_admin_required(view: View) -> View:
    """As :func:`project_member_required`, and an auditor is refused with 403."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, slug: str, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        access = project_access(request.user, slug)
        if not access.can_manage:
            raise PermissionDenied("Auditors can read this project's keys but not change them.")
        return view(request, access, *args, **kwargs)

    return wrapper
