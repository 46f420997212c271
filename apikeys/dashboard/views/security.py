"""The security review page and its evidence exports (findings, access review).

The page, these exports and ``manage.py audit_keys`` all read
apikeys.reports.review, so what a reviewer sees, files and fails CI on is the same.
"""

from __future__ import annotations

import json

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from apikeys.dashboard.access import ProjectAccess, project_member_required
from apikeys.dashboard.views.projects import project_context
from apikeys.reports import review
from apikeys.reports.exports import csv_lines, streamed

REPORTS = ("findings", "access-review")

# What an admin can do about each finding, from the finding's row: (label, URL name).
# The confirmation pages these open work on their own (no script needed).
DEACTIVATE = ("Deactivate", "apikeys:key-deactivate")
ROTATE = ("Rotate", "apikeys:key-rotate")
EDIT = ("Edit permissions", "apikeys:key-edit")
DELETE = ("Delete", "apikeys:key-delete")
FINDING_ACTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "exposed": (ROTATE, DELETE),
    "still-tried": (DELETE,),
    "no-expiry": (ROTATE,),
    "former-member-key": (ROTATE, DEACTIVATE),
    "stale": (DEACTIVATE,),
    "never-used": (DEACTIVATE,),
    "expiring-in-use": (ROTATE,),
    "expiry-beyond-policy": (ROTATE,),
    "rotation-unfinished": (DEACTIVATE,),
    "unused-permission": (EDIT,),
    "inactive-not-deleted": (DELETE,),
    "no-allowlist": (EDIT,),
}


def finding_actions(finding: review.Finding, slug: str) -> list[dict[str, str]]:
    return [
        {"label": label, "url": reverse(name, kwargs={"slug": slug, "key_id": finding.key_id})}
        for label, name in FINDING_ACTIONS.get(finding.code, ())
    ]


@require_GET
@project_member_required
def security_review(request: HttpRequest, access: ProjectAccess) -> HttpResponse:
    now = timezone.now()
    found = review.findings(access.project, now=now)
    context = project_context(
        request,
        access,
        nav_section="security",
        findings=[
            (f, finding_actions(f, access.project.slug) if access.can_manage else []) for f in found
        ],
        counts=review.counts(found),
        access_rows=review.access_review(access.project, now=now),
        reviewed_at=now,
    )
    return render(request, "apikeys/security_review.html", context)


@require_GET
@project_member_required  # type: ignore[arg-type]  # a streamed answer, not HttpResponse
def security_export(
    request: HttpRequest, access: ProjectAccess, report: str, fmt: str
) -> StreamingHttpResponse:
    if report not in REPORTS:
        raise Http404("No such report.")
    project = access.project
    now = timezone.now()
    filename = f"{report}-{project.slug}-{now:%Y%m%dT%H%M%SZ}.{fmt}"
    columns: tuple[str, ...]
    if report == "findings":
        found = review.findings(project, now=now)
        columns = review.FINDING_COLUMNS
        records = [f.as_dict() for f in found]
        flat = [review.finding_row(f) for f in found]
        envelope = {"counts": review.counts(found), "findings": records}
    else:
        rows = review.access_review(project, now=now)
        columns = review.ACCESS_COLUMNS
        flat = [review.access_row(row) for row in rows]
        envelope = {"keys": rows}
    if fmt == "csv":
        return streamed(
            csv_lines(columns, ([row[c] for c in columns] for row in flat)),
            content_type="text/csv; charset=utf-8",
            filename=filename,
        )
    document = {
        "project": project.slug,
        "generated_at": now.isoformat(),
        "generated_by": request.user.get_username(),
        **envelope,
    }
    return streamed(
        iter([json.dumps(document, indent=2) + "\n"]),
        content_type="application/json",
        filename=filename,
    )
