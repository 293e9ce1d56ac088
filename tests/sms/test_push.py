"""Receipts and replies pushed by Alibaba Cloud to the dealer's address (its token in the URL):
taken in Aliyun's shapes, answered as Aliyun expects; a bad push is refused naming the field
and stores nothing."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from privacy import consent
from privacy.models import Purpose
from sms.models import Message, Reply, Status
from sms.sending import send_to_lead
from tests.sms.conftest import agree

pytestmark = pytest.mark.django_db


def push(token: str, payload) -> tuple[int, dict]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False)
    answer = Client().post(f"/sms/push/{token}/", body, content_type="application/json")
    return answer.status_code, answer.json()


def test_a_delivery_report(team, lead, notice, sms_settings):
    message = send_to_lead(lead=lead, template=notice, by=team.dcc_agent)
    report = {
        "phone_number": lead.customer.phone,
        "send_time": "2026-11-18 10:00:01",
        "report_time": "2026-11-18 10:00:08",
        "success": False,
        "err_code": "MK:0001",
        "err_msg": "用户接收失败",
        "sms_size": "1",
        "biz_id": message.provider_id,
        "out_id": "",
    }
    assert push(sms_settings.push_token, [report]) == (200, {"code": 0, "msg": "成功"})
    message.refresh_from_db()
    assert (message.status, message.error) == (Status.FAILED, "MK:0001")
    assert message.reported_at.isoformat() == "2026-11-18T02:00:08+00:00"


def test_an_r_reply_opts_the_number_out(team, lead, sms_settings):
    agree(lead)
    up = {
        "phone_number": lead.customer.phone,
        "send_time": "2026-11-18 10:05:00",
        "content": " r ",
        "sign_name": "星河4S店",
        "dest_code": "1234",
        "sequence_id": 1234567890,
    }
    assert push(sms_settings.push_token, [up])[0] == 200
    assert consent.current(lead.customer, Purpose.SMS) is False
    assert Reply.objects.get().opted_out


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ([{"content": "R", "send_time": "2026-11-18 10:05:00"}], "phone_number"),
        ([{"phone_number": "13900000000", "content": "R"}], "send_time"),
        ([{"phone_number": "13900000000", "success": "maybe", "biz_id": "1",
           "report_time": "2026-11-18 10:00:08"}], "success"),
        ([{"phone_number": "13900000000", "success": True, "report_time": "x", "biz_id": "1"}],
         "report_time"),
        ([{"phone_number": "1" * 40, "content": "R", "send_time": "2026-11-18 10:05:00"}],
         "phone_number"),
        ([1, 2], "body"),
        (b"{not json", "body"),
    ],
    ids=["no phone", "no time", "success not a flag", "bad time", "long phone", "not objects",
         "not json"],
)  # fmt: skip
def test_a_bad_push_is_refused_naming_the_field(team, sms_settings, payload, field):
    status, body = push(sms_settings.push_token, payload)
    assert (status, body.get("field")) == (400, field)
    assert not Reply.objects.exists()


def test_a_batch_with_one_bad_item_stores_nothing(team, lead, sms_settings):
    good = {"phone_number": lead.customer.phone, "content": "R", "send_time": "2026-11-18 10:05"}
    assert push(sms_settings.push_token, [good, {"content": "R"}])[0] == 400
    assert not Reply.objects.exists()


def test_an_unknown_address_and_a_get(sms_settings):
    assert push("nope", [])[0] == 404
    assert Client().get(f"/sms/push/{sms_settings.push_token}/").status_code == 405
    assert not Message.objects.exists()
