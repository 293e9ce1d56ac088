"""Platform scores from a file (CSV or XLSX, read by intake.files): one row per account and day,
naming the account (or, when the dealer has one account there, the platform), the date and
the score. Every row is checked first; a file with any bad row stores nothing and lists each
bad row with its number and column, so that the file can be fixed and sent again whole."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import NamedTuple

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Dealer, Staff
from dcc.errors import DomainError, InvalidInput
from intake.files import FileError, Table, open_table
from platforms.actions import check_score_day, parse_score
from platforms.models import Platform, PlatformAccount, PlatformScore, ScoreKind, ScoreSource
from platforms.permissions import may_work_account

MAX_BYTES = 5 * 1024**2  # a year of daily scores of every account is far less
MAX_ROWS = 5_000

# Each column, by its own name and the headings dealers write.
COLUMNS: dict[str, tuple[str, ...]] = {
    "account": ("account", "账号", "账户", "账号名称", "店铺"),
    "platform": ("platform", "平台"),
    "date": ("date", "day", "日期"),
    "score": ("score", "分数", "得分", "评分"),
    "note": ("note", "备注"),
}
# What each platform is also called in a file.
PLATFORM_NAMES: dict[str, str] = {
    "autohome": Platform.AUTOHOME,
    "汽车之家": Platform.AUTOHOME,
    "车商汇": Platform.AUTOHOME,
    "yiche": Platform.YICHE,
    "易车": Platform.YICHE,
    "车易通": Platform.YICHE,
    "dongchedi": Platform.DONGCHEDI,
    "懂车帝": Platform.DONGCHEDI,
}
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")


class RejectedRow(NamedTuple):
    row: int  # as the spreadsheet numbers it
    column: str  # the file's heading of the column at fault; "" when no one column is
    message: str


@dataclass
class ScoreImport:
    stored: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)


def _key(heading: str) -> str:
    return re.sub(r"[\s_]+", "", heading).casefold()


def column_map(headers: list[str]) -> dict[str, int]:
    """Which column holds what; FileError when the date, the score, or both the account and
    the platform are missing."""
    keys = [_key(header) for header in headers]
    found: dict[str, int] = {}
    for column, names in COLUMNS.items():
        wanted = {_key(name) for name in names}
        index = next((i for i, key in enumerate(keys) if key in wanted), None)
        if index is not None:
            found[column] = index
    missing = [column for column in ("date", "score") if column not in found]
    if "account" not in found and "platform" not in found:
        missing.insert(0, "account / platform")
    if missing:
        raise FileError(
            _("The file has no %(columns)s column: nothing was imported.")
            % {"columns": ", ".join(missing)},
            code="file_missing_column",
        )
    return found


def parse_day(text: str) -> date:
    value = text.strip()
    if " " in value:  # a spreadsheet's date with a time of 00:00:00
        value = value.split(" ", 1)[0]
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    raise InvalidInput(_("Enter the date as 2026-11-18."), field="date")


class _Accounts:
    """The dealer's accounts, found by name or by platform."""

    def __init__(self, dealer: Dealer) -> None:
        self.all = list(PlatformAccount.objects.filter(dealer=dealer, is_active=True))

    def find(self, name: str, platform: str) -> PlatformAccount:
        if name:
            found = [a for a in self.all if a.name == name]
            if platform:
                found = [a for a in found if a.platform == self._platform(platform)]
            if len(found) != 1:
                raise InvalidInput(
                    _("No active account of the dealer is called “%(name)s”.") % {"name": name},
                    field="account",
                )
            return found[0]
        code = self._platform(platform)
        found = [a for a in self.all if a.platform == code]
        if not found:
            raise InvalidInput(
                _("The dealer has no active account on %(platform)s.") % {"platform": platform},
                field="platform",
            )
        if len(found) > 1:
            raise InvalidInput(
                _("The dealer has several accounts on %(platform)s: name the account.")
                % {"platform": platform},
                field="account",
            )
        return found[0]

    @staticmethod
    def _platform(text: str) -> str:
        key = text.strip()
        code = PLATFORM_NAMES.get(key.casefold()) or PLATFORM_NAMES.get(key)
        if code is None:
            for choice, label in Platform.choices:
                if key.casefold() in (choice, str(label).casefold()):
                    return choice
            raise InvalidInput(
                _("Unknown platform “%(platform)s”: write 汽车之家, 易车 or 懂车帝.")
                % {"platform": text},
                field="platform",
            )
        return code


