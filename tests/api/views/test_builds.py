"""The builds API (SPEC §4): list the project's builds, delete one whose upload is over."""

from __future__ import annotations

import uuid
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages

from api.models import Build, Run
from api.permissions import MANAGE_BUILD_STORAGE
from tests.api_factories import BASE_TIME, make_build, make_run

BUILDS = "/api/v1/builds"


@pytest.fixture
def client(project, make_key, api):
    _, plaintext = make_key(project, [MANAGE_BUILD_STORAGE])
    return api(plaintext)


@pytest.fixture
def media(settings, tmp_path):
    """The builds storage (the one the API deletes from), in a fresh folder."""
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "builds": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path, "allow_overwrite": True},
        },
    }
    return tmp_path


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [build["name"] for build in response.json()["data"]]


def make_builds(project, count, **fields):
    return [
        make_build(project, name=f"b{n}", created_at=BASE_TIME + timedelta(minutes=n), **fields)
        for n in range(count)
    ]


# --- GET /builds -----------------------------------------------------------


def test_list_is_newest_first_with_every_field(client, project):
    make_builds(project, 2)
    build = make_build(
        project,
        name="v1.2.3",
        description="Release candidate",
        file_name="game.ipa",
        file_size=123_456_789,
        platform="ios",
        tags=["rc"],
        sha256="a" * 64,
        object_key="builds/acme/game.ipa",
        created_at=BASE_TIME + timedelta(hours=1),
        completed_at=BASE_TIME + timedelta(hours=1, minutes=5),
    )
    response = client.get(BUILDS)
    assert names(response) == ["v1.2.3", "b1", "b0"]
    assert response.json()["data"][0] == {
        "id": str(build.id),
        "name": "v1.2.3",
        "description": "Release candidate",
        "file_name": "game.ipa",
        "file_size": 123_456_789,
        "platform": "ios",
        "tags": ["rc"],
        "status": "READY",
        "multipart": False,
        "sha256": "a" * 64,
        "created_at": "2025-01-10T13:00:00Z",
        "completed_at": "2025-01-10T13:05:00Z",
    }
    assert response.json()["pagination"]["total_count"] == 3


def test_an_unfinished_build_shows_null_checksum_and_completion(client, project):
    make_build(project, status=Build.Status.UPLOADING)
    build = client.get(BUILDS).json()["data"][0]
    assert build["status"] == "UPLOADING"
    assert build["sha256"] is None
    assert build["completed_at"] is None


def test_list_shows_only_the_keys_project(client, project, other_project):
    make_build(project, name="mine")
    make_build(other_project, name="theirs")
    assert names(client.get(BUILDS)) == ["mine"]


def test_status_filter(client, project):
    make_build(project, name="ready")
    make_build(project, name="uploading", status=Build.Status.UPLOADING)
    assert names(client.get(f"{BUILDS}?status=uploading")) == ["uploading"]
    assert sorted(names(client.get(f"{BUILDS}?status=READY,uploading"))) == [
        "ready",
        "uploading",
    ]


def test_unknown_status_is_a_validation_error(client):
    response = client.get(f"{BUILDS}?status=done")
    assert response.status_code == 400
    assert list(response.json()["details"]["fields"]) == ["status"]


def test_builds_paginate_by_page_and_by_cursor(client, project):
    make_builds(project, 5)
    assert names(client.get(f"{BUILDS}?page=1&page_size=2")) == ["b2", "b1"]
    seen: list[str] = []
    response = client.get(f"{BUILDS}?page_size=2")
    while True:
        seen += names(response)
        pagination = response.json()["pagination"]
        if not pagination["has_more"]:
            break
        response = client.get(f"{BUILDS}?page_size=2&cursor={quote(pagination['next_cursor'])}")
    assert seen == ["b4", "b3", "b2", "b1", "b0"]


@pytest.mark.parametrize("query", ["page_size=500", "page=x", "cursor=forged"])
def test_bad_pagination_is_a_validation_error(client, query):
    assert client.get(f"{BUILDS}?{query}").status_code == 400


