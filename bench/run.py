"""`make bench`: what the /api/ guard costs under load, side by side in one run.

    make bench                                  # full run, about 5 minutes
    make bench BENCH_ARGS=--quick               # smoke run for CI, about a minute
    make bench BENCH_ARGS="--database-url postgres://postgres@127.0.0.1:5432/postgres"
    make bench BENCH_ARGS="--redis-url redis://127.0.0.1:6379/14"   # a shared cache
    make bench BENCH_ARGS="--results bench/RESULTS.md"   # also write the tables there
    make bench BENCH_ARGS="--cases d2 --flood-ids 1"      # d2 alone, its flood past the budget

A fresh database (a temporary SQLite file in WAL mode, or a new PostgreSQL
database ``bench_<pid>`` dropped at the end) gets a project with 1,000 keys
hashed with argon2id at full cost and 50 runs. gunicorns run the production
configuration (DEBUG off, persistent database connections) with 2 sync workers,
as every recorded run had (production runs gthread behind nginx:
bench/worker_class.py measures that choice): one with the guard (rate limit off,
so every case gets the answer it is about), one with the guard swapped for
bench/middleware.py's stand-in (BENCH_GUARD_OFF=1), and for d2 one with the
guard behind one trusted proxy and the rate limit on (bench/flood.py). wrk loads
them from a second process (a Python load generator when wrk is missing, or with
--loader python); bench/cases.py lists the cases:

    a   valid key, GET /api/v1/runs          e   djangorestframework-api-key HasAPIKey, trivial view
    b   the same view, guard off             e2  our DRF adapter, the same trivial view
    c   no key                               f   plain Django JSON view, no auth
    d   wrong secret for a real key id       f1  (f) after reading (h)'s key row as the guard does
                                             h   valid key, the same trivial view behind our guard
    d2  (a) while 8 connections flood wrong secrets for many real key ids from random
        IPv6 /64s, against (a) on the same server without the flood (d2a)

Each measurement is preceded by a warm-up (argon2's first verification per
worker, and the first wrong secrets of (d)'s budget, are never measured) and the
cases run in rounds, each pair that a ratio compares back to back and every other
round in reverse order, so the ratios compare numbers taken seconds apart while
other work shares the machine. A ratio is the median of its rounds' ratios, the
lowest and highest of them in brackets: on a machine shared with other work they
can lie a fifth apart or more, and more, shorter rounds (``--rounds 8 --duration
3``) pin the median down better than a few long ones. Targets: a/b >= 0.90,
a/e >= 1.25, c no slower than b, h/f >= 0.80, e2/e >= 1.30; d2: (a)'s p99
within 2 x and its req/s at least 0.8 x of what they are without the flood. d/c is reported with
the argon2 budget it ran under; h/f1 and f1/f split h/f into the guard's own cost
and the one key read SPEC §5 requires on every request. Then (g): the key list
page with 10,000 keys, page 1 of 50, under 100 ms.

The exit status is 0 whenever the measurement ran: a missed target prints a
MISSED line, it is not a failure. Everything started is stopped and everything
created is removed at the end, on Ctrl-C and on errors too.
"""

from __future__ import annotations

import argparse
import atexit
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import cases as bench_cases  # noqa: E402
from bench import checks, dashboard, database, flood, load, report, results, seed, servers  # noqa: E402
from bench.cases import FLOOD, GUARD_OFF, GUARDED, Case  # noqa: E402
from bench.environment import Cleanup, django_environment, load_average, machine  # noqa: E402

WORKERS = 2  # per server: servers.Gunicorn's default


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
    parser.add_argument(
        "--cases",
        default="all",
        help=f"which cases to load, e.g. 'a,b,d2' or 'abd2' (all: {bench_cases.ALL})",
    )
    parser.add_argument(
        "--flood-ids",
        type=int,
        help="d2's flood aims at this many key ids (default: every seeded key but (a)'s and "
        "(d)'s; 1 shows a flood past its argon2 budget)",
    )
    parser.add_argument("--threads", type=int, default=2, help="load generator threads (wrk -t)")
    parser.add_argument("--connections", type=int, default=16, help="connections (wrk -c)")
    parser.add_argument("--loader", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="a PostgreSQL server to create the bench database on (default: SQLite)",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("REDIS_URL", ""),
        help="the servers' shared cache (default: $REDIS_URL, else each process's memory)",
    )
    parser.add_argument("--results", type=Path, help="also write the tables to this Markdown file")
    args = parser.parse_args(argv)
    quick = args.quick
    args.duration = args.duration or (2.0 if quick else 5.0)
    args.rounds = args.rounds or (1 if quick else 4)
    args.keys = args.keys or (200 if quick else 1000)
    args.renders = args.renders or (5 if quick else 20)
    args.keys = max(args.keys, 3)  # the valid key, (d)'s id, and at least one for the flood
    try:
        args.case_names = bench_cases.parse_names(args.cases)
    except ValueError as error:
        parser.error(str(error))
    return args


