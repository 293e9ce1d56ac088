"""calls.providers: each vendor's pushes, written from its documentation, read into the
CallReports a dealer's call ledger is built from; push authentication and answers."""

from __future__ import annotations

import base64
import json
import urllib.parse
from datetime import UTC, datetime, timedelta

import pytest

from calls.providers import PROVIDERS, BadCredentials, aliyun, clink, generic, tccc
from calls.report import CallReport, Direction, Disposition, HungUpBy, PayloadError, Phase

# Every time is explicit: a Tuesday morning in Shanghai, whatever the clock says.
T0 = datetime(2026, 3, 10, 9, 30, 0, tzinfo=UTC)
S0 = int(T0.timestamp())
MS0 = S0 * 1000
REC = "https://ccc-record-1400000000.cos.ap-guangzhou.myqcloud.com/2026/03/10/e97be0ab.mp3"


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def body(payload: object) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode()


def one(reports: list[CallReport]) -> CallReport:
    assert len(reports) == 1, reports
    return reports[0]


def refused(field: str, call, *args) -> PayloadError:
    with pytest.raises(PayloadError) as caught:
        call(*args)
    assert caught.value.field == field, (caught.value.field, caught.value.message)
    return caught.value


# ---------------------------------------------------------------------------------------------
# Tencent Cloud Contact Center


def tccc_cdr(**overrides: object) -> dict:
    """An inbound call answered by a seat, as 电话 CDR 数据推送 documents it."""
    cdr = {
        "SdkAppId": 1400000000,
        "SessionId": "e97be0ab-1ef6-4ad2-a8c4-2b2bbfb18e55",
        "Direction": 0,
        "CallType": 2,
        "Caller": "008613812345678",
        "Callee": "008602161234567",
        "StartTimestamp": S0,
        "QueuedTimestamp": S0 + 8,
        "RingTimestamp": S0 + 9,
        "AcceptTimestamp": S0 + 15,
        "EndedTimestamp": S0 + 195,
        "Duration": 180,
        "IVRDuration": 8,
        "EndStatus": 1,
        "EndStatusString": "ok",
        "HungUpSide": "user",
        "QueuedSkillGroupId": 1072,
        "QueuedSkillGroupName": "展厅销售",
        "SeatUser": {
            "Mail": "wang.li@dealer.example",
            "Name": "王丽",
            "Nick": "小王",
            "Phone": "",
            "UserId": "wang.li@dealer.example",
            "StaffNumber": "007",
            "SkillGroupNameList": ["展厅销售"],
        },
        "ServeParticipants": [
            {
                "Mail": "wang.li@dealer.example",
                "RecordId": "1608130636",
                "StartTimestamp": S0 + 8,
                "RingTimestamp": S0 + 9,
                "AcceptTimestamp": S0 + 15,
                "EndedTimestamp": S0 + 195,
                "Type": "staffSeat",
            }
        ],
        "IVRKeyPressed": ["1"],
        "RecordURL": REC,
        "Uui": "",
    }
    cdr.update(overrides)
    return {k: v for k, v in cdr.items() if v is not None}


def test_tccc_inbound_answered():
    report = one(tccc.parse(body(tccc_cdr()), "application/json;charset=utf8"))
    assert report.provider == "tccc"
    assert report.call_id == "e97be0ab-1ef6-4ad2-a8c4-2b2bbfb18e55"
    assert report.phase == Phase.ENDED
    assert report.direction == Direction.INBOUND
    assert (report.customer_number, report.line_number) == ("008613812345678", "008602161234567")
    assert report.seat == "wang.li@dealer.example"
    assert (report.rang_at, report.answered_at, report.ended_at) == (at(0), at(15), at(195))
    assert (report.wait_seconds, report.talk_seconds) == (15, 180)
    assert report.disposition == Disposition.ANSWERED
    assert report.status == "1"
    assert report.hung_up_by == HungUpBy.CUSTOMER
    assert report.recording_urls == (REC,)
    assert report.raw["QueuedSkillGroupName"] == "展厅销售"


