"""The whole journey by real roles in a real browser: marketing enters a lead, the agent sees
it appear in the queue, calls, grades H, books and hands it over; the consultant checks the
arrival, test drive, order and delivery; a manager sees every step in the timeline."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Membership
from leads.models import Lead

pytestmark = pytest.mark.browser


def _act(page, action: str):
    """Open an action's panel on the lead page and return it."""
    panel = page.locator(f"details[data-action='{action}']")
    if panel.get_attribute("open") is None:
        panel.locator("summary").click()
    return panel


def test_lead_journey_from_entry_to_delivery(open_session, team):
    Membership.objects.filter(staff=team.dcc_agent_2).update(is_active=False)
    agent = open_session(team.dcc_agent)
    agent.goto("/queue/")
    agent.page.get_by_text("No new leads waiting.").wait_for()
    agent.screenshot("queue-empty")

    marketing = open_session(team.platform_specialist)
    marketing.goto("/leads/new/")
    marketing.page.get_by_label("Mobile").fill("138 0013 8000")
    marketing.page.get_by_label("Name").fill("王小明")
    marketing.page.get_by_label("Channel").select_option(label="Autohome")
    marketing.page.get_by_label("Model of interest").fill("S7")
    marketing.screenshot("lead-new")
    marketing.page.get_by_role("button", name="Save lead").click()
    marketing.page.get_by_text(f"assigned to {team.dcc_agent}").wait_for()
    lead = Lead.objects.get(customer__phone="13800138000")

    # The queue refreshes itself: the new lead appears without a reload.
    new_leads = agent.page.get_by_test_id("new-leads")
    new_leads.get_by_text("王小明").wait_for(timeout=20_000)
    agent.screenshot("queue")
    new_leads.get_by_role("link", name="王小明").click()
    agent.page.get_by_test_id("stage").get_by_text("New").wait_for()

    visit = timezone.localtime(timezone.now() + timedelta(days=1)).replace(hour=10, minute=0)
    call = _act(agent.page, "log_call")
    call.get_by_label("Outcome").select_option("reached")
    call.get_by_label("Talk time (seconds)").fill("125")
    call.get_by_label("Grade").select_option("H")
    call.get_by_label("Book a showroom visit").fill(visit.strftime("%Y-%m-%dT%H:%M"))
    call.get_by_label("Note").fill("周末想试驾")
    call.get_by_role("button", name="Log call").click()
    agent.page.get_by_test_id("stage").get_by_text("Appointed").wait_for()

    handoff = _act(agent.page, "hand_off")
    handoff.get_by_label("Hand to").select_option(label=f"{team.consultant} · Sales consultant")
    handoff.get_by_role("button", name="Hand off").click()
    agent.page.get_by_test_id("owner").get_by_text(str(team.consultant)).wait_for()
    agent.screenshot("lead-after-handoff")

    consultant = open_session(team.consultant, width=375)
    consultant.goto("/showroom/")
    consultant.screenshot("showroom-375")
    consultant.page.get_by_label("Search customers").fill("8000")
    consultant.page.get_by_label("Search customers").press("Enter")
    consultant.page.get_by_test_id("stage").get_by_text("Appointed").wait_for()
    _act(consultant.page, "arrive").get_by_role("button", name="Check in arrival").click()
    consultant.page.get_by_test_id("stage").get_by_text("Arrived").wait_for()
    drive = _act(consultant.page, "test_drive")
    drive.get_by_label("Model").fill("S7 四驱")
    drive.get_by_role("button", name="Record test drive").click()
    consultant.page.locator("[data-kind='test_drive']").wait_for()
    order = _act(consultant.page, "order")
    order.get_by_label("Price (CNY)").fill("189000")
    order.get_by_role("button", name="Record order").click()
    consultant.page.get_by_test_id("stage").get_by_text("Ordered").wait_for()
    _act(consultant.page, "deliver").get_by_role("button", name="Record delivery").click()
    consultant.page.get_by_test_id("stage").get_by_text("Delivered").wait_for()
    consultant.screenshot("lead-delivered-375")

    manager = open_session(team.sales_manager)
    manager.goto(f"/leads/{lead.pk}/")
    timeline = manager.page.get_by_test_id("timeline")
    kinds = timeline.locator("li").evaluate_all("items => items.map(i => i.dataset.kind)")
    assert kinds == [
        "delivered",
        "ordered",
        "test_drive",
        "arrived",
        "handed_off",
        "appointment_set",
        "graded",
        "called",
        "created",
    ]
    who = {
        "created": team.platform_specialist,
        "called": team.dcc_agent,
        "handed_off": team.dcc_agent,
        "arrived": team.consultant,
        "delivered": team.consultant,
    }
    for kind, person in who.items():
        item = timeline.locator(f"li[data-kind='{kind}']")
        assert str(person) in item.inner_text()
        assert item.locator(".when").inner_text().strip()
    assert "周末想试驾" in timeline.locator("li[data-kind='called']").inner_text()
    manager.screenshot("lead-timeline-manager")
    lead.refresh_from_db()
    assert (lead.stage, lead.owner_id, lead.grade) == ("delivered", team.consultant.pk, "H")
