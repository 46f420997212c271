"""POST /api/v1/secret-scanning/github (SPEC §11): GitHub's signature or nothing changes;
a label per token; live keys exposed with the URL kept. The tests sign with a key pair
they generate, as GitHub would with its own."""

from __future__ import annotations

import base64
import hashlib
import json
import os

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from apikeys.exposure import github
from apikeys.models import APIKey, AuditEvent
from tests.apikeys.exposure.conftest import wrong_secret_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/secret-scanning/github"
KEY_ID = "bcb53661c06b4728e59d897fb6165d5c9cda0fd9cdf9d09ead458168deb7518c"
LEAK = "https://github.com/octo/app/blob/3f1e/settings.py"


def pem(private_key) -> str:
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture
def signer(tmp_path, settings):
    """A P-256 key pair listed in a keys file in GitHub's format, as the deployment's."""
    private_key = ec.generate_private_key(ec.SECP256R1())
    retired = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "github-keys.json"
    path.write_text(
        json.dumps(
            {
                "public_keys": [
                    {"key_identifier": "retired", "key": pem(retired), "is_current": False},
                    {"key_identifier": KEY_ID, "key": pem(private_key), "is_current": True},
                ]
            }
        )
    )
    settings.APIKEYS_GITHUB_SCANNING_KEYS_FILE = str(path)
    return Signer(private_key, retired)


class Signer:
    def __init__(self, current, retired):
        self.current, self.retired = current, retired

    def sign(self, data, algorithm):
        return self.current.sign(data, algorithm)


def sign(private_key, body: bytes) -> str:
    """What GitHub sends: base64 of the DER ECDSA P-256 SHA-256 signature of the body."""
    return base64.b64encode(private_key.sign(body, ec.ECDSA(hashes.SHA256()))).decode()


def report(api, private_key, items, *, identifier=KEY_ID, signature=None, body=None):
    raw = body if body is not None else json.dumps(items).encode()
    headers = {"Github-Public-Key-Identifier": identifier}
    headers["Github-Public-Key-Signature"] = (
        signature if signature is not None else sign(private_key, raw)
    )
    return api().post(URL, raw, headers=headers)


def item(token, url=LEAK, type_="nunu_api_key"):
    return {"token": token, "type": type_, "url": url, "source": "content"}


def test_a_live_key_is_exposed_with_its_url_and_labelled_true_positive(
    api, signer, project, make_key
):
    key, plaintext = make_key(project)
    response = report(api, signer, [item(plaintext), item("nunu_not_ours", type_="other")])
    assert response.status_code == 200
    assert response.json() == [
        {
            "token_hash": hashlib.sha256(plaintext.encode()).hexdigest(),
            "token_type": "nunu_api_key",
            "label": "true_positive",
        },
        {
            "token_hash": hashlib.sha256(b"nunu_not_ours").hexdigest(),
            "token_type": "other",
            "label": "false_positive",
        },
    ]
    key.refresh_from_db()
    assert (key.status(), key.exposure_source, key.exposure_url) == ("exposed", "github", LEAK)
    event = AuditEvent.objects.get(action="key.exposed")
    assert event.changes == {
        "source": "github",
        "url": LEAK,
        "token_sha256": hashlib.sha256(plaintext.encode()).hexdigest(),
    }
    assert event.actor_username == "github-secret-scanning"


def test_a_wrong_secret_or_a_deleted_key_is_a_false_positive(api, signer, project, make_key):
    from apikeys import services

    key, _ = make_key(project)
    gone, gone_plaintext = make_key(project)
    services.key_delete(key=gone, actor=services.Actor.cli("test"))
    labels = [
        entry["label"]
        for entry in report(
            api, signer, [item(wrong_secret_for(key.key_id)), item(gone_plaintext)]
        ).json()
    ]
    assert labels == ["false_positive", "false_positive"]
    assert APIKey.objects.get(pk=key.pk).status() == "active"


def test_a_disabled_key_is_exposed_too_so_it_can_never_come_back(api, signer, project, make_key):
    from apikeys import services

    key, plaintext = make_key(project)
    services.key_deactivate(key=key, actor=services.Actor.cli("test"))
    assert report(api, signer, [item(plaintext)]).json()[0]["label"] == "true_positive"
    assert APIKey.objects.get(pk=key.pk).status() == "exposed"


def test_repeating_a_report_changes_nothing_more(
    api, signer, project, make_key, mailoutbox, make_user
):
    make_user("ann", project=project, role="admin", email="ann@example.com")
    key, plaintext = make_key(project)
    first = report(api, signer, [item(plaintext)])
    exposed_at = APIKey.objects.get(pk=key.pk).exposed_at
    again = report(api, signer, [item(plaintext, url="https://github.com/elsewhere")])
    assert first.json() == again.json()
    key.refresh_from_db()
    assert (key.exposed_at, key.exposure_url) == (exposed_at, LEAK)
    assert AuditEvent.objects.filter(action="key.exposed").count() == 1
    assert len(mailoutbox) == 1


def test_a_key_listed_but_not_current_is_accepted(api, signer, project, make_key):
    key, plaintext = make_key(project)
    body = json.dumps([item(plaintext)]).encode()
    response = report(
        api, signer, None, identifier="retired", signature=sign(signer.retired, body), body=body
    )
    assert response.status_code == 200
    assert APIKey.objects.get(pk=key.pk).status() == "exposed"


def assert_refused_and_nothing_changed(response, key):
    assert response.status_code == 401
    assert response.json()["code"] == "INVALID_SIGNATURE"
    assert APIKey.objects.get(pk=key.pk).status() == "active"
    assert not AuditEvent.objects.filter(action="key.exposed").exists()


