"""File imports: a dealer's spreadsheet of leads, row by row, into the pipeline.

Rows are read in batches. Each batch is replayed in memory (intake.history with a
leads.batch.Batch: the same checks and records as the actions) and written, with an
ImportRow for every row, in one transaction; so an import killed half-way leaves every
finished batch complete and nothing half-written, and running the same file again skips what
is done (already imported) and finishes the rest. Rows are streamed, never collected, so a
file of a million rows needs no more memory than one of ten.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Dealer, Staff
from accounts.roles import Role
from dcc.bulk import insert_rows
from dcc.errors import Conflict, DomainError, InvalidInput
from intake import history
from intake.files import FileError, Table, open_table
from intake.history import Lookups, RowRejected, check_importer
from intake.mapping import CANONICAL_COLUMNS, ColumnMapping, field_label
from intake.models import (
    WRITTEN,
    ImportJob,
    ImportRow,
    ImportStatus,
    RowOutcome,
    SavedMapping,
)
from intake.rows import LeadRow, RowError, parse_row, safe_cell
from leads.batch import Batch
from leads.decisions import IntakeOutcome
from leads.ledger import CANONICAL_JSON
from leads.models import Channel

# Rows are replayed and written this many at a time, in one transaction; job counters are
# written (and progress reported) after each batch.
BATCH_ROWS = 1000
COUNTERS = (
    "created",
    "touched",
    "rejected",
    "already_imported",
    "skipped",
    "rows_done",
    "bytes_done",
    "heartbeat_at",
)
SKIPPED = "skipped"  # an empty row: counted, nothing recorded

Progress = Callable[[ImportJob], None]


# ---------------------------------------------------------------- selectors


def dealer_channel(dealer: Dealer, text: str) -> Channel | None:
    """The dealer's channel named by its code or name, as people write it in files."""
    return Lookups(dealer).channel(text)


def default_importer(dealer: Dealer) -> Staff | None:
    """Who imports when nobody is named: the dealer's first active GM, else sales manager."""
    for role in (Role.GM, Role.SALES_MANAGER):
        person = (
            Staff.objects.filter(
                memberships__dealer=dealer,
                memberships__role=role,
                memberships__is_active=True,
                is_active=True,
            )
            .order_by("pk")
            .first()
        )
        if person is not None:
            return person
    return None


def file_sha256(path: Path) -> str:
    try:
        with Path(path).open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as error:
        raise FileError(
            _("Cannot read %(name)s: %(problem)s")
            % {"name": Path(path).name, "problem": error.strerror or error}
        ) from error


def _text(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, str):
        return " ".join(value.split())
    return value


# What a row says, beside its phone (digested as its number) and its place in the file.
_CONTENT_FIELDS = tuple(f.name for f in fields(LeadRow) if f.name not in ("row_number", "phone"))


def row_digest(*, dealer_id: int, row: LeadRow) -> str:
    """SHA-256 of the dealer and the row's normalised content (not its position in the file):
    the same enquiry in any file of this dealer has the same digest."""
    content: dict[str, Any] = {"dealer": dealer_id, "phone": row.phone.number}
    for name in _CONTENT_FIELDS:
        content[name] = _text(getattr(row, name))
    body = CANONICAL_JSON(content)
    return hashlib.sha256(body.encode()).hexdigest()


