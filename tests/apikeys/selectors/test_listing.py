"""The key list's reads: SQL filters agree with the model's rules; fixed query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.permissions import MANAGE_BUILD_STORAGE, OPERATE_RUNS, READ_RUNS
from apikeys.flags import KEY_STATE_FLAGS
from apikeys.models import APIKey
from apikeys.selectors import listing
from apikeys.selectors.listing import KeyListParams

pytestmark = pytest.mark.django_db


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def zoo(project, make_key, now):
    """One key in each state the list distinguishes."""
    made = {}

    def add(name, perms=(READ_RUNS,), **fields):
        key = make_key(project, perms, name=name)[0]
        APIKey.objects.filter(pk=key.pk).update(**fields)
        key.refresh_from_db()
        made[name] = key

    add(
        "fresh",
        created_at=now - timedelta(days=1),
        expires_at=now + timedelta(days=60),
        last_used_at=now - timedelta(hours=1),
    )
    add(
        "stale",
        (OPERATE_RUNS,),
        created_at=now - timedelta(days=100),
        last_used_at=now - timedelta(days=50),
    )
    add("stale-never-used", created_at=now - timedelta(days=46))
    add("young-never-used", (MANAGE_BUILD_STORAGE,), created_at=now - timedelta(days=3))
    add(
        "soon",
        created_at=now - timedelta(days=20),
        expires_at=now + timedelta(days=3),
        last_used_at=now - timedelta(days=1),
    )
    add("expired", created_at=now - timedelta(days=90), expires_at=now - timedelta(days=1))
    add(
        "disabled",
        (READ_RUNS, OPERATE_RUNS),
        created_at=now - timedelta(days=90),
        is_active=False,
        last_used_at=now - timedelta(days=80),
    )
    return made


def names(params: KeyListParams, project, now) -> set[str]:
    return {k.name for k in listing.filtered_keys(project, params, now=now)}


def test_status_filters_match_the_model(zoo, project, now):
    for status in ("active", "disabled", "expired"):
        expected = {n for n, k in zoo.items() if k.status(now) == status}
        assert names(KeyListParams(status=status), project, now) == expected, status


def test_each_flag_filter_in_sql_selects_the_keys_that_carry_the_flag(zoo, project, now):
    # One rule per flag, twice written (APIKey.flags for a row, flags.flag_q for the
    # list's SQL filter): they must select the same keys for every filter offered.
    carries = {
        str(flag): (lambda k, f=flag: f in k.flags(now, project)) for flag in KEY_STATE_FLAGS
    }
    carries["expired"] = lambda k: k.status(now) == "expired"
    carries["disabled"] = lambda k: k.status(now) == "disabled"
    assert [code for code, _ in listing.FLAG_CHOICES] == list(carries)
    for flag, rule in carries.items():
        expected = {n for n, k in zoo.items() if rule(k)}
        assert expected, f"the zoo has no key flagged {flag}"
        assert names(KeyListParams(flag=flag), project, now) == expected, flag
    assert names(KeyListParams(flag="stale"), project, now) == {"stale", "stale-never-used"}


def test_flag_filter_reads_one_spelling_and_the_old_links(zoo, project, now):
    assert KeyListParams.from_query({"flag": "never-used"}).flag == "never-used"
    assert KeyListParams.from_query({"flag": "never_used"}).flag == "never-used"
    assert KeyListParams.from_query({"flag": "everything"}).flag == ""


def test_stale_follows_the_projects_threshold(zoo, project, now):
    project.stale_threshold_days = 10
    project.save()
    assert "soon" not in names(KeyListParams(flag="stale"), project, now)
    assert "young-never-used" not in names(KeyListParams(flag="stale"), project, now)
    project.stale_threshold_days = 2
    assert "young-never-used" in names(KeyListParams(flag="stale"), project, now)


def test_permission_filter(zoo, project, now):
    assert names(KeyListParams(permission=OPERATE_RUNS), project, now) == {"stale", "disabled"}
    assert names(KeyListParams(permission=MANAGE_BUILD_STORAGE), project, now) == {
        "young-never-used"
    }


def test_search_by_name_id_masked_or_pasted_key(zoo, project, now):
    key = zoo["soon"]
    assert names(KeyListParams(q="SOO"), project, now) == {"soon"}
    assert names(KeyListParams(q=key.key_id), project, now) == {"soon"}
    assert names(KeyListParams(q=key.masked), project, now) == {"soon"}
    assert names(KeyListParams(q=key.key_id[:6]), project, now) >= {"soon"}


def test_sort_puts_never_used_last_both_ways(zoo, project, now):
    for sort in ("last_used", "-last_used"):
        ordered = list(listing.filtered_keys(project, KeyListParams(sort=sort), now=now))
        used = [k for k in ordered if k.last_used_at]
        assert ordered[: len(used)] == used, sort
    by_name = [k.name for k in listing.filtered_keys(project, KeyListParams(sort="name"), now=now)]
    assert by_name == sorted(by_name)


def test_params_ignore_unknown_values():
    params = KeyListParams.from_query({"status": "bogus", "sort": "hashed_secret", "flag": "x"})
    assert params == KeyListParams()


def test_summary_counts(zoo, project, now):
    summary = listing.key_summary(project, now=now)
    assert summary.total == 7
    assert summary.active == 5  # fresh, stale, stale-never-used, young-never-used, soon
    assert summary.stale == 2
    assert summary.expiring_soon == 1


def test_key_list_runs_the_same_queries_for_3_or_80_keys(project, make_key, bulk_keys):
    def count_queries():
        with CaptureQueriesContext(connection) as ctx:
            result = listing.key_list(project, KeyListParams())
            for row in result.rows:  # what the template reads
                _ = (row.key.created_by, row.flags, row.key.permission_objects())
        return len(ctx.captured_queries)

    for _ in range(3):
        make_key(project)
    small = count_queries()
    bulk_keys(project, 77, name="bulk {n}", permissions=[READ_RUNS])
    assert count_queries() == small <= 3


def test_the_unfiltered_list_pages_by_the_summarys_total_and_a_filtered_one_counts_its_own(
    project, bulk_keys
):
    bulk_keys(project, 60, name="alpha {n:03d}")
    bulk_keys(project, 70, name="beta {n:03d}")
    with CaptureQueriesContext(connection) as ctx:
        unfiltered = listing.key_list(project, KeyListParams(page="3"))
    assert len(ctx.captured_queries) == 2  # the summary and the page: no count of its own
    assert unfiltered.summary.total == unfiltered.page.paginator.count == 130
    assert unfiltered.page.number == 3 and len(unfiltered.rows) == 130 - 2 * listing.PAGE_SIZE

    with CaptureQueriesContext(connection) as ctx:
        searched = listing.key_list(project, KeyListParams(q="alpha", page="2"))
    assert len(ctx.captured_queries) == 3  # the search's matches are counted
    assert searched.summary.total == 130 and searched.page.paginator.count == 60
    assert searched.page.paginator.num_pages == 2 and len(searched.rows) == 60 - listing.PAGE_SIZE


def test_nulls_go_last_only_where_a_column_can_be_null(project):
    def order_sql(sort: str) -> str:
        keys_qs = listing.filtered_keys(project, KeyListParams(sort=sort), now=timezone.now())
        return str(keys_qs.query).rsplit("ORDER BY", 1)[1]

    for sort in ("created", "-created", "name", "-name"):
        assert "NULL" not in order_sql(sort), sort
    for sort in ("last_used", "-last_used", "expires", "-expires"):
        assert "NULLS LAST" in order_sql(sort) or connection.vendor != "postgresql", sort


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plan")
def test_page_one_in_the_default_order_is_read_off_the_index(project, bulk_keys):
    bulk_keys(project, 2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE apikeys_apikey")
    keys_qs = listing.filtered_keys(project, KeyListParams(), now=timezone.now())
    plan = keys_qs[: listing.PAGE_SIZE].explain()
    page_plan = plan.split("SubPlan")[0]  # each row's successor is a subplan of its own
    assert "apikey_project_newest" in page_plan and "Sort" not in page_plan, plan
