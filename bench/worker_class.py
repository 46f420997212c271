"""Which gunicorn worker class behind nginx: sync or gthread, measured side by side.

    .venv/bin/python bench/worker_class.py [--seconds 10] [--rounds 3] [--threads 4]

One fresh SQLite database and key (bench/nginx.py), then for each worker class a
gunicorn with the production configuration (2 workers) behind deploy/nginx.conf,
loaded by wrk through nginx with a valid key on GET /api/v1/runs, rounds
alternating the order. It prints requests/s and p50/p99 per class; gunicorn.conf.py
says which one won and by how much. Not a test and not part of `make bench`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import load  # noqa: E402
from bench.nginx import Nginx, production_env, seed  # noqa: E402
from bench.servers import Gunicorn  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="gthread threads per worker")
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="worker-class-") as name:
        folder = Path(name)
        env = production_env(folder)
        key = seed(env)
        generator = load.LoadGenerator(
            folder=folder, loader="wrk", threads=2, connections=args.connections, timeout=10
        )
        classes = {"sync": 1, f"gthread x{args.threads}": args.threads}
        results: dict[str, list[load.LoadResult]] = {label: [] for label in classes}
        for round_number in range(args.rounds):
            order = list(classes) if round_number % 2 == 0 else list(reversed(classes))
            for label in order:
                server = Gunicorn(label.split()[0], env, folder, threads=classes[label])
                proxy = Nginx(folder / f"nginx-{label.split()[0]}", server.port)
                try:
                    server.start()
                    server.wait_ready("/api/openapi.json")
                    proxy.start()
                    url = f"http://127.0.0.1:{proxy.port}/api/v1/runs"
                    generator.run(url, ("X-Api-Key", key), 2)  # warm-up: argon2 once per worker
                    result = generator.run(url, ("X-Api-Key", key), args.seconds)
                    results[label].append(result)
                    print(
                        f"round {round_number + 1} {label:12} {result.rps:8.0f} req/s "
                        f"p50 {result.p50_ms:6.1f} ms p99 {result.p99_ms:6.1f} ms "
                        f"non-2xx {result.non_2xx} errors {result.socket_errors}",
                        flush=True,
                    )
                finally:
                    proxy.stop()
                    server.stop()
        for label, runs in results.items():
            total = sum(r.requests for r in runs) / sum(r.seconds for r in runs)
            p99 = max(r.p99_ms for r in runs)
            print(f"{label:12} {total:8.0f} req/s over {len(runs)} rounds, worst p99 {p99:.1f} ms")


if __name__ == "__main__":
    main()
