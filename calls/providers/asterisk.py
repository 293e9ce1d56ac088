"""Asterisk-style CDR rows (Master.csv, a FreePBX / Issabel export, or the same columns in a
spreadsheet), one row to one CallReport, for importing call history.

Columns (any case): uniqueid (the call), src, dst, start, answer, end ('YYYY-MM-DD HH:MM:SS'
in the phone system's time zone, or datetimes from a spreadsheet), duration (seconds from
start to end), billsec (seconds from answer to end: the talk), disposition (ANSWERED,
NO ANSWER, BUSY, FAILED, CONGESTION; or in Chinese: 已接听, 未接听, 忙, 失败 …), channel /
dstchannel (SIP/8001-0000002a: the extension is the seat), accountcode (the seat when set),
did (the number dialled in), and optionally direction (inbound / outbound).

Asterisk does not record a direction. Without a `direction` column, a call from a short
number (an extension, ≤ `extension_digits` digits) to a long one is outbound; anything else
is inbound."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import tzinfo

from django.utils.translation import gettext as _

from calls.providers.base import CHINA, Fields, check_seconds
from calls.report import CallReport, Direction, Disposition, PayloadError, Phase

NAME = "asterisk"
D = Disposition
INBOUND: dict[str, Disposition] = {
    "ANSWERED": D.ANSWERED,
    "NO ANSWER": D.MISSED_RINGING,
    "BUSY": D.MISSED_RINGING,  # the extension was busy: the caller reached no one
    "FAILED": D.FAILED,
    "CONGESTION": D.FAILED,
}
OUTBOUND: dict[str, Disposition] = {
    "ANSWERED": D.ANSWERED,
    "NO ANSWER": D.NO_ANSWER,
    "BUSY": D.BUSY,
    "FAILED": D.FAILED,
    "CONGESTION": D.FAILED,
}
# Chinese PBX and call-center exports write the outcome in words: read as Asterisk's codes.
DISPOSITION_ALIASES: dict[str, str] = {
    "已接听": "ANSWERED",
    "接听": "ANSWERED",
    "已接通": "ANSWERED",
    "接通": "ANSWERED",
    "未接听": "NO ANSWER",
    "未接通": "NO ANSWER",
    "无人接听": "NO ANSWER",
    "忙": "BUSY",
    "占线": "BUSY",
    "失败": "FAILED",
    "呼叫失败": "FAILED",
}
CHANNEL = re.compile(r"^[A-Za-z0-9]+/([^-@/]+)")


def _extension(channel: str) -> str:
    match = CHANNEL.match(channel)
    return match.group(1) if match else ""


def _direction(fields: Fields, src: str, dst: str, extension_digits: int) -> Direction:
    stated = fields.text("direction", max_length=16).lower()
    if stated in ("inbound", "in", "呼入"):
        return Direction.INBOUND
    if stated in ("outbound", "out", "呼出"):
        return Direction.OUTBOUND
    if stated:
        raise PayloadError(_("direction must be inbound or outbound."), field="direction")
    src_digits, dst_digits = src.lstrip("+"), dst.lstrip("+")
    if (
        src_digits.isdigit()
        and len(src_digits) <= extension_digits
        and dst_digits.isdigit()
        and len(dst_digits) > extension_digits
    ):
        return Direction.OUTBOUND
    return Direction.INBOUND


def report_from_row(
    row: Mapping[str, object],
    *,
    provider: str = NAME,
    tz: tzinfo = CHINA,
    extension_digits: int = 6,
) -> CallReport:
    """One CDR row as the call's final report; a fault raises PayloadError naming the column."""
    fields = Fields({str(k).strip(): v for k, v in row.items() if k is not None})
    call_id = fields.text("uniqueid", required=True, max_length=128)
    src = fields.text("src", max_length=64)
    dst = fields.text("dst", max_length=64)
    direction = _direction(fields, src, dst, extension_digits)
    started = fields.time("start", tz=tz)
    answered = fields.time("answer", tz=tz)
    ended = fields.time("end", tz=tz)
    duration = fields.seconds("duration")
    billsec = fields.seconds("billsec")
    status = fields.text("disposition", required=True, max_length=32).upper()
    table = INBOUND if direction == Direction.INBOUND else OUTBOUND
    disposition = table.get(DISPOSITION_ALIASES.get(status, status), D.OTHER)
    if disposition != D.ANSWERED:
        answered = None
    talk = billsec if billsec is not None else 0
    if disposition != D.ANSWERED:
        talk = 0
    wait = None
    if duration is not None:
        wait = check_seconds(duration - talk, "billsec")
    elif started and (answered or ended):
        wait = check_seconds(int(((answered or ended) - started).total_seconds()), "start")
    seat = fields.text("accountcode", max_length=64)
    if direction == Direction.INBOUND:
        customer = src
        line = fields.text("did", max_length=64) or dst
        seat = seat or _extension(fields.text("dstchannel", max_length=256))
    else:
        customer = dst
        line = fields.text("did", "outbound_cnum", max_length=64)
        seat = seat or _extension(fields.text("channel", max_length=256)) or src
    return CallReport(
        provider=provider,
        call_id=call_id,
        phase=Phase.ENDED,
        direction=direction,
        line_number=line,
        customer_number=customer,
        seat=seat,
        rang_at=started,
        answered_at=answered,
        ended_at=ended,
        wait_seconds=wait,
        talk_seconds=talk,
        disposition=disposition,
        status=status,
        raw=dict(fields.data),
    )
