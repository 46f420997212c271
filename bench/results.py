"""`--results FILE`: the report as a Markdown section per database, the other kept."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

HEADER = """# Benchmark results

Written by `make bench BENCH_ARGS="--results bench/RESULTS.md"` (bench/run.py says
how it measures); a run replaces the section of its database and keeps the other.
Absolute numbers depend on the machine and on what else ran on it; the targets
are about the ratios, taken side by side in one run.
"""


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def write(path: Path, *, kind: str, facts: list[str], report: list[str]) -> None:
    """Replace ``kind``'s section of ``path`` (SQLite first, then the others); ``facts``
    are its bullet lines (when, machine, load, data)."""
    marker = f"<!-- section: {kind} -->"
    section = "\n".join([marker, f"## {kind}", "", *facts, "", "```", *report, "```", ""])
    sections = {}
    if path.exists():
        for chunk in path.read_text().split("<!-- section: ")[1:]:
            name = chunk.split(" -->", 1)[0]
            sections[name] = "<!-- section: " + chunk.rstrip() + "\n"
    sections[kind] = section
    ordered = [sections[name] for name in sorted(sections, key=lambda n: n != "SQLite")]
    path.write_text(HEADER + "\n" + "\n".join(ordered))
