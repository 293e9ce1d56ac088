"""The click-to-call and reconciliation clients against a fake provider on 127.0.0.1: the
request each sends (path, signature, our reference) and how each reads the answer."""

from __future__ import annotations

import base64
import hashlib
import hmac
import socket
import urllib.parse
from datetime import UTC, datetime

import pytest

from calls.providers import ProviderError, aliyun, clink, generic, tccc
from calls.report import Direction, Disposition, Phase
from tests.calls.fake_provider import FakeProvider, Request

SINCE = datetime(2026, 3, 1, tzinfo=UTC)
UNTIL = datetime(2026, 3, 2, tzinfo=UTC)
S0 = int(datetime(2026, 3, 1, 2, 0, tzinfo=UTC).timestamp())


# ---------------------------------------------------------------------------------------------
# Tencent: TC3-HMAC-SHA256

TCCC = {
    "secret_id": "AKIDtestdealer",
    "secret_key": "tencent-secret-key",
    "sdk_app_id": "1400000000",
}


def tc3_valid(request: Request, secret_key: str) -> bool:
    """The signature checked the way Tencent's documentation describes it, step by step."""
    authorization = request.header("Authorization")
    algorithm, _sp, rest = authorization.partition(" ")
    parts = dict(item.strip().split("=", 1) for item in rest.split(","))
    scope = parts["Credential"].split("/", 1)[1]
    date, service, _req = scope.split("/")
    headers = parts["SignedHeaders"].split(";")
    values = {h: request.header(h).strip() for h in headers}
    values["x-tc-action"] = values.get("x-tc-action", "").lower()
    canonical_headers = "".join(f"{h}:{values[h]}\n" for h in headers)
    canonical = "\n".join(
        [
            "POST",
            "/",
            "",
            canonical_headers,
            parts["SignedHeaders"],
            hashlib.sha256(request.body).hexdigest(),
        ]
    )
    to_sign = "\n".join(
        [
            algorithm,
            request.header("X-TC-Timestamp"),
            scope,
            hashlib.sha256(canonical.encode()).hexdigest(),
        ]
    )
    key = ("TC3" + secret_key).encode()
    for part in (date, service, "tc3_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    stamp_date = datetime.fromtimestamp(int(request.header("X-TC-Timestamp")), tz=UTC).date()
    return hmac.compare_digest(expected, parts["Signature"]) and str(stamp_date) == date


def test_tccc_dial(fake_provider: FakeProvider):
    fake_provider.answer(200, {"Response": {"SessionId": "adcf61b8-dbb9-4c20", "RequestId": "r1"}})
    session = tccc.dial(
        TCCC | {"caller": "0086216123456"},
        fake_provider.base_url,
        seat="wang.li@dealer.example",
        customer_number="008613812345678",
        reference="dcc:call:9f2c",
        timeout=5,
    )
    assert session == "adcf61b8-dbb9-4c20"
    (sent,) = fake_provider.requests
    assert (sent.method, sent.path) == ("POST", "/")
    assert sent.header("X-TC-Action") == "CreateCallOutSession"
    assert sent.header("X-TC-Version") == "2020-02-10"
    assert tc3_valid(sent, TCCC["secret_key"])
    assert not tc3_valid(sent, "another-key")
    assert sent.json() == {
        "SdkAppId": 1400000000,
        "UserId": "wang.li@dealer.example",
        "Callee": "008613812345678",
        "IsForceUseMobile": True,
        "UUI": "dcc:call:9f2c",
        "Callers": ["0086216123456"],
    }


def test_tccc_refusal_is_a_provider_error_without_secrets(fake_provider: FakeProvider):
    fake_provider.answer(
        200,
        {"Response": {"Error": {"Code": "AuthFailure.SignatureFailure", "Message": "bad"}}},
    )
    with pytest.raises(ProviderError) as caught:
        tccc.dial(
            TCCC, fake_provider.base_url, seat="a", customer_number="b", reference="c", timeout=5
        )
    assert "AuthFailure.SignatureFailure" in caught.value.message
    assert TCCC["secret_key"] not in str(caught.value)


def test_tccc_calls_since_pages(fake_provider: FakeProvider):
    def row(n: int) -> dict:
        return {
            "SessionId": f"s-{n}",
            "Direction": 0,
            "Caller": "008613812345678",
            "Callee": "008602161234567",
            "Time": S0 + n,
            "StartTimestamp": S0 + n,
            "AcceptTimestamp": 0,
            "EndedTimestamp": S0 + n + 30,
            "EndStatus": 103,
            "EndStatusString": "waitingGiveUp",
            "SeatUser": {"UserId": ""},
        }

    fake_provider.answer(
        200, {"Response": {"TotalCount": 101, "TelCdrList": [row(n) for n in range(100)]}}
    )
    fake_provider.answer(200, {"Response": {"TotalCount": 101, "TelCdrList": [row(100)]}})
    reports = tccc.calls_since(TCCC, fake_provider.base_url, SINCE, UNTIL)
    assert len(reports) == 101
    assert {r.disposition for r in reports} == {Disposition.MISSED_IN_QUEUE}
    assert [r.json()["PageNumber"] for r in fake_provider.requests] == [0, 1]
    first = fake_provider.requests[0].json()
    assert (first["StartTimeStamp"], first["EndTimeStamp"]) == (
        int(SINCE.timestamp()),
        int(UNTIL.timestamp()),
    )
    assert all(r.header("X-TC-Action") == "DescribeTelCdr" for r in fake_provider.requests)


def test_tccc_needs_its_keys():
    with pytest.raises(ProviderError) as caught:
        tccc.dial(
            {},
            "https://ccc.tencentcloudapi.com",
            seat="a",
            customer_number="b",
            reference="c",
            timeout=5,
        )
    assert "secret_id, secret_key, sdk_app_id" in caught.value.message


# ---------------------------------------------------------------------------------------------
# Aliyun: RPC signature 1.0

ALIYUN = {
    "access_key_id": "LTAItestdealer",
    "access_key_secret": "aliyun-secret",
    "instance_id": "ccc-dealer",
    "caller": "02161234567",
}


def aliyun_valid(params: dict[str, str], secret: str) -> bool:
    given = params.pop("Signature")
    encode = lambda v: urllib.parse.quote(v, safe="~")  # noqa: E731
    canonical = "&".join(f"{encode(k)}={encode(v)}" for k, v in sorted(params.items()))
    to_sign = "POST&%2F&" + encode(canonical)
    expected = base64.b64encode(
        hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    ).decode()
    return hmac.compare_digest(given, expected)


def test_aliyun_signature_matches_the_documented_example():
    """Alibaba Cloud's worked example of signature version 1.0 (ECS DescribeRegions)."""
    params = {
        "AccessKeyId": "testid",
        "Action": "DescribeRegions",
        "Format": "XML",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
        "SignatureVersion": "1.0",
        "Timestamp": "2016-02-23T12:46:24Z",
        "Version": "2014-05-26",
    }
    assert aliyun.signature("testsecret", "GET", params) == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


def test_aliyun_dial(fake_provider: FakeProvider):
    fake_provider.answer(
        200,
        {
            "Code": "OK",
            "HttpStatusCode": 200,
            "RequestId": "26A34338",
            "Data": {"CallContext": {"CallType": "OUTBOUND", "JobId": "job-6570007401392001"}},
        },
    )
    job = aliyun.dial(
        ALIYUN,
        fake_provider.base_url,
        seat="agent1@ccc-dealer",
        customer_number="13812345678",
        reference="dcc:call:77",
        timeout=5,
    )
    assert job == "job-6570007401392001"
    (sent,) = fake_provider.requests
    assert (sent.method, sent.path) == ("POST", "/")
    params = sent.form()
    assert aliyun_valid(dict(params), ALIYUN["access_key_secret"])
    assert not aliyun_valid(dict(params), "other")
    assert {
        k: params[k]
        for k in ("Action", "Version", "InstanceId", "UserId", "Callee", "Caller", "Tags")
    } == {
        "Action": "MakeCall",
        "Version": "2020-07-01",
        "InstanceId": "ccc-dealer",
        "UserId": "agent1@ccc-dealer",
        "Callee": "13812345678",
        "Caller": "02161234567",
        "Tags": "dcc:call:77",
    }


def test_aliyun_refusal(fake_provider: FakeProvider):
    fake_provider.answer(
        400,
        {
            "Code": "Parameter.Blank",
            "Message": "The parameter Callee must not be null",
            "HttpStatusCode": 400,
        },
    )
    with pytest.raises(ProviderError) as caught:
        aliyun.dial(
            ALIYUN, fake_provider.base_url, seat="a", customer_number="", reference="r", timeout=5
        )
    assert "Parameter.Blank" in caught.value.message
    assert ALIYUN["access_key_secret"] not in str(caught.value)


def test_aliyun_calls_since_pages(fake_provider: FakeProvider):
    def row(n: int, kind: str = "OUTBOUND") -> dict:
        return {
            "ContactId": f"job-{n}",
            "ContactType": kind,
            "CallingNumber": "02161234567",
            "CalledNumber": "13812345678",
            "StartTime": S0 * 1000,
            "EstablishedTime": S0 * 1000 + 5000,
            "ReleaseTime": S0 * 1000 + 65000,
            "ContactDisposition": "Success",
            "AgentIds": "agent1@ccc-dealer",
        }

    first = [row(n) for n in range(99)] + [row(99, "INTERNAL")]
    fake_provider.answer(
        200, {"Code": "OK", "Data": {"TotalCount": 102, "PageNumber": 1, "List": first}}
    )
    fake_provider.answer(
        200,
        {"Code": "OK", "Data": {"TotalCount": 102, "PageNumber": 2, "List": [row(100), row(101)]}},
    )
    reports = aliyun.calls_since(ALIYUN, fake_provider.base_url, SINCE, UNTIL)
    assert len(reports) == 101  # the internal call is no customer's
    assert reports[0].direction == Direction.OUTBOUND and reports[0].talk_seconds == 60
    pages = [r.form() for r in fake_provider.requests]
    assert [p["PageNumber"] for p in pages] == ["1", "2"]
    assert pages[0]["StartTime"] == str(int(SINCE.timestamp()) * 1000)
    assert {p["Action"] for p in pages} == {"ListCallDetailRecords"}


# ---------------------------------------------------------------------------------------------
# Clink

CLINK = {"access_key_id": "clink-key-id", "access_key_secret": "clink-secret"}


def clink_valid(request: Request, host: str, secret: str) -> bool:
    params = dict(request.query)
    given = params.pop("Signature")
    encode = lambda v: urllib.parse.quote(v, safe="~")  # noqa: E731
    to_sign = f"{request.method}{host}{request.path}?" + "&".join(
        f"{encode(k)}={encode(v)}" for k, v in sorted(params.items())
    )
    expected = base64.b64encode(
        hmac.new(secret.encode(), to_sign.encode(), hashlib.sha1).digest()
    ).decode()
    return hmac.compare_digest(given, expected)


def test_clink_string_to_sign_is_the_documented_shape():
    assert (
        clink.string_to_sign("GET", "api-bj.clink.cn", "/", {"param": "value", "Action": "Demo"})
        == "GETapi-bj.clink.cn/?Action=Demo&param=value"
    )


def test_clink_dial(fake_provider: FakeProvider):
    fake_provider.answer(
        200, {"requestId": "f8a5", "result": {"cno": "8001", "customerNumber": "13812345678"}}
    )
    call_id = clink.dial(
        CLINK | {"caller": "02161234567"},
        fake_provider.base_url,
        seat="8001",
        customer_number="13812345678",
        reference="dcc-call-31",
        timeout=5,
    )
    assert call_id == "dcc-call-31"  # Clink names no call yet: its pushes echo our id
    (sent,) = fake_provider.requests
    assert (sent.method, sent.path) == ("POST", "/cc/callout")
    assert {"AccessKeyId", "Expires", "Timestamp", "Signature"} <= set(sent.query)
    host = urllib.parse.urlsplit(fake_provider.base_url).netloc
    assert clink_valid(sent, host, CLINK["access_key_secret"])
    assert not clink_valid(sent, host, "other")
    assert sent.json() == {
        "cno": "8001",
        "customerNumber": "13812345678",
        "requestUniqueId": "dcc-call-31",
        "userField": {"dcc_ref": "dcc-call-31"},
        "clid": "02161234567",
    }


def test_clink_dial_returns_the_call_id_when_clink_says_it(fake_provider: FakeProvider):
    fake_provider.answer(200, {"requestId": "f8a5", "result": {"uniqueId": "medias_1-1.2"}})
    assert (
        clink.dial(
            CLINK,
            fake_provider.base_url,
            seat="8001",
            customer_number="1",
            reference="r",
            timeout=5,
        )
        == "medias_1-1.2"
    )
    fake_provider.answer(
        400, {"requestId": "x", "error": {"code": "InvalidCno", "message": "座席不存在"}}
    )
    with pytest.raises(ProviderError) as caught:
        clink.dial(
            CLINK, fake_provider.base_url, seat="9", customer_number="1", reference="r", timeout=5
        )
    assert (
        "InvalidCno" in caught.value.message
        and CLINK["access_key_secret"] not in caught.value.message
    )


def test_clink_calls_since_cuts_at_months_and_reads_both_directions(fake_provider: FakeProvider):
    since = datetime(2026, 2, 27, 16, 0, tzinfo=UTC)  # 28 Feb, midnight in China
    until = datetime(2026, 3, 1, 16, 0, tzinfo=UTC)  # 2 March, midnight in China
    inbound = {
        "mainUniqueId": "ib-1",
        "customerNumber": "13812345678",
        "hotline": "4008001234",
        "cno": "8001",
        "startTime": S0,
        "endTime": S0 + 40,
        "bridgeDuration": 0,
        "status": 2,
    }
    outbound = inbound | {
        "mainUniqueId": "ob-1",
        "status": 33,
        "bridgeTime": S0 + 10,
        "bridgeDuration": 30,
    }

    def answer(request: Request) -> tuple[int, dict]:
        if request.path.endswith("ibs"):
            return 200, {"requestId": "1", "totalCount": 1, "cdrIbs": [inbound]}
        return 200, {"requestId": "2", "totalCount": 1, "cdrObs": [outbound]}

    for _ in range(4):
        fake_provider.answer_with(answer)
    reports = clink.calls_since(CLINK, fake_provider.base_url, since, until)
    paths = [(r.path, r.query["startTime"], r.query["endTime"]) for r in fake_provider.requests]
    march = str(int(datetime(2026, 2, 28, 16, 0, tzinfo=UTC).timestamp()))
    assert paths == [
        ("/cc/list_cdr_ibs", str(int(since.timestamp())), str(int(march) - 1)),
        ("/cc/list_cdr_ibs", march, str(int(until.timestamp()))),
        ("/cc/list_cdr_obs", str(int(since.timestamp())), str(int(march) - 1)),
        ("/cc/list_cdr_obs", march, str(int(until.timestamp()))),
    ]
    assert [(r.call_id, r.direction, r.disposition) for r in reports[::2]] == [
        ("ib-1", Direction.INBOUND, Disposition.MISSED_RINGING),
        ("ob-1", Direction.OUTBOUND, Disposition.ANSWERED),
    ]
    assert {r.phase for r in reports} == {Phase.ENDED}


# ---------------------------------------------------------------------------------------------
# Failures any client can meet


def test_unreachable_provider():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ProviderError) as caught:
        aliyun.dial(
            ALIYUN,
            f"http://127.0.0.1:{port}",
            seat="a",
            customer_number="b",
            reference="c",
            timeout=2,
        )
    assert "could not be reached" in caught.value.message


def test_answer_that_is_not_json(fake_provider: FakeProvider):
    fake_provider.answer(502, raw=b"<html>Bad gateway</html>")
    with pytest.raises(ProviderError) as caught:
        clink.calls_since(CLINK, fake_provider.base_url, SINCE, UNTIL)
    assert "502" in caught.value.message


def test_an_address_that_is_not_http():
    with pytest.raises(ProviderError):
        tccc.dial(
            TCCC, "file:///etc/passwd", seat="a", customer_number="b", reference="c", timeout=2
        )


def test_generic_has_no_api():
    with pytest.raises(ProviderError):
        generic.dial({}, "", seat="a", customer_number="b", reference="c", timeout=1)
    with pytest.raises(ProviderError):
        generic.calls_since({}, "", SINCE, UNTIL)