@pytest.mark.parametrize(
    ("code", "label", "expected"),
    [
        (103, "waitingGiveUp", Disposition.MISSED_IN_QUEUE),
        (104, "ringingGiveUp", Disposition.MISSED_RINGING),
        (17, "seatGiveUp", Disposition.MISSED_RINGING),
        (102, "ivrGiveUp", Disposition.ABANDONED_IVR),
        (105, "noSeatOnline", Disposition.NO_AGENT),
        (106, "notWorkTime", Disposition.OUT_OF_HOURS),
        (100, "blackList", Disposition.REJECTED),
        (2, "unconnected", Disposition.MISSED_RINGING),
    ],
)
def test_tccc_inbound_missed(code, label, expected):
    push = tccc_cdr(
        EndStatus=code, EndStatusString=label, AcceptTimestamp=0, Duration=0, SeatUser=None
    )
    report = one(tccc.parse(body(push), "application/json"))
    assert report.disposition == expected
    assert report.answered_at is None
    assert (report.wait_seconds, report.talk_seconds) == (195, 0)
    assert report.seat == ""


def test_tccc_older_pushes_say_only_the_status_string():
    push = tccc_cdr(EndStatus=None, EndStatusString="noSeatOnline", AcceptTimestamp=0)
    report = one(tccc.parse(body(push), "application/json"))
    assert (report.disposition, report.status) == (Disposition.NO_AGENT, "noSeatOnline")


def test_tccc_outbound_click_to_call_answered():
    push = tccc_cdr(
        Direction=1,
        CallType=1,
        Caller="008602161234567",
        Callee="008613812345678",
        RingTimestamp=S0 + 3,
        AcceptTimestamp=S0 + 10,
        EndedTimestamp=S0 + 70,
        HungUpSide="seat",
        Uui="dcc:call:9f2c",
    )
    report = one(tccc.parse(body(push), "application/json"))
    assert report.direction == Direction.OUTBOUND
    assert (report.customer_number, report.line_number) == ("008613812345678", "008602161234567")
    assert (report.wait_seconds, report.talk_seconds) == (10, 60)
    assert report.hung_up_by == HungUpBy.AGENT
    assert report.reference == "dcc:call:9f2c"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (202, Disposition.NO_ANSWER),
        (203, Disposition.REJECTED),
        (206, Disposition.BUSY),
        (205, Disposition.FAILED),
        (2, Disposition.NO_ANSWER),
    ],
)
def test_tccc_outbound_not_reached(code, expected):
    push = tccc_cdr(Direction=1, EndStatus=code, EndStatusString="", AcceptTimestamp=0)
    report = one(tccc.parse(body(push), "application/json"))
    assert report.disposition == expected
    assert report.answered_at is None


def test_tccc_unknown_status_is_other_and_kept():
    report = one(tccc.parse(body(tccc_cdr(EndStatus=999, EndStatusString="")), ""))
    assert (report.disposition, report.status) == (Disposition.OTHER, "999")


def test_tccc_recording_push():
    push = {
        "SdkAppId": 1400000000,
        "RecordId": "1608130650",
        "SessionId": "e97be0ab-1ef6-4ad2-a8c4-2b2bbfb18e55",
        "Timestamp": S0 + 200,
        "EndpointUser": "008613812345678",
        "RecordURL": REC,
        "CustomRecordURL": "https://dealer-archive-125000.cos.ap-shanghai.myqcloud.com/r.mp3",
    }
    report = one(tccc.parse(body(push), "application/json"))
    assert report.phase == Phase.RECORDING
    assert report.call_id == "e97be0ab-1ef6-4ad2-a8c4-2b2bbfb18e55"
    assert report.recording_urls == (push["CustomRecordURL"], REC)
    assert report.disposition is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"SessionId": None}, "SessionId"),
        ({"Direction": 5}, "Direction"),
        ({"AcceptTimestamp": S0 - 60}, "AcceptTimestamp"),
        ({"EndedTimestamp": S0 + 10}, "EndedTimestamp"),
        ({"StartTimestamp": "yesterday"}, "StartTimestamp"),
        ({"StartTimestamp": -5}, "StartTimestamp"),
        ({"Uui": "x" * 5000}, "Uui"),
        ({"SeatUser": ["not", "an", "object"]}, "SeatUser"),
        ({"Caller": {"number": 1}}, "Caller"),
    ],
)
def test_tccc_malformed_push_names_its_field(overrides, field):
    refused(field, tccc.parse, body(tccc_cdr(**overrides)), "application/json")


def test_not_json_is_refused_on_the_body():
    refused("body", tccc.parse, b"{not json", "application/json")
    refused("body", aliyun.parse, b"\xff\xfe", "application/json")
    refused("body", generic.parse, b"NaN", "application/json")