def _raise_exit(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    cleanup = Cleanup()
    atexit.register(cleanup)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_exit)
    # A shell's background job starts with SIGINT ignored; Ctrl-C must still clean up.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return Bench(args, cleanup).run()
    finally:
        cleanup()


@dataclass
class Servers:
    by_role: dict[str, servers.Gunicorn]

    def port(self, role: str) -> int:
        return self.by_role[role].port

    def stop(self) -> None:
        # A graceful stop makes every worker write the usage counts it still holds.
        for server in self.by_role.values():
            server.stop()


class Bench:
    """One run, step by step: set up, seed, serve, check, measure, report."""

    def __init__(self, args: argparse.Namespace, cleanup: Cleanup) -> None:
        self.args = args
        self.cleanup = cleanup
        self.folder = cleanup.folder
        self.started = time.monotonic()
        self.load_before = ""
        self.skipped: list[str] = []

    def run(self) -> int:
        env = self.set_up()
        seeded, admin = self.seed()
        cases = self.choose_cases(seeded)
        running = self.serve(env, seeded, cases)
        generator = load.LoadGenerator(
            folder=self.folder,
            loader=self.args.loader,
            threads=self.args.threads,
            connections=self.args.connections,
            timeout=10.0,
        )
        self.describe(seeded, running, generator)
        self.check(cases, running, seeded)
        self.measure(cases, running, generator, seeded)
        # (g) after the load, so the API cases saw a database with exactly --keys keys.
        try:
            page_lines = dashboard.case_lines(
                admin,
                keys=self.args.dashboard_keys,
                renders=self.args.renders,
                port=running.port(GUARDED),
            )
        except Exception as error:
            page_lines = [f"g  key list page: FAILED to measure: {type(error).__name__}: {error}"]
        running.stop()
        return self.report(cases, seeded, generator, page_lines)

    # --- set up ---------------------------------------------------------------

    def set_up(self) -> dict[str, str]:
        """A fresh database, this process's environment as the servers', Django."""
        db = self.cleanup.database = database.BenchDatabase(
            self.args.database_url or None, self.folder
        )
        env = django_environment(db.create(), self.args.redis_url, self.folder)
        for name in set(os.environ) - set(env):
            del os.environ[name]
        os.environ.update(env)
        self.cleanup.redis = bool(self.args.redis_url)
        self.env = env
        import django

        django.setup()
        self.load_before = load_average()
        print(f"nunu admin benchmark: {machine()}; load average {self.load_before}")
        print(f"database: {db.label}")
        print(f"cache: {self.cache_label()}")
        self.db = db
        return env

    def cache_label(self) -> str:
        if self.args.redis_url:
            return f"Redis ({self.args.redis_url.rsplit('@', 1)[-1]}), shared by every worker"
        return "each process's own memory (no REDIS_URL): limits and budgets count per worker"

    def budget(self) -> report.Budget:
        from apikeys.conf import apikeys_settings

        shared = bool(self.args.redis_url)
        return report.Budget(
            failures=int(apikeys_settings.SECRET_FAILURES),
            window=int(apikeys_settings.SECRET_FAILURES_WINDOW),
            total=int(apikeys_settings.SECRET_FAILURES_TOTAL),
            apart=1 if shared else WORKERS,
            where="Redis, shared by the workers"
            if shared
            else f"each worker's memory (no Redis: {WORKERS} workers, {WORKERS} budgets)",
        )

    def seed(self) -> tuple[seed.Seeded, object]:
        from django.core.management import call_command

        from apikeys.conf import apikeys_settings

        params = {
            "memory_cost": apikeys_settings.ARGON2_MEMORY_KIB,
            "time_cost": apikeys_settings.ARGON2_TIME_COST,
            "parallelism": apikeys_settings.ARGON2_PARALLELISM,
        }
        step = time.monotonic()
        # Before the first query: the pool forks, and no child may share a database connection.
        api_keys = seed.hashed_keys(self.args.keys, params, prefix=apikeys_settings.KEY_PREFIX)
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
        return seeded, admin

    def choose_cases(self, seeded: seed.Seeded) -> dict[str, Case]:
        from apikeys.conf import apikeys_settings

        adapter, why = drf_adapter()
        every = bench_cases.define(
            valid_key=seeded.valid_key,
            valid_key_id=seeded.valid_key_id,
            wrong_secret_key=seeded.wrong_secret_key,
            drf_key=seeded.drf_key,
            header=apikeys_settings.HEADER,
            adapter=adapter,
        )
        wanted = self.args.case_names
        if "e2" in wanted and not adapter:
            self.skipped.append(f"e2 SKIPPED: the DRF adapter of SPEC §12 is not there ({why})")
        return {case.name: case for case in every if case.name in wanted}

    def serve(self, env: dict[str, str], seeded: seed.Seeded, cases: dict[str, Case]) -> Servers:
        environments = {
            GUARDED: env,
            GUARD_OFF: {
                **env,
                "BENCH_GUARD_OFF": "1",
                "BENCH_PROJECT_ID": str(seeded.api_project_id),
            },
        }
        if any(case.server == FLOOD for case in cases.values()):
            environments[FLOOD] = flood.server_env(env)
        by_role = {
            role: servers.Gunicorn(role.replace("_", "-"), role_env, self.folder, workers=WORKERS)
            for role, role_env in environments.items()
        }
        self.cleanup.servers += by_role.values()
        for server in by_role.values():
            server.start()
        for server in by_role.values():
            server.wait_ready("/bench/plain")
        return Servers(by_role)

    def describe(
        self, seeded: seed.Seeded, running: Servers, generator: load.LoadGenerator
    ) -> None:
        ports = ", ".join(f":{s.port} ({role})" for role, s in running.by_role.items())
        print(
            f"servers: gunicorn, {WORKERS} sync workers each, on 127.0.0.1 {ports}; "
            f"{seeded.key_count} keys, {seeded.run_count} runs"
        )
        print(
            f"load: {generator.label}, {self.args.rounds} round(s) of {self.args.duration:g} s "
            f"per case after a {self.args.warmup:g} s warm-up"
        )

    # --- check and measure ------------------------------------------------------

    def check(self, cases: dict[str, Case], running: Servers, seeded: seed.Seeded) -> None:
        """One request per case: it must answer what it is about, or its numbers mean
        nothing; d2's server must count clients as the flood assumes."""
        from apikeys.conf import apikeys_settings

        for case in cases.values():
            checks.preflight(case, running.port(case.server))
        if "d2" in cases:
            problem = flood.check_server(
                running.port(FLOOD),
                apikeys_settings.HEADER,
                seeded.flood_keys[0],
                int(apikeys_settings.RATE_LIMIT_FAILURES),
                1 if self.args.redis_url else WORKERS,
            )
            if problem:
                cases["d2"].problem = f"flood server: {problem}"
        for case in cases.values():
            if case.problem:
                print(f"!! case {case.name} {case.problem}")

    def measure(
        self,
        cases: dict[str, Case],
        running: Servers,
        generator: load.LoadGenerator,
        seeded: seed.Seeded,
    ) -> None:
        args = self.args
        flooder = load.LoadGenerator(
            folder=self.folder,
            loader=args.loader,
            threads=1,
            connections=flood.CONNECTIONS,
            timeout=10.0,
        )
        keys_file = flood.write_keys(self.folder, flood_keys(self.args, seeded))
        order = list(cases.values())  # bench.cases.ORDER: each compared pair side by side
        for round_index in range(args.rounds):
            print(
                f"round {round_index + 1}/{args.rounds} (load average {load_average()})",
                flush=True,
            )
            for case in order if round_index % 2 == 0 else order[::-1]:
                url = f"http://127.0.0.1:{running.port(case.server)}{case.path}"
                if case.name == "d2":
                    result, flood_result = flood.measure(
                        generator,
                        flooder,
                        url=url,
                        key_header=case.header,  # type: ignore[arg-type]
                        keys_file=keys_file,
                        warmup=args.warmup,
                        duration=args.duration,
                    )
                    case.flood.append(flood_result)
                    case.sent += result.requests
                    extra = (
                        f"  (flood {flood_result.rps:.0f} req/s, "
                        f"{flood_result.statuses.get(401, 0)} answered 401)"
                    )
                else:
                    if args.warmup > 0:
                        timed(case, generator, url, args.warmup, measured=False)
                    result = timed(case, generator, url, args.duration, measured=True)
                    extra = ""
                case.results.append(result)
                print(
                    f"  {case.name:<3}: {result.rps:8.0f} req/s  p50 {result.p50_ms:7.2f} ms  "
                    f"p99 {result.p99_ms:7.2f} ms{extra}",
                    flush=True,
                )

    # --- report -----------------------------------------------------------------

    def report(
        self,
        cases: dict[str, Case],
        seeded: seed.Seeded,
        generator: load.LoadGenerator,
        page_lines: list[str],
    ) -> int:
        # Every case that presents the valid key to a real guard records its usage.
        usage_lines = checks.usage_check(
            seeded,
            [c for c in cases.values() if c.server != GUARD_OFF and presents(c, seeded.valid_key)],
            self.args.connections,
        )
        flood_setup = flood_setup_of(self.args, seeded) if "d2" in cases else None
        ratios, missed = report.ratio_lines(
            cases,
            self.args.rounds,
            budget=self.budget(),
            flood=flood_setup,
            skipped=self.skipped,
        )
        lines = ["", *report.table(cases), "", *ratios, "", *usage_lines, "", *page_lines]
        print("\n".join(lines))
        print(f"\n(done in {time.monotonic() - self.started:.0f} s; load average {load_average()})")
        if self.args.results:
            self.write_results(generator, seeded, lines[1:])
        if self.args.quick:
            print("\n(--quick: one short round checks that everything runs; its ratios are noise.)")
        if missed or any(c.problem for c in cases.values()):
            print(f"\n{len(missed)} target(s) missed; see the MISSED lines above.")
        return 0

    def write_results(
        self, generator: load.LoadGenerator, seeded: seed.Seeded, lines: list[str]
    ) -> None:
        args = self.args
        kind = self.db.label.split(" (")[0]
        facts = [
            f"- when: {results.now()}; load average before {self.load_before}, "
            f"after {load_average()}",
            f"- machine: {machine()}",
            f"- cache: {self.cache_label()}",
            f"- load: {generator.label}, {args.rounds} round(s) x {args.duration:g} s per case, "
            f"{args.warmup:g} s warm-up before each; d2's flood wrk -t1 -c{flood.CONNECTIONS}",
            f"- data: {seeded.key_count} keys (argon2id at full cost), {seeded.run_count} runs; "
            f"{args.dashboard_keys:,} keys for (g)",
        ]
        results.write(args.results, kind=kind, facts=facts, report=lines)
        print(f"wrote the {kind} section of {args.results}")


