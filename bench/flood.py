"""Case d2: a working key while a flood of wrong secrets for real key ids comes in.

Key ids are public, so an attacker can aim wrong secrets at many real keys at once,
each request from a fresh address: 8 connections send, on every request, a wrong
secret (well-formed, right checksum) for a seeded key id picked at random, with a
random ``X-Forwarded-For`` in its own IPv6 /64. The flood's server runs the guard
behind one trusted proxy (``APIKEYS_TRUSTED_PROXY_COUNT=1``, so the guard believes
that header, as behind deploy/nginx.conf) with the rate limit on: the per-client
limit never sees the same /64 twice, so what stands between the flood and argon2
are the budgets of failed secrets: per key id (SPEC §10), which a flood over many
ids stays under, and for all ids together (APIKEYS_SECRET_FAILURES_TOTAL), past
which the flood is answered 429 without argon2. Meanwhile (a)'s request is measured on the
same server, and again without the flood, back to back.

The flood's keys are wrong secrets: none of them verifies, so the file they are
handed to the load generator in (the run's temporary folder, removed at the end)
holds no key.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from bench import load, servers

CONNECTIONS = 8
TRUSTED_PROXIES = 1


def server_env(env: dict[str, str]) -> dict[str, str]:
    """The guarded server's environment, behind one proxy and with the rate limit on."""
    return {
        **env,
        "APIKEYS_TRUSTED_PROXY_COUNT": str(TRUSTED_PROXIES),
        "APIKEYS_RATE_LIMIT_ENABLED": "1",
    }


def write_keys(folder: Path, wrong_keys: list[str]) -> Path:
    path = folder / "flood-keys.txt"
    path.touch(mode=0o600)
    path.write_text("\n".join(wrong_keys) + "\n")
    return path


def check_server(port: int, header: str, wrong_key: str, failures: int, workers: int) -> str:
    """'' when the flood's server answers as d2 assumes, else what it did instead.

    A wrong secret from a /64 answers 401 INVALID_API_KEY; refusals from one /64 (no
    key: cheap), each from another address in it, are answered 429 once ``failures``
    of them were counted, while another /64 is still answered 401: the guard counts
    clients by the forwarded address, per /64, so the flood's random /64s are each a
    new client. (Without a shared cache each of the ``workers`` counts on its own:
    of ``failures * workers + 1`` requests, one of them gets at least ``failures + 1``.)"""

    def code(headers: dict[str, str]) -> str:
        status, _, body = servers.get(port, "/api/v1/runs", headers=headers)
        try:
            return f"{status} {json.loads(body).get('code', '')}"
        except (ValueError, AttributeError):
            return str(status)

    got = code({header: wrong_key, "X-Forwarded-For": "2001:db8:fffe:1::1"})
    if got != "401 INVALID_API_KEY":
        return f"a wrong secret answered {got}, expected 401 INVALID_API_KEY"
    attempts = failures * workers + 1
    answers = [code({"X-Forwarded-For": f"2001:db8:fffe:2::{n:x}"}) for n in range(attempts)]
    if "429 RATE_LIMITED" not in answers:
        return (
            f"{attempts} requests from one /64 got no 429 RATE_LIMITED (the last: "
            f"{answers[-1]}): the guard does not count clients by X-Forwarded-For per /64"
        )
    got = code({"X-Forwarded-For": "2001:db8:fffe:3::1"})
    if got != "401 MISSING_API_KEY":
        return f"another /64 answered {got}, expected 401 MISSING_API_KEY"
    return ""


def measure(
    generator: load.LoadGenerator,
    flooder: load.LoadGenerator,
    *,
    url: str,
    key_header: tuple[str, str],
    keys_file: Path,
    warmup: float,
    duration: float,
) -> tuple[load.LoadResult, load.LoadResult]:
    """(a)'s request measured for ``duration`` seconds while the flood runs: it starts
    ``warmup`` seconds before (at least half a second, so it is in full swing) and ends
    about a second after. Answers (the measurement, the flood)."""
    lead = max(warmup, 0.5)
    flood = flooder.start(url, (key_header[0], ""), lead + duration + 1, flood_file=keys_file)
    try:
        time.sleep(lead)
        result = generator.run(url, key_header, duration)
    except BaseException:
        flood.stop()
        raise
    return result, flood.wait()
