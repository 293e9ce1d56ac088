"""SMS fixtures: the dealer's SMS settings (the outbox, a signature), a notification and a
marketing template, and customers who did or did not consent to marketing SMS."""

from __future__ import annotations

import pytest
from django.utils import timezone

from leads.models import Lead
from privacy import consent
from privacy.models import ConsentSource, Purpose
from sms.models import Kind, SmsSettings, Template
from tests.calls.fake_provider import fake_provider
from tests.factories import make_lead

SIGNATURE = "星河4S店"
NOTICE_TEXT = "${name}您好，您预约的${model}试驾时间为${appointment}，顾问${consultant}恭候。"
OFFER_TEXT = "${name}您好，本周末店内${model}限时优惠，欢迎到店品鉴。拒收请回复R"


@pytest.fixture
def sms_settings(team) -> SmsSettings:
    settings = SmsSettings.of(team.dealer)
    settings.signature = SIGNATURE
    settings.dealer_phone = "400-800-8888"
    settings.save()
    return settings


@pytest.fixture
def notice(team, sms_settings) -> Template:
    return Template.objects.create(
        dealer=team.dealer, name="试驾提醒", kind=Kind.NOTIFICATION, text=NOTICE_TEXT
    )


@pytest.fixture
def offer(team, sms_settings) -> Template:
    return Template.objects.create(
        dealer=team.dealer, name="周末优惠", kind=Kind.MARKETING, text=OFFER_TEXT
    )


def agree(lead: Lead, given: bool = True) -> None:
    consent.record(
        customer=lead.customer,
        purpose=Purpose.SMS,
        given=given,
        how=ConsentSource.FORM,
        evidence="门店登记表",
        at=timezone.now(),
    )


@pytest.fixture
def lead(team) -> Lead:
    return make_lead(
        team.dealer, by=team.dcc_agent, owner=team.dcc_agent, name="王先生", car_model="瑶光"
    )


__all__ = ["agree", "fake_provider"]
