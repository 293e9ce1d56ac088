"""calls.providers.asterisk: one Asterisk CDR row (a CSV or spreadsheet export) to one
CallReport."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from calls.providers import report_from_row
from calls.report import Direction, Disposition, HungUpBy, PayloadError, Phase

# 17:30 in Shanghai is 09:30 UTC.
T0 = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)


def row(**overrides: object) -> dict:
    """An inbound call from a mobile to extension 8001, as Master.csv has it."""
    values = {
        "accountcode": "",
        "src": "13812345678",
        "dst": "8001",
        "dcontext": "from-trunk",
        "clid": '"13812345678" <13812345678>',
        "channel": "SIP/trunk-0000001a",
        "dstchannel": "SIP/8001-0000001b",
        "lastapp": "Dial",
        "lastdata": "SIP/8001,30",
        "start": "2026-03-10 17:30:00",
        "answer": "2026-03-10 17:30:09",
        "end": "2026-03-10 17:32:09",
        "duration": "129",
        "billsec": "120",
        "disposition": "ANSWERED",
        "amaflags": "DOCUMENTATION",
        "uniqueid": "1773135000.26",
        "did": "02161234567",
    }
    values.update(overrides)
    return values


def test_inbound_answered():
    report = report_from_row(row())
    assert (report.provider, report.call_id, report.phase) == (
        "asterisk",
        "1773135000.26",
        Phase.ENDED,
    )
    assert report.direction == Direction.INBOUND
    assert (report.customer_number, report.line_number, report.seat) == (
        "13812345678",
        "02161234567",
        "8001",
    )
    assert (report.rang_at, report.answered_at, report.ended_at) == (
        T0,
        T0 + timedelta(seconds=9),
        T0 + timedelta(seconds=129),
    )
    assert (report.wait_seconds, report.talk_seconds) == (9, 120)
    assert (report.disposition, report.status, report.hung_up_by) == (
        Disposition.ANSWERED,
        "ANSWERED",
        HungUpBy.UNKNOWN,
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("NO ANSWER", Disposition.MISSED_RINGING),
        ("BUSY", Disposition.MISSED_RINGING),
        ("FAILED", Disposition.FAILED),
        ("CONGESTION", Disposition.FAILED),
        ("VOICEMAIL", Disposition.OTHER),
        # Chinese exports write the outcome in words; the status is kept as written.
        ("未接听", Disposition.MISSED_RINGING),
        ("忙", Disposition.MISSED_RINGING),
        ("失败", Disposition.FAILED),
    ],
)
def test_inbound_not_answered(status, expected):
    report = report_from_row(row(disposition=status, answer="", billsec="0", duration="30"))
    assert (report.disposition, report.status) == (expected, status)
    assert (report.answered_at, report.wait_seconds, report.talk_seconds) == (None, 30, 0)


def test_outbound_from_an_extension_and_spreadsheet_cells():
    report = report_from_row(
        row(
            src="8001",
            dst="13812345678",
            channel="PJSIP/8001-00000003",
            dstchannel="PJSIP/trunk-00000004",
            did="",
            disposition="busy",
            start=datetime(2026, 3, 10, 17, 30),  # a spreadsheet cell: naive, local time
            answer=None,
            end=datetime(2026, 3, 10, 17, 30, 20),
            duration=20,
            billsec=0,
        )
    )
    assert report.direction == Direction.OUTBOUND
    assert (report.customer_number, report.seat) == ("13812345678", "8001")
    assert (report.disposition, report.rang_at, report.wait_seconds) == (Disposition.BUSY, T0, 20)


def test_direction_column_and_accountcode_win():
    report = report_from_row(row(direction="outbound", accountcode="wang.li", src="02161234567"))
    assert report.direction == Direction.OUTBOUND
    assert report.seat == "wang.li"
    assert report.customer_number == "8001"  # the dst, as the row says


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"uniqueid": ""}, "uniqueid"),
        ({"disposition": None}, "disposition"),
        ({"start": "tuesday"}, "start"),
        ({"billsec": "-4"}, "billsec"),
        ({"duration": "10", "billsec": "120"}, "billsec"),
        ({"direction": "sideways"}, "direction"),
    ],
)
def test_malformed_row_names_its_column(overrides, field):
    with pytest.raises(PayloadError) as caught:
        report_from_row(row(**overrides))
    assert caught.value.field == field
