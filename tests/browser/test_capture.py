"""A car show's capture code in a real browser, in Chinese at phone size: a visitor scans a
consultant's code, leaves name and mobile, consents, and claims the ticket; the lead is at once
in a DCC agent's queue, credited to the campaign and the consultant whose code it was."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns import campaigns, capture
from campaigns.models import CampaignLead, CaptureCode
from leads.models import Lead
from privacy import consent
from privacy.models import Purpose
from tests.conftest import OFFICE_HOURS_NOW
from tests.factories import channel

pytestmark = pytest.mark.browser
PHONE = "13966667777"


def car_show(team):
    today = timezone.localdate()
    show = campaigns.create_campaign(
        dealer=team.dealer,
        by=team.marketing_manager,
        fields=campaigns.CampaignFields(
            name="上海国际车展",
            kind="car_show",
            starts_on=today,
            ends_on=today + timedelta(days=7),
            channel=channel(team.dealer, "car_show"),
            budget=Decimal("30000"),
            cost=Decimal("12000"),
            offer="免费领取车展门票",
            consent_wording="我同意本店通过电话和短信向我介绍车型和优惠，可随时回复 R 退订。",
            car_models="瑶光\n揽月",
        ),
    )
    return show, campaigns.issue_code(campaign=show, staff=team.consultant, by=team.gm)


def test_a_visitor_claims_a_car_show_ticket_and_the_dcc_gets_the_lead(
    open_session, team, fixed_clock
):
    fixed_clock.move_to(OFFICE_HOURS_NOW)
    show, code = car_show(team)

    phone = open_session(None, width=375, language="zh-hans")
    phone.goto(f"/c/{code.code}/")
    assert phone.page.locator("[data-testid=offer]").inner_text() == "免费领取车展门票"
    form = phone.page.locator("[data-testid=capture-form]")
    assert form.bounding_box()["width"] <= 375
    form.get_by_label("您的姓名").fill("李雷")
    form.get_by_label("手机号").fill(PHONE)
    form.get_by_label("意向车型").select_option("瑶光")
    form.get_by_label(re.compile("我同意本店通过电话和短信")).check()
    phone.screenshot("capture-page-zh-hans-375")
    fixed_clock.shift(capture.MIN_FILL_SECONDS + 5)  # a person takes a moment to fill it in
    form.get_by_role("button", name="领取").click()
    phone.page.wait_for_url(f"**/c/{code.code}/done/")
    claimed = phone.page.locator("[data-testid=claimed]").inner_text()
    assert "已领取" in claimed and "免费领取车展门票" in claimed
    phone.screenshot("capture-claimed-zh-hans-375")

    lead = Lead.objects.select_related("customer", "owner").get()
    assert (lead.customer.name, lead.customer.phone, lead.car_model) == ("李雷", PHONE, "瑶光")
    attribution = CampaignLead.objects.get(lead=lead)
    assert (attribution.campaign, attribution.capture_code.staff) == (show, team.consultant)
    assert consent.current(lead.customer, Purpose.SMS) is True
    assert lead.owner in (team.dcc_agent, team.dcc_agent_2)

    # The DCC agent the rules gave it to has it in the queue's new leads at once.
    agent = open_session(lead.owner, language="zh-hans")
    agent.goto("/queue/")
    new_leads = agent.page.locator("[data-testid=new-leads]")
    new_leads.get_by_role("link", name="李雷").wait_for()
    agent.screenshot("capture-lead-in-queue-zh-hans")
    new_leads.get_by_role("link", name="李雷").click()
    agent.page.wait_for_url(f"**/leads/{lead.pk}/")
    timeline = agent.page.locator("[data-testid=timeline]").inner_text()
    assert f"市场活动 上海国际车展，{team.consultant} 的留资码" in timeline

    # Marketing sees the lead on the consultant's code.
    marketing = open_session(team.marketing_manager, language="zh-hans")
    marketing.goto(f"/campaigns/{show.pk}/")
    card = marketing.page.locator(f"[data-testid=code][data-code='{code.code}']")
    assert card.locator("[data-testid=code-owner]").inner_text() == str(team.consultant)
    assert card.locator("[data-figure=leads]").inner_text() == "1"
    own = CaptureCode.objects.get(campaign=show, staff=None)
    own_card = marketing.page.locator(f"[data-testid=code][data-code='{own.code}']")
    assert own_card.locator("[data-figure=leads]").inner_text() == "0"
    assert card.locator("svg.dcc-qr").is_visible()
    figures = marketing.page.locator("[data-testid=campaign-figures]")
    assert figures.locator("[data-figure=cost_per_lead]").inner_text() == "12000.00"
    marketing.screenshot("campaign-codes-zh-hans")
    marketing.goto("/campaigns/")
    row = marketing.page.locator("tr[data-testid=campaign]", has_text="上海国际车展")
    assert row.locator("[data-figure=leads]").inner_text() == "1"
    marketing.screenshot("campaigns-zh-hans")
