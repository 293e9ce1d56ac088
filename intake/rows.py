"""One imported row, as the rest of the system sees it: either a LeadRow (clean, normalised)
or a RowError (what is wrong, where). Reading files and mapping columns produce these;
the import runner consumes them."""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Staff
from dcc.errors import InvalidInput
from dcc.phone import NormalisedPhone, PhoneError, normalise_phone
from intake.mapping import CANONICAL_COLUMNS, ColumnMapping, field_label
from leads.models import Channel, Customer, Lead, ReasonCode
from leads.stages import GRADES

if TYPE_CHECKING:
    from django.db.models import Model

# The lifecycle columns, in the order a lead lives them.
LIFECYCLE = (
    "created_at",
    "contacted_at",
    "appointed_at",
    "arrived_at",
    "ordered_at",
    "delivered_at",
)


@dataclass(frozen=True)
class LeadRow:
    row_number: int  # as the user sees it in the file: the header is row 1
    phone: NormalisedPhone
    external_id: str = ""
    name: str = ""
    channel: str = ""  # a channel code or name as written ("" = the import's channel)
    car_model: str = ""
    city: str = ""
    grade: str = ""  # "" or H/A/B/C/N
    owner: str = ""  # a staff member's username or mobile, as written
    created_at: datetime | None = None
    contacted_at: datetime | None = None
    appointed_at: datetime | None = None
    arrived_at: datetime | None = None
    ordered_at: datetime | None = None
    delivered_at: datetime | None = None
    defeated_at: datetime | None = None
    defeat_reason: str = ""
    invalid_reason: str = ""
    note: str = ""


@dataclass(frozen=True)
class RowError:
    row_number: int
    field: str  # the canonical column at fault ("" when the row as a whole is)
    message: str  # says what is wrong, in the user's language
    raw: tuple[str, ...]  # the row's cells as read, for the rejected-rows file


# --- parsing one row ------------------------------------------------------------------------
# Below: turning a row of strings into a LeadRow or a RowError. The limits come from the model
# fields the runner writes to, so a row that passes here fits the database.

NOTE_MAX = 2000  # as the lead forms allow
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# The 1900 date system: serial 1 is 1900-01-01, but Excel counts a 29 February 1900 that never
# was, so for every date after it day 0 is 1899-12-30. Smaller serials are not lead dates.
_EXCEL_EPOCH = datetime(1899, 12, 30)
_SERIAL_MIN = 25_569  # 1970-01-01
_SERIAL_MAX = 2_958_465  # 9999-12-31, Excel's last day
_SHOWN_MAX = 40  # how much of a bad value a message repeats
_DATE_COLUMNS = frozenset(name for name in CANONICAL_COLUMNS if name.endswith("_at"))
_EMPTY_VALUES = {name: None if name in _DATE_COLUMNS else "" for name in CANONICAL_COLUMNS}

_DATE = (
    r"(?P<y>\d{4})\s*(?:(?P<sep>[-/.])\s*(?P<m>\d{1,2})\s*(?P=sep)\s*(?P<d>\d{1,2})"
    r"|年\s*(?P<cm>\d{1,2})\s*月\s*(?P<cd>\d{1,2})\s*[日号]?)"
)
_TIME = (
    r"(?P<ampm>上午|下午|am|pm)?\s*(?P<H>\d{1,2})\s*[:时点]\s*(?P<M>\d{1,2})"
    r"(?:\s*[:分]\s*(?P<S>\d{1,2})(?:\.(?P<f>\d{1,9}))?\s*秒?|\s*分)?"
    r"\s*(?P<ampm2>am|pm)?"
    r"\s*(?P<tz>z|[+-]\d{2}(?::?\d{2})?)?"
)
_DATETIME = re.compile(rf"{_DATE}(?:(?:\s*t\s*|\s+|(?<=[日号]))\s*{_TIME})?", re.IGNORECASE)
_PLAIN = re.compile(r"\d{4}-\d\d-\d\d(?: \d\d:\d\d(?::\d\d)?)?", re.ASCII)
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?")  # 20260105[1300[00]]
_SERIAL = re.compile(r"\d{1,7}(?:\.\d+)?")
_EPOCH = re.compile(r"\d{10}|\d{13}")  # Unix seconds or milliseconds, as platform APIs write


