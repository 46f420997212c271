"""Load from a second process: wrk when it is installed, else a small Python generator.

The header a case sends (its API key) travels in the load generator's
environment, never on its command line (which `ps` shows) nor in a file.

Run as a module (``python -m bench.load URL``) this file *is* the Python load
generator: keep-alive http.client connections on threads, in two processes
like ``wrk -t2``; it prints one JSON line.

A *flood* (case d2, bench/flood.py) sends, on every request, a key taken at
random from a file (wrong secrets for real key ids: no key in it verifies) and
a random ``X-Forwarded-For`` address from its own IPv6 /64, and counts the
answers by status. Both generators do it; ``LoadGenerator.start`` runs one in
the background while another measures.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from urllib.parse import urlsplit

HEADER_NAME_ENV = "BENCH_HEADER_NAME"
HEADER_VALUE_ENV = "BENCH_HEADER_VALUE"
FLOOD_FILE_ENV = "BENCH_FLOOD_FILE"
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


# Case d2's flood (bench/flood.py): a wrong secret for a random real key id from a random
# IPv6 /64 on every request (2001:db8::/32, the documentation prefix: a header value
# only, no packet goes there), the answers counted by status in every thread.
FLOOD_SCRIPT = f"""\
local threads = {{}}

function setup(thread)
  table.insert(threads, thread)
  thread:set("index", #threads)
end

function init(args)
  keys = {{}}
  for line in io.lines(os.getenv("{FLOOD_FILE_ENV}")) do
    if line ~= "" then keys[#keys + 1] = line end
  end
  header = os.getenv("{HEADER_NAME_ENV}")
  math.randomseed(os.time() * 1000 + index)
  unauthorized, limited, other = 0, 0, 0
end

function request()
  local headers = {{}}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  headers[header] = keys[math.random(#keys)]
  headers["X-Forwarded-For"] = string.format("2001:db8:%x:%x::%x",
    math.random(0, 65535), math.random(0, 65535), math.random(1, 65535))
  return wrk.format("GET", nil, headers)
end

function response(status, headers, body)
  if status == 401 then
    unauthorized = unauthorized + 1
  elseif status == 429 then
    limited = limited + 1
  else
    other = other + 1
  end
end

done = function(summary, latency, requests)
  local u, l, o = 0, 0, 0
  for _, thread in ipairs(threads) do
    u = u + thread:get("unauthorized")
    l = l + thread:get("limited")
    o = o + thread:get("other")
  end
  local e = summary.errors
  io.write(string.format("BENCH_RESULT %d %d %.1f %.1f %d %d\\n",
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
  io.write(string.format("BENCH_STATUSES %d %d %d\\n", u, l, o))
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
    # A flood's answers by status ({401: n, 429: n, 0: anything else}); empty otherwise.
    statuses: dict[int, int] = field(default_factory=dict)

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
        self.flood_script = folder / "flood.lua"
        self.flood_script.write_text(FLOOD_SCRIPT)

    @property
    def label(self) -> str:
        kind = "wrk" if self.wrk else "Python (http.client, keep-alive)"
        return f"{kind} -t{self.threads} -c{self.connections}"

    def run(self, url: str, header: tuple[str, str] | None, seconds: float) -> LoadResult:
        return self.start(url, header, seconds).wait()

    def start(
        self,
        url: str,
        header: tuple[str, str] | None,
        seconds: float,
        *,
        flood_file: Path | None = None,
    ) -> Running:
        """Start a load run in the background; ``.wait()`` answers its result. With
        ``flood_file``, every request takes its key from that file (``header`` names
        the header) and a random X-Forwarded-For from its own IPv6 /64."""
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in {HEADER_NAME_ENV, HEADER_VALUE_ENV, FLOOD_FILE_ENV}
        }
        if header is not None:
            env[HEADER_NAME_ENV], env[HEADER_VALUE_ENV] = header
        if flood_file is not None:
            env[FLOOD_FILE_ENV] = str(flood_file)
        if self.wrk:
            script = self.flood_script if flood_file is not None else self.script
            command = [
                self.wrk,
                f"-t{self.threads}",
                f"-c{self.connections}",
                f"-d{max(1, round(seconds))}s",
                f"--timeout={max(1, round(self.timeout))}s",
                "-s",
                str(script),
                url,
            ]
            return Running(command, env, seconds, parse_wrk)
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
        return Running(command, env, seconds, parse_python)


class Running:
    """One load generator process; its output is read when it ends."""

    def __init__(self, command: list[str], env: dict[str, str], seconds: float, parse) -> None:  # type: ignore[no-untyped-def]
        self.seconds = seconds
        self.parse = parse
        self.process = subprocess.Popen(
            command,
            env=env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def wait(self) -> LoadResult:
        try:
            stdout, stderr = self.process.communicate(timeout=self.seconds + 60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            stdout, stderr = self.process.communicate()
            raise RuntimeError(f"The load generator did not end:\n{stderr}") from None
        return self.parse(self.process.returncode, stdout, stderr)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()


def parse_wrk(returncode: int, stdout: str, stderr: str) -> LoadResult:
    result: LoadResult | None = None
    statuses: dict[int, int] = {}
    for line in stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            requests, micros, p50, p99, non_2xx, errors = line.split()[1:]
            result = LoadResult(
                requests=int(requests),
                seconds=int(micros) / 1e6,
                p50_ms=float(p50) / 1000,
                p99_ms=float(p99) / 1000,
                non_2xx=int(non_2xx),
                socket_errors=int(errors),
            )
        elif line.startswith("BENCH_STATUSES "):
            unauthorized, limited, other = (int(n) for n in line.split()[1:])
            statuses = {401: unauthorized, 429: limited, 0: other}
    if result is None:
        raise RuntimeError(f"wrk printed no result:\n{stdout}\n{stderr}")
    if statuses:
        result = LoadResult(**{**result.__dict__, "statuses": statuses})
    return result


def parse_python(returncode: int, stdout: str, stderr: str) -> LoadResult:
    if returncode != 0 or not stdout.strip():
        raise RuntimeError(f"The Python load generator failed:\n{stderr}")
    result = json.loads(stdout.strip().splitlines()[-1])
    result["statuses"] = {int(k): v for k, v in result.get("statuses", {}).items()}
    return LoadResult(**result)


# --- The Python load generator (a process of its own) ---------------------------


def _worker(url: str, seconds: float, connections: int, timeout: float, queue) -> None:  # type: ignore[no-untyped-def]
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = {}
    if os.environ.get(HEADER_NAME_ENV):
        headers[os.environ[HEADER_NAME_ENV]] = os.environ.get(HEADER_VALUE_ENV, "")
    flood_keys: list[str] = []
    if os.environ.get(FLOOD_FILE_ENV):
        flood_keys = Path(os.environ[FLOOD_FILE_ENV]).read_text().split()
    deadline = time.perf_counter() + seconds
    lock = threading.Lock()
    totals = {"latencies": [], "non_2xx": 0, "errors": 0, "statuses": {401: 0, 429: 0, 0: 0}}

    def loop() -> None:
        latencies, non_2xx, errors = [], 0, 0
        statuses = {401: 0, 429: 0, 0: 0}
        rng = random.Random()
        own = dict(headers)  # this connection's: a flood changes them on every request
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        while time.perf_counter() < deadline:
            if flood_keys:
                own[os.environ[HEADER_NAME_ENV]] = rng.choice(flood_keys)
                own["X-Forwarded-For"] = flood_address(rng)
            started = time.perf_counter()
            try:
                connection.request("GET", target, headers=own)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                errors += 1
                connection.close()
                continue
            latencies.append(time.perf_counter() - started)
            if not 200 <= response.status < 400:
                non_2xx += 1
            statuses[response.status if response.status in statuses else 0] += 1
            if response.will_close:
                connection.close()
        connection.close()
        with lock:
            totals["latencies"].extend(latencies)
            totals["non_2xx"] += non_2xx
            totals["errors"] += errors
            for status, count in statuses.items():
                totals["statuses"][status] += count

    workers = [threading.Thread(target=loop) for _ in range(connections)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    queue.put(totals)


def flood_address(rng: random.Random) -> str:
    """An address in a random /64 of 2001:db8::/32 (as the flood's Lua script makes)."""
    return (
        f"2001:db8:{rng.randrange(65536):x}:{rng.randrange(65536):x}::{rng.randrange(1, 65536):x}"
    )


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
                "statuses": (
                    {
                        status: sum(r["statuses"][status] for r in results)
                        for status in (401, 429, 0)
                    }
                    if os.environ.get(FLOOD_FILE_ENV)
                    else {}
                ),
            }
        )
    )


if __name__ == "__main__":
    _main(sys.argv[1:])