def raw_digest(*, dealer_id: int, cells: list[str] | tuple[str, ...]) -> str:
    """A rejected row's digest, from its cells as read (it has no normalised content)."""
    body = json.dumps([dealer_id, "raw", *(_text(cell) for cell in cells)], ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def _written(dealer_id: int, digest: str) -> bool:
    return ImportRow.objects.filter(
        dealer_id=dealer_id, row_digest=digest, outcome__in=WRITTEN
    ).exists()


# ---------------------------------------------------------------- services


def save_mapping(*, dealer: Dealer, by: Staff, name: str, mapping: dict[str, str]) -> SavedMapping:
    """Keep a column mapping (canonical column → the file's header) under a name, for files
    that come back in the same shape."""
    check_importer(by, dealer)
    name = name.strip()
    if not name:
        raise InvalidInput(_("Give the mapping a name."), field="name")
    unknown = sorted(set(mapping) - set(CANONICAL_COLUMNS))
    if unknown:
        raise InvalidInput(
            _("Not import columns: %(columns)s.") % {"columns": ", ".join(unknown)},
            field="mapping",
        )
    if not mapping.get("mobile"):
        raise InvalidInput(_("The mapping must name the mobile column."), field="mapping")
    saved, _created = SavedMapping.objects.update_or_create(
        dealer=dealer,
        name=name,
        defaults={"mapping": dict(mapping), "created_by": by, "updated_at": timezone.now()},
    )
    return saved


def start_import(
    *,
    dealer: Dealer,
    by: Staff,
    path: Path,
    channel: Channel | None = None,
    preset: str | None = None,
    saved_mapping: str | None = None,
    dry_run: bool = False,
) -> ImportJob:
    """Record that `by` imports `path` into `dealer`; `run_import` does the work, here or in
    a worker. `channel` is for rows that name none; `saved_mapping` is the name of one of the
    dealer's saved column mappings."""
    check_importer(by, dealer)
    if channel is not None and channel.dealer_id != dealer.pk:
        raise InvalidInput(_("Unknown channel."), code="unknown_channel", field="channel")
    if (
        saved_mapping
        and not SavedMapping.objects.filter(dealer=dealer, name=saved_mapping).exists()
    ):
        raise InvalidInput(
            _("This dealer has no saved mapping “%(name)s”.") % {"name": saved_mapping},
            code="unknown_mapping",
            field="mapping",
        )
    path = Path(path)
    return ImportJob.objects.create(
        dealer=dealer,
        created_by=by,
        file_name=path.name[:255],
        file_sha256=file_sha256(path),
        channel=channel,
        preset=preset or "",
        saved_mapping=saved_mapping or "",
        dry_run=dry_run,
    )


def run_import(job: ImportJob, *, path: Path, progress: Progress | None = None) -> ImportJob:
    """Import the job's file row by row. A job that failed (or was killed) runs again to the
    end: the rows it finished are counted as they were, not done twice.

    A dry run replays every row in memory as a real run would, so its counts are those a real
    run would give, but writes no lead; only the job and its rejected rows are kept, for the
    report. It never holds the database's write lock for longer than a real batch does.
    Raises FileError or MappingError (the job then fails) when the file cannot be imported
    at all."""
    if job.status == ImportStatus.DONE:
        raise Conflict(_("This import has already finished."), code="import_done")
    check_importer(job.created_by, job.dealer)
    path = Path(path)
    if file_sha256(path) != job.file_sha256:
        raise FileError(_("This is not the file the import was started with."))
    _begin(job)
    try:
        _read(job, path, progress)
    except DomainError as error:
        _end(job, ImportStatus.FAILED, error=error.message)
        raise
    except BaseException as error:
        _end(job, ImportStatus.FAILED, error=f"{type(error).__name__}: {error}")
        raise
    _end(job, ImportStatus.DONE)
    if progress is not None:
        progress(job)
    return job


def _read(job: ImportJob, path: Path, progress: Progress | None) -> None:
    with open_table(path) as table:
        job.bytes_total = table.total_bytes
        job.headers = list(table.headers)
        mapping = ColumnMapping.detect(
            table.headers, preset=job.preset or None, saved=_saved_mapping(job)
        )
        job.mapping = mapping.as_saved()
        job.save()
        _import_rows(job, table, mapping, progress)
        job.bytes_done = table.bytes_read()


def _begin(job: ImportJob) -> None:
    for counter in COUNTERS:
        setattr(job, counter, 0)
    job.heartbeat_at = timezone.now()
    job.runner = this_process()
    if job.dry_run:
        job.rows.all().delete()  # a dry run's rejected rows are redone from scratch
    job.status = ImportStatus.RUNNING
    job.started_at = job.started_at or timezone.now()
    job.finished_at = None
    job.error = ""
    job.save()


def _end(job: ImportJob, status: ImportStatus, *, error: str = "") -> None:
    job.status = status
    job.error = error
    job.finished_at = timezone.now()
    job.save()


def job_path(job: ImportJob) -> Path:
    """Where the job's uploaded file is kept (intake.uploads stores it)."""
    return Path(settings.DCC_IMPORT_DIR) / job.upload


def fail(job: ImportJob, message: str) -> None:
    """Record that a job could not even start (its file is gone, its importer lost the role)."""
    job.status = ImportStatus.FAILED
    job.error = message
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error", "finished_at"])


def _machine() -> str:
    """This machine and its process id space (containers on one host each have their own)."""
    try:
        space = os.readlink("/proc/self/ns/pid")
    except OSError:
        space = ""
    return f"{socket.gethostname()}/{space}"


def this_process() -> str:
    """Who runs an import, as ImportJob.runner keeps it."""
    return f"{_machine()}:{os.getpid()}"


def runner_is_gone(runner: str) -> bool:
    """Whether the process that ran an import is known to have stopped: it ran on this
    machine and no longer exists. Of a process elsewhere only its heartbeat tells."""
    machine, _sep, pid = runner.rpartition(":")
    if machine != _machine() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)  # signal 0: only asks whether it exists
    except ProcessLookupError:
        return True
    except OSError:  # it exists, as another user's process
        return False
    return False