# ---------------------------------------------------------------------------------------------
# Alibaba Cloud Contact Center


def aliyun_cdr(**overrides: object) -> dict:
    """An inbound call answered by a seat, with the fields of GetCallDetailRecord."""
    cdr = {
        "InstanceId": "ccc-dealer",
        "ContactId": "job-109634426711800001",
        "ContactType": "INBOUND",
        "CallingNumber": "13812345678",
        "CalledNumber": "02161234567",
        "StartTime": MS0,
        "EstablishedTime": MS0 + 20_000,
        "ReleaseTime": MS0 + 260_000,
        "CallDuration": 240,
        "ContactDisposition": "Success",
        "ReleaseInitiator": "customer",
        "AgentIds": "agent1@ccc-dealer",
        "AgentNames": "王丽",
        "SkillGroupIds": "sales@ccc-dealer",
        "RecordingReady": True,
        "SatisfactionSurveyOffered": False,
    }
    cdr.update(overrides)
    return {k: v for k, v in cdr.items() if v is not None}


def test_aliyun_inbound_answered():
    report = one(aliyun.parse(body(aliyun_cdr()), "application/json"))
    assert report.provider == "aliyun"
    assert (report.call_id, report.phase) == ("job-109634426711800001", Phase.ENDED)
    assert report.direction == Direction.INBOUND
    assert (report.customer_number, report.line_number) == ("13812345678", "02161234567")
    assert report.seat == "agent1@ccc-dealer"
    assert (report.rang_at, report.answered_at, report.ended_at) == (at(0), at(20), at(260))
    assert (report.wait_seconds, report.talk_seconds) == (20, 240)
    assert (report.disposition, report.status) == (Disposition.ANSWERED, "Success")
    assert report.hung_up_by == HungUpBy.CUSTOMER


def test_aliyun_batch_of_missed_calls_lowercase_fields():
    missed = [
        {
            "contactId": "job-1",
            "contactType": "INBOUND",
            "callingNumber": "13812345678",
            "calledNumber": "02161234567",
            "startTime": MS0,
            "releaseTime": MS0 + 45_000,
            "contactDisposition": "AbandonedInQueue",
            "releaseInitiator": "customer",
        },
        aliyun_cdr(
            ContactId="job-2",
            EstablishedTime=None,
            ContactDisposition="NoAnswer",
            AgentIds="agent1@ccc-dealer,agent2@ccc-dealer",
        ),
        aliyun_cdr(ContactId="job-3", EstablishedTime=None, ContactDisposition="QueuingFailed"),
    ]
    first, second, third = aliyun.parse(body(missed), "application/json")
    assert (first.call_id, first.disposition) == ("job-1", Disposition.MISSED_IN_QUEUE)
    assert (first.wait_seconds, first.talk_seconds, first.answered_at) == (45, 0, None)
    assert (second.disposition, second.seat) == (Disposition.MISSED_RINGING, "agent2@ccc-dealer")
    assert third.disposition == Disposition.NO_AGENT


def test_aliyun_outbound_make_call():
    push = aliyun_cdr(
        ContactType="OUTBOUND",
        CallingNumber="02161234567",
        CalledNumber="13812345678",
        ReleaseInitiator="agent",
        Tags="dcc:call:77",
    )
    report = one(aliyun.parse(body(push), "application/json"))
    assert report.direction == Direction.OUTBOUND
    assert (report.customer_number, report.line_number) == ("13812345678", "02161234567")
    assert (report.hung_up_by, report.reference) == (HungUpBy.AGENT, "dcc:call:77")
    unanswered = aliyun_cdr(
        ContactType="OUTBOUND", EstablishedTime=None, ContactDisposition="NoAnswer"
    )
    assert one(aliyun.parse(body(unanswered), "")).disposition == Disposition.NO_ANSWER
    rejected = aliyun_cdr(
        ContactType="BACK2BACK", EstablishedTime=None, ContactDisposition="Reject"
    )
    assert one(aliyun.parse(body(rejected), "")).disposition == Disposition.REJECTED


