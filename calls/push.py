"""Where the providers push: one address per dealer account (/phone/push/<push key>/), each
push authenticated the way its provider signs, parsed by its adapter into CallReports and
merged into calls (calls.actions.receive), answered in the shape the provider expects.

Bad pushes are answered with a 4xx that says what is wrong and where, and store nothing: a
wrong signature or credentials 401, an unknown account 404, an oversized body 413, an
unreadable one 400 naming the field. Numbers never reach the log."""

from __future__ import annotations

import logging

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from calls import actions
from calls.models import PhoneAccount
from calls.providers import PROVIDERS, BadCredentials
from calls.report import PayloadError
from dcc.errors import DomainError
from dcc.metrics import push_received

log = logging.getLogger(__name__)

# A call detail record is a few kilobytes; a batch of them from a reconciling provider more.
MAX_PUSH_BYTES = 512 * 1024


def _refused(status: int, code: str, message: str, field: str = "") -> JsonResponse:
    body = {"error": message, "code": code} | ({"field": field} if field else {})
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


@csrf_exempt
@require_POST
def receive_push(request: HttpRequest, push_key: str) -> HttpResponse:
    account = (
        PhoneAccount.objects.select_related("dealer")
        .filter(push_key=push_key, is_active=True)
        .first()
    )
    if account is None:
        return _refused(404, "unknown_account", _("No phone account has this push address."))
    if int(request.headers.get("Content-Length") or 0) > MAX_PUSH_BYTES:
        return _refused(413, "payload_too_large", _("The push is too large."))
    provider = PROVIDERS[account.provider]
    body = request.body
    try:
        provider.authenticate(request.headers, body, request.GET, account.credentials)
    except BadCredentials as error:
        log.warning("phone push refused for account %s: %s", account.pk, error)
        return _refused(401, "bad_credentials", _("The push's signature or credentials are wrong."))
    try:
        reports = provider.parse(body, request.content_type or "")
    except PayloadError as error:
        log.info("unreadable phone push for account %s: %s", account.pk, error.field)
        return _refused(400, "invalid_payload", error.message, error.field)
    try:
        with transaction.atomic():  # a push of several calls is stored whole or not at all
            for report in reports:
                actions.receive(account, report)
    except DomainError as error:
        return _refused(400, "invalid_payload", error.message, error.field or "")
    push_received("call")
    status, answer, content_type = provider.acknowledge(True)
    return HttpResponse(answer, status=status, content_type=content_type)
