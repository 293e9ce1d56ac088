"""Alibaba Cloud Contact Center (CCC, 阿里云云联络中心, API version 2020-07-01).

Pushes (the instance's message subscription sent to a webhook, one JSON object or a JSON
array of them per POST; field names read in any case: ContactId or contactId):

- call events, by `eventType`: Dialing / Ringing → Phase.RINGING (the screen pop),
  Established → Phase.ANSWERED, RecordingReady → Phase.RECORDING; other events (queueing,
  IVR tracking, agent state …) make no report;
- the call detail record (an object with ContactDisposition, as GetCallDetailRecord and
  ListCallDetailRecords return it, or the CDRReady event carrying those fields) →
  Phase.ENDED: ContactId, ContactType (INBOUND / OUTBOUND / BACK2BACK / PREDICTIVE …;
  INTERNAL and CONFERENCE calls are not customer calls and make no report),
  CallingNumber / CalledNumber, StartTime / EstablishedTime / ReleaseTime (Unix
  milliseconds), ContactDisposition, ReleaseInitiator (agent / customer), AgentIds (the
  last is the seat), RecordingFile / RecordingUrl, Tags (what our MakeCall sent).

Authentication: the webhook is not signed; the dealer sets basic auth or a token in the URL
(`push_username` / `push_password`, `push_token`). Answer: HTTP 200 takes the push; any
other status (or a timeout) makes Aliyun push again after 1, 5 and 10 minutes, then it gives
up, so a push we could not store is answered 503 and reconciled later by calls_since.

API (RPC style, signature version 1.0, HMAC-SHA1): MakeCall (InstanceId, UserId = the seat,
Caller, Callee, Tags = our reference) → Data.CallContext.JobId, which is the ContactId of the
pushes; ListCallDetailRecords (StartTime / EndTime in ms, PageNumber from 1, PageSize ≤ 100)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime

from django.utils.translation import gettext as _

from calls.providers.base import (
    Fields,
    ProviderError,
    api_base,
    authenticate_by_shared_secret,
    extra_hosts,
    http,
    items_of,
    json_ack,
    load_body,
    need,
    span,
    url_list,
    utc_stamp,
)
from calls.report import CallReport, Direction, Disposition, HungUpBy, PayloadError, Phase

NAME = "aliyun"
VENDOR = "Alibaba Cloud Contact Center"
API_VERSION = "2020-07-01"
PAGE_SIZE = 100
MAX_PAGES = 200

D = Disposition
INBOUND_TYPES = {"INBOUND"}
OUTBOUND_TYPES = {"OUTBOUND", "BACK2BACK", "PREDICTIVE", "PRIVACY_DIAL"}
# ContactDisposition (电话结束原因). Codes that only an inbound or an outbound call can end
# with are mapped once; NoAnswer differs by direction (see disposition()).
DISPOSITIONS: dict[str, Disposition] = {
    "Success": D.ANSWERED,  # 正常结束
    "ForwardToOutsideNumber": D.ANSWERED,  # 转外线
    "NoAnswer": D.NO_ANSWER,  # 客户未接 (inbound: 坐席未接, see below)
    "Reject": D.REJECTED,  # 客户拒接
    "AbandonedInRing": D.MISSED_RINGING,  # 振铃放弃
    "AbandonedInQueue": D.MISSED_IN_QUEUE,  # 排队放弃
    "QueuingTimeout": D.MISSED_IN_QUEUE,  # 排队超时
    "QueuingOverflow": D.MISSED_IN_QUEUE,  # 排队溢出
    "Voicemail": D.MISSED_IN_QUEUE,  # 转语音邮箱: nobody took it
    "QueuingFailed": D.NO_AGENT,  # 转人工失败
    "AbandonedInIVR": D.ABANDONED_IVR,  # IVR 放弃
    "AbandonedInVoiceNavigator": D.ABANDONED_IVR,  # 智能导航中放弃
    "IVRException": D.FAILED,  # IVR 系统异常
}
HUNG_UP = {"customer": HungUpBy.CUSTOMER, "agent": HungUpBy.AGENT, "system": HungUpBy.SYSTEM}
RINGING_EVENTS = {"dialing", "ringing"}
ANSWERED_EVENTS = {"established"}
RECORDING_EVENTS = {"recordingready", "dualtrackrecordingready"}
CDR_EVENTS = {"cdrready"}


def disposition(code: str, direction: Direction) -> Disposition:
    found = DISPOSITIONS.get(code, D.OTHER)
    if code == "NoAnswer" and direction == Direction.INBOUND:
        return D.MISSED_RINGING
    return found


def parse(body: bytes, content_type: str) -> list[CallReport]:
    items = items_of(load_body(body, content_type), list_keys=("messages", "events", "data"))
    reports = []
    for item in items:
        report = _report(item)
        if report is not None:
            reports.append(report)
    return reports


def _direction(item: Fields, *, required: bool) -> Direction | None:
    kind = item.text("ContactType", "CallType", max_length=32).upper()
    if kind in INBOUND_TYPES:
        return Direction.INBOUND
    if kind in OUTBOUND_TYPES:
        return Direction.OUTBOUND
    if kind or required:
        return None
    return Direction.INBOUND


def _seat(item: Fields) -> str:
    agents = item.texts("AgentIds")
    if agents:
        return agents[-1][:128]
    return item.text("AgentId", "UserId", max_length=128)


def _report(item: Fields) -> CallReport | None:
    call_id = item.text("ContactId", "JobId", required=True, max_length=128)
    event = item.text("EventType", max_length=64).lower()
    if item.has("ContactDisposition") or event in CDR_EVENTS:
        return cdr_report(item, call_id)
    if event in RECORDING_EVENTS:
        return CallReport(
            provider=NAME,
            call_id=call_id,
            phase=Phase.RECORDING,
            direction=_direction(item, required=False) or Direction.INBOUND,
            recording_urls=url_list(
                item.text("RecordingUrl", "RecordingFile", "FileUrl", "OssUrl", "Url")
            ),
            reference=item.text("Tags", max_length=256),
            raw=item.data,
        )
    if event in RINGING_EVENTS or event in ANSWERED_EVENTS:
        direction = _direction(item, required=False)
        if direction is None:  # an internal or conference call
            return None
        caller, callee = item.text("Caller", max_length=64), item.text("Callee", max_length=64)
        customer, line = (caller, callee) if direction == Direction.INBOUND else (callee, caller)
        moment = item.time("EventTime", "Timestamp")
        answered = event in ANSWERED_EVENTS
        return CallReport(
            provider=NAME,
            call_id=call_id,
            phase=Phase.ANSWERED if answered else Phase.RINGING,
            direction=direction,
            line_number=line,
            customer_number=customer,
            seat=_seat(item),
            rang_at=None if answered else moment,
            answered_at=moment if answered else None,
            reference=item.text("Tags", max_length=256),
            raw=item.data,
        )
    return None


def cdr_report(item: Fields, call_id: str) -> CallReport | None:
    """A pushed CDR and a ListCallDetailRecords row alike."""
    direction = _direction(item, required=True)
    if direction is None:
        if item.text("ContactType", "CallType"):
            return None  # internal, conference …: no customer on the line
        raise PayloadError(_("ContactType is missing."), field="ContactType")
    calling = item.text("CallingNumber", "Caller", max_length=64)
    called = item.text("CalledNumber", "Callee", max_length=64)
    customer, line = (calling, called) if direction == Direction.INBOUND else (called, calling)
    started = item.time("StartTime")
    established = item.time("EstablishedTime")
    released = item.time("ReleaseTime")
    wait = span(
        started,
        established or released,
        "EstablishedTime" if established else "ReleaseTime",
    )
    if established:
        talk = span(established, released, "ReleaseTime")
        if talk is None:
            talk = item.seconds("CallDuration")
    else:
        talk = 0
    code = item.text("ContactDisposition", max_length=64)
    return CallReport(
        provider=NAME,
        call_id=call_id,
        phase=Phase.ENDED,
        direction=direction,
        line_number=line,
        customer_number=customer,
        seat=_seat(item),
        rang_at=started,
        answered_at=established,
        ended_at=released,
        wait_seconds=wait,
        talk_seconds=talk,
        disposition=disposition(code, direction),
        status=code,
        hung_up_by=HUNG_UP.get(
            item.text("ReleaseInitiator", max_length=64).lower(), HungUpBy.UNKNOWN
        ),
        recording_urls=url_list(item.text("RecordingUrl", "RecordingFile", "RecordingFileUrl")),
        reference=item.text("Tags", max_length=256),
        raw=item.data,
    )


authenticate = authenticate_by_shared_secret


def acknowledge(ok: bool, message: str = "") -> tuple[int, bytes, str]:
    if ok:
        return json_ack(200, {"code": 0, "msg": "ok"})
    return json_ack(503, {"code": 1, "msg": message or "not stored"})


def recording_hosts(credentials: Mapping[str, str]) -> tuple[str, ...]:
    """CCC recordings are OSS objects (signed URLs under aliyuncs.com)."""
    return (".aliyuncs.com", *extra_hosts(credentials))


# ---------------------------------------------------------------------------------------------
# API client: RPC signature version 1.0


def percent(value: str) -> str:
    return urllib.parse.quote(value, safe="-_.~")


def signature(secret: str, method: str, params: Mapping[str, str]) -> str:
    query = "&".join(f"{percent(k)}={percent(v)}" for k, v in sorted(params.items()))
    string_to_sign = f"{method}&{percent('/')}&{percent(query)}"
    digest = hmac.new(
        (secret + "&").encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha1
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def call_api(
    credentials: Mapping[str, str],
    base_url: str,
    action: str,
    params: Mapping[str, str],
    *,
    timeout: float,
) -> Mapping[str, object]:
    key_id, secret = need(credentials, VENDOR, "access_key_id", "access_key_secret")
    parts = api_base(base_url, VENDOR)
    signed = {
        **params,
        "Action": action,
        "Version": API_VERSION,
        "Format": "JSON",
        "AccessKeyId": key_id,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": uuid.uuid4().hex,
        "Timestamp": utc_stamp(datetime.now(tz=UTC)),
    }
    signed["Signature"] = signature(secret, "POST", signed)
    body = urllib.parse.urlencode(signed, quote_via=urllib.parse.quote).encode("ascii")
    url = f"{parts.scheme}://{parts.netloc}/"
    answer = http(
        VENDOR,
        "POST",
        url,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=body,
        timeout=timeout,
    )
    data = answer.json(VENDOR)
    if not isinstance(data, dict):
        raise ProviderError(
            _("%(vendor)s answered HTTP %(status)s without a result.")
            % {"vendor": VENDOR, "status": answer.status}
        )
    code = str(data.get("Code", ""))
    if answer.status != 200 or code.upper() not in ("OK", ""):
        raise ProviderError(
            _("%(vendor)s refused %(action)s: %(code)s %(message)s")
            % {
                "vendor": VENDOR,
                "action": action,
                "code": code[:100] or answer.status,
                "message": str(data.get("Message", ""))[:300],
            }
        )
    return data


def dial(
    credentials: Mapping[str, str],
    base_url: str,
    *,
    seat: str,
    customer_number: str,
    reference: str,
    timeout: float,
) -> str:
    """MakeCall from the seat (its CCC user id, e.g. agent@ccc-dealer) to the customer, shown
    as the dealer's outbound number (`caller` in the credentials); returns the JobId."""
    (instance,) = need(credentials, VENDOR, "instance_id")
    params = {
        "InstanceId": instance,
        "UserId": seat,
        "DeviceId": "dcc",
        "Callee": customer_number,
        "Tags": reference,
    }
    if credentials.get("caller"):
        params["Caller"] = credentials["caller"]
    data = call_api(credentials, base_url, "MakeCall", params, timeout=timeout)
    payload = data.get("Data")
    context = payload.get("CallContext") if isinstance(payload, dict) else None
    job_id = context.get("JobId") if isinstance(context, dict) else None
    if not isinstance(job_id, str) or not job_id:
        raise ProviderError(_("%(vendor)s did not say which call it started.") % {"vendor": VENDOR})
    return job_id