def test_aliyun_events_ring_and_answer_the_seat():
    ringing = {
        "agentId": "agent1@ccc-dealer",
        "callType": "INBOUND",
        "caller": "13812345678",
        "callee": "02161234567",
        "channelId": "ch-user-13812345678-02161234567-1772619731285-job-1",
        "contactId": "job-1",
        "eventTime": "2026-03-10T09:30:05.309Z",
        "eventType": "Ringing",
        "instanceId": "ccc-dealer",
        "mediaType": "AUDIO",
    }
    report = one(aliyun.parse(body(ringing), "application/json"))
    assert (report.phase, report.direction, report.seat) == (
        Phase.RINGING,
        Direction.INBOUND,
        "agent1@ccc-dealer",
    )
    assert report.customer_number == "13812345678"
    assert report.rang_at == at(5) + timedelta(microseconds=309000)
    answered = one(aliyun.parse(body(ringing | {"eventType": "Established"}), ""))
    assert (answered.phase, answered.answered_at) == (Phase.ANSWERED, report.rang_at)


def test_aliyun_recording_internal_and_other_events():
    recording = {"contactId": "job-1", "eventType": "RecordingReady", "recordingUrl": REC}
    assert one(aliyun.parse(body(recording), "")).recording_urls == (REC,)
    internal = aliyun_cdr(ContactType="INTERNAL")
    assert aliyun.parse(body(internal), "application/json") == []
    tracking = {"contactId": "job-1", "eventType": "IvrTracking", "eventTime": MS0}
    assert aliyun.parse(body(tracking), "application/json") == []


def test_aliyun_unknown_disposition_is_other_and_kept():
    report = one(aliyun.parse(body(aliyun_cdr(ContactDisposition="AbandonedOnTheMoon")), ""))
    assert (report.disposition, report.status) == (Disposition.OTHER, "AbandonedOnTheMoon")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"ContactId": None}, "ContactId"),
        ({"ContactType": None}, "ContactType"),
        ({"EstablishedTime": "soon"}, "EstablishedTime"),
        ({"ReleaseTime": MS0 + 1000}, "ReleaseTime"),
        ({"CallDuration": -1, "ReleaseTime": None}, "CallDuration"),
    ],
)
def test_aliyun_malformed_push_names_its_field(overrides, field):
    refused(field, aliyun.parse, body(aliyun_cdr(**overrides)), "application/json")


# ---------------------------------------------------------------------------------------------
# Tinet Clink


def clink_cdr(**overrides: object) -> dict:
    """An inbound call a seat answered, under the names of Clink's CDR (cdr_ib)."""
    cdr = {
        "cdrType": "cdr_ib",
        "mainUniqueId": "medias_1-1773135000.123",
        "uniqueId": "medias_1-1773135000.123",
        "enterpriseId": "7000001",
        "callType": "1",
        "customerNumber": "13812345678",
        "customerProvince": "上海",
        "hotline": "4008001234",
        "numberTrunk": "02161234567",
        "qno": "0001",
        "cno": "8001",
        "clientName": "王丽",
        "startTime": str(S0),
        "answerTime": str(S0 + 1),
        "bridgeTime": str(S0 + 18),
        "endTime": str(S0 + 138),
        "bridgeDuration": "120",
        "totalDuration": "138",
        "status": "1",
        "recordFile": "https://record.clink.cn/7000001/20260310/medias_1-1773135000.123.mp3",
    }
    cdr.update(overrides)
    return {k: v for k, v in cdr.items() if v is not None}


def form(payload: dict) -> bytes:
    return urllib.parse.urlencode(payload).encode()


def test_clink_inbound_answered_form_push():
    report = one(clink.parse(form(clink_cdr()), "application/x-www-form-urlencoded"))
    assert (report.provider, report.call_id) == ("clink", "medias_1-1773135000.123")
    assert (report.phase, report.direction) == (Phase.ENDED, Direction.INBOUND)
    assert (report.customer_number, report.line_number, report.seat) == (
        "13812345678",
        "4008001234",
        "8001",
    )
    assert (report.rang_at, report.answered_at, report.ended_at) == (at(0), at(18), at(138))
    assert (report.wait_seconds, report.talk_seconds) == (18, 120)
    assert (report.disposition, report.status) == (Disposition.ANSWERED, "1")
    assert report.recording_urls == (clink_cdr()["recordFile"],)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"status": "2"}, Disposition.MISSED_RINGING),
        ({"status": "3"}, Disposition.MISSED_IN_QUEUE),
        ({"status": "3", "qno": None}, Disposition.ABANDONED_IVR),
        ({"status": "12", "qno": None, "answerTime": None}, Disposition.ABANDONED_IVR),
        ({"status": "7"}, Disposition.REJECTED),
        ({"status": "77"}, Disposition.OTHER),
    ],
)
def test_clink_inbound_missed(overrides, expected):
    push = clink_cdr(bridgeTime=None, bridgeDuration="0", recordFile=None, **overrides)
    report = one(clink.parse(form(push), "application/x-www-form-urlencoded"))
    assert report.disposition == expected
    assert report.status == push["status"]
    assert (report.answered_at, report.wait_seconds, report.talk_seconds) == (None, 138, 0)


