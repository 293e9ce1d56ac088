"""Text messages in a real browser, in Chinese: the marketing manager previews a weekend offer
to the customers interested in one model at night (all held for quiet hours), then in the
morning (those without consent skipped), sends it and finds it in the outbox; a customer
answers R (typed in the outbox as the customer would), which withdraws their consent, and the
next preview leaves them out."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.utils import timezone

from privacy import consent
from privacy.models import ConsentSource, Purpose
from sms.models import Kind, Message, SmsSettings, Template
from tests.factories import make_lead

pytestmark = pytest.mark.browser


def local(text: str) -> datetime:
    return timezone.make_aware(datetime.fromisoformat(text))


def test_a_bulk_offer_skips_who_did_not_agree_and_an_r_reply_opts_out(
    open_session, team, fixed_clock
):
    fixed_clock.move_to(local("2026-11-18 09:00"))
    settings = SmsSettings.of(team.dealer)
    settings.signature = "星河4S店"
    settings.save()
    Template.objects.create(
        dealer=team.dealer,
        name="周末试驾礼",
        kind=Kind.MARKETING,
        text="${name}您好，本周末到店试驾${model}即送精美礼品。拒收请回复R",
    )
    names = ["赵先生", "钱女士", "孙先生", "李女士"]
    leads = [
        make_lead(team.dealer, by=team.dcc_agent, name=name, car_model="瑶光") for name in names
    ]
    for lead in leads[:2]:  # 赵 and 钱 agreed on the showroom form; 孙 and 李 never said
        consent.record(
            customer=lead.customer,
            purpose=Purpose.SMS,
            given=True,
            how=ConsentSource.FORM,
            evidence="到店登记表",
        )

    fixed_clock.move_to(local("2026-11-18 21:30"))
    manager = open_session(team.marketing_manager, language="zh-hans")
    manager.goto("/sms/bulk/")
    page = manager.page
    page.get_by_label("模板").select_option(label="周末试驾礼")
    page.get_by_label("意向车型").fill("瑶光")
    page.get_by_role("button", name="预览").click()
    preview = page.get_by_test_id("sms-preview")
    preview.wait_for()
    assert preview.get_by_test_id("will-send").inner_text() == "0"
    assert preview.get_by_test_id("skipped-no_consent").inner_text() == "2"
    assert preview.get_by_test_id("skipped-quiet_hours").inner_text() == "2"
    assert page.get_by_test_id("send-bulk").count() == 0  # nothing to send at night
    manager.screenshot("sms-preview-quiet-hours-zh-hans")

    fixed_clock.move_to(local("2026-11-19 09:30"))
    page.get_by_role("button", name="预览").click()
    page.get_by_test_id("will-send").get_by_text("2").wait_for()
    assert preview.get_by_test_id("skipped-no_consent").inner_text() == "2"
    assert preview.get_by_test_id("skipped-quiet_hours").inner_text() == "0"
    manager.screenshot("sms-preview-zh-hans")
    page.get_by_test_id("send-bulk").click()
    page.get_by_text("已发送 2 条，失败 0 条，跳过 2 位。").wait_for()
    rows = page.get_by_test_id("sms-message")
    assert rows.count() == 2
    assert {rows.nth(n).get_by_test_id("sms-customer").inner_text() for n in range(2)} == {
        "赵先生",
        "钱女士",
    }
    assert "【星河4S店】赵先生您好，本周末到店试驾瑶光即送精美礼品。拒收请回复R" in page.content()

    assert "已送达" in rows.first.inner_text()  # the outbox delivers to itself
    row = rows.filter(has_text="赵先生")
    row.get_by_label("回复").fill(" r ")
    row.get_by_role("button", name="回复").click()
    page.get_by_text("已收到回复：客户已退订营销短信。").wait_for()
    page.get_by_test_id("sms-reply").filter(has_text="已退订营销短信").wait_for()
    manager.screenshot("sms-outbox-zh-hans")
    assert consent.current(leads[0].customer, Purpose.SMS) is False
    assert Message.objects.count() == 2

    fixed_clock.move_to(local("2026-11-20 10:00"))  # a new day: the daily limit is fresh
    manager.goto("/sms/bulk/")
    page.get_by_label("模板").select_option(label="周末试驾礼")
    page.get_by_label("意向车型").fill("瑶光")
    page.get_by_role("button", name="预览").click()
    page.get_by_test_id("will-send").get_by_text("1").wait_for()
    assert page.get_by_test_id("skipped-no_consent").inner_text() == "3"
    assert "钱女士您好" in page.get_by_test_id("sms-preview").inner_text()

    # The lead page's panel lists the message sent to its customer (without its number).
    manager.goto(f"/leads/{leads[1].pk}/")
    page.get_by_test_id("lead-sms").filter(has_text="钱女士您好").wait_for()
    manager.screenshot("sms-lead-panel-zh-hans")
