"""Files uploaded to the configured storage, attached later by their key (`s3Key`)."""

from __future__ import annotations

import hashlib
import os
import uuid

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from cases.models import (
    File,
)
from cases.services.workflow import _acting_user
from compliance.audit import Actor, audit_log
from compliance.errors import ApplicationError
from compliance.models import AuditTrail


class FileTooLargeError(ApplicationError):
    status_code = 413
    default_message = "The file is too large."


def file_max_bytes() -> int:
    return int(getattr(settings, "CASE_FILE_MAX_BYTES", 20 * 1024 * 1024))


def _clean_filename(name: str) -> str:
    name = os.path.basename((name or "").replace("\\", "/")).replace("\x00", "").strip()
    return (name or "file")[-200:]


def file_upload(*, actor: Actor, uploaded: UploadedFile) -> File:
    """Store an uploaded file in the default storage under a fresh key (`s3Key`, uuid hex),
    to be attached to a status change or a comment by that key."""
    limit = file_max_bytes()
    if uploaded.size is None or uploaded.size > limit:
        raise FileTooLargeError(
            f"The file is larger than the limit of {limit} bytes.",
            errors={"file": [f"At most {limit} bytes."]},
        )
    if uploaded.size == 0:
        raise ApplicationError(errors={"file": ["The file is empty."]})
    digest = hashlib.sha256()
    for chunk in uploaded.chunks():
        digest.update(chunk)
    uploaded.seek(0)
    with transaction.atomic():
        record = File(
            key=uuid.uuid4().hex,
            filename=_clean_filename(uploaded.name),
            size=uploaded.size,
            content_type=(getattr(uploaded, "content_type", "") or "")[:100],
            sha256=digest.hexdigest(),
            uploaded_by=_acting_user(actor),
            uploaded_at=timezone.now(),
        )
        record.file.save(record.filename, uploaded, save=False)
        stored_name = record.file.name
        try:
            record.save()
            audit_log(
                actor=actor,
                action=AuditTrail.Action.CREATE,
                instance=record,
                after={
                    "key": record.key,
                    "filename": record.filename,
                    "size": record.size,
                    "sha256": record.sha256,
                },
            )
        except Exception:
            record.file.storage.delete(stored_name)
            raise
    return record
