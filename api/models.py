"""The resources the API keys guard: runs, the bugs they find, and builds."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from apikeys.models import Project


class Build(models.Model):
    class Status(models.TextChoices):
        UPLOADING = "UPLOADING", "Uploading"
        READY = "READY", "Ready"
        CANCELED = "CANCELED", "Canceled"
        EXPIRED = "EXPIRED", "Expired"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="builds")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    file_name = models.CharField(max_length=255)
    file_size = models.BigIntegerField()
    platform = models.CharField(max_length=50)
    tags = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UPLOADING)
    object_key = models.CharField(max_length=500, blank=True)
    multipart = models.BooleanField(default=False)
    upload_id = models.CharField(max_length=200, blank=True, db_index=True)
    total_parts = models.PositiveIntegerField(default=1)
    part_size = models.BigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    upload_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Set while one POST /builds/upload/complete assembles the parts, so a second
    # one (or a cancel racing it) is refused instead of writing the same object.
    completion_started_at = models.DateTimeField(null=True, blank=True)
    # When cleanup_uploads last removed what an unfinished upload left in storage.
    purged_at = models.DateTimeField(null=True, blank=True)
    # {"type": "api", "value": {"key_id": ...}} or {"type": "user", ...}
    initiator = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["project", "-created_at"], name="build_project_created")]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"


class Run(models.Model):
    class State(models.TextChoices):
        QUEUED = "QUEUED", "Queued"
        RUNNING = "RUNNING", "Running"
        COMPLETED = "COMPLETED", "Completed"
        STOPPED = "STOPPED", "Stopped"
        FAILED = "FAILED", "Failed"

    FINISHED_STATES = (State.COMPLETED, State.STOPPED, State.FAILED)

    class Result(models.TextChoices):
        PASSED = "PASSED", "Passed"
        FAILED = "FAILED", "Failed"
        ERROR = "ERROR", "Error"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="runs")
    name = models.CharField(max_length=200)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    result = models.CharField(max_length=16, choices=Result.choices, blank=True)
    build = models.ForeignKey(
        Build, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    tags = models.JSONField(default=list, blank=True)
    # {"type": "api", "value": {"key_id": "<12-char id>"}}: never the key itself.
    initiator = models.JSONField(default=dict, blank=True)
    # The key's public id again, indexed, so a key's page can list the runs it started.
    initiator_key_id = models.CharField(max_length=12, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["project", "-created_at"], name="run_project_created")]

    def __str__(self) -> str:
        return f"{self.name} ({self.state})"


class Bug(models.Model):
    class Severity(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"
        CRITICAL = "critical", "Critical"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="bugs")
    title = models.CharField(max_length=300)
    severity = models.CharField(max_length=16, choices=Severity.choices)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.title