def test_an_unsigned_report_is_refused(api, signer, project, make_key):
    key, plaintext = make_key(project)
    response = api().post(URL, [item(plaintext)])
    assert_refused_and_nothing_changed(response, key)


@pytest.mark.parametrize(
    "tamper",
    [
        "other-body",
        "other-key",
        "unknown-identifier",
        "not-base64",
        "not-der",
        "empty-signature",
        "huge-signature",
    ],
)
def test_a_bad_signature_is_refused(api, signer, project, make_key, tamper):
    key, plaintext = make_key(project)
    body = json.dumps([item(plaintext)]).encode()
    identifier, signature = KEY_ID, sign(signer, body)
    if tamper == "other-body":
        signature = sign(signer, body + b" ")
    elif tamper == "other-key":
        signature = sign(ec.generate_private_key(ec.SECP256R1()), body)
    elif tamper == "unknown-identifier":
        identifier = "f" * 64
    elif tamper == "not-base64":
        signature = "%%%not base64%%%"
    elif tamper == "not-der":
        signature = base64.b64encode(os.urandom(64)).decode()
    elif tamper == "empty-signature":
        signature = ""
    elif tamper == "huge-signature":
        signature = "A" * 10_000
    response = report(api, signer, None, identifier=identifier, signature=signature, body=body)
    assert_refused_and_nothing_changed(response, key)


@pytest.mark.parametrize(
    "keys_file",
    [None, "missing", "not-json", "wrong-shape", "not-pem", "rsa-key", "other-curve", "empty"],
)
def test_no_usable_keys_file_refuses_every_report(
    api, signer, project, make_key, settings, tmp_path, keys_file
):
    from cryptography.hazmat.primitives.asymmetric import rsa

    key, plaintext = make_key(project)
    path = tmp_path / "broken.json"
    contents = {
        "not-json": "{",
        "wrong-shape": json.dumps([{"key_identifier": KEY_ID}]),
        "not-pem": json.dumps({"public_keys": [{"key_identifier": KEY_ID, "key": "nope"}]}),
        "rsa-key": json.dumps(
            {
                "public_keys": [
                    {
                        "key_identifier": KEY_ID,
                        "key": pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
                    }
                ]
            }
        ),
        "other-curve": json.dumps(
            {
                "public_keys": [
                    {"key_identifier": KEY_ID, "key": pem(ec.generate_private_key(ec.SECP384R1()))}
                ]
            }
        ),
        "empty": json.dumps({"public_keys": []}),
    }
    if keys_file is None:
        settings.APIKEYS_GITHUB_SCANNING_KEYS_FILE = ""
    elif keys_file == "missing":
        settings.APIKEYS_GITHUB_SCANNING_KEYS_FILE = str(tmp_path / "nowhere.json")
    else:
        path.write_text(contents[keys_file])
        settings.APIKEYS_GITHUB_SCANNING_KEYS_FILE = str(path)
    assert_refused_and_nothing_changed(report(api, signer, [item(plaintext)]), key)


def test_a_refreshed_keys_file_is_read_again(api, signer, project, make_key, settings):
    key, plaintext = make_key(project)
    rotated = ec.generate_private_key(ec.SECP256R1())
    path = settings.APIKEYS_GITHUB_SCANNING_KEYS_FILE
    assert github.public_keys()  # loaded and kept
    with open(path, "w") as file:
        json.dump({"public_keys": [{"key_identifier": "new", "key": pem(rotated)}]}, file)
    os.utime(path, ns=(1, 1))  # a different stamp even within the same clock tick
    body = json.dumps([item(plaintext)]).encode()
    assert report(api, signer, None, body=body).status_code == 401  # the old key is gone
    response = report(api, rotated, None, identifier="new", body=body)
    assert response.status_code == 200
    assert APIKey.objects.get(pk=key.pk).status() == "exposed"


def test_too_large_a_body_is_refused_unread(api, signer, project, make_key, settings):
    settings.APIKEYS_GITHUB_SCANNING_MAX_BODY = 1000
    key, plaintext = make_key(project)
    items = [item(plaintext)] + [item("x" * 100)] * 20
    assert_refused_and_nothing_changed(report(api, signer, items), key)


@pytest.mark.parametrize(
    "items",
    [
        {"token": "x"},
        [{"token": "x"}],
        [{"type": "t"}],
        [{"token": 5, "type": "t"}],
        [{"token": "x", "type": "t", "url": 7}],
        ["x"],
        [item("x")] * 1001,
    ],
)
def test_a_signed_but_malformed_body_is_400(api, signer, project, make_key, items):
    key, _plaintext = make_key(project)
    response = report(api, signer, items)
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert APIKey.objects.get(pk=key.pk).status() == "active"


def test_a_signed_body_that_is_not_json_is_400(api, signer, db):
    response = report(api, signer, None, body=b"\xff not json")
    assert response.status_code == 400


def test_an_empty_report_is_an_empty_answer(api, signer, db):
    response = report(api, signer, [])
    assert (response.status_code, response.json()) == (200, [])


def test_a_report_of_verified_keys_costs_no_argon2(api, signer, project, make_key, argon2_calls):
    pairs = [make_key(project) for _ in range(3)]
    for _, plaintext in pairs:
        api(plaintext).get("/api/v1/runs")
    calls = argon2_calls["verify"]
    junk = [item("nunu_" + "Z" * 51)] * 500
    report(api, signer, [item(p) for _, p in pairs] + junk)
    assert argon2_calls["verify"] == calls
    assert APIKey.objects.filter(exposed_at__isnull=False).count() == 3
