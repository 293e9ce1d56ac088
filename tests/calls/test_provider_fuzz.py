"""Whatever arrives at a push URL, an adapter answers with reports or a PayloadError, never
with another exception (which would be a 500 and a vendor retrying forever)."""

from __future__ import annotations

import json
import urllib.parse
from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calls.providers import PROVIDERS, report_from_row
from calls.report import CallReport, PayloadError

# The names the adapters read, so that random objects reach past the first missing field.
FIELDS = [
    # Tencent
    "SessionId", "Direction", "Caller", "Callee", "StartTimestamp", "AcceptTimestamp",
    "EndedTimestamp", "Duration", "EndStatus", "EndStatusString", "HungUpSide", "SeatUser",
    "UserId", "StaffNumber", "Uui", "RecordURL", "CustomRecordURL", "RecordId", "EndpointUser",
    # Aliyun
    "ContactId", "ContactType", "ContactDisposition", "ReleaseInitiator", "CallingNumber",
    "CalledNumber", "StartTime", "EstablishedTime", "ReleaseTime", "AgentIds", "CallDuration",
    "eventType", "eventTime", "callType", "agentId", "Tags", "recordingUrl",
    # Clink
    "mainUniqueId", "uniqueId", "cdrType", "cno", "customerNumber", "hotline", "startTime",
    "answerTime", "bridgeTime", "endTime", "bridgeDuration", "status", "qno", "recordFile",
    "requestUniqueId", "userField", "type",
    # DCC JSON
    "call_id", "phase", "direction", "rang_at", "answered_at", "ended_at", "wait_seconds",
    "talk_seconds", "disposition", "hung_up_by", "recording_urls", "reference",
]  # fmt: skip
CHOICES = [
    "0", "1", "2", "3", "33", "103", "ok", "INBOUND", "OUTBOUND", "INTERNAL", "Success",
    "NoAnswer", "Ringing", "Established", "RecordingReady", "cdr_ib", "cdr_ob_agent",
    "ringing", "ended", "recording", "inbound", "outbound", "answered", "customer", "seat",
    "2026-03-10T09:30:00Z", "2026-03-10 17:30:00", "1773135000", "1773135000000", "-1",
    "https://a.example/r.mp3", '{"dcc_ref": "x"}', "",
]  # fmt: skip

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | st.sampled_from(CHOICES)
    | st.integers(min_value=1_700_000_000, max_value=1_800_000_000)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
pushes = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=14)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def reads_or_refuses(name: str, body: bytes, content_type: str) -> None:
    try:
        reports = PROVIDERS[name].parse(body, content_type)
    except PayloadError as error:
        assert isinstance(error.message, str)
        return
    assert isinstance(reports, list)
    assert all(isinstance(report, CallReport) for report in reports)


@FUZZ
@given(
    name=st.sampled_from(sorted(PROVIDERS)),
    body=st.binary(max_size=300),
    content_type=st.sampled_from(["application/json", "application/x-www-form-urlencoded", ""]),
)
def test_random_bytes(name, body, content_type):
    reads_or_refuses(name, body, content_type)


@FUZZ
@given(name=st.sampled_from(sorted(PROVIDERS)), value=json_values)
def test_random_json(name, value):
    reads_or_refuses(name, json.dumps(value).encode(), "application/json")


@FUZZ
@given(
    name=st.sampled_from(sorted(PROVIDERS)),
    push=pushes,
    batch=st.booleans(),
    as_form=st.booleans(),
)
def test_random_pushes_with_the_vendors_field_names(name, push, batch, as_form):
    if as_form:
        flat = {k: v if isinstance(v, str) else json.dumps(v) for k, v in push.items()}
        reads_or_refuses(
            name, urllib.parse.urlencode(flat).encode(), "application/x-www-form-urlencoded"
        )
    else:
        payload = [push, push] if batch else push
        reads_or_refuses(name, json.dumps(payload).encode(), "application/json")


