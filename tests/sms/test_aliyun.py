"""The Alibaba Cloud SMS adapter: its signature against the documented SendSms example, and
the client against a fake dysmsapi on 127.0.0.1 (what it sends, how it reads the answer)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse
from datetime import UTC, datetime

import pytest

from calls.providers.aliyun import signature
from sms.models import Message, Provider, Status
from sms.providers import aliyun
from sms.providers.common import Outgoing
from sms.sending import send_to_lead
from tests.calls.fake_provider import FakeProvider

pytestmark = pytest.mark.django_db


def test_the_signature_of_the_documented_sendsms_example():
    """Aliyun's worked example of a SendSms request (signature version 1.0, GET)."""
    params = {
        "AccessKeyId": "testId",
        "Action": "SendSms",
        "Format": "XML",
        "OutId": "123",
        "PhoneNumbers": "15300000001",
        "RegionId": "cn-hangzhou",
        "SignName": "阿里云短信测试专用",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
        "SignatureVersion": "1.0",
        "TemplateCode": "SMS_71390007",
        "TemplateParam": '{"customer":"test"}',
        "Timestamp": "2017-07-12T02:42:19Z",
        "Version": "2017-05-25",
    }
    assert signature("testSecret", "GET", params) == "zJDF+Lrzhj/ThnlvIToysFRq6t4="


def _expected_signature(secret: str, form: dict[str, str]) -> str:
    """Signature 1.0 recomputed from the form as received (RFC 3986 encoding, ~ kept)."""

    def encode(value: str) -> str:
        return urllib.parse.quote(value, safe="~")

    unsigned = {k: v for k, v in form.items() if k != "Signature"}
    canonical = "&".join(f"{encode(k)}={encode(v)}" for k, v in sorted(unsigned.items()))
    to_sign = "POST&%2F&" + encode(canonical)
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


@pytest.fixture
def aliyun_settings(sms_settings, fake_provider: FakeProvider):
    sms_settings.provider = Provider.ALIYUN
    sms_settings.access_key_id = "LTAI-test"
    sms_settings.access_key_secret = "s3cret~key"
    sms_settings.api_url = fake_provider.base_url
    sms_settings.save()
    return sms_settings


OUTGOING = Outgoing(
    phone="13912345678",
    sign_name="星河4S店",
    template_code="SMS_153055065",
    params={"name": "王先生", "model": "瑶光"},
    text="【星河4S店】…",
)


def test_sendsms_is_posted_signed_and_its_bizid_kept(aliyun_settings, fake_provider):
    fake_provider.answer(
        200,
        {"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0", "RequestId": "F655A8D5"},
    )
    sent = aliyun.send(aliyun_settings, OUTGOING)
    assert sent.provider_id == "900619746936498440^0"
    request = fake_provider.requests[0]
    assert request.method == "POST"
    form = request.form()
    assert {k: form[k] for k in ("Action", "Version", "Format", "PhoneNumbers", "SignName")} == {
        "Action": "SendSms",
        "Version": "2017-05-25",
        "Format": "JSON",
        "PhoneNumbers": "13912345678",
        "SignName": "星河4S店",
    }
    assert json.loads(form["TemplateParam"]) == {"name": "王先生", "model": "瑶光"}
    assert (form["TemplateCode"], form["AccessKeyId"], form["RegionId"]) == (
        "SMS_153055065",
        "LTAI-test",
        "cn-hangzhou",
    )
    assert (form["SignatureMethod"], form["SignatureVersion"]) == ("HMAC-SHA1", "1.0")
    stamp = datetime.strptime(form["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs((stamp - datetime.now(tz=UTC)).total_seconds()) < 5
    assert form["Signature"] == _expected_signature("s3cret~key", form)
    assert "s3cret" not in request.body.decode()


def test_a_refusal_is_a_failed_message_with_aliyuns_code(
    team, lead, notice, aliyun_settings, fake_provider
):
    notice.provider_code = "SMS_153055065"
    notice.save()
    fake_provider.answer(
        200,
        {
            "Code": "isv.BUSINESS_LIMIT_CONTROL",
            "Message": "触发分钟级流控Permits:1",
            "RequestId": "x",
        },
    )
    message = send_to_lead(lead=lead, template=notice, by=team.dcc_agent)
    assert message.status == Status.FAILED
    assert "isv.BUSINESS_LIMIT_CONTROL" in message.error
    assert Message.objects.get().provider_id == ""


def test_a_signature_refused_over_http_is_a_failure_too(aliyun_settings, fake_provider):
    fake_provider.answer(400, {"Code": "SignatureDoesNotMatch", "Message": "Specified signature"})
    with pytest.raises(aliyun.ProviderError) as refused:
        aliyun.send(aliyun_settings, OUTGOING)
    assert "SignatureDoesNotMatch" in refused.value.message


def test_an_answer_that_is_not_json(aliyun_settings, fake_provider):
    fake_provider.answer(502, raw=b"<html>bad gateway</html>")
    with pytest.raises(aliyun.ProviderError) as refused:
        aliyun.send(aliyun_settings, OUTGOING)
    assert "not JSON" in refused.value.message


def test_missing_keys_or_template_code_are_named_before_calling(aliyun_settings, fake_provider):
    with pytest.raises(aliyun.ProviderError) as refused:
        aliyun.send(aliyun_settings, Outgoing(**{**OUTGOING.__dict__, "template_code": ""}))
    assert "template code" in refused.value.message
    aliyun_settings.access_key_secret = ""
    with pytest.raises(aliyun.ProviderError) as refused:
        aliyun.send(aliyun_settings, OUTGOING)
    assert "AccessKey" in refused.value.message
    assert fake_provider.requests == []


def test_an_unreachable_provider(aliyun_settings):
    aliyun_settings.api_url = "http://127.0.0.1:9/"
    with pytest.raises(aliyun.ProviderError) as refused:
        aliyun.send(aliyun_settings, OUTGOING)
    assert "could not be reached" in refused.value.message
