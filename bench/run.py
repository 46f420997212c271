"""`make bench`: what the /api/ guard costs under load, side by side in one run.

    make bench                                  # full run, about 4 minutes
    make bench BENCH_ARGS=--quick               # smoke run for CI, under a minute
    make bench BENCH_ARGS="--database-url postgres://postgres@127.0.0.1:5432/postgres"
    make bench BENCH_ARGS="--results bench/RESULTS.md"   # also write the tables there

A fresh database (a temporary SQLite file in WAL mode, or a new PostgreSQL
database ``bench_<pid>`` dropped at the end) gets a project with 1,000 keys
hashed with argon2id at full cost and 50 runs. Two gunicorns run the
production configuration (DEBUG off, persistent database connections, rate
limiting off) with 2 sync workers, as every recorded run had (production runs
gthread behind nginx: bench/worker_class.py measures that choice): one with
the guard, one with the guard swapped for bench/middleware.py's stand-in
(BENCH_GUARD_OFF=1). wrk loads them from a second process (a Python load
generator when wrk is missing, or with --loader python):

    a  valid key, GET /api/v1/runs          d  wrong secret for a real key id (argon2 each time)
    b  the same view, guard off             e  djangorestframework-api-key HasAPIKey, trivial view
    c  no key                               f  plain Django JSON view, no auth
    h  valid key, the same trivial view as (e) behind our guard (guard vs HasAPIKey alone)

Each measurement is preceded by a warm-up (argon2's first verification per
worker is never measured) and the cases run in rounds, each pair that a ratio
compares back to back and every other round in reverse order, so the ratios
compare numbers taken seconds apart while other work shares the machine.
Targets: a/b >= 0.80 (stretch 0.90), a/e >= 1.25, c no slower than b.
Then (g): the key list page with 10,000 keys, page 1 of 50, under 100 ms.

The exit status is 0 whenever the measurement ran: a missed target prints a
MISSED line, it is not a failure. Everything started is stopped and everything
created is removed at the end, on Ctrl-C and on errors too.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import platform
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import database, load, seed, servers  # noqa: E402

TARGET_A_OVER_B = 0.80
STRETCH_A_OVER_B = 0.90
TARGET_A_OVER_E = 1.25
TARGET_C_OVER_B = 1.00
TRIVIAL = "/api/v1/bench/trivial"  # bench.urls: (e)'s view, behind our guard


@dataclass
class Case:
    name: str
    title: str
    server: str  # "guarded" or "guard_off"
    path: str
    header: tuple[str, str] | None = field(repr=False)
    expect_status: int
    expect_code: str = ""
    results: list[load.LoadResult] = field(default_factory=list)
    sent: int = 0  # every request the load generator completed, warm-ups included
    problem: str = ""

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


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make bench BENCH_ARGS=...", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--quick", action="store_true", help="a smoke run: short, 200 keys")
    parser.add_argument("--duration", type=float, help="seconds per case per round (5; quick 2)")
    parser.add_argument("--rounds", type=int, help="rounds of all cases (4; quick 1)")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds before each")
    parser.add_argument("--keys", type=int, help="keys in the API project (1000; quick 200)")
    parser.add_argument("--dashboard-keys", type=int, default=10_000, help="keys for (g)")
    parser.add_argument("--renders", type=int, help="timed renders of the list page (20; quick 5)")
    parser.add_argument("--cases", default="abcdefh", help="which of the cases to load")
    parser.add_argument("--threads", type=int, default=2, help="load generator threads (wrk -t)")
    parser.add_argument("--connections", type=int, default=16, help="connections (wrk -c)")
    parser.add_argument("--loader", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="a PostgreSQL server to create the bench database on (default: SQLite)",
    )
    parser.add_argument("--results", type=Path, help="also write the tables to this Markdown file")
    args = parser.parse_args(argv)
    quick = args.quick
    args.duration = args.duration or (2.0 if quick else 5.0)
    args.rounds = args.rounds or (1 if quick else 4)
    args.keys = args.keys or (200 if quick else 1000)
    args.renders = args.renders or (5 if quick else 20)
    args.keys = max(args.keys, 2)
    return args


class Cleanup:
    """Stops what the run started and removes what it made, exactly once."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="nunu-bench-"))
        self.servers: list[servers.Gunicorn] = []
        self.database: database.BenchDatabase | None = None
        self._done = False

    def __call__(self) -> None:
        if self._done:
            return
        self._done = True
        for server in self.servers:
            try:
                server.stop(timeout=10)
            except Exception as error:
                print(f"warning: could not stop gunicorn ({server.name}): {error}", file=sys.stderr)
        try:
            from django.db import connections

            connections.close_all()
        except Exception as error:  # Django may not be set up yet
            del error
        if self.database is not None:
            try:
                self.database.drop()
            except Exception as error:
                print(f"warning: could not drop {self.database.name}: {error}", file=sys.stderr)
        shutil.rmtree(self.folder, ignore_errors=True)


