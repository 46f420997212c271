"""The upload protocol (api.views.uploads), the same tests on local storage and on moto's S3."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from api import signing
from api.models import Build
from api.permissions import MANAGE_BUILD_STORAGE, OPERATE_RUNS, READ_RUNS
from tests.moto_s3 import moto_endpoint, use_s3_bucket  # noqa: F401 (fixture)
from tests.upload_helpers import (
    COMPLETE,
    PARTS,
    UPLOAD,
    Uploader,
    chunked_put,
    payload,
    put_bytes,
    stored,
)

PART = 1024


@pytest.fixture(params=["local", "s3"])
def storage_kind(request, settings, tmp_path) -> str:
    settings.BUILDS_PART_SIZE = PART
    settings.BUILDS_MULTIPART_THRESHOLD = 4 * PART
    settings.BUILDS_MAX_SIZE = 64 * PART
    if request.param == "s3":
        use_s3_bucket(settings, request.getfixturevalue("moto_endpoint"))
    else:
        settings.STORAGES = {
            **settings.STORAGES,
            "builds": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": tmp_path / "media", "allow_overwrite": True},
            },
        }
    return request.param


@pytest.fixture
def local(storage_kind):
    if storage_kind != "local":
        pytest.skip("the server receives the bytes only on local storage")
    return storage_kind


@pytest.fixture
def uploader(storage_kind, project, make_key) -> Uploader:
    _, plaintext = make_key(project, [MANAGE_BUILD_STORAGE, OPERATE_RUNS])
    return Uploader(plaintext)


def _started(uploader: Uploader, data: bytes, **fields) -> dict:
    response = uploader.initiate(data, **fields)
    assert response.status_code == 201, response.content
    return response.json()["data"]


# --- the happy paths ----------------------------------------------------------------


def test_single_part_upload_stores_the_bytes_and_records_the_sha256(uploader):
    data = payload(3 * PART + 7)
    started = _started(uploader, data)
    assert not started["multipart"] and "upload_id" not in started
    assert put_bytes(started["upload_url"], data).status == 200

    response = uploader.complete(started)

    assert response.status_code == 200, response.content
    build = response.json()["data"]
    assert build["status"] == "READY"
    assert build["sha256"] == hashlib.sha256(data).hexdigest()
    assert stored(started["object_key"]) == data


def test_multipart_upload_at_the_threshold_assembles_the_parts_in_order(uploader):
    data = payload(4 * PART + 100)
    started = _started(uploader, data)
    assert started["multipart"]
    assert (started["total_parts"], started["part_size"]) == (5, PART)

    build = uploader.upload(data)  # a second upload, through the helper, same rules
    parts = uploader.put_parts(started, data)
    response = uploader.complete(started, parts)

    assert response.status_code == 200, response.content
    assert response.json()["data"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert stored(started["object_key"]) == data
    assert Build.objects.get(id=build["id"]).status == Build.Status.READY


def test_multipart_can_be_asked_for_below_the_threshold(uploader):
    data = payload(PART + 1)
    started = _started(uploader, data, multipart=True)
    assert started["multipart"] and started["total_parts"] == 2
    response = uploader.complete(started, uploader.put_parts(started, data))
    assert response.status_code == 200, response.content


def test_each_part_answers_its_md5_as_a_quoted_etag(uploader):
    data = payload(2 * PART, seed=5)
    started = _started(uploader, data, multipart=True)
    url = uploader.part_urls(started, [1])[1]
    put = put_bytes(url, data[:PART])
    assert put.etag == f'"{hashlib.md5(data[:PART]).hexdigest()}"'


def test_part_urls_can_be_asked_for_a_few_at_a_time(uploader):
    started = _started(uploader, payload(5 * PART))
    assert sorted(uploader.part_urls(started, [3, 1])) == [1, 3]


def test_a_completed_build_can_be_used_by_a_run(uploader):
    build = uploader.upload(payload(100))
    response = uploader.api.post("/api/v1/runs", {"name": "smoke", "build_id": build["id"]})
    assert response.status_code == 201, response.content


def test_the_parts_endpoint_needs_no_api_key_only_the_upload_id(uploader):
    started = _started(uploader, payload(5 * PART))
    query = urlencode({"upload_id": started["upload_id"], "object_key": started["object_key"]})
    assert Client().get(f"{PARTS}?{query}").status_code == 200


# --- refusals -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", UPLOAD), ("POST", COMPLETE), ("DELETE", UPLOAD + "?build_id=x&object_key=y")],
)
def test_a_key_without_manage_build_storage_is_refused_with_403(
    storage_kind, project, make_key, api, method, path
):
    _, plaintext = make_key(project, [READ_RUNS, OPERATE_RUNS])
    response = api(plaintext).request(method, path, {"build_id": "x"})
    assert response.status_code == 403
    assert response.json()["code"] == "MISSING_PERMISSION"


def test_a_wrong_upload_id_or_object_key_gets_no_part_urls(uploader):
    started = _started(uploader, payload(5 * PART))
    for query in (
        {"upload_id": started["upload_id"] + "x", "object_key": started["object_key"]},
        {"upload_id": started["upload_id"], "object_key": started["object_key"] + "x"},
    ):
        response = Client().get(f"{PARTS}?{urlencode(query)}")
        assert response.status_code == 404
        assert response.json()["code"] == "NOT_FOUND"
    response = Client().get(f"{PARTS}?upload_id=&object_key=")
    assert response.json()["code"] == "VALIDATION_ERROR"


def test_part_numbers_outside_the_upload_are_a_validation_error(uploader):
    started = _started(uploader, payload(5 * PART))
    query = urlencode(
        {
            "upload_id": started["upload_id"],
            "object_key": started["object_key"],
            "part_numbers": "6",
        }
    )
    response = Client().get(f"{PARTS}?{query}")
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_a_tampered_upload_url_is_refused_with_403_json(uploader, local):
    started = _started(uploader, payload(100))
    url = started["upload_url"]
    signature = parse_qs(urlsplit(url).query)["signature"][0]
    for bad in (
        _with_query(url, signature=signature[:-1] + ("0" if signature[-1] != "0" else "1")),
        _with_query(url, expires=str(int(parse_qs(urlsplit(url).query)["expires"][0]) + 60)),
        _with_query(url, signature="not-hex"),
        url.split("?")[0],
    ):
        put = put_bytes(bad, b"x" * 100)
        assert put.status == 403
        assert put.body["code"] == "INVALID_UPLOAD_URL"
    assert stored(started["object_key"]) is None


def test_an_upload_url_cannot_be_reused_for_another_build_or_part(uploader, local):
    first = _started(uploader, payload(5 * PART))
    second = _started(uploader, payload(5 * PART))
    url = uploader.part_urls(first, [1])[1]
    other_build = url.replace(first["build_id"], second["build_id"])
    other_part = url.replace("/1?", "/2?")
    for bad in (other_build, other_part):
        put = put_bytes(bad, b"x" * PART)
        assert put.status == 403
        assert put.body["code"] == "INVALID_UPLOAD_URL"


def test_an_expired_upload_url_is_refused_with_403(uploader, local, monkeypatch):
    started = _started(uploader, payload(100))
    monkeypatch.setattr(signing, "_now", lambda: timezone.now().timestamp() + 3600)
    put = put_bytes(started["upload_url"], payload(100))
    assert put.status == 403
    assert put.body["code"] == "UPLOAD_URL_EXPIRED"


def test_a_missing_part_is_refused(uploader):
    data = payload(5 * PART)
    started = _started(uploader, data)
    parts = uploader.put_parts(started, data)
    response = uploader.complete(started, parts[:-1])
    assert response.status_code == 400
    assert response.json()["code"] == "PART_MISSING"
    assert response.json()["details"]["missing_parts"] == [5]


def test_a_listed_part_never_uploaded_is_refused(uploader):
    data = payload(5 * PART)
    started = _started(uploader, data)
    url = uploader.part_urls(started, [1])[1]
    etag = put_bytes(url, data[:PART]).etag
    parts = [{"part_number": n, "etag": etag} for n in range(1, 6)]
    response = uploader.complete(started, parts)
    assert response.status_code == 400
    assert response.json()["code"] == "PART_MISSING"


def test_parts_listed_out_of_order_are_refused(uploader):
    data = payload(5 * PART)
    started = _started(uploader, data)
    parts = uploader.put_parts(started, data)
    response = uploader.complete(started, list(reversed(parts)))
    assert response.status_code == 400
    assert response.json()["code"] == "PARTS_OUT_OF_ORDER"


def test_a_wrong_etag_is_refused_and_the_upload_can_still_be_completed(uploader):
    data = payload(5 * PART)
    started = _started(uploader, data)
    parts = uploader.put_parts(started, data)
    wrong = [dict(p) for p in parts]
    wrong[2]["etag"] = '"' + "0" * 32 + '"'
    response = uploader.complete(started, wrong)
    assert response.status_code == 400
    assert response.json()["code"] == "ETAG_MISMATCH"
    assert response.json()["details"]["part_number"] == 3
    assert uploader.complete(started, parts).status_code == 200


def test_fewer_bytes_than_declared_is_a_size_mismatch(uploader):
    data = payload(5 * PART)
    started = _started(uploader, data)
    parts = uploader.put_parts(started, data[:-10])
    response = uploader.complete(started, parts)
    assert response.status_code == 400
    assert response.json()["code"] == "SIZE_MISMATCH"


def test_a_body_larger_than_declared_is_refused_with_413_and_not_stored(uploader, storage_kind):
    data = payload(100)
    started = _started(uploader, data)
    put = put_bytes(started["upload_url"], data + b"extra")
    if storage_kind == "local":
        assert put.status == 413
        assert put.body["code"] == "PAYLOAD_TOO_LARGE"
    else:  # the bucket takes the bytes; the completion refuses and removes them
        response = uploader.complete(started)
        assert response.status_code == 413
        assert response.json()["code"] == "PAYLOAD_TOO_LARGE"
    assert stored(started["object_key"]) is None


def test_a_part_larger_than_its_share_is_refused_with_413(uploader, local):
    started = _started(uploader, payload(5 * PART))
    url = uploader.part_urls(started, [5])[5]
    put = put_bytes(url, payload(PART + 1))
    assert put.status == 413
    assert put.body["code"] == "PAYLOAD_TOO_LARGE"


def test_a_chunked_body_is_cut_off_at_the_declared_size(uploader, local):
    started = _started(uploader, payload(100))
    put = chunked_put(started["upload_url"], payload(5000))
    assert put.status == 413
    assert stored(started["object_key"]) is None
    put = chunked_put(started["upload_url"], payload(100))
    assert put.status == 200


def test_a_file_size_over_the_maximum_is_refused_with_413(uploader, settings):
    response = uploader.initiate(file_size=settings.BUILDS_MAX_SIZE + 1)
    assert response.status_code == 413
    assert response.json()["code"] == "PAYLOAD_TOO_LARGE"
    assert not Build.objects.exists()


@pytest.mark.parametrize(
    ("fields", "bad_field"),
    [
        ({"name": ""}, "name"),
        ({"file_size": 0}, "file_size"),
        ({"file_size": "12"}, "file_size"),
        ({"file_size": True}, "file_size"),
        ({"file_name": "../etc/passwd"}, "file_name"),
        ({"platform": None}, "platform"),
        ({"tags": "nightly"}, "tags"),
        ({"multipart": "yes"}, "multipart"),
        ({"upload_timeout": 0}, "upload_timeout"),
        ({"upload_timeout": 1441}, "upload_timeout"),
    ],
)
def test_bad_initiation_fields_are_a_validation_error(uploader, fields, bad_field):
    response = uploader.initiate(**fields)
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert bad_field in response.json()["details"]["fields"]


def test_an_upload_after_cancel_is_refused_and_its_parts_are_gone(uploader, storage_kind):
    data = payload(5 * PART)
    started = _started(uploader, data)
    urls = uploader.part_urls(started, [1, 2])
    assert put_bytes(urls[1], data[:PART]).status == 200

    response = uploader.cancel(started)

    assert response.status_code == 200
    assert response.json()["data"]["status"] == "CANCELED"
    put = put_bytes(urls[2], data[PART : 2 * PART])
    if storage_kind == "local":
        assert put.status == 409
        assert put.body["code"] == "UPLOAD_NOT_IN_PROGRESS"
    else:  # S3 answers 404 NoSuchUpload; moto's server fails the same request with a 500
        assert put.status >= 400
    query = urlencode({"upload_id": started["upload_id"], "object_key": started["object_key"]})
    assert Client().get(f"{PARTS}?{query}").status_code == 409
    assert uploader.complete(started, []).json()["code"] in ("UPLOAD_NOT_IN_PROGRESS",)
    assert uploader.cancel(started).status_code == 200  # idempotent
    if storage_kind == "local":
        assert stored(f"uploads/{started['build_id']}/00001.part") is None


def test_completing_twice_is_a_conflict(uploader):
    data = payload(100)
    started = _started(uploader, data)
    put_bytes(started["upload_url"], data)
    assert uploader.complete(started).status_code == 200
    response = uploader.complete(started)
    assert response.status_code == 409
    assert response.json()["code"] == "UPLOAD_NOT_IN_PROGRESS"
    assert uploader.cancel(started).status_code == 409


def test_another_projects_build_id_is_not_found(uploader, other_project, make_key):
    data = payload(100)
    started = _started(uploader, data)
    put_bytes(started["upload_url"], data)
    _, outsider = make_key(other_project, [MANAGE_BUILD_STORAGE])
    outsider_uploader = Uploader(outsider)
    for response in (
        outsider_uploader.complete(started),
        outsider_uploader.cancel(started),
        outsider_uploader.complete({"build_id": "not-a-uuid"}),
    ):
        assert response.status_code == 404
        assert response.json()["code"] == "NOT_FOUND"
    assert Build.objects.get(id=started["build_id"]).status == Build.Status.UPLOADING


def test_an_upload_past_its_deadline_is_refused_then_cleaned_up(uploader, storage_kind):
    data = payload(5 * PART)
    started = _started(uploader, data, upload_timeout=1)
    parts = uploader.put_parts(started, data)
    Build.objects.filter(id=started["build_id"]).update(
        upload_expires_at=timezone.now() - timedelta(seconds=1)
    )

    response = uploader.complete(started, parts)
    assert response.status_code == 410
    assert response.json()["code"] == "UPLOAD_EXPIRED"

    call_command("cleanup_uploads")
    call_command("cleanup_uploads")  # idempotent
    build = Build.objects.get(id=started["build_id"])
    assert build.status == Build.Status.EXPIRED and build.purged_at is not None
    if storage_kind == "local":
        assert stored(f"uploads/{started['build_id']}/00001.part") is None


def test_cleanup_leaves_uploads_in_progress_and_finished_builds_alone(uploader):
    finished = uploader.upload(payload(100))
    started = _started(uploader, payload(5 * PART))
    call_command("cleanup_uploads")
    assert Build.objects.get(id=started["build_id"]).status == Build.Status.UPLOADING
    assert stored(Build.objects.get(id=finished["id"]).object_key) == payload(100)


def test_the_default_timeouts_are_ten_and_sixty_minutes(uploader):
    for data, minutes in ((payload(10), 10), (payload(5 * PART), 60)):
        started = _started(uploader, data)
        build = Build.objects.get(id=started["build_id"])
        assert build.upload_expires_at - build.created_at == timedelta(minutes=minutes)
