"""Call history from a file: a PBX's or call center's export of past calls (CDR rows, CSV or
XLSX, Asterisk's columns or the Chinese headings common in Chinese exports), each row merged
into its call as a push would be (calls.actions.receive with `history`): the same file twice
stores nothing new, a missed call in it opens no callback, a call on a lead writes the lead's
`called` event.

A file missing a column every row needs is refused whole, before any row is stored; otherwise
each row is stored in its own transaction, and a row that can't be read is rejected with its
row number and column while the others are stored. A dry run stores each row and rolls it back
at once, so its counts are those a real run would give, without holding the database for
long."""

from __future__ import annotations

import logging
import re
import tempfile
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import NamedTuple

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import record_change
from accounts.models import Staff
from accounts.roles import check_configure
from calls import actions
from calls.models import Call, PhoneAccount
from calls.providers import report_from_row
from calls.report import CallReport, PayloadError
from dcc.errors import DomainError, InvalidInput
from intake import uploads
from intake.files import FileError, Table, open_table

log = logging.getLogger(__name__)

# What one upload on the settings page may hold: it is imported while the person waits.
# Larger files go through `dcc phone import`.
PAGE_MAX_ROWS = 20_000

# The Asterisk columns (calls.providers.asterisk), and the headings Chinese PBX and
# call-center exports give them. A heading is compared without spaces, underscores, case or
# a unit in brackets at its end: “通话时长(秒)” is 通话时长, “Unique ID” is uniqueid.
COLUMNS: dict[str, tuple[str, ...]] = {
    "uniqueid": ("通话ID", "呼叫ID", "通话编号", "呼叫编号", "话单ID"),
    "src": ("主叫号码", "主叫"),
    "dst": ("被叫号码", "被叫"),
    "start": ("开始时间", "呼叫时间", "呼叫开始时间"),
    "answer": ("接听时间", "应答时间", "接通时间"),
    "end": ("结束时间", "挂断时间"),
    "duration": ("总时长", "呼叫时长"),
    "billsec": ("通话时长", "计费时长"),
    "disposition": ("状态", "呼叫结果", "呼叫状态", "通话状态"),
    "accountcode": ("坐席", "座席", "坐席工号", "座席工号", "工号"),
    "direction": ("呼叫方向", "通话方向", "呼叫类型"),
    "did": ("中继号码", "热线号码"),
    "channel": (),
    "dstchannel": (),
}
# Without these a row says nothing we can store: a file without them is refused whole.
REQUIRED = ("uniqueid", "disposition")
# What receive() calls a field that report_from_row read from a column.
_REPORT_FIELDS = {"call_id": "uniqueid", "seat": "accountcode"}
_UNIT = re.compile(r"[(（][^()（）]*[)）]$")
_CLOCK = re.compile(r"^(\d{1,3}):([0-5]\d):([0-5]\d)$")  # a duration as H:MM:SS


def heading_key(heading: str) -> str:
    """A heading as compared with the known ones."""
    return re.sub(r"[\s_]+", "", _UNIT.sub("", heading.strip())).casefold()


_KNOWN = {
    column: (heading_key(column), {heading_key(alias) for alias in aliases})
    for column, aliases in COLUMNS.items()
}


class RejectedRow(NamedTuple):
    row: int  # as the spreadsheet numbers it
    column: str  # the file's heading of the column at fault; "" when no one column is
    message: str  # in the language of whoever imports


@dataclass
class CallHistoryResult:
    """What came of a file. rows = new + known + skipped + rejected rows."""

    dry_run: bool = False
    rows: int = 0  # data rows below the header, blank lines between them included
    new: int = 0  # rows that stored a call not known before
    known: int = 0  # rows merged into a call already stored (by an earlier import or row)
    skipped: int = 0  # blank rows, and rows with nothing in any call column
    matched: int = 0  # calls of the file on a lead
    rejected: list[RejectedRow] = field(default_factory=list)


def column_map(headers: list[str]) -> dict[str, int]:
    """Which column of the file holds each known column: its own name first, else the first
    of its aliases. Raises FileError naming a required column the file lacks."""
    found: dict[str, int] = {}
    keys = [heading_key(header) for header in headers]
    for column, (own, aliases) in _KNOWN.items():
        index = next((i for i, key in enumerate(keys) if key == own), None)
        if index is None:
            index = next((i for i, key in enumerate(keys) if key in aliases), None)
        if index is not None and index not in found.values():
            found[column] = index
    for column in REQUIRED:
        if column not in found:
            names = ", ".join((column, *COLUMNS[column]))
            raise FileError(
                _(
                    "The file has no %(column)s column (headed one of: %(names)s), which every "
                    "call needs: nothing was imported."
                )
                % {"column": column, "names": names},
                code="file_missing_column",
            )
    return found


def _seconds(text: str) -> str:
    """A duration written as H:MM:SS (as Chinese exports and Excel show it) in seconds."""
    clock = _CLOCK.match(text.strip())
    if clock is None:
        return text
    hours, minutes, seconds = (int(part) for part in clock.groups())
    return str(hours * 3600 + minutes * 60 + seconds)