def calls_since(
    credentials: Mapping[str, str],
    base_url: str,
    since: datetime,
    until: datetime,
    *,
    timeout: float = 10.0,
) -> list[CallReport]:
    (instance,) = need(credentials, VENDOR, "instance_id")
    reports: list[CallReport] = []
    for page in range(1, MAX_PAGES + 1):
        params = {
            "InstanceId": instance,
            "StartTime": str(int(since.timestamp() * 1000)),
            "EndTime": str(int(until.timestamp() * 1000)),
            "PageNumber": str(page),
            "PageSize": str(PAGE_SIZE),
        }
        data = call_api(credentials, base_url, "ListCallDetailRecords", params, timeout=timeout)
        payload = data.get("Data")
        rows = payload.get("List") if isinstance(payload, dict) else None
        if not isinstance(rows, list):
            raise ProviderError(
                _("%(vendor)s answered a list that is not one.") % {"vendor": VENDOR}
            )
        for row in rows:
            report = _api_row(row)
            if report is not None:
                reports.append(report)
        total = payload.get("TotalCount") if isinstance(payload, dict) else None
        if len(rows) < PAGE_SIZE or (isinstance(total, int) and page * PAGE_SIZE >= total):
            break
    return reports


def _api_row(row: object) -> CallReport | None:
    if not isinstance(row, dict):
        raise ProviderError(
            _("%(vendor)s answered a call record that is not an object.") % {"vendor": VENDOR}
        )
    try:
        item = Fields(row)
        return cdr_report(item, item.text("ContactId", required=True, max_length=128))
    except PayloadError as error:
        raise ProviderError(
            _("%(vendor)s answered an unreadable call record: %(reason)s")
            % {"vendor": VENDOR, "reason": error.message}
        ) from None
