"""Reads of the import wizard: past imports, a file's preview before it is imported, a job's
speed and its row-by-row report."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Dealer
from dcc.errors import DomainError
from intake.files import open_table
from intake.mapping import ColumnMapping, field_label
from intake.models import ImportJob, ImportRow, ImportStatus, SavedMapping
from intake.rows import LeadRow, RowError, parse_row

PREVIEW_ROWS = 10
REPORT_PAGE_SIZE = 50
LIST_SIZE = 50
_TEXT_COLUMNS = {"model": "car_model"}  # canonical column → LeadRow attribute, where they differ


def past_imports(dealer: Dealer, *, limit: int = LIST_SIZE) -> QuerySet[ImportJob]:
    """The dealer's latest imports, newest first."""
    return (
        ImportJob.objects.filter(dealer=dealer)
        .select_related("created_by", "channel")
        .order_by("-created_at", "-pk")[:limit]
    )


def saved_mapping(dealer: Dealer, name: str) -> dict[str, str] | None:
    if not name:
        return None
    found = SavedMapping.objects.filter(dealer=dealer, name=name).first()
    return dict(found.mapping) if found else None


@dataclass
class PreviewRow:
    row_number: int
    cells: list[str]  # one per column of the preview, as they will be imported
    error: str = ""  # why the row would be rejected
    error_field: str = ""


@dataclass
class Preview:
    """What importing a file would read: its columns, how they map, and its first rows."""

    headers: list[str] = field(default_factory=list)
    mapping: ColumnMapping | None = None
    error: str = ""  # the file can't be read, or no column holds the mobile number
    error_code: str = ""
    columns: list[tuple[str, str]] = field(default_factory=list)  # (canonical, label) shown
    rows: list[PreviewRow] = field(default_factory=list)

    @property
    def detected(self) -> dict[str, int]:
        return dict(self.mapping.columns) if self.mapping else {}


def preview_file(
    path: Path,
    *,
    preset: str = "",
    saved: dict[str, str] | None = None,
    limit: int = PREVIEW_ROWS,
) -> Preview:
    """Read the header and the first `limit` rows of `path` as the import would: mapped and
    parsed, each row with the reason it would be rejected. A file that can't be mapped (no
    mobile column) still shows its rows as they are, for the person to choose the columns."""
    preview = Preview()
    tz = timezone.get_current_timezone()
    try:
        with open_table(path) as table:
            preview.headers = list(table.headers)
            try:
                preview.mapping = ColumnMapping.detect(
                    table.headers, preset=preset or None, saved=saved
                )
            except DomainError as error:
                preview.error, preview.error_code = error.message, error.code
            raw: list[tuple[int, list[str]]] = []
            for number, cells in table.rows():
                raw.append((number, cells))
                if len(raw) >= limit:
                    break
    except DomainError as error:
        preview.error, preview.error_code = error.message, error.code
        return preview
    if preview.mapping is None:
        preview.columns = [(str(i), header) for i, header in enumerate(preview.headers)]
        preview.rows = [PreviewRow(number, cells) for number, cells in raw]
        return preview
    preview.columns = [(name, field_label(name)) for name in preview.mapping.columns]
    for number, cells in raw:
        parsed = parse_row(cells, preview.mapping, row_number=number, tz=tz)
        if parsed is None:
            continue
        if isinstance(parsed, RowError):
            shown = [preview.mapping.cell(cells, name) for name, _label in preview.columns]
            preview.rows.append(PreviewRow(number, shown, parsed.message, parsed.field))
        else:
            preview.rows.append(PreviewRow(number, _parsed_cells(parsed, preview.columns)))
    return preview


def _parsed_cells(row: LeadRow, columns: list[tuple[str, str]]) -> list[str]:
    cells = []
    for name, _label in columns:
        if name == "mobile":
            value = row.phone.number
        else:
            value = getattr(row, _TEXT_COLUMNS.get(name, name))
        if isinstance(value, datetime):
            value = timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
        cells.append(value or "")
    return cells


def rows_per_second(job: ImportJob) -> int | None:
    """How fast the job reads rows, over its run so far; None before it starts."""
    if not job.started_at or not job.rows_done:
        return None
    end = job.finished_at if job.status in (ImportStatus.DONE, ImportStatus.FAILED) else None
    seconds = ((end or timezone.now()) - job.started_at).total_seconds()
    return round(job.rows_done / max(seconds, 0.001))


def report_page(job: ImportJob, *, page: str | int | None, outcome: str = "") -> Page:
    """One page of what each recorded row of the job did, in file order. Rows already
    imported and empty rows are only counted (see ImportRow)."""
    rows = ImportRow.objects.filter(job=job).select_related("lead").order_by("row_number")
    if outcome:
        rows = rows.filter(outcome=outcome)
    shown = Paginator(rows, REPORT_PAGE_SIZE).get_page(page)
    shown.object_list = list(shown.object_list)
    for row in shown.object_list:
        # The column at fault by the file's own name for it, as in the rejected-rows file.
        if row.field:
            row.column_label = job.mapping.get(row.field) or field_label(row.field)
    return shown


def rejected_file_name(job: ImportJob) -> str:
    """`leads.csv` → `leads-rejected.csv`: the download's name, next to the original."""
    stem = Path(job.file_name).stem or "import"
    return f"{stem}-rejected.csv"
