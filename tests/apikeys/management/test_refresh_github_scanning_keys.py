"""manage.py refresh_github_scanning_keys against a local HTTP server (never the internet)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.apikeys.management.test_commands import run


def _pem() -> str:
    return (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


GOOD = json.dumps(
    {
        "public_keys": [
            {"key_identifier": "aaa111", "key": _pem(), "is_current": False},
            {"key_identifier": "bbb222", "key": _pem(), "is_current": True},
        ]
    }
).encode()


class _Handler(BaseHTTPRequestHandler):
    answers: dict[str, tuple[int, bytes]] = {}

    def do_GET(self):
        if self.path == "/hang":
            time.sleep(3)
        status, body = self.answers.get(self.path, (404, b"{}"))
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    _Handler.answers = {
        "/good": (200, GOOD),
        "/broken": (500, b"{}"),
        "/not-json": (200, b"<html>"),
        "/wrong-shape": (200, b'{"public_keys": []}'),
        "/not-pem": (
            200,
            json.dumps({"public_keys": [{"key_identifier": "x", "key": "y"}]}).encode(),
        ),
        "/hang": (200, GOOD),
    }
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_it_writes_githubs_keys_to_the_configured_file(server, tmp_path, settings):
    target = tmp_path / "keys.json"
    settings.APIKEYS_GITHUB_SCANNING_KEYS_FILE = str(target)
    code, out, err = run("refresh_github_scanning_keys", "--url", f"{server}/good")
    assert code == 0, err
    assert out == ""
    assert "Wrote 2 GitHub secret scanning keys (aaa111, bbb222)" in err
    assert target.read_bytes() == GOOD
    from apikeys.exposure import github

    assert set(github.public_keys()) == {"aaa111", "bbb222"}


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/broken", "answered HTTP 500"),
        ("/missing", "answered HTTP 404"),
        ("/not-json", "did not answer GitHub's public keys format"),
        ("/wrong-shape", "lists no public key"),
        ("/not-pem", "is not a PEM public key"),
    ],
)
def test_a_bad_answer_keeps_the_old_file_and_says_why_in_one_line(server, tmp_path, path, message):
    target = tmp_path / "keys.json"
    target.write_bytes(GOOD)
    code, _, err = run(
        "refresh_github_scanning_keys", "--url", server + path, "--output", str(target)
    )
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert target.read_bytes() == GOOD
    assert [p.name for p in tmp_path.iterdir()] == ["keys.json"]  # no temporary left


def test_a_hung_server_is_given_up_after_the_timeout(server, tmp_path):
    target = tmp_path / "keys.json"
    started = time.monotonic()
    code, _, err = run(
        "refresh_github_scanning_keys",
        "--url",
        f"{server}/hang",
        "--output",
        str(target),
        "--timeout",
        "0.3",
    )
    assert code == 2
    assert "Could not fetch" in err and "unchanged" in err
    assert time.monotonic() - started < 2.5  # gave up before the server answered
    assert not target.exists()


def test_a_closed_port_is_one_line(tmp_path):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, _, err = run(
        "refresh_github_scanning_keys",
        "--url",
        f"http://127.0.0.1:{port}/",
        "--output",
        str(tmp_path / "k.json"),
    )
    assert code == 2 and "Could not fetch" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "No output file"),
        (("--output", "x.json", "--url", "file:///etc/passwd"), "must be an http(s) URL"),
        (("--output", "x.json", "--timeout", "0"), "positive number"),
    ],
)
def test_bad_input_exits_2(settings, args, message):
    settings.APIKEYS_GITHUB_SCANNING_KEYS_FILE = ""
    code, _, err = run("refresh_github_scanning_keys", *args)
    assert code == 2
    assert message in err


def test_an_unwritable_output_is_one_line(server, tmp_path):
    code, _, err = run(
        "refresh_github_scanning_keys",
        "--url",
        f"{server}/good",
        "--output",
        str(tmp_path / "no" / "such" / "dir" / "k.json"),
    )
    assert code == 2 and "Could not write" in err
