"""Where Alibaba Cloud pushes delivery receipts and replies: one public address per dealer,
/sms/push/<token>/, the token naming (and authenticating) the dealer. Aliyun's HTTP batch push
POSTs a JSON array of SmsReport items (phone_number, success, err_code, err_msg, biz_id,
report_time, …) or of SmsUp items (phone_number, content, send_time, dest_code, sign_name,
…); it expects {"code": 0, "msg": "成功"} and pushes again on anything else.

A bad push is answered 400 naming the field, and nothing of it is stored; numbers never reach
the log."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from calls.providers.base import Fields, items_of, load_json
from calls.report import PayloadError
from sms.models import SmsSettings
from sms.sending import receive_reply, record_report

MAX_PUSH_BYTES = 256 * 1024


def _refused(status: int, code: str, message: str, field: str = "") -> JsonResponse:
    body = {"code": status, "msg": message, "error": code} | ({"field": field} if field else {})
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


def _flag(item: Fields, name: str) -> bool:
    value = item.data.get(name)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise PayloadError(_("%(field)s has an invalid value.") % {"field": name}, field=name)


@csrf_exempt
@require_POST
def receive_push(request: HttpRequest, token: str) -> HttpResponse:
    settings = SmsSettings.objects.select_related("dealer").filter(push_token=token).first()
    if settings is None:
        return _refused(404, "unknown_dealer", _("No dealer has this push address."))
    if int(request.headers.get("Content-Length") or 0) > MAX_PUSH_BYTES:
        return _refused(413, "payload_too_large", _("The push is too large."))
    try:
        items = items_of(load_json(request.body))
        with transaction.atomic():  # a batch is stored whole or not at all
            for item in items:
                phone = item.text("phone_number", required=True, max_length=20)
                if item.has("content"):  # SmsUp: a reply
                    receive_reply(
                        dealer=settings.dealer,
                        phone=phone,
                        content=item.text("content", required=True, max_length=1000),
                        at=_at(item, "send_time"),
                    )
                else:  # SmsReport: a delivery receipt
                    record_report(
                        dealer=settings.dealer,
                        provider_id=item.text("biz_id", required=True, max_length=64),
                        delivered=_flag(item, "success"),
                        error=item.text("err_code", max_length=64),
                        at=_at(item, "report_time"),
                    )
    except PayloadError as error:
        return _refused(400, "invalid_payload", error.message, error.field or "")
    return JsonResponse({"code": 0, "msg": "成功"}, json_dumps_params={"ensure_ascii": False})


def _at(item: Fields, name: str) -> datetime:
    moment = item.time(name)
    if moment is None:
        raise PayloadError(_("%(field)s is missing.") % {"field": name}, field=name)
    return moment