def _cell(cells: list[str], columns: dict[str, int], column: str) -> str:
    index = columns.get(column)
    return cells[index].strip() if index is not None and index < len(cells) else ""


def import_scores(*, dealer: Dealer, by: Staff, path: Path) -> ScoreImport:
    """Store every row of the file as an imported score, or none of them when any row is bad
    (ScoreImport.rejected then lists each)."""
    result = ScoreImport()
    accounts = _Accounts(dealer)
    ready: list[PlatformScore] = []
    with open_table(path, max_bytes=MAX_BYTES) as table:
        columns = column_map(table.headers)
        headings = {column: table.headers[index] for column, index in columns.items()}
        for number, cells in _rows(table):
            try:
                ready.append(_score(dealer, by, accounts, columns, cells))
            except DomainError as error:
                column = headings.get(error.field or "", error.field or "")
                result.rejected.append(RejectedRow(number, column, error.message))
    if result.rejected:
        return result
    if not ready:
        raise FileError(_("The file has no scores below its header."), code="file_empty")
    with transaction.atomic():
        PlatformScore.objects.bulk_create(ready)
    result.stored = len(ready)
    return result


def _rows(table: Table):
    for count, (number, cells) in enumerate(table.rows(), start=1):
        if count > MAX_ROWS:
            raise FileError(
                _("The file has more than %(limit)s rows: split it.") % {"limit": MAX_ROWS},
                code="file_too_many_rows",
            )
        yield number, cells


def _score(
    dealer: Dealer, by: Staff, accounts: _Accounts, columns: dict[str, int], cells: list[str]
) -> PlatformScore:
    name, platform = _cell(cells, columns, "account"), _cell(cells, columns, "platform")
    if not name and not platform:
        raise InvalidInput(
            _("Name the account or the platform."),
            field="account" if "account" in columns else "platform",
        )
    account = accounts.find(name, platform)
    if not may_work_account(by, account):
        raise InvalidInput(
            _("%(account)s is not an account you run.") % {"account": account},
            field="account" if name else "platform",
        )
    text = _cell(cells, columns, "date")
    if not text:
        raise InvalidInput(_("Enter the date."), field="date")
    day = check_score_day(parse_day(text), field="date")
    raw = _cell(cells, columns, "score").rstrip("%").strip()
    if not raw:
        raise InvalidInput(_("Enter the score."), field="score")
    return PlatformScore(
        dealer=dealer,
        account=account,
        kind=ScoreKind.PLATFORM,
        day=day,
        score=parse_score(raw),
        source=ScoreSource.IMPORTED,
        recorded_by=by,
        note=_cell(cells, columns, "note")[:200],
    )


def import_upload(*, dealer: Dealer, by: Staff, file: UploadedFile) -> ScoreImport:
    """An uploaded file, imported while the person waits."""
    if file.size is not None and file.size > MAX_BYTES:
        raise InvalidInput(
            _("The file is too large: at most %(mb)d MB.") % {"mb": MAX_BYTES // 1024**2},
            field="file",
        )
    with tempfile.TemporaryDirectory(prefix="dcc-scores-") as folder:
        path = Path(folder) / "upload"
        with path.open("wb") as out:
            for chunk in file.chunks():
                out.write(chunk)
        return import_scores(dealer=dealer, by=by, path=path)