def test_clink_outbound_callout_json_push_carries_our_reference():
    push = clink_cdr(
        cdrType="cdr_ob_agent",
        callType="4",
        hotline=None,
        numberTrunk=None,
        clid="02161234567",
        status="33",
        requestUniqueId="dcc-call-31",
        userField=json.dumps({"dcc_ref": "dcc:call:31"}),
    )
    report = one(clink.parse(body(push), "application/json"))
    assert report.direction == Direction.OUTBOUND
    assert (report.line_number, report.reference) == ("02161234567", "dcc:call:31")
    assert report.disposition == Disposition.ANSWERED
    missed = one(clink.parse(body(push | {"status": "32", "bridgeTime": ""}), "application/json"))
    assert (missed.disposition, missed.answered_at) == (Disposition.NO_ANSWER, None)
    bare = {k: v for k, v in push.items() if k != "userField"}
    assert one(clink.parse(body(bare), "application/json")).reference == "dcc-call-31"


def test_clink_ringing_push_pops_the_screen():
    push = {
        "type": "ringing",
        "mainUniqueId": "medias_1-1773135000.123",
        "cno": "8001",
        "customerNumber": "13812345678",
        "hotline": "4008001234",
        "startTime": str(S0),
    }
    report = one(clink.parse(form(push), "application/x-www-form-urlencoded"))
    assert (report.phase, report.direction, report.seat) == (
        Phase.RINGING,
        Direction.INBOUND,
        "8001",
    )
    assert (report.rang_at, report.disposition) == (at(0), None)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"mainUniqueId": None, "uniqueId": None}, "mainUniqueId"),
        ({"startTime": "-5"}, "startTime"),
        ({"bridgeDuration": "-3"}, "bridgeDuration"),
        ({"endTime": str(S0 + 10)}, "endTime"),
        ({"bridgeTime": str(S0 - 1)}, "bridgeTime"),
        ({"status": None, "endTime": None}, "status"),
    ],
)
def test_clink_malformed_push_names_its_field(overrides, field):
    refused(field, clink.parse, form(clink_cdr(**overrides)), "application/x-www-form-urlencoded")


# ---------------------------------------------------------------------------------------------
# DCC's own JSON


def generic_call(**overrides: object) -> dict:
    call = {
        "call_id": "pbx-20260310-0042",
        "phase": "ended",
        "direction": "inbound",
        "line_number": "02161234567",
        "customer_number": "13812345678",
        "seat": "8001",
        "rang_at": "2026-03-10T17:30:00+08:00",
        "answered_at": "2026-03-10T17:30:12+08:00",
        "ended_at": "2026-03-10T17:33:12+08:00",
        "disposition": "answered",
        "status": "ANSWER",
        "hung_up_by": "customer",
        "recording_urls": ["https://pbx.dealer.example/rec/0042.mp3"],
        "reference": "",
    }
    call.update(overrides)
    return {k: v for k, v in call.items() if v is not None}


def test_generic_is_call_report_in_json():
    report = one(generic.parse(body(generic_call()), "application/json"))
    assert report == CallReport(
        provider="generic",
        call_id="pbx-20260310-0042",
        phase=Phase.ENDED,
        direction=Direction.INBOUND,
        line_number="02161234567",
        customer_number="13812345678",
        seat="8001",
        rang_at=at(0),
        answered_at=at(12),
        ended_at=at(192),
        wait_seconds=12,
        talk_seconds=180,
        disposition=Disposition.ANSWERED,
        status="ANSWER",
        hung_up_by=HungUpBy.CUSTOMER,
        recording_urls=("https://pbx.dealer.example/rec/0042.mp3",),
    )


