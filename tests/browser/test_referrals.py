"""A referral in a real browser, in Chinese: the consultant names the owner who sent a walk-in
on the lead page, by phone; the order credits the referrer (the owner page says so) and the
delivery puts the reward on the referrer's member card."""

from __future__ import annotations

from datetime import timedelta

import pytest

from leads import actions
from owners.models import Member, Referral, ReferralStatus
from tests.conftest import OFFICE_HOURS_NOW

pytestmark = pytest.mark.browser
OWNER_PHONE = "13966665555"
FRIEND_PHONE = "13944443333"


def _act(page, action: str):
    panel = page.locator(f"details[data-action='{action}']")
    if panel.get_attribute("open") is None:
        panel.locator("summary").click()
    return panel


def test_a_referred_leads_order_credits_its_referrer_and_delivery_rewards_points(
    open_session, team, fixed_clock
):
    fixed_clock.move_to(OFFICE_HOURS_NOW - timedelta(days=40))
    owner = actions.check_in_visitor(
        dealer=team.dealer, phone=OWNER_PHONE, by=team.consultant, name="钱先生"
    )
    owner = actions.record_order(lead=owner, by=team.consultant, car_model="瑶光")
    owner = actions.record_delivery(lead=owner, by=team.consultant)
    fixed_clock.move_to(OFFICE_HOURS_NOW)
    friend = actions.check_in_visitor(
        dealer=team.dealer, phone=FRIEND_PHONE, by=team.consultant, name="孙女士"
    )

    consultant = open_session(team.consultant, language="zh-hans")
    consultant.goto(f"/leads/{friend.pk}/")
    panel = consultant.page.locator("#lead-referral")
    panel.get_by_label("转介绍人手机号").fill("13900000000")
    panel.get_by_role("button", name="登记转介绍人").click()
    consultant.page.get_by_text("本店车主或会员中没有这个号码。").wait_for()
    panel = consultant.page.locator("#lead-referral")
    panel.get_by_label("转介绍人手机号").fill(OWNER_PHONE)
    panel.get_by_role("button", name="登记转介绍人").click()
    consultant.page.get_by_test_id("referrer").get_by_text("钱先生").wait_for()
    consultant.screenshot("referral-named-zh-hans")

    order = _act(consultant.page, "order")
    order.get_by_label("价格（元）").fill("159000")
    order.get_by_role("button", name="记录订车").click()
    consultant.page.get_by_test_id("stage").get_by_text("已订车").wait_for()
    consultant.page.get_by_test_id("referral-status").get_by_text("已计入").wait_for()
    assert Referral.objects.get(lead=friend).status == ReferralStatus.CREDITED

    ops = open_session(team.owner_ops, language="zh-hans")
    ops.goto(f"/owners/{owner.customer_id}/")
    row = ops.page.get_by_test_id("referral").filter(has_text="孙女士")
    row.get_by_text("已计入").wait_for()
    assert "1000" in ops.page.get_by_test_id("membership").inner_text()  # not yet rewarded

    _act(consultant.page, "deliver").get_by_role("button", name="记录交车").click()
    consultant.page.get_by_test_id("stage").get_by_text("已交车").wait_for()

    ops.goto(f"/members/{Member.objects.get(customer=owner.customer).pk}/")
    assert ops.page.get_by_test_id("usable").inner_text() == "3000"
    entries = ops.page.get_by_test_id("points-entry")
    entries.filter(has_text="转介绍").filter(has_text="+2000").wait_for()
    ops.screenshot("member-card-zh-hans")
