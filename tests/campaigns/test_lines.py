"""Calls on a campaign's own line are its return: an unknown caller captured from the call is
the campaign's lead, a caller with a lead already makes a repeat enquiry for it, once per call
however often the call is pushed, and only within the campaign's days."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from calls import actions as call_actions
from calls.models import Line, LineKind
from campaigns import campaigns
from campaigns.models import CampaignLead, CampaignTouch
from campaigns.selectors import campaign_figures
from tests.calls.reports import CALLER, answered, missed, phone_account
from tests.campaigns.conftest import a_day, fields
from tests.factories import channel, make_lead

pytestmark = pytest.mark.django_db

STICKER_LINE = "4008009999"


@pytest.fixture
def account(team):
    return phone_account(team)


@pytest.fixture
def subsidy(team, account):
    """A fuel-subsidy campaign with its own number, running from yesterday for five days."""
    line = Line.objects.create(
        dealer=team.dealer,
        number=STICKER_LINE,
        kind=LineKind.CAMPAIGN,
        channel=channel(team.dealer, "car_show"),
    )
    return campaigns.create_campaign(
        dealer=team.dealer,
        by=team.marketing_manager,
        fields=fields(team.dealer, name="车贴油补", kind="fuel_subsidy", line=line),
    )


def on_the_line(report):
    return replace(report, line_number=STICKER_LINE)


def test_an_unknown_caller_captured_from_the_call_is_the_campaigns_lead(team, account, subsidy):
    call = call_actions.receive(account, on_the_line(answered("S1")))
    assert not CampaignLead.objects.exists()  # no lead yet: nothing to credit

    lead = call_actions.capture(call, by=team.dcc_agent, name="王先生", car_model="瑶光")

    credited = CampaignLead.objects.get(lead=lead)
    assert (credited.campaign, credited.call, credited.capture_code) == (subsidy, call, None)
    assert credited.at == call.rang_at
    assert not CampaignTouch.objects.exists()
    figures = campaign_figures([subsidy])[subsidy.pk]
    assert (figures.leads, figures.touches) == (1, 0)


def test_a_caller_with_a_lead_makes_one_repeat_enquiry_per_call(team, account, subsidy):
    lead = make_lead(team.dealer, phone=CALLER, channel_code="autohome")
    report = on_the_line(answered("S2"))
    call_actions.receive(account, report)
    call_actions.receive(account, replace(report, raw={"again": 1}))  # pushed again, changed

    touch = CampaignTouch.objects.get()
    assert (touch.lead, touch.campaign, touch.call.call_id) == (lead, subsidy, "S2")
    # The lead stays its channel's: the campaign does not take it.
    assert not CampaignLead.objects.exists()
    assert campaign_figures([subsidy])[subsidy.pk].touches == 1

    call_actions.receive(account, on_the_line(missed("S3")))  # a second call, not answered
    assert CampaignTouch.objects.filter(lead=lead, campaign=subsidy).count() == 2


def test_a_lead_another_campaign_brought_keeps_it_and_counts_a_touch_here(team, account, subsidy):
    show = campaigns.create_campaign(
        dealer=team.dealer, by=team.marketing_manager, fields=fields(team.dealer)
    )
    lead = make_lead(team.dealer, phone=CALLER)
    CampaignLead.objects.create(dealer=team.dealer, lead=lead, campaign=show, at=subsidy.created_at)
    call = call_actions.receive(account, on_the_line(answered("S4")))
    assert call.lead_id == lead.pk
    assert CampaignLead.objects.get(lead=lead).campaign == show
    assert CampaignTouch.objects.get().campaign == subsidy


@pytest.mark.parametrize("days", [-3, 6])
def test_a_call_outside_the_campaigns_days_is_not_its(team, account, subsidy, days):
    # Yesterday to five days on: three days ago it had not started, in six it has ended.
    assert (subsidy.starts_on, subsidy.ends_on) == (a_day(-1), a_day(5))
    make_lead(team.dealer, phone=CALLER)
    start = answered().rang_at + timedelta(days=days)
    call_actions.receive(account, on_the_line(answered("S5", start=start)))
    assert not CampaignTouch.objects.exists()


def test_calls_on_other_lines_and_outbound_calls_are_not_the_campaigns(team, account, subsidy):
    make_lead(team.dealer, phone=CALLER)
    call_actions.receive(account, answered("H1"))  # the 400 hotline
    call_actions.receive(account, on_the_line(answered("O1", direction="outbound")))
    assert not CampaignTouch.objects.exists()