def parse_row(
    cells: list[str], mapping: ColumnMapping, *, row_number: int, tz: tzinfo
) -> LeadRow | RowError | None:
    """Read one data row through `mapping`: a LeadRow when every mapped cell is acceptable, a
    RowError for the first one that is not (the mobile first, then in CANONICAL_COLUMNS
    order), or None when every cell of the row is empty (skip it, it is not an error).

    Dates without a zone are in `tz`, the dealer's zone. Text is kept as text, never
    evaluated: a cell "=cmd|…" is a name like any other (exports pass it through safe_cell).
    """
    if not any(cell.strip() and _clean(cell) for cell in cells):
        return None
    raw = tuple(cells)

    def error(name: str, message: str) -> RowError:
        return RowError(row_number=row_number, field=name, message=message, raw=raw)

    try:
        phone = normalise_phone(_clean(mapping.cell(cells, "mobile")))
    except PhoneError as exc:
        return error("mobile", exc.message)

    values: dict[str, Any] = dict(_EMPTY_VALUES)
    columns, width = mapping.columns, len(cells)
    for name in CANONICAL_COLUMNS:
        index = columns.get(name)
        if index is None or name == "mobile":
            continue
        text = _clean(cells[index], multiline=name == "note") if index < width else ""
        if name in _DATE_COLUMNS:
            try:
                values[name] = parse_datetime(text, tz=tz)
            except InvalidInput as exc:
                return error(name, exc.message)
        elif name == "grade":
            grade = unicodedata.normalize("NFKC", text).upper().removesuffix("级").strip()
            if grade and grade not in GRADES:
                return error(
                    name,
                    _("“%(value)s” is not an intent grade; use H, A, B, C or N.")
                    % {"value": _shown(text)},
                )
            values[name] = grade
        else:
            limit = _text_limits()[name]
            if len(text) > limit:
                return error(name, _too_long(name, len(text), limit))
            values[name] = text

    return LeadRow(
        row_number=row_number,
        phone=phone,
        external_id=values["external_id"],
        name=values["name"],
        channel=values["channel"],
        car_model=values["model"],
        city=values["city"],
        grade=values["grade"],
        owner=values["owner"],
        created_at=values["created_at"],
        contacted_at=values["contacted_at"],
        appointed_at=values["appointed_at"],
        arrived_at=values["arrived_at"],
        ordered_at=values["ordered_at"],
        delivered_at=values["delivered_at"],
        defeated_at=values["defeated_at"],
        defeat_reason=values["defeat_reason"],
        invalid_reason=values["invalid_reason"],
        note=values["note"],
    )


def parse_datetime(text: str, *, tz: tzinfo) -> datetime | None:
    """An aware datetime from the ways exports write dates, or None for an empty cell.

    Accepts 2026-01-05, 2026/1/5, 2026.1.5, 2026年1月5日, each optionally with a time
    (13:00, 13:00:00, 下午1:00, 13时05分), ISO 8601 with T and offset, 20260105[1300[00]],
    Unix seconds or milliseconds, and Excel serial numbers (46027.5 is 2026-01-05 12:00).
    A time without a zone is in `tz`; a date alone is midnight in `tz`. Raises InvalidInput
    (code invalid_date) saying what was written.
    """
    if _PLAIN.fullmatch(text):  # as most exports write it: no normalising, no searching
        try:
            return datetime.fromisoformat(text).replace(tzinfo=tz)
        except ValueError:
            pass  # 2026-02-30: the full path says what is wrong
    value = unicodedata.normalize("NFKC", text).strip()
    if not value:
        return None
    try:
        moment = _parse_moment(value, tz)
    except (ValueError, OverflowError) as exc:
        raise InvalidInput(
            _("“%(value)s” is not a real date or time.") % {"value": _shown(text)},
            code="invalid_date",
        ) from exc
    if moment is None:
        raise InvalidInput(
            _(
                "“%(value)s” is not a date we can read; write it like 2026-01-05 or "
                "2026-01-05 13:00."
            )
            % {"value": _shown(text)},
            code="invalid_date",
        )
    return moment


