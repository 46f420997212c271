"""The load cases of `make bench`: what each one sends, to which server, and in what order.

    a   valid key, GET /api/v1/runs               e   djangorestframework-api-key HasAPIKey
    b   the same view, guard off                       on a trivial JSON view
    c   no key                                    e2  our DRF adapter (apikeys.contrib.drf)
    d   wrong secret for one real key id               on the same trivial view
        (past its argon2 budget)                  f   plain Django JSON view, no auth
    d2  (a)'s request while 8 connections send    f1  (f) reading (h)'s key row once, as
        wrong secrets for many real key ids           the guard must (SPEC §5), no auth
        from random IPv6 /64s; d2a is the same    h   valid key, the same trivial view as
        request on that server without the flood      (e) behind our guard

A case's numbers are the median over rounds of what the load generator saw;
``sent`` counts every request completed, warm-ups included, for the usage check.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field

from bench import load

TRIVIAL = "/api/v1/bench/trivial"  # bench.urls: (e)'s view, behind our guard
KEY_READ = "/bench/key-read"  # bench.urls: (f) plus the guard's one query, ?id=<key id>
ADAPTER = "/bench/drf-adapter"  # bench.urls: (e)'s view behind apikeys.contrib.drf

# Every pair a ratio compares runs back to back (d c, c b, b a, a e, e e2, f1 h, h f, d2a d2),
# and every other round runs in reverse (ABBA), so a drift in the machine's other load
# cancels out. d2 floods a server of its own, last (first in reverse rounds).
ORDER = ("d", "c", "b", "a", "e", "e2", "f1", "h", "f", "d2a", "d2")
ALL = ",".join(name for name in ORDER if name != "d2a")  # d2 brings its baseline along
_NAME = re.compile(r"d2a|[a-z]\d?")

# The servers bench.run starts: the guard as production runs it (rate limit off, so a
# case's answers stay what it is about), the guard swapped for a stand-in (b), and for
# d2 the guard behind one trusted proxy with the rate limit on, which the flood's
# random /64s get past.
GUARDED, GUARD_OFF, FLOOD = "guarded", "guard_off", "flood"


@dataclass
class Case:
    name: str
    title: str
    server: str  # GUARDED, GUARD_OFF or FLOOD
    path: str
    header: tuple[str, str] | None = field(repr=False)
    expect_status: int
    expect_code: str = ""
    results: list[load.LoadResult] = field(default_factory=list)
    # Every run, warm-ups included, in order: (wall-clock start, end, requests, measured),
    # for d's note on the argon2 budget's windows.
    runs: list[tuple[float, float, int, bool]] = field(default_factory=list)
    sent: int = 0  # every request the load generator completed, warm-ups included
    problem: str = ""
    flood: list[load.LoadResult] = field(default_factory=list)  # d2: the flood, per round

    @property
    def requests(self) -> int:
        return sum(r.requests for r in self.results)

    @property
    def rps(self) -> float:
        seconds = sum(r.seconds for r in self.results)
        return self.requests / seconds if seconds else 0.0

    @property
    def p50(self) -> float:
        return statistics.median(r.p50_ms for r in self.results) if self.results else 0.0

    @property
    def p99(self) -> float:
        return statistics.median(r.p99_ms for r in self.results) if self.results else 0.0

    @property
    def unexpected(self) -> int:
        """Answers other than the one the case is about (each should be 0)."""
        wrong_status = sum(
            r.non_2xx if self.expect_status < 300 else r.requests - r.non_2xx for r in self.results
        )
        return wrong_status + sum(r.socket_errors for r in self.results)


def parse_names(text: str) -> list[str]:
    """``"a,b,d2"``, ``"abd2"`` or ``"all"`` → the case names in run order; d2 brings d2a.

    Raises ValueError naming what is not a case."""
    text = text.strip().lower()
    if text in {"", "all"}:
        text = ALL
    wanted: set[str] = set()
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        names = [part] if part in ORDER else _NAME.findall(part)
        if "".join(names) != part or any(name not in ORDER for name in names):
            known = ", ".join(name for name in ORDER if name != "d2a")
            raise ValueError(f"{part!r} is not a list of cases; the cases are {known}.")
        wanted.update(names)
    if "d2" in wanted:
        wanted.add("d2a")
    return [name for name in ORDER if name in wanted]


def define(
    *,
    valid_key: str,
    valid_key_id: str,
    wrong_secret_key: str,
    drf_key: str,
    header: str,
    adapter: bool,
) -> list[Case]:
    """Every case; ``adapter`` is False while apikeys.contrib.drf is not there (e2 skipped)."""
    key_header = (header, valid_key)
    cases = [
        Case("a", "valid key, GET /api/v1/runs", GUARDED, "/api/v1/runs", key_header, 200),
        Case("b", "same view, guard off", GUARD_OFF, "/api/v1/runs", key_header, 200),
        Case("c", "no key", GUARDED, "/api/v1/runs", None, 401, "MISSING_API_KEY"),
        Case(
            "d",
            "wrong secret, real key id (past its budget)",
            GUARDED,
            "/api/v1/runs",
            (header, wrong_secret_key),
            401,
            "INVALID_API_KEY",
        ),
        Case(
            "d2a",
            "valid key, (a) on d2's server, no flood",
            FLOOD,
            "/api/v1/runs",
            key_header,
            200,
        ),
        Case("d2", "valid key, (a) during d2's flood", FLOOD, "/api/v1/runs", key_header, 200),
        Case(
            "e",
            "DRF HasAPIKey, trivial JSON view",
            GUARDED,
            "/bench/drf",
            ("Authorization", f"Api-Key {drf_key}"),
            200,
        ),
        Case("f", "plain Django JSON view, no auth", GUARDED, "/bench/plain", None, 200),
        Case(
            "f1",
            "(f) reading the key's row, no auth",
            GUARDED,
            f"{KEY_READ}?id={valid_key_id}",
            None,
            200,
        ),
        Case("h", "valid key, trivial JSON view", GUARDED, TRIVIAL, key_header, 200),
    ]
    if adapter:
        cases.append(
            Case("e2", "our DRF adapter, trivial JSON view", GUARDED, ADAPTER, key_header, 200)
        )
    by_name = {case.name: case for case in cases}
    return [by_name[name] for name in ORDER if name in by_name]