def _raise_exit(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def django_environment(db_url: str, folder: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {load.HEADER_NAME_ENV, load.HEADER_VALUE_ENV, "BENCH_GUARD_OFF"}
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DJANGO_DEBUG": "0",
            # A throwaway for this run only; never written anywhere.
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "APIKEYS_REQUIRE_HTTPS": "0",
            "APIKEYS_RATE_LIMIT_ENABLED": "0",
            "DATABASE_URL": db_url,
            "DATABASE_CONN_MAX_AGE": "600",
            "BENCH_STATIC_ROOT": str(folder / "static"),
            "DJANGO_MEDIA_ROOT": str(folder / "media"),
            "DJANGO_LOG_LEVEL": "WARNING",
        }
    )
    return env


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cpu = model or platform.machine()
    return f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}"


def load_average() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


def preflight(case: Case, port: int) -> None:
    """One request: the case must answer what it is about, or its numbers mean nothing."""
    import json

    headers = {case.header[0]: case.header[1]} if case.header else {}
    status, _, body = servers.get(port, case.path, headers=headers)
    case.sent += 1
    code = ""
    with contextlib.suppress(ValueError, AttributeError):
        code = json.loads(body).get("code", "")
    if status != case.expect_status or (case.expect_code and code != case.expect_code):
        got = f"{status} {code}".strip()
        want = f"{case.expect_status} {case.expect_code}".strip()
        case.problem = f"answered {got}, expected {want}"


def ratio_lines(cases: dict[str, Case], rounds: int) -> tuple[list[str], list[str]]:
    """(lines for the table, MISSED lines)."""
    lines: list[str] = []
    missed: list[str] = []

    def per_round(top: str, bottom: str) -> float | None:
        if top not in cases or bottom not in cases:
            return None
        values = [
            t.rps / b.rps
            for t, b in zip(cases[top].results, cases[bottom].results, strict=False)
            if b.rps
        ]
        return statistics.median(values) if values else None

    def verdict(label: str, value: float | None, target: float, note: str = "") -> None:
        if value is None:
            return
        if value >= target:
            lines.append(f"{label} = {value:.2f}   target >= {target:.2f}: met{note}")
        else:
            short = (target - value) / target * 100
            line = f"MISSED {label} = {value:.2f} < {target:.2f} (short by {short:.0f}%)"
            lines.append(line)
            missed.append(line)

    a_b = per_round("a", "b")
    stretch = ""
    if a_b is not None:
        stretch = (
            f" (stretch {STRETCH_A_OVER_B:.2f}: met)"
            if a_b >= STRETCH_A_OVER_B
            else f" (stretch {STRETCH_A_OVER_B:.2f}: missed by "
            f"{(STRETCH_A_OVER_B - a_b) / STRETCH_A_OVER_B * 100:.0f}%)"
        )
    verdict("a/b", a_b, TARGET_A_OVER_B, stretch)
    verdict("a/e", per_round("a", "e"), TARGET_A_OVER_E)
    verdict("c/b", per_round("c", "b"), TARGET_C_OVER_B, " (c no slower than b)")
    if "c" in cases and "b" in cases and cases["c"].results and cases["b"].results:
        lines.append(f"    p50 c {cases['c'].p50:.2f} ms vs b {cases['b'].p50:.2f} ms")
    for label, top, bottom, meaning in (
        ("h/e", "h", "e", "our guard vs HasAPIKey, both on a trivial view"),
        ("b/e", "b", "e", "the runs view alone vs HasAPIKey's trivial view: a/e's ceiling"),
        ("a/f", "a", "f", ""),
        ("e/f", "e", "f", ""),
        ("d/a", "d", "a", "a flood of wrong secrets, before the rate limit"),
    ):
        value = per_round(top, bottom)
        if value is not None:
            lines.append(f"{label} = {value:.2f}   (reported{': ' + meaning if meaning else ''})")
    if rounds > 1:
        lines.insert(0, f"ratios: median over {rounds} rounds of the per-round ratio of req/s")
    return lines, missed


