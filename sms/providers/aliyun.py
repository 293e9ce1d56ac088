"""Alibaba Cloud SMS (阿里云短信服务, dysmsapi, API version 2017-05-25), from its public docs.

SendSms is an RPC call signed with signature version 1.0 (HMAC-SHA1 of the canonicalised query,
the key being the AccessKey secret and "&"; calls.providers.aliyun.signature, shared with the
contact center): AccessKeyId, Action=SendSms, Format=JSON, PhoneNumbers, RegionId, SignName,
SignatureMethod, SignatureNonce, SignatureVersion=1.0, TemplateCode, TemplateParam (JSON),
Timestamp (ISO 8601, UTC), Version. It answers JSON {Code, Message, BizId, RequestId}: Code
"OK" is accepted (BizId names the message in its receipt); any other code is a refusal, e.g.
isv.BUSINESS_LIMIT_CONTROL (Aliyun's own per-number flow control), isv.MOBILE_NUMBER_ILLEGAL.

Receipts (SmsReport) and replies (SmsUp) arrive by HTTP push: sms.push."""

from __future__ import annotations

import json
import urllib.parse
import uuid
from datetime import UTC, datetime

from django.utils.translation import gettext as _

from calls.providers.aliyun import signature
from calls.providers.base import ProviderError, api_base, http, utc_stamp
from sms.models import SmsSettings
from sms.providers.common import Outgoing, Sent

VENDOR = "Alibaba Cloud SMS"
API_URL = "https://dysmsapi.aliyuncs.com/"
API_VERSION = "2017-05-25"
TIMEOUT = 10.0


def signed_params(
    settings: SmsSettings, outgoing: Outgoing, *, nonce: str, at: datetime
) -> dict[str, str]:
    """SendSms's parameters with their Signature."""
    params = {
        "AccessKeyId": settings.access_key_id,
        "Action": "SendSms",
        "Format": "JSON",
        "PhoneNumbers": outgoing.phone,
        "RegionId": settings.region_id or "cn-hangzhou",
        "SignName": outgoing.sign_name,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": nonce,
        "SignatureVersion": "1.0",
        "TemplateCode": outgoing.template_code,
        "TemplateParam": json.dumps(outgoing.params, ensure_ascii=False, separators=(",", ":")),
        "Timestamp": utc_stamp(at),
        "Version": API_VERSION,
    }
    params["Signature"] = signature(settings.access_key_secret, "POST", params)
    return params


def send(settings: SmsSettings, outgoing: Outgoing) -> Sent:
    if not (settings.access_key_id and settings.access_key_secret):
        raise ProviderError(
            _("Enter the Alibaba Cloud AccessKey ID and secret in the SMS settings.")
        )
    if not outgoing.template_code:
        raise ProviderError(_("The template has no Alibaba Cloud template code."))
    parts = api_base(settings.api_url or API_URL, VENDOR)
    params = signed_params(settings, outgoing, nonce=str(uuid.uuid4()), at=datetime.now(tz=UTC))
    body = urllib.parse.urlencode(params, quote_via=urllib.parse.quote).encode("ascii")
    answer = http(
        VENDOR,
        "POST",
        f"{parts.scheme}://{parts.netloc}/",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=body,
        timeout=TIMEOUT,
    )
    payload = answer.json(VENDOR)
    if not isinstance(payload, dict):
        raise ProviderError(_("%(vendor)s answered something unexpected.") % {"vendor": VENDOR})
    code = str(payload.get("Code") or "")
    if answer.status != 200 or code != "OK":
        raise ProviderError(
            _("%(vendor)s refused the message: %(code)s %(message)s")
            % {
                "vendor": VENDOR,
                "code": code or f"HTTP {answer.status}",
                "message": str(payload.get("Message") or "")[:120],
            }
        )
    biz_id = str(payload.get("BizId") or "")[:64]
    if not biz_id:
        raise ProviderError(_("%(vendor)s answered without a message id.") % {"vendor": VENDOR})
    return Sent(provider_id=biz_id)
