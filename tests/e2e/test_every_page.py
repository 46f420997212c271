"""Browser: every page fits a phone and a desktop, and its text meets WCAG AA contrast,
in light and dark mode; the header switcher, settings, rotate and audit forms line up.

Screenshots of each page go to artifacts/screenshots/ (gitignored) for people to look at.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from api.permissions import MANAGE_BUILD_STORAGE, OPERATE_RUNS, READ_RUNS
from apikeys import services
from apikeys.models import APIKey, APIKeyRefusal, Membership
from tests.e2e.conftest import SCREENSHOTS, log_in

pytestmark = pytest.mark.e2e

CONTRAST_JS = (Path(__file__).parent / "contrast.js").read_text()
ADMIN = "/projects/acme/admin"
KEYS = f"{ADMIN}/api-keys"


@pytest.fixture
def site(project, make_user, make_key):
    """A project with a key in every state the pages show, findings and audit events."""
    make_user("alice", project=project, role="admin")
    make_user("audrey", project=project, role="auditor")
    now = timezone.now()
    refused = make_key(
        project, (READ_RUNS, OPERATE_RUNS, MANAGE_BUILD_STORAGE), name="nightly regression runner"
    )[0]
    for code, count in (("DISABLED_API_KEY", 1234), ("MISSING_PERMISSION", 7)):
        APIKeyRefusal.objects.create(
            key=refused,
            code=code,
            count=count,
            first_at=now - timedelta(days=3),
            last_at=now,
            last_ip="2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
        )
    services.key_deactivate(key=refused, actor=services.Actor.cli())
    rotated = make_key(project, (READ_RUNS,), name="deploy bot")[0]
    services.key_rotate(key=rotated, actor=services.Actor.cli(), grace=timedelta(hours=24))
    expired = make_key(project, (READ_RUNS,), name="legacy exporter", now=now - timedelta(days=90))[
        0
    ]
    APIKey.objects.filter(pk=expired.pk).update(
        expires_at=now - timedelta(days=40), last_used_at=now - timedelta(days=60)
    )
    active = make_key(project, (OPERATE_RUNS,), name="grafana board")[0]
    sam = make_user("sam", project=project, role="admin")
    by_sam = make_key(project, (READ_RUNS,), name="made by sam")[0]
    APIKey.objects.filter(pk=by_sam.pk).update(created_by=sam)
    Membership.objects.filter(user=sam).delete()
    return {"refused": refused, "rotated": rotated, "expired": expired, "active": active}


def pages(site) -> list[tuple[str, str]]:
    return [
        ("list", f"{KEYS}/"),
        ("detail-refusals", f"{KEYS}/{site['refused'].key_id}/"),
        ("detail-rotation", f"{KEYS}/{site['rotated'].key_id}/"),
        ("detail-expired", f"{KEYS}/{site['expired'].key_id}/"),
        ("edit", f"{KEYS}/{site['active'].key_id}/edit/"),
        ("deactivate", f"{KEYS}/{site['active'].key_id}/deactivate/"),
        ("reactivate", f"{KEYS}/{site['refused'].key_id}/reactivate/"),
        ("delete", f"{KEYS}/{site['active'].key_id}/delete/"),
        ("rotate", f"{KEYS}/{site['active'].key_id}/rotate/"),
        ("audit", f"{ADMIN}/audit/"),
        ("security", f"{ADMIN}/security/"),
        ("settings", f"{ADMIN}/settings/"),
        ("projects", "/projects/"),
        ("404", "/projects/nope/admin/api-keys/"),
    ]


def check(page, name: str, width: int, scheme: str, problems: list[str]) -> None:
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    scroll = page.evaluate("document.documentElement.scrollWidth")
    if scroll > width:
        problems.append(f"{name} at {width} px ({scheme}) is {scroll} px wide")
    for failure in page.evaluate(CONTRAST_JS):
        problems.append(f"{name} ({scheme}): {failure}")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"page-{name}-{width}-{scheme}.png"), full_page=True)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1280, 390])
def test_every_page_fits_and_meets_contrast(browser, live_server, site, width, scheme):
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    problems: list[str] = []
    page.goto(f"{live_server.url}/accounts/login/")
    check(page, "login", width, scheme, problems)
    log_in(page, live_server.url, "alice")
    for name, path in pages(site):
        page.goto(f"{live_server.url}{path}")
        check(page, name, width, scheme, problems)

    # The wizard's four steps and the show-once page.
    page.goto(f"{live_server.url}{KEYS}/new/")
    check(page, "wizard-details", width, scheme, problems)
    page.get_by_label("Name").fill(f"every page {width} {scheme}")
    page.get_by_role("button", name="Next: Permissions").click()
    check(page, "wizard-permissions", width, scheme, problems)
    page.get_by_label("CI/CD Integration", exact=True).check()
    page.get_by_role("button", name="Next: Expiration").click()
    check(page, "wizard-expiration", width, scheme, problems)
    page.get_by_role("button", name="Next: Review").click()
    check(page, "wizard-review", width, scheme, problems)
    page.get_by_role("button", name="Create key").click()
    page.locator("#new-key").wait_for()
    check(page, "show-once", width, scheme, problems)

    # 403: an auditor opening an admin's page.
    auditor = context.browser.new_context(
        viewport={"width": width, "height": 900}, color_scheme=scheme
    ).new_page()
    log_in(auditor, live_server.url, "audrey")
    auditor.goto(f"{live_server.url}{KEYS}/{site['active'].key_id}/edit/")
    check(auditor, "403", width, scheme, problems)
    auditor.context.close()
    context.close()
    assert not problems, "\n".join(problems)


def test_forms_line_up(page, live_server, site):
    log_in(page, live_server.url, "alice")
    # Settings: the checkbox sits on its label's line, not above it.
    page.goto(f"{live_server.url}{ADMIN}/settings/")
    box = page.get_by_label("Every key must have an expiry date").bounding_box()
    label = page.locator("label[for=id_expiry_required]").bounding_box()
    assert box and label
    assert abs((box["y"] + box["height"] / 2) - (label["y"] + label["height"] / 2)) < 6

    # Rotate: each grace choice reads on one line, not in a squeezed column.
    page.goto(f"{live_server.url}{KEYS}/{site['active'].key_id}/rotate/")
    for choice in page.locator(".grace-choice label").all():
        assert choice.bounding_box()["height"] < 30, choice.inner_text()

    # Audit log: Clear is a button beside Filter, on the same line.
    page.goto(f"{live_server.url}{ADMIN}/audit/")
    filter_box = page.get_by_role("button", name="Filter").bounding_box()
    clear_box = page.get_by_role("link", name="Clear").bounding_box()
    assert abs(filter_box["y"] - clear_box["y"]) < 3
    assert abs(filter_box["height"] - clear_box["height"]) < 3


def test_the_project_switcher_is_readable_in_light_mode(page, live_server, site, project):
    log_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}{KEYS}/")
    page.locator(".project-switcher summary").click()
    menu = page.locator(".project-switcher ul")
    menu.wait_for()
    failures = [f for f in page.evaluate(CONTRAST_JS) if "project-switcher" in f or "role" in f]
    link = menu.get_by_role("link", name="All projects")
    color = link.evaluate("el => getComputedStyle(el).color")
    assert color not in ("rgb(255, 255, 255)", "rgb(255, 255, 204)"), color
    assert not failures, failures


# Each table, its nearest sideways scroller (or None) and how far either reaches right.
_TABLE_REACH = """() => [...document.querySelectorAll('main table')].map(t => {
  let box = t.parentElement;
  while (box && getComputedStyle(box).overflowX !== 'auto') box = box.parentElement;
  return {table: t.className, right: t.getBoundingClientRect().right,
          scroller: box && box.tagName !== 'HTML' ? box.getBoundingClientRect().right : null};
})"""


@pytest.mark.parametrize("width", [1280, 800])
def test_wide_tables_scroll_inside_their_section_never_the_page(
    browser, live_server, site, make_key, project, width
):
    # A snake_case name has nowhere to wrap: the widest cell a real project makes.
    make_key(project, (READ_RUNS, OPERATE_RUNS, MANAGE_BUILD_STORAGE), name="ci_" + "release_" * 12)
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    log_in(page, live_server.url, "alice")
    problems: list[str] = []
    for name, path in (("list", f"{KEYS}/"), ("security", f"{ADMIN}/security/")):
        page.goto(f"{live_server.url}{path}")
        scroll = page.evaluate("document.documentElement.scrollWidth")
        if scroll > width:
            problems.append(f"{name} at {width} px is {scroll} px wide")
        for table in page.evaluate(_TABLE_REACH):
            reach = table["scroller"] if table["scroller"] is not None else table["right"]
            if reach > width:
                problems.append(f"{name}: table.{table['table']} reaches {reach:.0f} px")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"wide-{name}-{width}.png"), full_page=True)
    context.close()
    assert not problems, "\n".join(problems)


def test_key_list_fits_a_tablet_with_status_and_actions_on_screen(
    browser, live_server, site, screenshot
):
    context = browser.new_context(viewport={"width": 800, "height": 900})
    page = context.new_page()
    log_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}{KEYS}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 800
    for cell in ("td[data-label=Status]", "td.row-actions"):
        box = page.locator(f"#keys-table tbody tr {cell}").first.bounding_box()
        assert box and box["x"] + box["width"] <= 800, cell
    screenshot(page, "-800")
    context.close()