def _saved_mapping(job: ImportJob) -> dict[str, str] | None:
    if not job.saved_mapping:
        return None
    saved = SavedMapping.objects.filter(dealer_id=job.dealer_id, name=job.saved_mapping).first()
    if saved is None:
        raise InvalidInput(
            _("This dealer has no saved mapping “%(name)s”.") % {"name": job.saved_mapping},
            code="unknown_mapping",
            field="mapping",
        )
    return dict(saved.mapping)


def _import_rows(
    job: ImportJob,
    table: Table,
    mapping: ColumnMapping,
    progress: Progress | None,
) -> None:
    context = _Context(
        job=job,
        lookups=Lookups(job.dealer),
        mapping=mapping,
        tz=timezone.get_current_timezone(),
        # Rows up to here may have been finished by an earlier run of this job (a dry run
        # starts again from the top).
        resume_after=0 if job.dry_run else job.rows.aggregate(last=Max("row_number"))["last"] or 0,
    )
    # Rows that name no channel: the one chosen for the import, else the preset's platform.
    context.default_channel = job.channel or (
        context.lookups.channel(mapping.channel) if mapping.channel else None
    )
    batch: list[tuple[int, list[str]]] = []
    for row_number, cells in table.rows():
        batch.append((row_number, cells))
        if len(batch) >= BATCH_ROWS:
            _finish_batch(context, batch, table, progress)
            batch = []
    if batch:
        _finish_batch(context, batch, table, progress)


@dataclass
class _Context:
    """What every batch of one run needs."""

    job: ImportJob
    lookups: Lookups
    mapping: ColumnMapping
    tz: tzinfo
    resume_after: int
    default_channel: Channel | None = None
    batch: Batch | None = None
    # A dry run writes no lead, so the digests of the rows it would have written are kept
    # here: the same row again further down the file is already imported.
    dry_written: set[str] = dataclasses.field(default_factory=set)


def _finish_batch(
    context: _Context, batch: list[tuple[int, list[str]]], table: Table, progress: Progress | None
) -> None:
    job = context.job
    for outcome in _import_batch(context, batch):
        setattr(job, outcome, getattr(job, outcome) + 1)
    job.rows_done += len(batch)
    job.bytes_done = table.bytes_read()
    job.heartbeat_at = timezone.now()
    job.save(update_fields=COUNTERS)
    if progress is not None:
        progress(job)


