"""python manage.py audit_keys --project SLUG [--format table|json|csv] [--fail-on SEVERITY]

The security review for CI: the same findings as the review page
(apikeys.reports.review.findings), printed on stdout. With --fail-on, the exit status
is 1 when a finding at or above that severity exists, so a pipeline can stop
on it; bad input exits 2 with one line on stderr.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandError

from apikeys.management.base import BadInput, iso_datetime
from apikeys.management.base import Command as CLICommand
from apikeys.models import Project
from apikeys.reports import review
from apikeys.reports.exports import csv_lines

EXIT_FINDINGS = 1
TABLE_COLUMNS = ("severity", "code", "key_id", "key_name", "title", "recommendation")


class FindingsFound(CommandError):
    def __init__(self, message: str) -> None:
        super().__init__(message, returncode=EXIT_FINDINGS)


class Command(CLICommand):
    help = (
        "List the security findings about a project's API keys (stale, never used, "
        "still tried after revocation, ...). Exit status: 0 no finding at the --fail-on "
        "level; 1 findings at or above it; 2 bad input (one line on stderr)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--project", required=True, metavar="SLUG")
        parser.add_argument("--format", choices=("table", "json", "csv"), default="table")
        parser.add_argument(
            "--fail-on",
            choices=("high", "medium", "low"),
            help="exit 1 when a finding of this severity or higher exists",
        )
        parser.add_argument(
            "--at",
            type=iso_datetime,
            metavar="ISO8601",
            help="review as of this moment (default: now), for reproducible reports",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        slug = options["project"].strip()
        project = Project.objects.filter(slug=slug).first()
        if project is None:
            raise BadInput(f"No project with slug {slug!r}.")
        found = review.findings(project, now=options["at"])

        output = options["format"]
        if output == "json":
            self.stdout.write(
                json.dumps(
                    {
                        "project": project.slug,
                        "counts": review.counts(found),
                        "findings": [f.as_dict() for f in found],
                    },
                    indent=2,
                )
            )
        elif output == "csv":
            rows = (
                [row[c] for c in review.FINDING_COLUMNS] for row in map(review.finding_row, found)
            )
            self.stdout.write("".join(csv_lines(review.FINDING_COLUMNS, rows)), ending="")
        else:
            self.stdout.write(table(found), ending="")

        tally = review.counts(found)
        self.info(
            f"{len(found)} finding{'s' if len(found) != 1 else ''} in {project.slug}: "
            + ", ".join(f"{n} {label}" for label, n in tally.items())
        )
        if options["fail_on"]:
            level = review.Severity.parse(options["fail_on"])
            failing = review.at_or_above(found, level)
            if failing:
                raise FindingsFound(
                    f"{len(failing)} finding{'s' if len(failing) != 1 else ''} at or above "
                    f"{level.label}."
                )


def table(found: list[review.Finding]) -> str:
    if not found:
        return "No findings.\n"
    rows = [TABLE_COLUMNS] + [tuple(str(f.as_dict()[c]) for c in TABLE_COLUMNS) for f in found]
    widths = [max(len(row[i]) for row in rows) for i in range(len(TABLE_COLUMNS))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"
