"""An owner event in a real browser, in Chinese: owner operations create the event and invite
the owners; the owner's invitation carries a QR code; at the door the scanned code checks the
owner in, and the friend they brought becomes a lead credited to them as a referral, which the
lead's timeline shows."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from leads import actions
from owners.models import EventGuest, Invitation, OwnerEvent, Referral, ReferralSource
from tests.conftest import OFFICE_HOURS_NOW

pytestmark = pytest.mark.browser
PHONE = "13977778888"
GUEST_PHONE = "13955556666"


def delivered_owner(team):
    at = OFFICE_HOURS_NOW - timedelta(days=30)
    lead = actions.check_in_visitor(dealer=team.dealer, phone=PHONE, by=team.consultant, at=at)
    lead.customer.name = "赵先生"
    lead.customer.save()
    lead = actions.record_order(
        lead=lead, by=team.consultant, at=at + timedelta(minutes=30), car_model="星途 瑶光"
    )
    actions.record_delivery(lead=lead, by=team.consultant, at=at + timedelta(hours=1))
    return lead.customer


def test_an_owner_events_check_in_brings_a_guest_in_as_a_lead(open_session, team, fixed_clock):
    fixed_clock.move_to(OFFICE_HOURS_NOW)
    zhao = delivered_owner(team)

    ops = open_session(team.owner_ops, language="zh-hans")
    ops.goto("/owner-events/")
    ops.page.get_by_role("link", name="新建活动").click()
    form = ops.page.locator("main form")
    form.get_by_label("活动名称").fill("车主自驾游")
    form.get_by_label("类型").select_option("self_drive")
    form.get_by_label("开始时间").fill("2026-11-18T14:00")
    form.get_by_label("结束时间").fill("2026-11-18T17:00")
    form.get_by_label("地点").fill("莫干山")
    form.get_by_label("名额（人）").fill("20")
    form.get_by_label("预算（元）").fill("5000")
    form.get_by_role("button", name="创建").click()
    ops.page.wait_for_url(re.compile(r"/owner-events/\d+/$"))
    event = OwnerEvent.objects.get()
    assert (event.title, event.capacity, event.created_by) == ("车主自驾游", 20, team.owner_ops)

    # Invite the owners (no condition: every owner), then sign 赵先生 up for two.
    ops.page.locator("form", has=ops.page.locator("input[value=invite]")).get_by_role(
        "button", name="邀请", exact=True
    ).click()
    row = ops.page.locator("tr[data-testid=invitation]", has_text="赵先生")
    row.wait_for()
    assert "已邀请 1 位车主" in ops.page.locator(".dcc-messages").inner_text()
    assert "139****8888" in row.inner_text() and PHONE not in ops.page.content()
    row.get_by_label("参加人数").fill("2")
    row.get_by_role("button", name="报名").click()
    ops.page.locator("tr[data-testid=invitation]", has_text="参加，2 人").wait_for()

    # The owner's invitation: its QR code opens the check-in page of its code.
    invitation = Invitation.objects.get(event=event, customer=zhao)
    ops.page.locator("tr[data-testid=invitation]").get_by_role("link", name="邀请函").click()
    ops.page.wait_for_url(f"**/owner-events/invitations/{invitation.code}/")
    qr = ops.page.locator("[data-testid=qr] svg")
    assert qr.is_visible() and qr.bounding_box()["width"] >= 200
    address = f"{ops.base_url}/owner-events/check-in/{invitation.code}/"
    assert address in ops.page.content()
    assert "致 赵先生" in ops.page.locator("[data-testid=invitation-card]").inner_text()
    ops.screenshot("owner-event-invitation-zh-hans")

    # At the door at two o'clock: the scanner types the QR code's address and Enter.
    fixed_clock.move_to(OFFICE_HOURS_NOW.replace(hour=14, minute=5))
    ops.goto(f"/owner-events/{event.pk}/door/")
    code = ops.page.get_by_label("邀请码")
    assert code.evaluate("el => el === document.activeElement")  # ready for the scanner
    code.fill(address)
    code.press("Enter")
    ops.page.wait_for_url(f"**/owner-events/check-in/{invitation.code}/")
    assert "赵先生 已签到" in ops.page.locator(".dcc-messages").inner_text()
    ops.page.locator("[data-testid=checked-in]").wait_for()

    # The friend 赵先生 brought along, with a phone: a lead, credited to him.
    guest_form = ops.page.locator("form", has=ops.page.locator("input[value=guest]"))
    guest_form.get_by_label("姓名").fill("孙女士")
    guest_form.get_by_label("手机号").fill(GUEST_PHONE)
    guest_form.get_by_role("button", name="登记宾客").click()
    ops.page.locator(".dcc-messages", has_text="宾客已登记：线索计为 赵先生 的转介绍").wait_for()
    ops.page.locator("[data-testid=guest]", has_text="孙女士").wait_for()
    ops.screenshot("owner-event-check-in-zh-hans")
    guest = EventGuest.objects.select_related("lead__channel").get()
    referral = Referral.objects.get(lead=guest.lead)
    assert (referral.referrer, referral.source, referral.event) == (
        zhao,
        ReferralSource.EVENT,
        event,
    )
    assert guest.lead.channel.code == "referral"

    ops.goto(f"/owner-events/{event.pk}/")
    guest_row = ops.page.locator("tr[data-testid=guest]")
    assert "孙女士" in guest_row.inner_text() and "计为 赵先生 的转介绍" in guest_row.inner_text()
    figures = ops.page.locator("[data-testid=figures]")
    assert figures.locator("[data-figure=checked_in]").inner_text().startswith("1")
    assert figures.locator("[data-figure=leads]").inner_text() == "1"
    ops.screenshot("owner-event-zh-hans")
    ops.goto("/owner-events/")
    ops.page.locator("[data-testid=event]", has_text="车主自驾游").wait_for()
    ops.screenshot("owner-events-zh-hans")

    # The sales manager follows the guest's row to the new lead: its timeline has the referral.
    manager = open_session(team.sales_manager, language="zh-hans")
    manager.goto(f"/owner-events/{event.pk}/")
    manager.page.locator("tr[data-testid=guest] [data-testid=guest-lead]").click()
    manager.page.wait_for_url(f"**/leads/{guest.lead_id}/")
    timeline = manager.page.locator("[data-testid=timeline]")
    referred = timeline.locator("li[data-kind=referred]")
    assert "转介绍" in referred.inner_text()
    assert "老客户推荐" in timeline.locator("li[data-kind=created]").inner_text()
    manager.screenshot("owner-event-guest-lead-zh-hans")
