"""Direct sales at the stand in a real browser, in Chinese at phone size: the venue's
connection drops, the consultant enters two visitors, they wait on the phone; the connection
comes back and they are sent, once; sent again after a reload (replies lost), still once; the
DCC has them in its queue, credited to the campaign and the consultant's code."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from campaigns.models import CampaignLead
from leads.models import IdempotencyKey, Lead
from tests.browser.test_capture import car_show
from tests.conftest import OFFICE_HOURS_NOW

pytestmark = pytest.mark.browser
VISITORS = [("李雷", "13966667777", "瑶光"), ("韩梅梅", "13955556666", "揽月")]


def test_entries_wait_offline_and_are_sent_once_when_back(open_session, team, fixed_clock):
    fixed_clock.move_to(OFFICE_HOURS_NOW)
    show, code = car_show(team)

    phone = open_session(team.consultant, width=375, language="zh-hans")
    phone.goto("/campaigns/stand/")
    form = phone.page.locator("[data-testid=stand-form]")
    assert form.bounding_box()["width"] <= 375
    phone.context.set_offline(True)
    phone.page.locator("[data-testid=connection]").filter(has_text="离线").wait_for()
    for name, mobile, model in VISITORS:
        form.get_by_label("访客姓名").fill(name)
        form.get_by_label("手机号").fill(mobile)
        form.get_by_label("意向车型").select_option(model)
        form.get_by_label("我同意本店通过电话和短信", exact=False).check()
        form.get_by_role("button", name="保存").click()
    expect(phone.page.locator("[data-testid=entry][data-state=queued]")).to_have_count(2)
    assert phone.page.locator("[data-testid=queue-count]").inner_text() == "2"
    assert phone.page.locator("[data-testid=entry-state]").first.inner_text() == "待发送"
    phone.screenshot("stand-offline-zh-hans-375")
    assert not Lead.objects.exists()

    # The tries made while offline failed, as they should: not errors of the page.
    phone.errors[:] = [e for e in phone.errors if "ERR_INTERNET_DISCONNECTED" not in e]
    phone.context.set_offline(False)
    expect(phone.page.locator("[data-testid=entry][data-state=sent]")).to_have_count(2)
    assert phone.page.locator("[data-testid=queue-count]").inner_text() == "0"
    phone.screenshot("stand-sent-zh-hans-375")
    assert Lead.objects.count() == 2

    # The replies were lost (as far as the phone knows): after a reload it sends both again.
    phone.page.evaluate(
        """() => {
          const name = document.querySelector('[data-testid=stand]').dataset.queue;
          const entries = JSON.parse(localStorage.getItem(name));
          entries.forEach((e) => { e.state = 'queued'; });
          localStorage.setItem(name, JSON.stringify(entries));
        }"""
    )
    phone.page.reload()
    expect(phone.page.locator("[data-testid=entry][data-state=sent]")).to_have_count(2)
    assert Lead.objects.count() == 2
    assert IdempotencyKey.objects.filter(staff=team.consultant).count() == 2

    credited = CampaignLead.objects.select_related("lead__customer", "lead__owner")
    assert {(c.lead.customer.name, c.campaign_id, c.capture_code_id) for c in credited} == {
        ("李雷", show.pk, code.pk),
        ("韩梅梅", show.pk, code.pk),
    }
    assert {c.lead.car_model for c in credited} == {"瑶光", "揽月"}
    lead = credited.get(lead__customer__name="李雷").lead
    agent = open_session(lead.owner, language="zh-hans")
    agent.goto("/queue/")
    agent.page.locator("[data-testid=new-leads]").get_by_role("link", name="李雷").wait_for()
    agent.screenshot("stand-lead-in-queue-zh-hans")