def drf_adapter() -> tuple[bool, str]:
    """Whether apikeys.contrib.drf has SPEC §12's two classes, and if not, why."""
    try:
        from apikeys.contrib import drf
    except ImportError as error:
        return False, f"apikeys.contrib.drf: {error}"
    missing = [n for n in ("APIKeyAuthentication", "HasAPIKeyPermission") if not hasattr(drf, n)]
    if missing:
        return False, f"apikeys.contrib.drf has no {', '.join(missing)}"
    return True, ""


def flood_keys(args: argparse.Namespace, seeded: seed.Seeded) -> list[str]:
    """The wrong secrets d2's flood sends, one per key id it aims at."""
    if args.flood_ids is None:
        return seeded.flood_keys
    return seeded.flood_keys[: max(1, args.flood_ids)]


def flood_setup_of(args: argparse.Namespace, seeded: seed.Seeded) -> report.FloodSetup:
    from apikeys import keys
    from apikeys.conf import apikeys_settings

    shape = keys.key_format(apikeys_settings.KEY_PREFIX)
    aimed = flood_keys(args, seeded)
    ids = {parsed.key_id for k in aimed if (parsed := shape.parse(k)) is not None}
    return report.FloodSetup(
        connections=flood.CONNECTIONS, key_ids=len(ids), trusted_proxies=flood.TRUSTED_PROXIES
    )


def presents(case: Case, key: str) -> bool:
    return case.header is not None and case.header[1] == key


def timed(
    case: Case, generator: load.LoadGenerator, url: str, seconds: float, *, measured: bool
) -> load.LoadResult:
    """One load run of ``case``, its wall-clock span kept (d's budget windows)."""
    start = time.time()
    result = generator.run(url, case.header, seconds)
    case.runs.append((start, time.time(), result.requests, measured))
    case.sent += result.requests
    return result


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
