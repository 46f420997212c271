"""Sign-in landing and the project switcher."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from apikeys.dashboard.access import ProjectAccess, project_member_required, user_projects


def project_context(request: HttpRequest, access: ProjectAccess, **extra: Any) -> dict[str, Any]:
    """What every project page's layout needs: the project, the role and the switcher."""
    return {
        "access": access,
        "project": access.project,
        "projects": user_projects(request.user),
        **extra,
    }


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """``/``: straight to the key list of the only project, else the project list."""
    projects = user_projects(request.user)
    if len(projects) == 1:
        return redirect("apikeys:key-list", slug=projects[0].project.slug)
    return redirect("apikeys:project-list")


@login_required
def project_list(request: HttpRequest) -> HttpResponse:
    return render(request, "apikeys/project_list.html", {"projects": user_projects(request.user)})


@project_member_required
def project_admin(request: HttpRequest, access: ProjectAccess) -> HttpResponse:
    return redirect("apikeys:key-list", slug=access.project.slug)
