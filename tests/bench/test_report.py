"""bench.report and bench.cases: the met/MISSED lines and notes `make bench` prints,
from given numbers (nothing is run or timed here)."""

from __future__ import annotations

import pytest

from bench import cases as bench_cases
from bench import load, report
from bench.cases import Case

LOCAL = report.Budget(failures=10, window=300, apart=2, where="each worker's memory")
SHARED = report.Budget(failures=10, window=300, apart=1, where="Redis")
FLOOD = report.FloodSetup(connections=8, key_ids=198, trusted_proxies=1)


def result(rps: float, *, p99: float = 10.0, seconds: float = 5.0, **extra) -> load.LoadResult:
    return load.LoadResult(
        requests=round(rps * seconds),
        seconds=seconds,
        p50_ms=p99 / 2,
        p99_ms=p99,
        non_2xx=extra.pop("non_2xx", 0),
        socket_errors=0,
        **extra,
    )


def case(name: str, *results: load.LoadResult, expect_status: int = 200) -> Case:
    made = Case(name, f"case {name}", bench_cases.GUARDED, "/x", None, expect_status)
    made.results.extend(results)
    return made


def given(*made: Case) -> dict[str, Case]:
    return {c.name: c for c in made}


def lines_for(cases: dict[str, Case], **kwargs) -> tuple[list[str], list[str]]:
    return report.ratio_lines(cases, rounds=1, **kwargs)


def line_starting(lines: list[str], start: str) -> str:
    found = [line for line in lines if line.startswith(start)]
    assert len(found) == 1, (start, lines)
    return found[0]


# --- met and MISSED ------------------------------------------------------------


def test_a_ratio_at_its_target_is_met_and_below_it_is_missed_by_how_much():
    verdicts = report.Verdicts()
    verdicts.at_least("x/y", 1.30, 1.30)
    verdicts.at_least("x/z", 1.04, 1.30)
    assert verdicts.lines[0] == "x/y = 1.30   target >= 1.30: met"
    assert verdicts.lines[1] == "MISSED x/z = 1.04 < 1.30 (short by 20%)"
    assert verdicts.missed == [verdicts.lines[1]]


def test_an_upper_bound_is_met_at_it_and_missed_above_it_by_how_much():
    verdicts = report.Verdicts()
    verdicts.at_most("p", 2.0, 2.0)
    verdicts.at_most("q", 3.0, 2.0)
    assert verdicts.lines == [
        "p = 2.00   target <= 2.00: met",
        "MISSED q = 3.00 > 2.00 (over by 50%)",
    ]
    assert verdicts.missed == ["MISSED q = 3.00 > 2.00 (over by 50%)"]


def test_ratios_are_the_median_of_the_per_round_ratios():
    cases = given(
        case("a", result(100), result(300), result(90)), case("b", result(100), result(100))
    )
    # Rounds pair up; a round without its partner does not count.
    assert report.per_round(cases, "a", "b") == pytest.approx(2.0)
    assert report.per_round(cases, "a", "missing") is None


def test_a_ratio_names_the_lowest_and_highest_of_its_rounds_beside_its_median():
    cases = given(
        case("a", result(90), result(95), result(60), result(100)),
        case("b", result(100), result(100), result(100), result(100)),
    )
    lines, missed = report.ratio_lines(cases, rounds=4)
    assert line_starting(lines, "a/b") == "a/b = 0.93   target >= 0.90: met [rounds 0.60-1.00]"
    assert missed == []
    # Two rounds say nothing about a spread.
    two = given(case("a", result(80), result(85)), case("b", result(100), result(100)))
    assert line_starting(lines_for(two)[0], "MISSED a/b") == (
        "MISSED a/b = 0.82 < 0.90 (short by 8%)"
    )


# --- e2: the DRF adapter against HasAPIKey ----------------------------------------


@pytest.mark.parametrize(
    ("adapter_rps", "expected"),
    [
        (1300, "e2/e = 1.30   target >= 1.30: met"),
        (1040, "MISSED e2/e = 1.04 < 1.30 (short by 20%)"),
    ],
)
def test_the_drf_adapter_is_held_to_1_3_times_has_api_key(adapter_rps, expected):
    lines, missed = lines_for(given(case("e", result(1000)), case("e2", result(adapter_rps))))
    line = line_starting(lines, "e2/e" if "MISSED" not in expected else "MISSED e2/e")
    assert line.startswith(expected)
    assert (line in missed) is ("MISSED" in expected)


def test_a_skipped_adapter_says_so_and_prints_no_ratio_for_it():
    lines, missed = lines_for(
        given(case("e", result(1000))), skipped=["e2 SKIPPED: the DRF adapter is not there"]
    )
    assert "e2 SKIPPED: the DRF adapter is not there" in lines
    assert not [line for line in lines if "e2/e" in line]
    assert missed == []


