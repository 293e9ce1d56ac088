"""A running car show with its own code and a consultant's code."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns import campaigns
from campaigns.models import Campaign, CaptureCode
from tests.factories import channel


def fields(dealer, **changes) -> campaigns.CampaignFields:
    today = timezone.localdate()
    values = {
        "name": "上海车展",
        "kind": "car_show",
        "starts_on": today - timedelta(days=1),
        "ends_on": today + timedelta(days=5),
        "channel": channel(dealer, "car_show"),
        "budget": Decimal("20000"),
        "cost": Decimal("12000"),
        "offer": "免费领取车展门票",
        "consent_wording": "我同意接收电话和短信。",
    }
    return campaigns.CampaignFields(**(values | changes))


@pytest.fixture
def show(team) -> Campaign:
    return campaigns.create_campaign(
        dealer=team.dealer, by=team.marketing_manager, fields=fields(team.dealer)
    )


@pytest.fixture
def own_code(show) -> CaptureCode:
    return CaptureCode.objects.get(campaign=show, staff=None)


@pytest.fixture
def staff_code(show, team) -> CaptureCode:
    return campaigns.issue_code(campaign=show, staff=team.consultant, by=team.marketing_manager)


def a_day(days: int) -> date:
    return timezone.localdate() + timedelta(days=days)