def safe_cell(text: str) -> str:
    """`text` made safe to write into a CSV or sheet that someone will open in Excel or WPS:
    a leading =, +, -, @, tab or carriage return would make it a formula (“=cmd|' /C calc'!A0”
    runs a program), so it gets a ' in front, which spreadsheets show as plain text."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def describe_error(error: RowError, mapping: ColumnMapping) -> str:
    """A RowError as one line for people: row, column as they know it, and what is wrong."""
    if error.field and mapping.index(error.field) is not None:
        return _("Row %(row)d, %(where)s: %(message)s") % {
            "row": error.row_number,
            "where": mapping.where(error.field),
            "message": error.message,
        }
    return _("Row %(row)d: %(message)s") % {"row": error.row_number, "message": error.message}


def _clean(cell: str, *, multiline: bool = False) -> str:
    """The cell as stored: trimmed, NUL-free (PostgreSQL refuses NUL), one line unless it is
    a note, and without the ' that safe_cell put in front, so a corrected rejected-rows file
    imports as the original would have."""
    if not cell:  # most cells of a row are empty: nothing to do
        return ""
    text = cell.replace("\x00", "").strip().strip("\u200b\ufeff").strip()
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        text = text[1:]
    if not multiline:
        text = " ".join(text.split())
    return text


@functools.cache
def _text_limits() -> dict[str, int]:
    """Most characters each text column may have: the model field it ends up in."""

    def size(model: type[Model], name: str) -> int:
        return model._meta.get_field(name).max_length  # type: ignore[union-attr, return-value]

    return {
        "external_id": size(Lead, "external_id"),
        "name": size(Customer, "name"),
        "channel": size(Channel, "name"),
        "model": size(Lead, "car_model"),
        "city": size(Customer, "city"),
        "owner": size(Staff, "username"),
        # A reason may be written as its code or its label; the runner matches either.
        "defeat_reason": size(ReasonCode, "label"),
        "invalid_reason": size(ReasonCode, "label"),
        "note": NOTE_MAX,
    }


def _too_long(name: str, count: int, limit: int) -> str:
    return ngettext(
        "%(field)s is too long: %(count)d characters, at most %(limit)d is allowed.",
        "%(field)s is too long: %(count)d characters, at most %(limit)d are allowed.",
        limit,
    ) % {"field": field_label(name), "count": count, "limit": limit}


def _shown(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SHOWN_MAX else text[: _SHOWN_MAX - 1] + "…"


def _parse_moment(value: str, tz: tzinfo) -> datetime | None:
    """None when `value` has no shape we know; ValueError when it has one but is impossible."""
    if match := _DATETIME.fullmatch(value):
        return _from_match(match, tz)
    if match := _COMPACT.fullmatch(value):
        year, month, day, hour, minute, second = (int(g) if g else 0 for g in match.groups())
        return datetime(year, month, day, hour, minute, second, tzinfo=tz)
    if _EPOCH.fullmatch(value):
        seconds = int(value) / (1000 if len(value) == 13 else 1)
        return datetime.fromtimestamp(seconds, tz)
    if _SERIAL.fullmatch(value):
        serial = float(value)
        if not _SERIAL_MIN <= serial < _SERIAL_MAX + 1:
            return None
        days = int(serial)
        moment = _EXCEL_EPOCH + timedelta(days=days, seconds=round((serial - days) * 86400))
        return moment.replace(tzinfo=tz)
    return None


def _from_match(match: re.Match[str], tz: tzinfo) -> datetime:
    year = int(match["y"])
    month = int(match["m"] or match["cm"])
    day = int(match["d"] or match["cd"])
    if match["H"] is None:
        return datetime(year, month, day, tzinfo=tz)
    hour, minute = int(match["H"]), int(match["M"])
    second = int(match["S"] or 0)
    micro = int((match["f"] or "0")[:6].ljust(6, "0"))
    meridiem = (match["ampm"] or match["ampm2"] or "").lower()
    if meridiem:
        if not 1 <= hour <= 12:
            raise ValueError("hour out of range for a 12-hour clock")
        if meridiem in ("下午", "pm"):
            hour = hour % 12 + 12
        else:
            hour %= 12
    zone = match["tz"]
    if not zone:
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
    offset = timedelta(0)
    if zone.lower() != "z":
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
        if zone[0] == "-":
            offset = -offset
    moment = datetime(year, month, day, hour, minute, second, micro, tzinfo=timezone(offset))
    return moment.astimezone(tz)
