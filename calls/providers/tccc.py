"""Tencent Cloud Contact Center (TCCC, 腾讯云联络中心).

Pushes (数据推送, JSON POSTs to the dealer's URL, `?action=cdr` or `?action=record`):

- the call detail record (电话 CDR 数据推送): SessionId, Direction (0 inbound, 1 outbound),
  Caller / Callee, StartTimestamp / RingTimestamp / AcceptTimestamp / EndedTimestamp (Unix
  seconds; 0 = did not happen), Duration, EndStatus (a number) and / or EndStatusString,
  HungUpSide (user / seat), SeatUser {UserId, Mail, StaffNumber, …}, Uui (what our
  CreateCallOutSession sent), RecordURL / CustomRecordURL → Phase.ENDED;
- the recording (电话录音数据推送): SessionId, RecordId, EndpointUser, RecordURL,
  CustomRecordURL → Phase.RECORDING (one push per side of the call).

The body tells the two apart (a recording push has RecordId and no Direction), so the view
need not pass the `action` query parameter. TCCC has no server-side ringing push: its screen
pop is an event of the agent's browser SDK.

Authentication: TCCC signs nothing; its console offers basic auth (username / password) for
the push URL, which the dealer sets as `push_username` / `push_password`; a `push_token` in
the URL works too. Answer: JSON {"ErrCode": 0, "ErrMsg": ""}; anything else makes TCCC push
again (three times at most). Duplicates carry the same X-TCCC-PUSH-UUID header.

API (TC3-HMAC-SHA256 signed, ccc.tencentcloudapi.com, version 2020-02-10):
CreateCallOutSession (UserId = the seat's e-mail, Callee, Callers, UUI = our reference) →
SessionId; DescribeTelCdr (StartTimeStamp / EndTimeStamp in seconds, PageSize ≤ 100,
PageNumber from 0) → TelCdrList for reconciling."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

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
)
from calls.report import CallReport, Direction, Disposition, HungUpBy, PayloadError, Phase

NAME = "tccc"
VENDOR = "Tencent Cloud Contact Center"
API_VERSION = "2020-02-10"
SERVICE = "ccc"
PAGE_SIZE = 100
MAX_PAGES = 200

D = Disposition
# EndStatus (numbers, 呼叫结束状态码) and EndStatusString, as documented; the same meaning
# under both. Inbound and outbound codes do not overlap, except the few shared ones.
END_STATUS: dict[str, Disposition] = {
    "0": D.FAILED,  # error 系统错误
    "1": D.ANSWERED,  # ok 正常通话
    "2": D.NO_ANSWER,  # unconnected 未接通 (inbound: see INBOUND_UNCONNECTED)
    "17": D.MISSED_RINGING,  # seatGiveUp 座席未接 / 超时转接
    "100": D.REJECTED,  # blackList 呼入黑名单
    "101": D.ANSWERED,  # seatForward 座席转接
    "102": D.ABANDONED_IVR,  # ivrGiveUp IVR 期间用户放弃
    "103": D.MISSED_IN_QUEUE,  # waitingGiveUp 排队时用户放弃
    "104": D.MISSED_RINGING,  # ringingGiveUp 振铃时用户放弃
    "105": D.NO_AGENT,  # noSeatOnline 无座席在线
    "106": D.OUT_OF_HOURS,  # notWorkTime 非工作时间
    "107": D.ABANDONED_IVR,  # ivrEnd IVR 全自动结束 (no person reached: a callback)
    "108": D.FAILED,  # restrictedCallee 外呼黑名单 (系统侧)
    "109": D.FAILED,  # tooManyRequest 外呼频控限制
    "110": D.FAILED,  # restrictedArea 外呼地域限制
    "111": D.FAILED,  # restrictedTime 外呼时段限制
    "201": D.OTHER,  # unknown 未知状态
    "202": D.NO_ANSWER,  # notAnswer 被叫未接听
    "203": D.REJECTED,  # userReject 被叫拒接挂断
    "204": D.FAILED,  # powerOff 被叫关机
    "205": D.FAILED,  # numberNotExist 被叫空号
    "206": D.BUSY,  # busy 被叫忙
    "207": D.FAILED,  # outOfCredit 被叫欠费
    "208": D.FAILED,  # operatorError 运营商线路异常
    "209": D.FAILED,  # callerCancel 未振铃主叫取消
    "210": D.FAILED,  # notInService 被叫不在服务区
    "211": D.FAILED,  # clientError 客户端错误 (the seat's device)
    "212": D.FAILED,  # carrierBlocked 运营商拦截
}
END_STATUS_STRING: dict[str, str] = {
    "error": "0",
    "ok": "1",
    "unconnected": "2",
    "seatGiveUp": "17",
    "blackList": "100",
    "seatForward": "101",
    "ivrGiveUp": "102",
    "waitingGiveUp": "103",
    "ringingGiveUp": "104",
    "noSeatOnline": "105",
    "notWorkTime": "106",
    "ivrEnd": "107",
    "restrictedCallee": "108",
    "tooManyRequest": "109",
    "restrictedArea": "110",
    "restrictedTime": "111",
    "unknown": "201",
    "notAnswer": "202",
    "userReject": "203",
    "powerOff": "204",
    "numberNotExist": "205",
    "busy": "206",
    "outOfCredit": "207",
    "operatorError": "208",
    "callerCancel": "209",
    "notInService": "210",
    "clientError": "211",
    "carrierBlocked": "212",
}
OUTBOUND_FORWARD = "outboundForward"  # 外线转接: answered, then passed to an outside line
HUNG_UP = {"user": HungUpBy.CUSTOMER, "seat": HungUpBy.AGENT, "system": HungUpBy.SYSTEM}


def disposition(code: str, label: str, direction: Direction) -> Disposition:
    key = code or END_STATUS_STRING.get(label, "")
    if not key and label == OUTBOUND_FORWARD:
        return D.ANSWERED
    found = END_STATUS.get(key, D.OTHER)
    if key == "2" and direction == Direction.INBOUND:
        return D.MISSED_RINGING  # 未接通 on an inbound call: it reached no one
    return found


def parse(body: bytes, content_type: str) -> list[CallReport]:
    return [_report(item) for item in items_of(load_body(body, content_type))]


def _report(item: Fields) -> CallReport:
    call_id = item.text("SessionId", required=True, max_length=128)
    if item.has("RecordId", "EndpointUser") and not item.has("Direction"):
        return CallReport(
            provider=NAME,
            call_id=call_id,
            phase=Phase.RECORDING,
            direction=Direction.INBOUND,  # not said by a recording push: storage keeps its own
            recording_urls=url_list(item.text("CustomRecordURL"), item.text("RecordURL")),
            raw=item.data,
        )
    return cdr_report(item, call_id)


def cdr_report(item: Fields, call_id: str) -> CallReport:
    """A CDR push and a DescribeTelCdr row (TelCdrInfo) alike."""
    raw_direction = item.integer("Direction")
    if raw_direction not in (0, 1):
        raise PayloadError(_("Direction must be 0 or 1."), field="Direction")
    direction = Direction.INBOUND if raw_direction == 0 else Direction.OUTBOUND
    caller, callee = item.text("Caller", max_length=64), item.text("Callee", max_length=64)
    customer, line = (caller, callee) if direction == Direction.INBOUND else (callee, caller)
    started = item.time("StartTimestamp", "Time")
    accepted = item.time("AcceptTimestamp")
    ended = item.time("EndedTimestamp")
    wait = span(started, accepted or ended, "AcceptTimestamp" if accepted else "EndedTimestamp")
    talk = span(accepted, ended, "EndedTimestamp") if accepted else 0
    if accepted and talk is None:
        talk = item.seconds("Duration")
    code = item.text("EndStatus", max_length=16)
    label = item.text("EndStatusString", max_length=64)
    seat_user = item.obj("SeatUser")
    seat = ""
    if seat_user is not None:
        seat = seat_user.text("UserId", "Mail", "StaffNumber", max_length=128)
    if not seat:
        seat = item.text("StaffUserId", max_length=128)
    side = item.text("HungUpSide", max_length=16).lower()
    return CallReport(
        provider=NAME,
        call_id=call_id,
        phase=Phase.ENDED,
        direction=direction,
        line_number=line,
        customer_number=customer,
        seat=seat,
        rang_at=started,
        answered_at=accepted,
        ended_at=ended,
        wait_seconds=wait,
        talk_seconds=talk,
        disposition=disposition(code, label, direction),
        status=code or label,
        hung_up_by=HUNG_UP.get(side, HungUpBy.UNKNOWN),
        recording_urls=url_list(item.text("CustomRecordURL"), item.text("RecordURL")),
        reference=item.text("Uui", "UUI"),
        raw=item.data,
    )


authenticate = authenticate_by_shared_secret


def acknowledge(ok: bool, message: str = "") -> tuple[int, bytes, str]:
    if ok:
        return json_ack(200, {"ErrCode": 0, "ErrMsg": ""})
    return json_ack(500, {"ErrCode": 1, "ErrMsg": message or "not stored"})


def recording_hosts(credentials: Mapping[str, str]) -> tuple[str, ...]:
    """TCCC keeps recordings on Tencent COS (and a dealer's own bucket: CustomRecordURL)."""
    return (".myqcloud.com", ".tencentcos.cn", *extra_hosts(credentials))


# ---------------------------------------------------------------------------------------------
# API client: TC3-HMAC-SHA256


def sign(
    secret_id: str,
    secret_key: str,
    *,
    host: str,
    action: str,
    payload: bytes,
    timestamp: int,
    content_type: str = "application/json; charset=utf-8",
) -> str:
    """The Authorization header of a POST to the Tencent Cloud API (signature v3)."""
    date = datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%d")
    signed_headers = "content-type;host;x-tc-action"
    canonical_headers = f"content-type:{content_type}\nhost:{host}\nx-tc-action:{action.lower()}\n"
    canonical_request = "\n".join(
        [
            "POST",
            "/",
            "",
            canonical_headers,
            signed_headers,
            hashlib.sha256(payload).hexdigest(),
        ]
    )
    scope = f"{date}/{SERVICE}/tc3_request"
    string_to_sign = "\n".join(
        [
            "TC3-HMAC-SHA256",
            str(timestamp),
            scope,
            hashlib.sha256(canonical_request.encode("utf-8")).hexdigest(),
        ]
    )

    def _hmac(key: bytes, message: str) -> bytes:
        return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()

    secret_date = _hmac(("TC3" + secret_key).encode("utf-8"), date)
    secret_signing = _hmac(_hmac(secret_date, SERVICE), "tc3_request")
    signature = hmac.new(secret_signing, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    return (
        f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, "
        f"SignedHeaders={signed_headers}, Signature={signature}"
    )


def call_api(
    credentials: Mapping[str, str],
    base_url: str,
    action: str,
    params: Mapping[str, object],
    *,
    timeout: float,
) -> Mapping[str, object]:
    secret_id, secret_key = need(credentials, VENDOR, "secret_id", "secret_key")
    parts = api_base(base_url, VENDOR)
    host = parts.netloc
    payload = json.dumps(params, separators=(",", ":")).encode("utf-8")
    timestamp = int(datetime.now(tz=UTC).timestamp())
    headers = {
        "Authorization": sign(
            secret_id, secret_key, host=host, action=action, payload=payload, timestamp=timestamp
        ),
        "Content-Type": "application/json; charset=utf-8",
        "Host": host,
        "X-TC-Action": action,
        "X-TC-Version": API_VERSION,
        "X-TC-Timestamp": str(timestamp),
    }
    if credentials.get("region"):
        headers["X-TC-Region"] = credentials["region"]
    url = f"{parts.scheme}://{host}/"
    answer = http(VENDOR, "POST", url, headers=headers, body=payload, timeout=timeout)
    data = answer.json(VENDOR)
    response = data.get("Response") if isinstance(data, dict) else None
    if not isinstance(response, dict):
        raise ProviderError(
            _("%(vendor)s answered HTTP %(status)s without a result.")
            % {"vendor": VENDOR, "status": answer.status}
        )
    error = response.get("Error")
    if isinstance(error, dict):
        raise ProviderError(
            _("%(vendor)s refused %(action)s: %(code)s %(message)s")
            % {
                "vendor": VENDOR,
                "action": action,
                "code": str(error.get("Code", ""))[:100],
                "message": str(error.get("Message", ""))[:300],
            }
        )
    return response


def _sdk_app_id(credentials: Mapping[str, str]) -> int:
    (raw,) = need(credentials, VENDOR, "sdk_app_id")
    try:
        return int(raw)
    except ValueError:
        raise ProviderError(
            _("The %(vendor)s SdkAppId must be a number.") % {"vendor": VENDOR}
        ) from None


def dial(
    credentials: Mapping[str, str],
    base_url: str,
    *,
    seat: str,
    customer_number: str,
    reference: str,
    timeout: float,
) -> str:
    """Click-to-call (双呼): TCCC rings the seat's phone, then the customer. `seat` is the
    seat's TCCC user id (its e-mail); numbers go as sent (TCCC wants the 0086 prefix)."""
    need(credentials, VENDOR, "secret_id", "secret_key", "sdk_app_id")
    params: dict[str, object] = {
        "SdkAppId": _sdk_app_id(credentials),
        "UserId": seat,
        "Callee": customer_number,
        "IsForceUseMobile": True,
        "UUI": reference,
    }
    if credentials.get("caller"):
        params["Callers"] = [c.strip() for c in credentials["caller"].split(",") if c.strip()]
    response = call_api(credentials, base_url, "CreateCallOutSession", params, timeout=timeout)
    session_id = response.get("SessionId")
    if not isinstance(session_id, str) or not session_id:
        raise ProviderError(_("%(vendor)s did not say which call it started.") % {"vendor": VENDOR})
    return session_id


def calls_since(
    credentials: Mapping[str, str],
    base_url: str,
    since: datetime,
    until: datetime,
    *,
    timeout: float = 10.0,
) -> list[CallReport]:
    """Every CDR from `since` to `until` (DescribeTelCdr, paged by 100; windows under 90 days)."""
    need(credentials, VENDOR, "secret_id", "secret_key", "sdk_app_id")
    app_id = _sdk_app_id(credentials)
    reports: list[CallReport] = []
    start = since
    while start < until:
        end = min(until, start + timedelta(days=89))
        for page in range(MAX_PAGES):
            params = {
                "SdkAppId": app_id,
                "StartTimeStamp": int(start.timestamp()),
                "EndTimeStamp": int(end.timestamp()),
                "PageSize": PAGE_SIZE,
                "PageNumber": page,
            }
            response = call_api(credentials, base_url, "DescribeTelCdr", params, timeout=timeout)
            rows = response.get("TelCdrList") or []
            if not isinstance(rows, list):
                raise ProviderError(
                    _("%(vendor)s answered a list that is not one.") % {"vendor": VENDOR}
                )
            for row in rows:
                reports.append(_api_row(row))
            total = response.get("TotalCount")
            fetched = (page + 1) * PAGE_SIZE
            if len(rows) < PAGE_SIZE or (isinstance(total, int) and fetched >= total):
                break
        start = end
    return reports


def _api_row(row: object) -> CallReport:
    if not isinstance(row, dict):
        raise ProviderError(
            _("%(vendor)s answered a call record that is not an object.") % {"vendor": VENDOR}
        )
    try:
        item = Fields(row)
        return cdr_report(item, item.text("SessionId", required=True, max_length=128))
    except PayloadError as error:
        raise ProviderError(
            _("%(vendor)s answered an unreadable call record: %(reason)s")
            % {"vendor": VENDOR, "reason": error.message}
        ) from None
