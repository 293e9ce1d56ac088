"""Tinet Clink (天润融通 Clink).

Pushes: Clink's admin sets, per push kind (振铃推送, 接通推送, 通话记录推送 …), the URL, the
method and which call variables go out under which names; the dealer configures them under
the names of Clink's CDR (docs/phone-providers.md lists them), form-encoded or JSON. A push
with `type` (or `pushType` / `event`) ringing / ring / 振铃 → Phase.RINGING (the screen pop),
answer / answered / bridge / 接通 → Phase.ANSWERED, record / recording / 录音 →
Phase.RECORDING; otherwise a push with `status` or `endTime` is a call record →
Phase.ENDED.

Fields: mainUniqueId (the call; uniqueId when absent), cdrType (cdr_ib… inbound,
cdr_ob… outbound) or callType (1, 2 inbound: 呼入, 网上400; others outbound), cno (the seat),
customerNumber, hotline / numberTrunk / clid (the dealer's line), startTime / answerTime /
bridgeTime / endTime (Unix seconds), bridgeDuration (talk seconds), status (below), qno
(the queue, when the call reached one), recordFile / recordFileUrl (kept when a full URL),
requestUniqueId / userField (what our callout sent: the reference).

Inbound status: 1 座席接听, 2 已呼叫座席未接听, 3 系统接听 (no seat: in the queue when qno is
set, else in the IVR), 4–9, 11, 13 system faults, 7 blacklist, 12 the customer hung up before
the system answered. Outbound status: webcall 20–24, seat callout 30–33, predictive 40–43,
主叫外呼 51–52; and the list API's 1 客户未接听, 2 座席未接听, 3 双方接听.

Authentication: Clink's push carries no signature: basic auth or a token in the URL as the
dealer configures (`push_username` / `push_password`, `push_token`). Answer: HTTP 200 with
a small JSON body; anything else is a failure Clink may push again.

API (api-bj.clink.cn / api-sh.clink.cn): the query carries AccessKeyId, Expires, Timestamp
and Signature = Base64(HMAC-SHA1(secret, METHOD + host + path + "?" + sorted query)).
POST /cc/callout (cno, customerNumber, requestUniqueId, userField); GET /cc/list_cdr_ibs and
/cc/list_cdr_obs (startTime / endTime in seconds, not across a month; offset, limit ≤ 100)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse
from collections.abc import Mapping
from datetime import UTC, datetime

from django.utils.translation import gettext as _

from calls.providers.base import (
    CHINA,
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

NAME = "clink"
VENDOR = "Clink"
PAGE_SIZE = 100
MAX_PAGES = 100
EXPIRES = "600"  # seconds a signed request stays valid
REFERENCE_KEY = "dcc_ref"

D = Disposition
INBOUND_STATUS: dict[str, Disposition] = {
    "1": D.ANSWERED,  # 座席接听
    "2": D.MISSED_RINGING,  # 已呼叫座席, 座席未接听
    "3": D.ABANDONED_IVR,  # 系统接听 (no seat; MISSED_IN_QUEUE when a queue was reached)
    "4": D.FAILED,  # 系统未接-IVR 配置错误
    "5": D.FAILED,  # 系统未接-停机
    "6": D.FAILED,  # 系统未接-欠费
    "7": D.REJECTED,  # 系统未接-黑名单
    "8": D.FAILED,  # 系统未接-未注册
    "9": D.FAILED,  # 系统未接-彩铃
    "11": D.FAILED,  # 系统未接-超出最大并发
    "12": D.ABANDONED_IVR,  # 客户在系统应答前挂机
    "13": D.FAILED,  # 其他错误
}
OUTBOUND_STATUS: dict[str, Disposition] = {
    "1": D.NO_ANSWER,  # (list API) 客户未接听
    "2": D.FAILED,  # (list API) 座席未接听: the customer was never called
    "3": D.ANSWERED,  # (list API) 双方接听
    "20": D.FAILED,  # webcall, TTS 合成失败
    "21": D.NO_ANSWER,  # webcall, 客户未接
    "22": D.ANSWERED,  # webcall, 客户接听
    "23": D.NO_ANSWER,  # webcall, 已呼叫
    "24": D.ANSWERED,  # webcall, 双方接听
    "30": D.FAILED,  # 座席未接听
    "31": D.FAILED,  # 座席接听, 未呼叫客户
    "32": D.NO_ANSWER,  # 座席接听, 客户未接听
    "33": D.ANSWERED,  # 双方接听
    "40": D.NO_ANSWER,  # 预测外呼, 客户未接听
    "41": D.FAILED,  # 预测外呼, 客户接听 (no seat took it)
    "42": D.NO_ANSWER,  # 预测外呼, 已呼叫
    "43": D.ANSWERED,  # 预测外呼, 双方接听
    "51": D.NO_ANSWER,  # 主叫外呼, 客户未接听
    "52": D.ANSWERED,  # 主叫外呼, 双方接听
}
RINGING_TYPES = {"ringing", "ring", "振铃", "来电", "incoming"}
ANSWERED_TYPES = {"answer", "answered", "bridge", "bridged", "接通"}
RECORDING_TYPES = {"record", "recording", "录音"}
INBOUND_CALL_TYPES = {"1", "2"}
HUNG_UP = {
    "customer": HungUpBy.CUSTOMER,
    "客户": HungUpBy.CUSTOMER,
    "agent": HungUpBy.AGENT,
    "座席": HungUpBy.AGENT,
    "system": HungUpBy.SYSTEM,
    "系统": HungUpBy.SYSTEM,
}


def parse(body: bytes, content_type: str) -> list[CallReport]:
    return [_report(item) for item in items_of(load_body(body, content_type), list_keys=("cdrs",))]


def _direction(item: Fields) -> Direction:
    cdr_type = item.text("cdrType", max_length=32).lower()
    if cdr_type.startswith("cdr_ib"):
        return Direction.INBOUND
    if cdr_type.startswith("cdr_ob"):
        return Direction.OUTBOUND
    call_type = item.text("callType", max_length=8)
    if call_type:
        return Direction.INBOUND if call_type in INBOUND_CALL_TYPES else Direction.OUTBOUND
    stated = item.text("direction", max_length=16).lower()
    if stated in ("ob", "outbound", "out", "呼出"):
        return Direction.OUTBOUND
    if stated in ("ib", "inbound", "in", "呼入"):
        return Direction.INBOUND
    status = item.integer("status")
    if status is not None and status >= 20:
        return Direction.OUTBOUND
    return Direction.OUTBOUND if item.has("requestUniqueId") else Direction.INBOUND


def reference_of(item: Fields) -> str:
    """Our reference, from userField ({"dcc_ref": …} as JSON or dcc_ref=… pairs) or else
    requestUniqueId."""
    user_field = item.text("userField", max_length=2048)
    if user_field:
        try:
            decoded = json.loads(user_field)
        except ValueError:
            decoded = dict(urllib.parse.parse_qsl(user_field))
        if isinstance(decoded, dict):
            value = decoded.get(REFERENCE_KEY)
            if isinstance(value, str) and value.strip():
                return value.strip()[:256]
    return item.text("requestUniqueId", max_length=256)


def _report(item: Fields) -> CallReport:
    call_id = item.text("mainUniqueId", "uniqueId", required=True, max_length=128)
    kind = item.text("type", "pushType", "event", max_length=32).lower()
    direction = _direction(item)
    customer = item.text("customerNumber", max_length=64)
    line = item.text("hotline", "numberTrunk", "clid", max_length=64)
    seat = item.text("cno", max_length=32)
    recordings = url_list(item.text("recordFileUrl", "recordUrl"), item.text("recordFile"))
    common = {
        "provider": NAME,
        "call_id": call_id,
        "direction": direction,
        "line_number": line,
        "customer_number": customer,
        "seat": seat,
        "reference": reference_of(item),
        "raw": item.data,
    }
    if kind in RINGING_TYPES:
        return CallReport(phase=Phase.RINGING, rang_at=item.time("startTime", "ringTime"), **common)
    if kind in ANSWERED_TYPES:
        return CallReport(
            phase=Phase.ANSWERED,
            rang_at=item.time("startTime"),
            answered_at=item.time("bridgeTime", "answerTime"),
            **common,
        )
    if kind in RECORDING_TYPES or (recordings and not item.has("status", "endTime", "startTime")):
        return CallReport(phase=Phase.RECORDING, recording_urls=recordings, **common)
    if not item.has("status", "endTime"):
        raise PayloadError(_("status is missing."), field="status")
    return cdr_report(item, common, recordings)


def cdr_report(item: Fields, common: dict, recordings: tuple[str, ...]) -> CallReport:
    direction = common["direction"]
    started = item.time("startTime")
    ended = item.time("endTime")
    bridged = item.time("bridgeTime")
    status = item.text("status", max_length=16)
    if direction == Direction.INBOUND:
        # answerTime is the system's answer (the IVR); the seat answers at bridgeTime
        answered = bridged or (item.time("answerTime") if status == "1" else None)
        found = INBOUND_STATUS.get(status, D.OTHER)
        if status == "3" and item.has("qno", "queueName", "joinQueueTime"):
            found = D.MISSED_IN_QUEUE
    else:
        found = OUTBOUND_STATUS.get(status, D.OTHER)
        answered = (bridged or item.time("answerTime")) if found == D.ANSWERED else None
    wait = span(started, answered or ended, "bridgeTime" if answered else "endTime")
    after_answer = span(answered, ended, "endTime")
    talk = item.seconds("bridgeDuration")
    if talk is None:
        talk = after_answer if answered else 0
    if found != D.ANSWERED:
        talk = talk or 0
    side = item.text("hangupSide", "endSide", max_length=16).lower()
    return CallReport(
        phase=Phase.ENDED,
        rang_at=started,
        answered_at=answered if found == D.ANSWERED else None,
        ended_at=ended,
        wait_seconds=wait,
        talk_seconds=talk,
        disposition=found,
        status=status,
        hung_up_by=HUNG_UP.get(side, HungUpBy.UNKNOWN),
        recording_urls=recordings,
        **common,
    )


authenticate = authenticate_by_shared_secret


def acknowledge(ok: bool, message: str = "") -> tuple[int, bytes, str]:
    if ok:
        return json_ack(200, {"result": 0, "description": "ok"})
    return json_ack(500, {"result": 1, "description": message or "not stored"})


def recording_hosts(credentials: Mapping[str, str]) -> tuple[str, ...]:
    return (".clink.cn", ".tinetcloud.com", *extra_hosts(credentials))


# ---------------------------------------------------------------------------------------------
# API client


def quote(value: str) -> str:
    return urllib.parse.quote(value, safe="-_.~")


def string_to_sign(method: str, host: str, path: str, params: Mapping[str, str]) -> str:
    query = "&".join(f"{quote(k)}={quote(v)}" for k, v in sorted(params.items()))
    return f"{method}{host}{path}?{query}"


def signed_query(
    credentials: Mapping[str, str], method: str, host: str, path: str, params: Mapping[str, str]
) -> str:
    key_id, secret = need(credentials, VENDOR, "access_key_id", "access_key_secret")
    signed = {
        **params,
        "AccessKeyId": key_id,
        "Expires": EXPIRES,
        "Timestamp": utc_stamp(datetime.now(tz=UTC)),
    }
    digest = hmac.new(
        secret.encode("utf-8"),
        string_to_sign(method, host, path, signed).encode("utf-8"),
        hashlib.sha1,
    ).digest()
    signed["Signature"] = base64.b64encode(digest).decode("ascii")
    return "&".join(f"{quote(k)}={quote(v)}" for k, v in sorted(signed.items()))


def call_api(
    credentials: Mapping[str, str],
    base_url: str,
    method: str,
    path: str,
    *,
    params: Mapping[str, str] | None = None,
    payload: Mapping[str, object] | None = None,
    timeout: float,
) -> Mapping[str, object]:
    parts = api_base(base_url, VENDOR)
    query = signed_query(credentials, method, parts.netloc, path, params or {})
    body = None
    headers = {}
    if payload is not None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        headers["Content-Type"] = "application/json; charset=utf-8"
    url = f"{parts.scheme}://{parts.netloc}{path}?{query}"
    answer = http(VENDOR, method, url, headers=headers, body=body, timeout=timeout)
    data = answer.json(VENDOR)
    if not isinstance(data, dict):
        raise ProviderError(
            _("%(vendor)s answered HTTP %(status)s without a result.")
            % {"vendor": VENDOR, "status": answer.status}
        )
    error = data.get("error")
    if answer.status != 200 or isinstance(error, dict):
        error = error if isinstance(error, dict) else {}
        raise ProviderError(
            _("%(vendor)s refused %(action)s: %(code)s %(message)s")
            % {
                "vendor": VENDOR,
                "action": path,
                "code": str(error.get("code", answer.status))[:100],
                "message": str(error.get("message", ""))[:300],
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
    """Callout (外呼) from seat `cno` to the customer. Clink answers before the call exists:
    the id returned is the call's uniqueId when Clink says it, else our requestUniqueId,
    which its pushes echo."""
    payload: dict[str, object] = {
        "cno": seat,
        "customerNumber": customer_number,
        "requestUniqueId": reference,
        "userField": {REFERENCE_KEY: reference},
    }
    if credentials.get("caller"):
        payload["clid"] = credentials["caller"]
    data = call_api(credentials, base_url, "POST", "/cc/callout", payload=payload, timeout=timeout)
    result = data.get("result")
    if isinstance(result, dict):
        for key in ("mainUniqueId", "uniqueId", "requestUniqueId"):
            value = result.get(key)
            if isinstance(value, str) and value:
                return value
    return reference


def _months(since: datetime, until: datetime) -> list[tuple[datetime, datetime]]:
    """[since, until) cut at the first of each month in China time (Clink's list APIs do not
    span months)."""
    windows = []
    start = since
    while start < until:
        local = start.astimezone(CHINA)
        first = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        if first.month == 12:
            following = first.replace(year=first.year + 1, month=1)
        else:
            following = first.replace(month=first.month + 1)
        end = min(until, following)
        windows.append((start, end))
        start = end
    return windows


def calls_since(
    credentials: Mapping[str, str],
    base_url: str,
    since: datetime,
    until: datetime,
    *,
    timeout: float = 10.0,
) -> list[CallReport]:
    reports: list[CallReport] = []
    for path, key, cdr_type in (
        ("/cc/list_cdr_ibs", "cdrIbs", "cdr_ib"),
        ("/cc/list_cdr_obs", "cdrObs", "cdr_ob"),
    ):
        for start, end in _months(since, until):
            for page in range(MAX_PAGES):
                last = int(end.timestamp()) - (1 if end < until else 0)
                params = {
                    "startTime": str(int(start.timestamp())),
                    "endTime": str(last),
                    "offset": str(page * PAGE_SIZE),
                    "limit": str(PAGE_SIZE),
                }
                data = call_api(credentials, base_url, "GET", path, params=params, timeout=timeout)
                rows = data.get(key)
                if rows is None:
                    rows = data.get("list", [])
                if not isinstance(rows, list):
                    raise ProviderError(
                        _("%(vendor)s answered a list that is not one.") % {"vendor": VENDOR}
                    )
                for row in rows:
                    reports.append(_api_row(row, cdr_type))
                total = data.get("totalCount")
                if len(rows) < PAGE_SIZE or (
                    isinstance(total, int) and (page + 1) * PAGE_SIZE >= total
                ):
                    break
    return reports


def _api_row(row: object, cdr_type: str) -> CallReport:
    if not isinstance(row, dict):
        raise ProviderError(
            _("%(vendor)s answered a call record that is not an object.") % {"vendor": VENDOR}
        )
    try:
        return _report(Fields({"cdrType": cdr_type, **row}))
    except PayloadError as error:
        raise ProviderError(
            _("%(vendor)s answered an unreadable call record: %(reason)s")
            % {"vendor": VENDOR, "reason": error.message}
        ) from None
