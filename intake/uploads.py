"""Files uploaded through the import wizard: kept on disk until imported, then imported in the
background (intake.tasks) through intake.imports, which does the real work.

An upload is a random token: the file is stored as `<dealer id>/<token>` under
settings.DCC_IMPORT_DIR, whatever it was called, with a small JSON note beside it of what the
person chose (file name as shown, channel, preset, saved mapping). The file stays after the
import, so a dry run can be imported for real and a failed import run again.
"""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
from collections.abc import Collection
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path, PurePosixPath, PureWindowsPath

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Dealer, Staff
from dcc.errors import Conflict, InvalidInput
from intake import imports
from intake.history import check_importer
from intake.mapping import PRESETS
from intake.models import STALL_AFTER, ImportJob, ImportStatus
from intake.tasks import run_import_task
from leads.models import Channel

_TOKEN = re.compile(r"[0-9a-f]{32}")
KEEP_UPLOADS = timedelta(days=30)


def max_upload_bytes() -> int:
    return settings.DCC_IMPORT_MAX_MB * 1024**2


def too_large_message() -> str:
    return _("The file is too large: at most %(limit)d MB can be uploaded at once.") % {
        "limit": settings.DCC_IMPORT_MAX_MB
    }


class SizeLimit(FileUploadHandler):
    """Stops reading an upload as soon as it passes the limit, so an oversized file never
    lands on disk whole; the view then says so (`exceeded`)."""

    def __init__(self, request=None, *, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.exceeded = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.exceeded = True
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


@dataclass(frozen=True)
class Upload:
    """A stored file waiting to be imported, and what the person chose with it."""

    token: str
    dealer_id: int
    file_name: str  # as the person's computer called it, for showing only
    channel_id: int | None = None
    preset: str = ""
    saved_mapping: str = ""

    @property
    def relative(self) -> str:
        return f"{self.dealer_id}/{self.token}"

    @property
    def path(self) -> Path:
        return Path(settings.DCC_IMPORT_DIR) / self.relative


def shown_name(name: str) -> str:
    """The last part of an uploaded file's name, without control characters: a browser may
    send a full Windows path, or anything at all."""
    base = PureWindowsPath(PurePosixPath(name or "").name).name
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    return base[:255] or _("upload")


def store_upload(
    *,
    dealer: Dealer,
    by: Staff,
    file: UploadedFile,
    channel: Channel | None = None,
    preset: str = "",
    saved_mapping: str = "",
) -> Upload:
    """Keep an uploaded file for `dealer` under a fresh random name; its own name is only
    remembered for showing."""
    check_importer(by, dealer)
    if file.size is not None and file.size > max_upload_bytes():
        raise InvalidInput(too_large_message(), code="file_too_large", field="file")
    upload = Upload(
        token=uuid.uuid4().hex,
        dealer_id=dealer.pk,
        file_name=shown_name(file.name or ""),
        channel_id=channel.pk if channel else None,
        preset=preset,
        saved_mapping=saved_mapping,
    )
    upload.path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with upload.path.open("xb") as out:
        for chunk in file.chunks():
            written += len(chunk)
            if written > max_upload_bytes():
                break
            out.write(chunk)
    if written > max_upload_bytes():
        upload.path.unlink(missing_ok=True)
        raise InvalidInput(too_large_message(), code="file_too_large", field="file")
    _note(upload).write_text(json.dumps(asdict(upload), ensure_ascii=False), encoding="utf-8")
    return upload


def _note(upload: Upload) -> Path:
    return upload.path.with_name(f"{upload.token}.json")


def find_upload(*, dealer: Dealer, token: str) -> Upload | None:
    """The dealer's stored upload called `token`, or None (also for anything that is not a
    token, so a crafted one can't name another file)."""
    if not _TOKEN.fullmatch(token or ""):
        return None
    note = Path(settings.DCC_IMPORT_DIR) / str(dealer.pk) / f"{token}.json"
    try:
        data = json.loads(note.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    upload = Upload(**{**data, "token": token, "dealer_id": dealer.pk})
    return upload if upload.path.is_file() else None


def lacks_channel(upload: Upload, columns: Collection[str]) -> bool:
    """Whether no row can have a channel: the file's mapped `columns` hold none, none was
    chosen with the upload and its preset names none. Every row would then be rejected."""
    preset = PRESETS.get(upload.preset) if upload.preset else None
    return (
        upload.channel_id is None and not (preset and preset.channel) and "channel" not in columns
    )


def no_channel_message() -> str:
    return _(
        "The file has no channel column and no channel was chosen for the import: every row "
        "would be rejected. Choose the column that holds the channel, or upload the file again "
        "and choose its channel."
    )


def start_upload(
    *,
    upload: Upload,
    dealer: Dealer,
    by: Staff,
    dry_run: bool,
    saved_mapping: str | None = None,
    columns: Collection[str] | None = None,
) -> ImportJob:
    """Start importing a stored upload (a dry run or for real) in the background.
    `saved_mapping` overrides the one chosen at upload (the person edited the mapping);
    `columns`, the fields the file's columns fill, refuse an import that could create nothing."""
    channel = Channel.objects.filter(pk=upload.channel_id, dealer=dealer).first()
    if upload.channel_id and channel is None:
        raise InvalidInput(_("Unknown channel."), code="unknown_channel", field="channel")
    if not dry_run and columns is not None and lacks_channel(upload, columns):
        raise InvalidInput(no_channel_message(), code="no_channel", field="channel")
    with transaction.atomic():
        job = imports.start_import(
            dealer=dealer,
            by=by,
            path=upload.path,
            channel=channel,
            preset=upload.preset or None,
            saved_mapping=saved_mapping if saved_mapping is not None else upload.saved_mapping,
            dry_run=dry_run,
        )
        job.file_name = upload.file_name
        job.upload = upload.relative
        job.save(update_fields=["file_name", "upload"])
        enqueue(job)
    return job


def writes_anything(job: ImportJob) -> bool:
    """Whether a finished run created or updated a lead (a dry run: would have)."""
    return job.created + job.touched > 0


def import_for_real(*, job: ImportJob, by: Staff) -> ImportJob:
    """A new, real import of a finished dry run's file, with the same choices."""
    check_importer(by, job.dealer)
    if not job.dry_run or job.status != ImportStatus.DONE:
        raise Conflict(_("Only a finished dry run can be imported for real."), code="not_dry_run")
    if not writes_anything(job):
        raise Conflict(
            _("The dry run would write no lead: there is nothing to import."),
            code="nothing_to_import",
        )
    path = imports.job_path(job)
    if not job.upload or not path.is_file():
        raise InvalidInput(_("The uploaded file is no longer kept; upload it again."))
    with transaction.atomic():
        real = imports.start_import(
            dealer=job.dealer,
            by=by,
            path=path,
            channel=job.channel,
            preset=job.preset or None,
            saved_mapping=job.saved_mapping or None,
        )
        real.file_name = job.file_name
        real.upload = job.upload
        real.save(update_fields=["file_name", "upload"])
        enqueue(real)
    return real


def run_again(*, job: ImportJob, by: Staff) -> ImportJob:
    """Queue a failed (or stalled) import again; it finishes what the earlier run left
    (imports.run_import)."""
    check_importer(by, job.dealer)
    if job.status != ImportStatus.FAILED and not job.is_stalled:
        raise Conflict(_("Only a failed import can be run again."), code="not_failed")
    with transaction.atomic():
        job.status = ImportStatus.QUEUED
        job.error = ""
        job.save(update_fields=["status", "error"])
        enqueue(job)
    return job


def _runner_gone() -> list[int]:
    """Running imports whose process on this machine is gone (intake.imports.runner_is_gone)."""
    running = ImportJob.objects.filter(status=ImportStatus.RUNNING).exclude(runner="")
    runners = running.values_list("pk", "runner")
    return [pk for pk, runner in runners if imports.runner_is_gone(runner)]


def fail_interrupted() -> int:
    """Imports left running by a process that stopped (the embedded worker ends with the
    server) are failed, so that their page offers “Run again”; imports still running in
    another process (`dcc import`, a `db_worker`) go on. One that names this very process
    as its runner was run by an earlier server with the same process id (in a container,
    often 1). Returns how many."""
    interrupted = Q(pk__in=_runner_gone()) | Q(runner=imports.this_process())
    return ImportJob.objects.filter(interrupted, status=ImportStatus.RUNNING).update(
        status=ImportStatus.FAILED,
        error=_("The server stopped during the import. Run it again to finish it."),
        finished_at=timezone.now(),
    )


def enqueue(job: ImportJob) -> None:
    """Hand the job to the task queue once the transaction that made it commits: a worker
    must never look for a job it can't see yet. Messages are written in the language of the
    person who started it."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    transaction.on_commit(lambda: run_import_task.enqueue(job.pk, language))


def fail_stalled() -> int:
    """Imports whose process is gone (killed: the server's worker, a `db_worker`, `dcc
    import`), or that wrote no progress for long, are failed, so that they can be run
    again. Safe beside running workers: a live import writes its heartbeat every batch,
    within seconds. Returns how many."""
    stalled = ImportJob.objects.filter(status=ImportStatus.RUNNING).filter(
        Q(heartbeat_at__lt=timezone.now() - STALL_AFTER) | Q(pk__in=_runner_gone())
    )
    return stalled.update(
        status=ImportStatus.FAILED,
        error=_(
            "The import stopped making progress (its worker was stopped). Run it again to "
            "finish it."
        ),
        finished_at=timezone.now(),
    )


def remove_old_uploads(*, older_than: timedelta = KEEP_UPLOADS) -> int:
    """Delete stored uploads (and their notes) not touched for `older_than`, unless an
    import of them is still queued or running. Their jobs and reports stay; only running
    them again needs the file. Returns how many files were deleted."""
    root = Path(settings.DCC_IMPORT_DIR)
    if not root.is_dir():
        return 0
    cutoff = (timezone.now() - older_than).timestamp()
    busy = set(
        ImportJob.objects.filter(
            status__in=(ImportStatus.QUEUED, ImportStatus.RUNNING)
        ).values_list("upload", flat=True)
    )
    removed = 0
    for path in root.glob("*/*"):
        if not _TOKEN.fullmatch(path.name) or f"{path.parent.name}/{path.name}" in busy:
            continue
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            path.with_name(f"{path.name}.json").unlink(missing_ok=True)
            removed += 1
    return removed