def _row(headers: list[str], columns: dict[str, int], cells: list[str]) -> dict[str, str] | None:
    """A row as report_from_row reads it (the known columns by their own names, the others
    by the file's heading, kept with the call); None when no call column holds anything."""
    row = {column: cells[index].strip() for column, index in columns.items()}
    if not any(row.values()):
        return None
    for name in ("duration", "billsec"):
        if row.get(name):
            row[name] = _seconds(row[name])
    mapped = set(columns.values())
    for index, header in enumerate(headers):
        if index not in mapped and header and index < len(cells) and cells[index].strip():
            row.setdefault(header, cells[index].strip())
    return row


def import_call_history(
    *,
    account: PhoneAccount,
    by: Staff,
    path: Path,
    dry_run: bool = False,
    tz: tzinfo | None = None,
    max_rows: int | None = None,
    file_name: str = "",
) -> CallHistoryResult:
    """Import the call records in `path` into `account` (times without a zone are in `tz`, by
    default the site's). Only who may change the dealer's phone settings may. Raises FileError
    when the file can't be imported at all (unreadable, a required column missing, more than
    `max_rows` rows): nothing is stored then. `file_name`: as the change log names the file
    (default: the path's)."""
    dealer = account.dealer
    check_configure(by, dealer)
    tz = tz or timezone.get_current_timezone()
    with open_table(path) as table:
        columns = column_map(table.headers)
        if max_rows is not None:
            _check_size(table, max_rows)
        result = _import_rows(account, table, columns, dry_run=dry_run, tz=tz)
    log.info(
        "call history dealer=%s provider=%s%s: rows=%d new=%d known=%d skipped=%d "
        "rejected=%d matched=%d",
        dealer.code,
        account.provider,
        " (dry run)" if dry_run else "",
        result.rows,
        result.new,
        result.known,
        result.skipped,
        len(result.rejected),
        result.matched,
    )
    if not dry_run:
        record_change(
            dealer=dealer,
            by=by,
            what="call_history_imported",
            subject=account.provider,
            detail={
                "file": (file_name or Path(path).name)[:100],
                "rows": result.rows,
                "new": result.new,
                "known": result.known,
                "rejected": len(result.rejected),
            },
        )
    return result


def _check_size(table: Table, max_rows: int) -> None:
    rows = sum(1 for _row in table.rows())
    if rows > max_rows:
        raise FileError(
            _(
                "The file has %(rows)s rows; at most %(limit)s can be imported here at once. "
                "Split it, or have it imported with the command “dcc phone import”."
            )
            % {"rows": f"{rows:,}", "limit": f"{max_rows:,}"},
            code="file_too_many_rows",
        )


def _import_rows(
    account: PhoneAccount, table: Table, columns: dict[str, int], *, dry_run: bool, tz: tzinfo
) -> CallHistoryResult:
    result = CallHistoryResult(dry_run=dry_run)
    headings = {column: table.headers[index] for column, index in columns.items()}
    seen: set[str] = set()  # call ids of the rows before: a row again merges into its call
    matched: set[str] = set()
    last = table.header_row
    for number, cells in table.rows():
        result.skipped += number - last - 1  # blank rows between
        last = number
        row = _row(table.headers, columns, cells)
        if row is None:
            result.skipped += 1
            continue
        try:
            report = report_from_row(row, provider=account.provider, tz=tz)
            known = report.call_id in seen or _is_known(account, report)
            call = _receive(account, report, dry_run=dry_run)
        except (PayloadError, DomainError) as error:
            column = _REPORT_FIELDS.get(error.field or "", error.field or "")
            result.rejected.append(RejectedRow(number, headings.get(column, column), error.message))
            continue
        seen.add(report.call_id)
        if known:
            result.known += 1
        else:
            result.new += 1
        if call.lead_id:
            matched.add(report.call_id)
    result.rows = last - table.header_row
    result.matched = len(matched)
    return result


def _is_known(account: PhoneAccount, report: CallReport) -> bool:
    return Call.objects.filter(
        dealer_id=account.dealer_id, provider=account.provider, call_id=report.call_id
    ).exists()


def _receive(account: PhoneAccount, report: CallReport, *, dry_run: bool) -> Call:
    """One row stored in its own transaction (receive's); a dry run rolls it back at once."""
    if not dry_run:
        return actions.receive(account, report, history=True)
    with transaction.atomic():
        call = actions.receive(account, report, history=True)
        transaction.set_rollback(True)
    return call


# ---------------------------------------------------------------- an upload from the page


def import_upload(
    *,
    account: PhoneAccount,
    by: Staff,
    file: UploadedFile,
    dry_run: bool = False,
    max_rows: int | None = PAGE_MAX_ROWS,
) -> CallHistoryResult:
    """Import an uploaded file while the person waits (at most `max_rows` rows, within the
    lead import's upload size). The file is kept only for the import: it holds customers'
    numbers."""
    check_configure(by, account.dealer)
    if file.size is not None and file.size > uploads.max_upload_bytes():
        raise InvalidInput(uploads.too_large_message(), code="file_too_large", field="file")
    with tempfile.TemporaryDirectory(prefix="dcc-calls-") as folder:
        path = Path(folder) / "upload"
        with path.open("wb") as out:
            for chunk in file.chunks():
                out.write(chunk)
        return import_call_history(
            account=account,
            by=by,
            path=path,
            dry_run=dry_run,
            max_rows=max_rows,
            file_name=uploads.shown_name(file.name or ""),
        )