def _import_batch(context: _Context, batch: list[tuple[int, list[str]]]) -> list[str]:
    """Import a batch of rows in one transaction, replayed in memory and written at once;
    return what came of each row. Should the database refuse the batch (a live enquiry for
    the same customer raced it), it is imported again row by row."""
    job = context.job
    outcomes: dict[int, str] = {}
    if batch[0][0] <= context.resume_after:
        outcomes.update(
            job.rows.filter(row_number__in=[number for number, _cells in batch]).values_list(
                "row_number", "outcome"
            )
        )
    parsed: list[tuple[LeadRow, str, list[str]]] = []
    unreadable: list[dict[str, Any]] = []
    for row_number, cells in batch:
        if row_number in outcomes:
            continue
        row = parse_row(cells, context.mapping, row_number=row_number, tz=context.tz)
        if row is None:
            outcomes[row_number] = SKIPPED
        elif isinstance(row, RowError):
            outcomes[row_number] = RowOutcome.REJECTED
            unreadable.append(_rejected(job, row_number, "", row.field, row.message, row.raw))
        else:
            parsed.append((row, row_digest(dealer_id=job.dealer_id, row=row), cells))
    _record_rejected(context, unreadable)
    written = set(
        ImportRow.objects.filter(
            dealer_id=job.dealer_id,
            row_digest__in={digest for _row, digest, _cells in parsed},
            outcome__in=WRITTEN,
        ).values_list("row_digest", flat=True)
    ) | (context.dry_written & {digest for _row, digest, _cells in parsed})
    try:
        with transaction.atomic():
            replayed, recorded, rejected = _replay_batch(context, parsed, written)
            insert_rows(ImportRow, IMPORT_ROW_COLUMNS, recorded)
            _record_rejected(context, rejected)
    except IntegrityError:
        if job.dry_run:
            raise  # it writes no lead: nothing of its own can collide
        context.batch = None  # its loads and marks counted the rolled-back rows
        replayed = {
            row.row_number: _import_row(context, row.row_number, cells)
            for row, _digest, cells in parsed
        }
    outcomes.update(replayed)
    return [outcomes[row_number] for row_number, _cells in batch]


def _replay_batch(
    context: _Context, parsed: list[tuple[LeadRow, str, list[str]]], written: set[str]
) -> tuple[dict[int, str], list[tuple[Any, ...]], list[dict[str, Any]]]:
    """Replay the parsed rows in memory and write their leads; return each row's outcome,
    the ImportRows of those written and those rejected."""
    job = context.job
    outcomes: dict[int, str] = {}
    recorded: list[tuple[Any, ...]] = []
    rejected: list[dict[str, Any]] = []
    for row, digest, _cells in parsed:
        if digest in written:
            outcomes[row.row_number] = RowOutcome.ALREADY_IMPORTED
    parsed = [item for item in parsed if item[0].row_number not in outcomes]
    if not parsed:
        return outcomes, recorded, rejected
    if context.batch is None:
        context.batch = Batch(job.dealer, dry_run=job.dry_run)
    batch = context.batch
    channels: dict[int, Channel] = {}
    for row, digest, cells in parsed:
        try:
            channels[row.row_number] = _row_channel(row, context.lookups, context.default_channel)
        except DomainError as error:
            outcomes[row.row_number] = RowOutcome.REJECTED
            rejected.append(
                _rejected(job, row.row_number, digest, error.field, error.message, cells)
            )
    batch.begin(
        phones=[row.phone.number for row, _digest, _cells in parsed],
        external_ids=[
            (channels[row.row_number].pk, row.external_id)
            for row, _digest, _cells in parsed
            if row.row_number in channels
        ],
        size=len(parsed),
    )
    for row, digest, cells in parsed:
        if row.row_number in outcomes:
            continue
        if digest in written:
            outcomes[row.row_number] = RowOutcome.ALREADY_IMPORTED
            continue
        try:
            intake = history.replay(
                row=row,
                dealer=job.dealer,
                channel=channels[row.row_number],
                importer=job.created_by,
                lookups=context.lookups,
                batch=batch,
            )
        except DomainError as error:
            outcomes[row.row_number] = RowOutcome.REJECTED
            rejected.append(
                _rejected(job, row.row_number, digest, error.field, error.message, cells)
            )
            continue
        if intake.outcome is IntakeOutcome.DUPLICATE:
            outcomes[row.row_number] = RowOutcome.ALREADY_IMPORTED
            continue
        outcome = RowOutcome.CREATED if intake.created else RowOutcome.TOUCHED
        outcomes[row.row_number] = outcome
        written.add(digest)  # the same row again further down is already imported
        lead_id = intake.lead.pk
        recorded.append(
            (job.dealer_id, job.pk, row.row_number, digest, outcome, lead_id, "", "", None)
        )
    batch.write()
    if job.dry_run:
        context.dry_written.update(row[3] for row in recorded)
        recorded = []
    return outcomes, recorded, rejected


IMPORT_ROW_COLUMNS = (
    "dealer_id",
    "job_id",
    "row_number",
    "row_digest",
    "outcome",
    "lead_id",
    "field",
    "message",
    "raw",
)


