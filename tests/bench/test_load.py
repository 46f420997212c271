"""bench.load: what the load generators print becomes a LoadResult; d2's flood
addresses are each a new client to the guard (nothing is run or timed here)."""

from __future__ import annotations

import json
import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from apikeys.guard.clientip import client_network
from bench import load


def test_wrk_output_is_read_with_the_floods_answers_by_status():
    stdout = (
        "Running 4s test\nBENCH_RESULT 120 4000000 55000.0 91000.5 120 2\nBENCH_STATUSES 110 7 3\n"
    )
    result = load.parse_wrk(0, stdout, "")
    assert (result.requests, result.seconds, result.rps) == (120, 4.0, 30.0)
    assert (result.p50_ms, result.p99_ms) == (55.0, 91.0005)
    assert (result.non_2xx, result.socket_errors) == (120, 2)
    assert result.statuses == {401: 110, 429: 7, 0: 3}


def test_wrk_output_without_a_flood_has_no_statuses():
    result = load.parse_wrk(0, "BENCH_RESULT 10 1000000 1.0 2.0 0 0\n", "")
    assert result.statuses == {}


def test_wrk_output_without_a_result_is_an_error_that_shows_it():
    with pytest.raises(RuntimeError, match="wrk printed no result:\nunable to connect"):
        load.parse_wrk(1, "unable to connect", "")


def test_the_python_generators_line_is_read_with_integer_statuses():
    line = {
        "requests": 10,
        "seconds": 2.0,
        "p50_ms": 1.0,
        "p99_ms": 3.0,
        "non_2xx": 10,
        "socket_errors": 0,
        "statuses": {"401": 9, "429": 1, "0": 0},
    }
    result = load.parse_python(0, "noise\n" + json.dumps(line) + "\n", "")
    assert result.statuses == {401: 9, 429: 1, 0: 0}
    with pytest.raises(RuntimeError, match="The Python load generator failed:\nboom"):
        load.parse_python(1, "", "boom")


def test_flood_addresses_fall_in_many_ipv6_64s_of_the_documentation_prefix():
    rng = random.Random(9)
    networks = {client_network(load.flood_address(rng)) for _ in range(1000)}
    assert len(networks) > 990  # the guard counts per /64: nearly every request a new client
    assert all(
        network.startswith("2001:db8:") and network.endswith("::/64") for network in networks
    )


class _Recorder(BaseHTTPRequestHandler):
    """Answers 401 or 429 (every fifth request) and keeps the headers the flood sent."""

    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, str]] = []

    def do_GET(self) -> None:
        self.seen.append(
            (self.headers.get("X-Api-Key", ""), self.headers.get("X-Forwarded-For", ""))
        )
        status = 429 if len(self.seen) % 5 == 0 else 401
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder():
    _Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("loader", ["wrk", "python"])
def test_a_flood_sends_a_key_from_its_file_and_a_new_64_per_request(recorder, tmp_path, loader):
    if loader == "wrk" and load.wrk_path() is None:
        pytest.skip("wrk is not installed (.ci/run installs it)")
    keys_file = tmp_path / "keys.txt"
    wrong = [f"nunu_{n:012d}_{'x' * 38}" for n in range(5)]
    keys_file.write_text("\n".join(wrong) + "\n")
    generator = load.LoadGenerator(
        folder=tmp_path, loader=loader, threads=1, connections=2, timeout=5.0
    )
    url = f"http://127.0.0.1:{recorder.server_address[1]}/api/v1/runs"
    result = generator.start(url, ("X-Api-Key", ""), 1.0, flood_file=keys_file).wait()

    seen = list(_Recorder.seen)
    assert len(seen) >= 10
    assert {key for key, _ in seen} <= set(wrong)
    assert len({key for key, _ in seen}) > 1
    networks = [client_network(address) for _, address in seen]
    assert len(set(networks)) > len(seen) * 0.9
    # Every answer is counted by status (requests in flight at the end may not be).
    counted = result.statuses[401] + result.statuses[429] + result.statuses[0]
    assert counted == result.requests <= len(seen)
    assert result.statuses[429] >= result.requests // 5 - 2
    assert result.statuses[0] == 0