def table(cases: dict[str, Case]) -> list[str]:
    head = (
        f"{'case':<44} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} {'unexpected':>10}"
    )
    lines = [head, "-" * len(head)]
    for case in cases.values():
        if not case.results:
            continue
        label = f"{case.name}  {case.title}"
        lines.append(
            f"{label:<44} {case.rps:>8.0f} {case.p50:>8.2f} {case.p99:>8.2f} "
            f"{case.requests:>9} {case.unexpected:>10}"
        )
        if case.problem:
            lines.append(f"   !! {case.name} {case.problem}: its numbers are not what they claim")
    rounds = max((len(c.results) for c in cases.values()), default=0)
    if rounds > 1:
        lines.append("")
        lines.append(
            "req/s per round: "
            + "; ".join(
                f"{c.name} " + "/".join(f"{r.rps:.0f}" for r in c.results)
                for c in cases.values()
                if c.results
            )
        )
    return lines


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    cleanup = Cleanup()
    atexit.register(cleanup)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_exit)
    # A shell's background job starts with SIGINT ignored; Ctrl-C must still clean up.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return _run(args, cleanup)
    finally:
        cleanup()


def _run(args: argparse.Namespace, cleanup: Cleanup) -> int:
    started = time.monotonic()
    folder = cleanup.folder
    db = cleanup.database = database.BenchDatabase(args.database_url or None, folder)
    env = django_environment(db.create(), folder)
    for name in set(os.environ) - set(env):
        del os.environ[name]
    os.environ.update(env)

    import django

    django.setup()
    from django.core.management import call_command

    from apikeys.conf import apikeys_settings

    load_before = load_average()
    print(f"nunu admin benchmark: {machine()}; load average {load_before}")
    print(f"database: {db.label}")
    params = {
        "memory_cost": apikeys_settings.ARGON2_MEMORY_KIB,
        "time_cost": apikeys_settings.ARGON2_TIME_COST,
        "parallelism": apikeys_settings.ARGON2_PARALLELISM,
    }
    step = time.monotonic()
    # Before the first query: the pool forks, and no child may share a database connection.
    api_keys = seed.hashed_keys(args.keys, params, prefix=apikeys_settings.KEY_PREFIX)
    print(
        f"hashed {len(api_keys)} secrets with argon2id m={params['memory_cost']} KiB "
        f"t={params['time_cost']} p={params['parallelism']} in {time.monotonic() - step:.1f} s"
    )
    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    seeded = seed.seed_api_project(api_keys)
    seeded.drf_key = seed.seed_drf_key()
    admin = seed.seed_admin()
    del api_keys  # the plaintexts we still need are in `seeded`

    guarded = servers.Gunicorn("guarded", env, folder)
    guard_off_env = {
        **env,
        "BENCH_GUARD_OFF": "1",
        "BENCH_PROJECT_ID": str(seeded.api_project_id),
    }
    guard_off = servers.Gunicorn("guard-off", guard_off_env, folder)
    cleanup.servers += [guarded, guard_off]
    for server in (guarded, guard_off):
        server.start()
    for server in (guarded, guard_off):
        server.wait_ready("/bench/plain")
    ports = {"guarded": guarded.port, "guard_off": guard_off.port}

    key_header = ("X-Api-Key", seeded.valid_key)
    all_cases = [
        Case("a", "valid key, GET /api/v1/runs", "guarded", "/api/v1/runs", key_header, 200),
        Case("b", "same view, guard off", "guard_off", "/api/v1/runs", key_header, 200),
        Case("c", "no key", "guarded", "/api/v1/runs", None, 401, "MISSING_API_KEY"),
        Case(
            "d",
            "wrong secret, real key id",
            "guarded",
            "/api/v1/runs",
            ("X-Api-Key", seeded.wrong_secret_key),
            401,
            "INVALID_API_KEY",
        ),
        Case(
            "e",
            "DRF HasAPIKey, trivial JSON view",
            "guarded",
            "/bench/drf",
            ("Authorization", f"Api-Key {seeded.drf_key}"),
            200,
        ),
        Case("f", "plain Django JSON view, no auth", "guarded", "/bench/plain", None, 200),
        Case("h", "valid key, trivial JSON view", "guarded", TRIVIAL, key_header, 200),
    ]
    cases = {case.name: case for case in all_cases if case.name in args.cases}
    generator = load.LoadGenerator(
        folder=folder,
        loader=args.loader,
        threads=args.threads,
        connections=args.connections,
        timeout=10.0,
    )
    print(
        f"servers: gunicorn, 2 sync workers each, on 127.0.0.1:{guarded.port} (guarded) and "
        f":{guard_off.port} (guard off); {seeded.key_count} keys, {seeded.run_count} runs"
    )
    print(
        f"load: {generator.label}, {args.rounds} round(s) of {args.duration:g} s per case "
        f"after a {args.warmup:g} s warm-up"
    )
    for case in cases.values():
        preflight(case, ports[case.server])
        if case.problem:
            print(f"!! case {case.name} {case.problem}")

    # Every pair a ratio compares runs back to back (c b a e h), and every other round
    # runs in reverse (ABBA), so a drift in the machine's other load cancels out.
    order = [cases[name] for name in "cbaehfd" if name in cases]
    for round_index in range(args.rounds):
        print(f"round {round_index + 1}/{args.rounds} (load average {load_average()})", flush=True)
        for case in order if round_index % 2 == 0 else order[::-1]:
            url = f"http://127.0.0.1:{ports[case.server]}{case.path}"
            if args.warmup > 0:
                case.sent += generator.run(url, case.header, args.warmup).requests
            result = generator.run(url, case.header, args.duration)
            case.sent += result.requests
            case.results.append(result)
            print(
                f"  {case.name}: {result.rps:8.0f} req/s  p50 {result.p50_ms:7.2f} ms  "
                f"p99 {result.p99_ms:7.2f} ms",
                flush=True,
            )

    # (g) after the load, so the API cases saw a database with exactly --keys keys.
    try:
        page_lines = dashboard_case(args, admin, guarded.port)
    except Exception as error:
        page_lines = [f"g  key list page: FAILED to measure: {type(error).__name__}: {error}"]

    # A graceful stop makes every worker write the usage counts it still holds.
    for server in (guarded, guard_off):
        server.stop()
    usage_lines = usage_check(
        seeded,
        [c for c in cases.values() if c.server == "guarded" and c.header == key_header],
        args.connections,
    )

    table_lines = table(cases)
    ratios, missed = ratio_lines(cases, args.rounds)
    report = [
        "",
        *table_lines,
        "",
        *ratios,
        "",
        *usage_lines,
        "",
        *page_lines,
    ]
    print("\n".join(report))
    print(f"\n(done in {time.monotonic() - started:.0f} s; load average {load_average()})")
    if args.results:
        write_results(args, db, generator, seeded, report, load_before)
    if args.quick:
        print("\n(--quick: one short round checks that everything runs; its ratios are noise.)")
    if missed or any(c.problem for c in cases.values()):
        print(f"\n{len(missed)} target(s) missed; see the MISSED lines above.")
    return 0


