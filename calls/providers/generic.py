"""DCC's own push format, for any phone system that can send JSON: exactly the fields of a
CallReport, one object or a list of them per POST (Content-Type: application/json).

    {
      "call_id": "a1b2c3",                      required, ≤ 128 characters
      "phase": "ended",                         required: ringing | answered | ended | recording
      "direction": "inbound",                   required: inbound | outbound
      "line_number": "02161234567",             the dealer's number (called / shown)
      "customer_number": "13812345678",
      "seat": "8001",                           the seat / agent id in that system
      "rang_at": "2026-11-18T10:00:00+08:00",   ISO 8601; without a zone: China time
      "answered_at": "2026-11-18T10:00:12+08:00",
      "ended_at": "2026-11-18T10:03:12+08:00",
      "wait_seconds": 12,                       whole seconds ≥ 0; computed from the times
      "talk_seconds": 180,                      when left out
      "disposition": "answered",                required when phase is ended: answered |
                                                missed_in_queue | missed_ringing | abandoned_ivr |
                                                no_agent | out_of_hours | busy | no_answer |
                                                failed | rejected | other
      "status": "ANSWER",                       the system's own status, kept as sent
      "hung_up_by": "customer",                 customer | agent | system | "" (unknown)
      "recording_urls": ["https://…/a.mp3"],
      "reference": "…"                          what a click-to-call sent, echoed
    }

Authentication: `X-DCC-Signature: sha256=<hex HMAC-SHA256 of the raw body with the push
secret>` when the dealer sets `push_secret`; and / or basic auth or a token, as for the
vendors that sign nothing. There is no click-to-call and no reconciliation API."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime

from django.utils.translation import gettext as _

from calls.providers.base import (
    BadCredentials,
    Fields,
    ProviderError,
    check_shared_secret,
    extra_hosts,
    header,
    invalid,
    items_of,
    json_ack,
    load_json,
    span,
    url_list,
)
from calls.report import CallReport, Direction, Disposition, HungUpBy, Phase

NAME = "generic"
SIGNATURE_HEADER = "X-DCC-Signature"


def _choice(item: Fields, field: str, choices: type, *, required: bool) -> object:
    value = item.text(field, required=required, max_length=32).lower()
    if not value and not required:
        return None
    try:
        return choices(value)
    except ValueError:
        raise invalid(field) from None


def parse(body: bytes, content_type: str) -> list[CallReport]:
    return [_report(item) for item in items_of(load_json(body), list_keys=("calls",))]


def _report(item: Fields) -> CallReport:
    call_id = item.text("call_id", required=True, max_length=128)
    phase = _choice(item, "phase", Phase, required=True)
    direction = _choice(item, "direction", Direction, required=True)
    disposition = _choice(item, "disposition", Disposition, required=phase == Phase.ENDED)
    hung_up = item.text("hung_up_by", max_length=16).lower()
    try:
        hung_up_by = HungUpBy(hung_up)
    except ValueError:
        raise invalid("hung_up_by") from None
    rang_at = item.time("rang_at")
    answered_at = item.time("answered_at")
    ended_at = item.time("ended_at")
    wait = item.seconds("wait_seconds")
    if wait is None:
        wait = span(rang_at, answered_at or ended_at, "answered_at" if answered_at else "ended_at")
    after_answer = span(answered_at, ended_at, "ended_at")
    span(rang_at, ended_at, "ended_at")
    talk = item.seconds("talk_seconds")
    if talk is None:
        talk = after_answer
    urls = item.texts("recording_urls")
    if len(url_list(*urls)) != len(set(urls)):
        raise invalid("recording_urls")
    return CallReport(
        provider=NAME,
        call_id=call_id,
        phase=phase,
        direction=direction,
        line_number=item.text("line_number", max_length=64),
        customer_number=item.text("customer_number", max_length=64),
        seat=item.text("seat", max_length=128),
        rang_at=rang_at,
        answered_at=answered_at,
        ended_at=ended_at,
        wait_seconds=wait,
        talk_seconds=talk,
        disposition=disposition,
        status=item.text("status", max_length=64),
        hung_up_by=hung_up_by,
        recording_urls=url_list(*urls),
        reference=item.text("reference", max_length=256),
        raw=item.data,
    )


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def authenticate(
    headers: Mapping[str, str],
    body: bytes,
    query: Mapping[str, str],
    credentials: Mapping[str, str],
) -> None:
    secret = credentials.get("push_secret", "")
    if secret:
        given = header(headers, SIGNATURE_HEADER).strip()
        if not hmac.compare_digest(given.encode("utf-8"), signature(secret, body).encode()):
            raise BadCredentials("wrong signature")
        if not (credentials.get("push_password") or credentials.get("push_token")):
            return
    check_shared_secret(headers, query, credentials)


def acknowledge(ok: bool, message: str = "") -> tuple[int, bytes, str]:
    if ok:
        return json_ack(200, {"ok": True})
    return json_ack(503, {"ok": False, "error": message or "not stored"})


def recording_hosts(credentials: Mapping[str, str]) -> tuple[str, ...]:
    """Only the hosts the dealer names (`recording_hosts`)."""
    return extra_hosts(credentials)


def dial(
    credentials: Mapping[str, str],
    base_url: str,
    *,
    seat: str,
    customer_number: str,
    reference: str,
    timeout: float,
) -> str:
    raise ProviderError(_("This phone system has no click-to-call."))


def calls_since(
    credentials: Mapping[str, str],
    base_url: str,
    since: datetime,
    until: datetime,
    *,
    timeout: float = 10.0,
) -> list[CallReport]:
    raise ProviderError(_("This phone system cannot be asked for its call records."))
