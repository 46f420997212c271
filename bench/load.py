"""Load from a second process: wrk when it is installed, else a small Python generator.

The header a case sends (its API key) travels in the load generator's
environment, never on its command line (which `ps` shows) nor in a file.

Run as a module (``python -m bench.load URL``) this file *is* the Python load
generator: keep-alive http.client connections on threads, in two processes
like ``wrk -t2``; it prints one JSON line.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from urllib.parse import urlsplit

HEADER_NAME_ENV = "BENCH_HEADER_NAME"
HEADER_VALUE_ENV = "BENCH_HEADER_VALUE"
REPO = Path(__file__).resolve().parent.parent

# Latencies are microseconds in wrk's summary; the marker keeps wrk's own text apart.
WRK_SCRIPT = f"""\
local name = os.getenv("{HEADER_NAME_ENV}")
local value = os.getenv("{HEADER_VALUE_ENV}")
if name ~= nil and name ~= "" then
  wrk.headers[name] = value
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH_RESULT %d %d %.1f %.1f %d %d\\n",
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_path() -> str | None:
    return shutil.which("wrk")


class LoadGenerator:
    def __init__(
        self,
        *,
        folder: Path,
        loader: str,
        threads: int,
        connections: int,
        timeout: float,
    ) -> None:
        self.threads = threads
        self.connections = connections
        self.timeout = timeout
        self.wrk = wrk_path() if loader in {"auto", "wrk"} else None
        if loader == "wrk" and self.wrk is None:
            raise RuntimeError("wrk is not installed: apt-get install -y wrk, or --loader python.")
        self.script = folder / "bench.lua"
        self.script.write_text(WRK_SCRIPT)

    @property
    def label(self) -> str:
        kind = "wrk" if self.wrk else "Python (http.client, keep-alive)"
        return f"{kind} -t{self.threads} -c{self.connections}"

    def run(self, url: str, header: tuple[str, str] | None, seconds: float) -> LoadResult:
        env = {k: v for k, v in os.environ.items() if k not in {HEADER_NAME_ENV, HEADER_VALUE_ENV}}
        if header is not None:
            env[HEADER_NAME_ENV], env[HEADER_VALUE_ENV] = header
        if self.wrk:
            return self._run_wrk(url, env, seconds)
        return self._run_python(url, env, seconds)

    def _run_wrk(self, url: str, env: dict[str, str], seconds: float) -> LoadResult:
        command = [
            self.wrk,
            f"-t{self.threads}",
            f"-c{self.connections}",
            f"-d{max(1, round(seconds))}s",
            f"--timeout={max(1, round(self.timeout))}s",
            "-s",
            str(self.script),
            url,
        ]
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=seconds + 60, check=False
        )
        for line in done.stdout.splitlines():
            if line.startswith("BENCH_RESULT "):
                requests, micros, p50, p99, non_2xx, errors = line.split()[1:]
                return LoadResult(
                    requests=int(requests),
                    seconds=int(micros) / 1e6,
                    p50_ms=float(p50) / 1000,
                    p99_ms=float(p99) / 1000,
                    non_2xx=int(non_2xx),
                    socket_errors=int(errors),
                )
        raise RuntimeError(f"wrk printed no result:\n{done.stdout}\n{done.stderr}")

    def _run_python(self, url: str, env: dict[str, str], seconds: float) -> LoadResult:
        command = [
            sys.executable,
            "-m",
            "bench.load",
            url,
            str(seconds),
            str(self.threads),
            str(self.connections),
            str(self.timeout),
        ]
        done = subprocess.run(
            command,
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=False,
        )
        if done.returncode != 0 or not done.stdout.strip():
            raise RuntimeError(f"The Python load generator failed:\n{done.stderr}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        return LoadResult(**result)


# --- The Python load generator (a process of its own) ---------------------------


def _worker(url: str, seconds: float, connections: int, timeout: float, queue) -> None:  # type: ignore[no-untyped-def]
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = {}
    if os.environ.get(HEADER_NAME_ENV):
        headers[os.environ[HEADER_NAME_ENV]] = os.environ.get(HEADER_VALUE_ENV, "")
    deadline = time.perf_counter() + seconds
    lock = threading.Lock()
    totals = {"latencies": [], "non_2xx": 0, "errors": 0}

    def loop() -> None:
        latencies, non_2xx, errors = [], 0, 0
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                connection.request("GET", target, headers=headers)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                errors += 1
                connection.close()
                continue
            latencies.append(time.perf_counter() - started)
            if not 200 <= response.status < 400:
                non_2xx += 1
            if response.will_close:
                connection.close()
        connection.close()
        with lock:
            totals["latencies"].extend(latencies)
            totals["non_2xx"] += non_2xx
            totals["errors"] += errors

    workers = [threading.Thread(target=loop) for _ in range(connections)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    queue.put(totals)


def _main(argv: list[str]) -> None:
    url, seconds, processes, connections, timeout = argv
    processes_n, connections_n = int(processes), int(connections)
    context = get_context("fork")
    queue = context.Queue()
    per_process = [connections_n // processes_n] * processes_n
    per_process[0] += connections_n - sum(per_process)
    started = time.perf_counter()
    children = [
        context.Process(target=_worker, args=(url, float(seconds), n, float(timeout), queue))
        for n in per_process
    ]
    for child in children:
        child.start()
    results = [queue.get() for _ in children]
    for child in children:
        child.join()
    elapsed = time.perf_counter() - started
    latencies = sorted(x for r in results for x in r["latencies"])
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else 0.0
    print(
        json.dumps(
            {
                "requests": len(latencies),
                "seconds": elapsed,
                "p50_ms": statistics.median(latencies) * 1000 if latencies else 0.0,
                "p99_ms": p99 * 1000,
                "non_2xx": sum(r["non_2xx"] for r in results),
                "socket_errors": sum(r["errors"] for r in results),
            }
        )
    )


if __name__ == "__main__":
    _main(sys.argv[1:])
