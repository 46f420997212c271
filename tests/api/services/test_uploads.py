"""The upload services called directly: each step's rule, without a request."""

from __future__ import annotations

import hashlib
import io

import pytest

from api import services
from api.models import Build
from api.services import UploadRequest
from api.storage import UploadError

PART = 5 * 1024 * 1024


@pytest.fixture(autouse=True)
def local_storage(settings, tmp_path):
    settings.BUILDS_PART_SIZE = PART
    settings.BUILDS_MULTIPART_THRESHOLD = 4 * PART
    settings.BUILDS_MAX_SIZE = 64 * PART
    settings.STORAGES = {
        **settings.STORAGES,
        "builds": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }


def start(project, size: int, **kwargs) -> Build:
    wanted = UploadRequest(
        name="app", file_name="app 1.apk", stored_name="app_1.apk", file_size=size,
        platform="android", **kwargs,
    )  # fmt: skip
    return services.upload_initiate(project_id=project.pk, key_id="k" * 12, upload=wanted)


def test_initiate_plans_parts_for_a_large_file_and_names_the_object_safely(project):
    build = start(project, 4 * PART + 1)
    assert (build.status, build.multipart, build.total_parts, build.part_size) == (
        Build.Status.UPLOADING, True, 5, PART,
    )  # fmt: skip
    assert build.object_key.endswith("/app_1.apk") and build.file_name == "app 1.apk"
    assert build.upload_id and build.initiator == {"type": "api", "value": {"key_id": "k" * 12}}


def test_initiate_refuses_a_file_over_the_limit_and_stores_nothing(project):
    with pytest.raises(UploadError) as refused:
        start(project, 64 * PART + 1)
    assert (refused.value.status, refused.value.code) == (413, "PAYLOAD_TOO_LARGE")
    assert not Build.objects.exists()


def test_a_received_file_completes_to_ready_with_its_sha256(project):
    data = b"x" * 1000
    build = start(project, len(data))
    services.upload_receive_part(build=build, part_number=1, stream=io.BytesIO(data), limit=1000)
    build = services.upload_complete(build=build, parts=[])
    assert build.status == Build.Status.READY
    assert build.sha256 == hashlib.sha256(data).hexdigest()
    with pytest.raises(UploadError, match="already complete"):
        services.upload_cancel(build=build)


def test_a_canceled_upload_cannot_be_completed_and_cancels_again_harmlessly(project):
    build = start(project, 10)
    assert services.upload_cancel(build=build).status == Build.Status.CANCELED
    assert services.upload_cancel(build=build).status == Build.Status.CANCELED
    with pytest.raises(UploadError) as refused:
        services.upload_complete(build=build, parts=[])
    assert (refused.value.status, refused.value.code) == (409, "UPLOAD_NOT_IN_PROGRESS")


def test_cancel_is_refused_while_a_completion_assembles(project):
    build = start(project, 10)
    Build.objects.filter(pk=build.pk).update(completion_started_at=build.created_at)
    with pytest.raises(UploadError, match="being completed"):
        services.upload_cancel(build=build)
    assert Build.objects.get(pk=build.pk).status == Build.Status.UPLOADING


def test_a_refused_completion_leaves_the_upload_open_for_another_try(project):
    build = start(project, 10)
    with pytest.raises(UploadError) as refused:
        services.upload_complete(build=build, parts=[])  # nothing received yet
    assert refused.value.code == "PART_MISSING"
    assert Build.objects.get(pk=build.pk).completion_started_at is None