def dashboard_case(args: argparse.Namespace, admin, port: int) -> list[str]:  # type: ignore[no-untyped-def]
    from apikeys.conf import apikeys_settings
    from bench import dashboard

    step = time.monotonic()
    keys_for_page = seed.cheap_hashed_keys(args.dashboard_keys, prefix=apikeys_settings.KEY_PREFIX)
    slug = seed.seed_dashboard_project(admin, keys_for_page)
    key_ids = {key.key_id for key in keys_for_page}
    del keys_for_page
    made = time.monotonic() - step
    result = dashboard.measure(slug, admin, key_ids, renders=args.renders, port=port)
    title = f"g  key list page, {args.dashboard_keys:,} keys in the project, page 1"
    if result is None:
        return [f"{title}: SKIPPED, the page is not there yet (no URL for the key list)"]
    if result.status != 200:
        return [f"{title}: SKIPPED, {result.url} answered {result.status} to the project's admin"]
    lines = [
        f"{title} ({result.url}; {made:.1f} s to make the keys)",
        f"   in process (server time): median {result.median_ms:.1f} ms, "
        f"max {max(result.in_process_ms):.1f} ms over {len(result.in_process_ms)} renders; "
        f"{result.queries} queries; {result.body_bytes:,} bytes; "
        f"{result.rows_seen} seeded key ids on the page",
    ]
    if result.gunicorn_ms:
        lines.append(
            f"   through gunicorn, one at a time: median {result.gunicorn_median_ms:.1f} ms"
        )
    if result.median_ms < dashboard.TARGET_MS:
        lines.append(f"g = {result.median_ms:.1f} ms   target < {dashboard.TARGET_MS:.0f} ms: met")
    else:
        over = (result.median_ms - dashboard.TARGET_MS) / dashboard.TARGET_MS * 100
        lines.append(
            f"MISSED g = {result.median_ms:.1f} ms >= {dashboard.TARGET_MS:.0f} ms "
            f"(over by {over:.0f}%)"
        )
    return lines