def test_generic_batch_and_ringing():
    calls = [
        generic_call(phase="ringing", answered_at=None, ended_at=None, disposition=None),
        generic_call(disposition="missed_in_queue", answered_at=None, wait_seconds=30),
    ]
    ringing, missed = generic.parse(body({"calls": calls}), "application/json")
    assert (ringing.phase, ringing.disposition, ringing.talk_seconds) == (Phase.RINGING, None, None)
    assert (missed.disposition, missed.wait_seconds) == (Disposition.MISSED_IN_QUEUE, 30)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"call_id": ""}, "call_id"),
        ({"phase": "hung"}, "phase"),
        ({"direction": None}, "direction"),
        ({"disposition": None}, "disposition"),
        ({"hung_up_by": "dog"}, "hung_up_by"),
        ({"wait_seconds": -1}, "wait_seconds"),
        ({"talk_seconds": 1.5}, "talk_seconds"),
        ({"ended_at": "2026-03-10T17:29:00+08:00"}, "ended_at"),
        ({"recording_urls": ["ftp://x/y"]}, "recording_urls"),
        ({"seat": "8" * 3000}, "seat"),
    ],
)
def test_generic_malformed_names_its_field(overrides, field):
    refused(field, generic.parse, body(generic_call(**overrides)), "application/json")


# ---------------------------------------------------------------------------------------------
# Authentication and answers


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


BASIC = {"push_username": "1400000000", "push_password": "s3cret-push"}


@pytest.mark.parametrize("name", ["tccc", "aliyun", "clink", "generic"])
def test_basic_auth_accepted_and_refused(name):
    authenticate = PROVIDERS[name].authenticate
    authenticate(basic("1400000000", "s3cret-push"), b"{}", {}, BASIC)
    for headers in (basic("1400000000", "wrong"), basic("other", "s3cret-push"), {}):
        with pytest.raises(BadCredentials):
            authenticate(headers, b"{}", {}, BASIC)
    with pytest.raises(BadCredentials):
        authenticate({"Authorization": "Basic !!notbase64"}, b"{}", {}, BASIC)


@pytest.mark.parametrize("name", ["tccc", "aliyun", "clink", "generic"])
def test_token_in_url_or_header(name):
    authenticate = PROVIDERS[name].authenticate
    credentials = {"push_token": "t0k3n-for-dealer"}
    authenticate({}, b"{}", {"token": "t0k3n-for-dealer"}, credentials)
    authenticate({"x-dcc-token": "t0k3n-for-dealer"}, b"{}", {}, credentials)
    authenticate({"Authorization": "Bearer t0k3n-for-dealer"}, b"{}", {}, credentials)
    for query in ({"token": "t0k3n-for-dealer-"}, {"token": ""}, {}):
        with pytest.raises(BadCredentials):
            authenticate({}, b"{}", query, credentials)


@pytest.mark.parametrize("name", ["tccc", "aliyun", "clink", "generic"])
def test_nothing_configured_accepts_nothing(name):
    with pytest.raises(BadCredentials):
        PROVIDERS[name].authenticate({}, b"{}", {}, {})


def test_generic_signature():
    credentials = {"push_secret": "k3y"}
    payload = body(generic_call())
    signed = {"X-DCC-Signature": generic.signature("k3y", payload)}
    generic.authenticate(signed, payload, {}, credentials)
    with pytest.raises(BadCredentials):
        generic.authenticate(signed, payload + b" ", {}, credentials)
    with pytest.raises(BadCredentials):
        generic.authenticate({}, payload, {}, credentials)


@pytest.mark.parametrize(
    ("name", "ok_body", "failed_status"),
    [
        ("tccc", {"ErrCode": 0, "ErrMsg": ""}, 500),
        ("aliyun", {"code": 0, "msg": "ok"}, 503),
        ("clink", {"result": 0, "description": "ok"}, 500),
        ("generic", {"ok": True}, 503),
    ],
)
def test_acknowledge(name, ok_body, failed_status):
    status, content, content_type = PROVIDERS[name].acknowledge(True)
    assert (status, json.loads(content)) == (200, ok_body)
    assert content_type.startswith("application/json")
    status, content, _type = PROVIDERS[name].acknowledge(False, "database busy")
    assert status == failed_status and "database busy" in content.decode()


def test_recording_hosts():
    extra = {"recording_hosts": "records.dealer.example, Bucket.example"}
    assert ".myqcloud.com" in PROVIDERS["tccc"].recording_hosts({})
    assert PROVIDERS["aliyun"].recording_hosts(extra) == (
        ".aliyuncs.com",
        "records.dealer.example",
        "bucket.example",
    )
    assert ".clink.cn" in PROVIDERS["clink"].recording_hosts({})
    assert PROVIDERS["generic"].recording_hosts({}) == ()