# --- DELETE /builds/{id} ---------------------------------------------------


def test_deleting_a_ready_build_answers_204_and_removes_its_file(
    client, project, media, django_capture_on_commit_callbacks
):
    object_key = storages["builds"].save("builds/acme/game.apk", ContentFile(b"bytes"))
    build = make_build(project, object_key=object_key)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete(f"{BUILDS}/{build.id}")
    assert response.status_code == 204
    assert response.content == b""
    assert not Build.objects.filter(id=build.id).exists()
    assert not storages["builds"].exists(object_key)


def test_deleting_a_build_whose_file_is_already_gone_still_succeeds(
    client, project, media, django_capture_on_commit_callbacks
):
    build = make_build(project, object_key="builds/acme/missing.apk")
    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(f"{BUILDS}/{build.id}").status_code == 204
    assert not Build.objects.filter(id=build.id).exists()


def test_the_file_stays_until_the_delete_commits(
    client, project, media, django_capture_on_commit_callbacks
):
    object_key = storages["builds"].save("builds/acme/game.apk", ContentFile(b"bytes"))
    build = make_build(project, object_key=object_key)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert client.delete(f"{BUILDS}/{build.id}").status_code == 204
        assert storages["builds"].exists(object_key)
    assert len(callbacks) == 1


def test_runs_of_a_deleted_build_remain_without_it(client, project):
    build = make_build(project)
    run = make_run(project, build=build)
    assert client.delete(f"{BUILDS}/{build.id}").status_code == 204
    run.refresh_from_db()
    assert run.build_id is None


@pytest.mark.parametrize("status", [Build.Status.CANCELED, Build.Status.EXPIRED])
def test_a_canceled_or_expired_build_can_be_deleted(client, project, status):
    build = make_build(project, status=status)
    assert client.delete(f"{BUILDS}/{build.id}").status_code == 204
    assert not Build.objects.filter(id=build.id).exists()


def test_deleting_a_build_still_uploading_is_a_conflict_pointing_at_the_upload_cancel(
    client, project, media
):
    object_key = storages["builds"].save("builds/acme/part", ContentFile(b"part"))
    build = make_build(project, status=Build.Status.UPLOADING, object_key=object_key)
    response = client.delete(f"{BUILDS}/{build.id}")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "BUILD_UPLOAD_IN_PROGRESS"
    assert "DELETE /api/v1/builds/upload" in body["error"]
    assert body["details"]["build_id"] == str(build.id)
    assert Build.objects.filter(id=build.id).exists()
    assert storages["builds"].exists(object_key)


def test_unknown_malformed_and_other_projects_build_ids_answer_the_same_404(client, other_project):
    theirs = make_build(other_project)
    bodies = []
    for build_id in (uuid.uuid4(), "not-a-uuid", theirs.id):
        response = client.delete(f"{BUILDS}/{build_id}")
        assert response.status_code == 404
        body = response.json()
        assert body["code"] == "NOT_FOUND"
        body["details"].pop("request_id")
        bodies.append(body)
    assert all(body == bodies[0] for body in bodies)
    assert Build.objects.filter(id=theirs.id).exists()


def test_deleting_twice_answers_404_the_second_time(client, project):
    build = make_build(project)
    assert client.delete(f"{BUILDS}/{build.id}").status_code == 204
    assert client.delete(f"{BUILDS}/{build.id}").status_code == 404


def test_a_deleted_build_cannot_start_a_run(project, make_key, api):
    from api.permissions import OPERATE_RUNS

    _, plaintext = make_key(project, [MANAGE_BUILD_STORAGE, OPERATE_RUNS])
    client = api(plaintext)
    build = make_build(project)
    assert client.delete(f"{BUILDS}/{build.id}").status_code == 204
    response = client.post("/api/v1/runs", {"name": "x", "build_id": str(build.id)})
    assert response.status_code == 400
    assert not Run.objects.exists()