def usage_check(seeded: seed.Seeded, cases: list[Case], connections: int) -> list[str]:
    """Usage is written at most once a minute per key and worker; nothing may be lost."""
    from django.db.models import Sum

    from apikeys.models import APIKey, APIKeyDailyUsage

    if not cases:
        return []
    recorded = (
        APIKeyDailyUsage.objects.filter(key__key_id=seeded.valid_key_id).aggregate(
            total=Sum("request_count")
        )["total"]
        or 0
    )
    last_used = APIKey.objects.values_list("last_used_at", flat=True).get(
        key_id=seeded.valid_key_id
    )
    sent = sum(case.sent for case in cases)
    # wrk does not count the requests still in flight when a run ends (up to -c of them).
    runs = sum(len(case.results) * 2 for case in cases)
    slack = runs * connections
    verdict = "matches" if 0 <= recorded - sent <= slack else "DOES NOT match"
    names = "+".join(case.name for case in cases)
    when = f"{last_used:%H:%M:%S}" if last_used else "never set"
    return [
        f"usage of the valid key ({names}): {recorded} requests recorded in APIKeyDailyUsage, "
        f"{sent} completed by the load generator: {verdict} (up to {slack} more may be "
        f"recorded: requests in flight when a load run ends); last_used_at {when}"
    ]


RESULTS_HEADER = """# Benchmark results

Written by `make bench BENCH_ARGS="--results bench/RESULTS.md"` (bench/run.py says
how it measures); a run replaces the section of its database and keeps the other.
Absolute numbers depend on the machine and on what else ran on it; the targets
are about the ratios, taken side by side in one run.
"""


def write_results(args, db, generator, seeded, report: list[str], load_before: str) -> None:  # type: ignore[no-untyped-def]
    kind = db.label.split(" (")[0]
    marker = f"<!-- section: {kind} -->"
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = "\n".join(
        [
            marker,
            f"## {kind}",
            "",
            f"- when: {when}; load average before {load_before}, after {load_average()}",
            f"- machine: {machine()}",
            f"- load: {generator.label}, {args.rounds} round(s) x {args.duration:g} s per case, "
            f"{args.warmup:g} s warm-up before each",
            f"- data: {seeded.key_count} keys (argon2id at full cost), {seeded.run_count} runs; "
            f"{args.dashboard_keys:,} keys for (g)",
            "",
            "```",
            *report[1:],
            "```",
            "",
        ]
    )
    sections = {}
    if args.results.exists():
        for chunk in args.results.read_text().split("<!-- section: ")[1:]:
            name = chunk.split(" -->", 1)[0]
            sections[name] = "<!-- section: " + chunk.rstrip() + "\n"
    sections[kind] = section
    ordered = [sections[name] for name in sorted(sections, key=lambda n: n != "SQLite")]
    args.results.write_text(RESULTS_HEADER + "\n" + "\n".join(ordered))
    print(f"wrote the {kind} section of {args.results}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
