"""Owner operations in a real browser, in Chinese: a delivery schedules the return-visit plan;
owner operations records the day-3 visit with its questionnaire; a low score opens a complaint,
which the tick escalates to the sales manager once it is late."""

from __future__ import annotations

from datetime import timedelta

import pytest

from leads import actions
from leads.models import Event, EventKind
from owners import upkeep
from owners.models import Complaint, ReturnVisit, Vehicle, VisitStatus
from tests.conftest import OFFICE_HOURS_NOW

pytestmark = pytest.mark.browser
PHONE = "13977778888"


def delivered(team, at):
    lead = actions.check_in_visitor(dealer=team.dealer, phone=PHONE, by=team.consultant, at=at)
    lead.customer.name = "赵先生"
    lead.customer.save()
    lead = actions.record_order(
        lead=lead, by=team.consultant, at=at + timedelta(minutes=30), car_model="星途 瑶光"
    )
    return actions.record_delivery(lead=lead, by=team.consultant, at=at + timedelta(hours=1))


def test_a_delivery_schedules_visits_and_a_low_score_becomes_an_escalated_complaint(
    open_session, team, fixed_clock
):
    fixed_clock.move_to(OFFICE_HOURS_NOW)
    lead = delivered(team, OFFICE_HOURS_NOW - timedelta(days=3, hours=2))
    vehicle = Vehicle.objects.get(lead=lead)
    plan = list(ReturnVisit.objects.filter(vehicle=vehicle).order_by("due_at"))
    assert len(plan) >= 3  # the thank-you call, the 3DC visit, the manager's call (+ a sample)
    day3 = next(v for v in plan if v.is_the_return_visit)

    ops = open_session(team.owner_ops, language="zh-hans")
    ops.goto("/visits/")
    row = ops.page.locator("tr", has_text="赵先生").first
    row.wait_for()
    assert "139****8888" in row.inner_text() and PHONE not in ops.page.content()
    ops.screenshot("owners-visits-zh-hans")
    ops.goto(f"/visits/{day3.pk}/")
    form = ops.page.locator("form", has=ops.page.locator("select[name=salesperson]"))
    form.locator("input[name=reached][value=yes]").check()
    for key in ("delivery_process", "deal_terms", "delivery_timing", "advertising",
                "insurance_accessories", "facilities", "paperwork"):  # fmt: skip
        form.locator(f"select[name={key}]").select_option("5")
    form.locator("select[name=salesperson]").select_option("1")  # the salesperson: poor
    form.locator("select[name=nps]").select_option("4")
    form.locator("select[name=referral]").select_option("no")
    form.locator("textarea[name=comment]").fill("顾问交车时很不耐烦")
    ops.screenshot("owners-visit-form-zh-hans")
    form.get_by_role("button", name="保存").click()
    ops.page.wait_for_url("**/visits/")
    # Done: off the list (the consultant's thank-you call, not made, is still there).
    assert ops.page.locator("tr", has_text="三日回访").count() == 0

    day3.refresh_from_db()
    assert day3.status == VisitStatus.DONE
    complaint = Complaint.objects.get(lead=lead)
    assert complaint.about_id == team.consultant.pk
    assert Event.objects.filter(lead=lead, kind=EventKind.COMPLAINT).exists()
    ops.goto("/complaints/")
    ops.page.locator("tr", has_text="赵先生").first.wait_for()

    # Nobody handles it in time: the tick escalates it to the sales manager.
    fixed_clock.move_to(complaint.deadline + timedelta(minutes=1))
    escalated, _closed = upkeep.run()
    assert escalated == 1
    manager = open_session(team.sales_manager, language="zh-hans")
    manager.goto(f"/complaints/{complaint.pk}/")
    page = manager.page.locator("main").inner_text()
    assert "销售经理" in page and "已升级" in page
    manager.screenshot("owners-complaint-escalated-zh-hans")