# A valid push per provider, mutated: a few fields replaced by random values or dropped, so
# that the fuzz reaches the mapping and the time arithmetic, not only the first missing id.
T = 1773135000
VALID = {
    "tccc": {
        "SessionId": "s-1", "Direction": 0, "Caller": "008613812345678",
        "Callee": "008602161234567", "StartTimestamp": T, "AcceptTimestamp": T + 10,
        "EndedTimestamp": T + 100, "Duration": 90, "EndStatus": 1, "EndStatusString": "ok",
        "HungUpSide": "user", "SeatUser": {"UserId": "a@b.c"}, "Uui": "r",
        "RecordURL": "https://a.myqcloud.com/r.mp3",
    },
    "aliyun": {
        "ContactId": "job-1", "ContactType": "INBOUND", "CallingNumber": "13812345678",
        "CalledNumber": "02161234567", "StartTime": T * 1000, "EstablishedTime": T * 1000 + 9000,
        "ReleaseTime": T * 1000 + 99000, "ContactDisposition": "Success",
        "ReleaseInitiator": "customer", "AgentIds": "agent1@ccc", "Tags": "r",
    },
    "clink": {
        "mainUniqueId": "m-1", "cdrType": "cdr_ib", "customerNumber": "13812345678",
        "hotline": "4008001234", "cno": "8001", "startTime": T, "bridgeTime": T + 10,
        "endTime": T + 100, "bridgeDuration": 90, "status": 1, "qno": "1",
        "recordFile": "https://r.clink.cn/a.mp3", "userField": '{"dcc_ref": "r"}',
    },
    "generic": {
        "call_id": "g-1", "phase": "ended", "direction": "inbound", "seat": "8001",
        "rang_at": "2026-03-10T17:30:00+08:00", "answered_at": "2026-03-10T17:30:12+08:00",
        "ended_at": "2026-03-10T17:33:12+08:00", "disposition": "answered",
        "hung_up_by": "customer", "recording_urls": ["https://x.example/a.mp3"],
    },
}  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, dict]:
    name = draw(st.sampled_from(sorted(VALID)))
    push = dict(VALID[name])
    keys = sorted(push)
    for key in draw(st.lists(st.sampled_from(keys), max_size=3, unique=True)):
        if draw(st.booleans()):
            del push[key]
        else:
            push[key] = draw(json_values)
    return name, push


def test_the_valid_pushes_are_valid():
    for name, push in VALID.items():
        (report,) = PROVIDERS[name].parse(json.dumps(push).encode(), "application/json")
        assert report.talk_seconds == 90 if name != "generic" else 180


@FUZZ
@given(case=mutated())
def test_mutated_valid_pushes(case):
    name, push = case
    reads_or_refuses(name, json.dumps(push).encode(), "application/json")


ROW_FIELDS = [
    "uniqueid", "src", "dst", "start", "answer", "end", "duration", "billsec", "disposition",
    "dstchannel", "channel", "accountcode", "did", "direction",
]  # fmt: skip
cells = (
    st.none()
    | st.text(max_size=25)
    | st.integers(min_value=-(10**6), max_value=10**12)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2110, 1, 1))
    | st.sampled_from(["ANSWERED", "NO ANSWER", "BUSY", "SIP/8001-00000001", "2026-03-10 17:30:00"])
)


@FUZZ
@given(row=st.dictionaries(st.sampled_from(ROW_FIELDS), cells, max_size=14))
def test_random_cdr_rows(row):
    try:
        report = report_from_row(row)
    except PayloadError:
        return
    assert isinstance(report, CallReport)
    assert report.rang_at is None or report.rang_at.tzinfo is not None
    assert report.wait_seconds is None or report.wait_seconds >= 0


def test_the_fuzz_reaches_reports():
    """The strategies are not only noise: a plausible push goes all the way through."""
    push = {"call_id": "x", "phase": "ringing", "direction": "inbound"}
    reads_or_refuses("generic", json.dumps(push).encode(), "application/json")
    assert PROVIDERS["generic"].parse(json.dumps(push).encode(), "")[0].call_id == "x"