def test_h_over_f_is_a_target():
    lines, missed = lines_for(given(case("h", result(700)), case("f", result(1000))))
    assert line_starting(lines, "MISSED h/f").startswith("MISSED h/f = 0.70 < 0.80")
    assert len(missed) == 1


def test_f1_shows_how_much_of_h_over_f_is_the_key_read_spec_5_requires():
    cases = given(case("f1", result(800)), case("h", result(720)), case("f", result(1000)))
    lines, missed = lines_for(cases)
    assert line_starting(lines, "h/f1 = 0.90   (reported: our guard vs (f) plus the one key read")
    assert line_starting(lines, "f1/f = 0.80   (reported: what that one key read costs (f))")
    assert [line.split(" =")[0] for line in missed] == ["MISSED h/f"]


# --- d: the argon2 budget ----------------------------------------------------------


def test_d_over_c_is_reported_with_the_budget_it_ran_under():
    d = case("d", result(3000), expect_status=401)
    d.runs = [(0.0, 1.0, 3000, False), (1.0, 6.0, 15000, True)]  # warm-up, then measured
    lines, missed = lines_for(given(d, case("c", result(4000))), budget=LOCAL)
    assert line_starting(lines, "d/c = 0.75   (reported").startswith("d/c = 0.75")
    note = line_starting(lines, "    budget:")
    assert "APIKEYS_SECRET_FAILURES=10 per key id per 300 s window" in note
    assert "the first 20 wrong secrets of each window run argon2" in note
    assert "none of the measured ones did" in note
    assert missed == []


def test_without_a_warm_up_the_first_of_the_budget_are_measured():
    runs = [(0.0, 5.0, 1000, True)]
    assert report.argon2_upper_bound(runs, SHARED) == 10
    assert report.argon2_upper_bound(runs, LOCAL) == 20


def test_a_run_that_sent_less_than_the_budget_leaves_the_rest_to_the_next():
    runs = [(0.0, 1.0, 4, False), (1.0, 6.0, 1000, True)]
    assert report.argon2_upper_bound(runs, SHARED) == 6


def test_a_window_that_begins_during_a_measurement_counts_its_fresh_budget():
    # The warm-up spends window 0's budget; the measurement runs across 300 s.
    runs = [(290.0, 291.0, 500, False), (291.0, 302.0, 5000, True), (302.0, 307.0, 5000, True)]
    assert report.argon2_upper_bound(runs, SHARED) == 10  # window 1's, once
    d = case("d", result(1000), expect_status=401)
    d.runs = runs
    lines, _ = lines_for(given(d, case("c", result(1000))), budget=SHARED)
    note = line_starting(lines, "    budget:")
    assert "at most 10 of the 10,000 measured requests did" in note
    assert "a budget window began during a measurement" in note


def test_earlier_rounds_in_the_same_window_spend_the_budget_of_later_ones():
    runs = [(0.0, 5.0, 1000, True), (20.0, 25.0, 1000, True)]
    assert report.argon2_upper_bound(runs, SHARED) == 10


def test_a_warm_up_across_a_window_start_may_leave_the_new_budget_to_the_measurement():
    runs = [(299.5, 300.5, 3000, False), (300.5, 305.5, 5000, True)]
    assert report.argon2_upper_bound(runs, SHARED) == 10
    # A measured run across it may have had both budgets; a short one no more than it sent.
    assert report.argon2_upper_bound([(299.0, 301.0, 15, True)], SHARED) == 15
    assert report.argon2_upper_bound([(299.0, 301.0, 5000, True)], SHARED) == 20


# --- d2: a valid key during a flood of wrong secrets ------------------------------


def flooded(*, quiet_p99, loud_p99, quiet_rps, loud_rps, flood_sent, statuses=None):
    quiet = case("d2a", result(quiet_rps, p99=quiet_p99))
    loud = case("d2", result(loud_rps, p99=loud_p99))
    statuses = statuses or {401: flood_sent, 429: 0, 0: 0}
    loud.flood.append(
        load.LoadResult(flood_sent, 5.0, 50.0, 90.0, flood_sent, 0, statuses=statuses)
    )
    return given(quiet, loud)


def test_d2_within_twice_the_p99_and_at_least_080_of_the_throughput_is_met():
    cases = flooded(quiet_p99=10.0, loud_p99=20.0, quiet_rps=1000, loud_rps=800, flood_sent=50_000)
    lines, missed = lines_for(cases, budget=SHARED, flood=FLOOD)
    p99 = line_starting(lines, "d2 p99 ratio")
    assert p99.startswith("d2 p99 ratio = 2.00   target <= 2.00: met")
    assert "p99 20.00 ms during the flood vs 10.00 ms without" in p99
    rps = line_starting(lines, "d2 req/s ratio")
    assert rps.startswith("d2 req/s ratio = 0.80   target >= 0.80: met")
    assert "800 req/s during the flood vs 1000 without" in rps
    assert missed == []
    budget = line_starting(lines, "    argon2 budget:")
    assert "198 real key ids x 10 = 1,980 wrong secrets" in budget
    assert "more: past that it costs what (c) costs" in budget