def _rejected(
    job: ImportJob,
    row_number: int,
    digest: str,
    field: str | None,
    message: str,
    raw: list[str] | tuple[str, ...],
) -> dict[str, Any]:
    """A rejected row's ImportRow values; its digest is that of its cells when it has none."""
    return {
        "dealer_id": job.dealer_id,
        "job_id": job.pk,
        "row_number": row_number,
        "row_digest": digest or raw_digest(dealer_id=job.dealer_id, cells=raw),
        "outcome": str(RowOutcome.REJECTED),
        "field": field if field in CANONICAL_COLUMNS else "",
        "message": message,
        "raw": [str(cell) for cell in raw],
    }


def _import_row(context: _Context, row_number: int, cells: list[str]) -> str:
    """Import one row through leads.actions in its own transaction; return what came of it.
    The slow, careful way, for a batch that the database refused as a whole."""
    job = context.job
    parsed = parse_row(cells, context.mapping, row_number=row_number, tz=context.tz)
    assert isinstance(parsed, LeadRow), "only rows that parsed are imported again"
    digest = row_digest(dealer_id=job.dealer_id, row=parsed)
    if _written(job.dealer_id, digest):
        return RowOutcome.ALREADY_IMPORTED
    try:
        with transaction.atomic():
            intake = history.replay(
                row=parsed,
                dealer=job.dealer,
                channel=_row_channel(parsed, context.lookups, context.default_channel),
                importer=job.created_by,
                lookups=context.lookups,
            )
            if intake.outcome is IntakeOutcome.DUPLICATE:
                return RowOutcome.ALREADY_IMPORTED  # its external id is already a lead here
            outcome = RowOutcome.CREATED if intake.created else RowOutcome.TOUCHED
            ImportRow.objects.create(
                dealer_id=job.dealer_id,
                job=job,
                row_number=row_number,
                row_digest=digest,
                outcome=outcome,
                lead=intake.lead,
            )
            return outcome
    except DomainError as error:
        _record_rejected(
            context, [_rejected(job, row_number, digest, error.field, error.message, cells)]
        )
        return RowOutcome.REJECTED
    except IntegrityError:
        if _written(job.dealer_id, digest):
            return RowOutcome.ALREADY_IMPORTED  # another import of the same row won the race
        raise


def _row_channel(row: LeadRow, lookups: Lookups, default: Channel | None) -> Channel:
    if row.channel:
        channel = lookups.channel(row.channel)
        if channel is None:
            raise RowRejected(
                _("“%(channel)s” is not one of this dealer's channels.") % {"channel": row.channel},
                field="channel",
                code="unknown_channel",
            )
        return channel
    if default is None:
        raise RowRejected(
            _("No channel: name one in the channel column or choose the import's channel."),
            field="channel",
            code="no_channel",
        )
    return default


def _record_rejected(context: _Context, rejected: list[dict[str, Any]]) -> None:
    insert_rows(
        ImportRow,
        IMPORT_ROW_COLUMNS,
        (tuple(values.get(name) for name in IMPORT_ROW_COLUMNS) for values in rejected),
    )


# ---------------------------------------------------------------- the rejected rows


def rejected_rows_csv(job: ImportJob, out: IO[str]) -> int:
    """Write the job's rejected rows as CSV: the file's own columns, then the row number and
    the reason, ready to fix and import again. UTF-8 with a BOM so that Excel reads it; every
    cell made safe from formula injection. Returns how many rows were written."""
    out.write("\ufeff")
    writer = csv.writer(out)
    headers = [str(header) for header in job.headers]
    writer.writerow([safe_cell(cell) for cell in [*headers, _("row"), _("reason")]])
    written = 0
    rejected = (
        job.rows.filter(outcome=RowOutcome.REJECTED)
        .order_by("row_number")
        .values_list("row_number", "field", "message", "raw")
    )
    for row_number, field, message, raw in rejected.iterator(chunk_size=1000):
        # Cells beyond the header row have no column to go back to.
        cells = [*(raw or []), *[""] * len(headers)][: len(headers)]
        # The column at fault by the file's own name for it.
        where = (job.mapping.get(field) or field_label(field)) if field else ""
        reason = f"{where}: {message}" if where else message
        writer.writerow([safe_cell(str(cell)) for cell in [*cells, row_number, reason]])
        written += 1
    return written