def test_d2_slower_or_thinner_than_the_targets_is_missed():
    cases = flooded(quiet_p99=10.0, loud_p99=30.0, quiet_rps=1000, loud_rps=500, flood_sent=400)
    lines, missed = lines_for(cases, budget=LOCAL, flood=FLOOD)
    assert line_starting(lines, "MISSED d2 p99 ratio").startswith(
        "MISSED d2 p99 ratio = 3.00 > 2.00 (over by 50%)"
    )
    assert line_starting(lines, "MISSED d2 req/s ratio").startswith(
        "MISSED d2 req/s ratio = 0.50 < 0.80 (short by 38%)"
    )
    assert len(missed) == 2
    budget = line_starting(lines, "    argon2 budget:")
    assert "198 real key ids x 20 = 3,960" in budget
    assert "it sent 400, fewer: nearly every one ran argon2" in budget


def test_the_total_budget_caps_a_flood_over_many_ids_and_says_so():
    cases = flooded(quiet_p99=10.0, loud_p99=12.0, quiet_rps=1000, loud_rps=900, flood_sent=3000)
    capped = report.Budget(failures=10, window=300, apart=2, where="each worker", total=100)
    lines, missed = lines_for(cases, budget=capped, flood=FLOOD)
    assert missed == []
    budget = line_starting(lines, "    argon2 budget:")
    assert "198 real key ids x 20, capped at 200 for all ids together" in budget
    assert (
        "(APIKEYS_SECRET_FAILURES_TOTAL, a sliding window: then one every 3 s per worker)" in budget
    )
    assert "= 200 wrong secrets run argon2 per 300 s window" in budget
    assert "it sent 3,000, more: past that it costs what (c) costs" in budget


def test_a_flood_on_one_key_id_spends_its_budget_and_says_so():
    cases = flooded(quiet_p99=10.0, loud_p99=12.0, quiet_rps=1000, loud_rps=900, flood_sent=3000)
    one = report.FloodSetup(connections=8, key_ids=1, trusted_proxies=1)
    lines, missed = lines_for(cases, budget=SHARED, flood=one)
    assert missed == []
    budget = line_starting(lines, "    argon2 budget:")
    assert "1 real key id x 10 = 10 wrong secrets" in budget
    assert "it sent 3,000, more: past that it costs what (c) costs" in budget


def test_d2_counts_the_floods_answers_by_status():
    cases = flooded(
        quiet_p99=10.0,
        loud_p99=10.0,
        quiet_rps=1000,
        loud_rps=1000,
        flood_sent=100,
        statuses={401: 90, 429: 7, 0: 3},
    )
    lines, _ = lines_for(cases, budget=SHARED, flood=FLOOD)
    flood = line_starting(lines, "    flood:")
    assert "100 wrong secrets (20 req/s) for 198 real key ids" in flood
    assert "401 INVALID_API_KEY 90, 429 RATE_LIMITED 7, other 3" in flood


# --- which cases, in which order ---------------------------------------------------


@pytest.mark.parametrize(
    ("asked", "names"),
    [
        ("abcdefh", ["d", "c", "b", "a", "e", "h", "f"]),
        ("a,d2", ["a", "d2a", "d2"]),
        ("ad2e2", ["a", "e2", "d2a", "d2"]),
        ("f1h", ["f1", "h"]),
        ("all", ["d", "c", "b", "a", "e", "e2", "f1", "h", "f", "d2a", "d2"]),
    ],
)
def test_cases_are_named_by_letters_or_commas_and_run_in_a_fixed_order(asked, names):
    assert bench_cases.parse_names(asked) == names


@pytest.mark.parametrize("asked", ["x", "a,zz", "d3"])
def test_an_unknown_case_is_refused_with_the_known_ones(asked):
    with pytest.raises(ValueError, match="the cases are d, c, b, a, e, e2, f1, h, f, d2"):
        bench_cases.parse_names(asked)


def test_every_compared_pair_runs_back_to_back():
    order = bench_cases.ORDER
    for top, bottom in [("a", "b"), ("c", "b"), ("a", "e"), ("e2", "e"), ("h", "f"), ("h", "f1")]:
        assert abs(order.index(top) - order.index(bottom)) == 1
    assert order.index("d2") - order.index("d2a") == 1
    assert abs(order.index("d") - order.index("c")) == 1


def test_the_table_names_each_case_and_flags_one_that_answered_wrong():
    d = case("d", result(100, non_2xx=500), expect_status=401)
    d.problem = "answered 200, expected 401 INVALID_API_KEY"
    lines = report.table(given(d))
    assert lines[2].startswith("d   case d")
    assert "!! d answered 200, expected 401 INVALID_API_KEY" in lines[3]
