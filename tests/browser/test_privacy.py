"""A customer's personal data in a real browser, in Chinese: the agent records on the lead page
that the customer agrees to SMS and asks not to be called; the GM finds the customer by number,
downloads everything held about them as Excel, then erases it (the open lead asks for
confirmation first); the lead page shows no name or number any more, and `dcc ledger verify`
and `dcc ledger tallies` still pass. Screenshots `privacy-*.png` land in var/screenshots/."""

from __future__ import annotations

from io import StringIO

import openpyxl
import pytest
from django.core.management import call_command

from leads.models import Customer
from privacy import consent
from privacy.models import DataRequest, Purpose
from tests.browser.test_pages import FITS, STICKING_OUT, UNLABELLED_CONTROLS
from tests.conftest import build_team
from tests.factories import DealerFactory, make_lead

pytestmark = pytest.mark.browser


def test_consent_recorded_then_data_exported_and_erased_with_the_ledger_intact(
    open_session, transactional_ledger, tmp_path
):
    team = build_team(DealerFactory())
    lead = make_lead(team.dealer, owner=team.dcc_agent, name="钱七", note="客户住在幸福小区")
    number = lead.customer.phone

    agent = open_session(team.dcc_agent, language="zh-hans")
    agent.goto(f"/leads/{lead.pk}/")
    panel = agent.page.get_by_test_id("consent-panel")
    panel.wait_for()
    panel.locator("summary").click()
    panel.get_by_label("用途").select_option(label="营销短信")
    panel.get_by_label("客户").select_option(label="同意")
    panel.get_by_label("凭证").fill("电话中口头同意")
    panel.get_by_role("button", name="记录", exact=True).click()
    agent.page.get_by_test_id("consent-status").filter(has_text="营销短信").filter(
        has_text="已同意"
    ).wait_for()
    agent.page.get_by_role("button", name="客户要求不再来电").click()
    agent.page.get_by_test_id("do-not-call").wait_for()
    agent.screenshot("privacy-lead-panel-zh-hans")
    assert consent.current(lead.customer, Purpose.SMS) is True
    assert consent.is_do_not_call(team.dealer, number)

    gm = open_session(team.gm, language="zh-hans")
    tab = gm.page
    gm.goto("/")
    tab.get_by_role("link", name="个人信息").first.click()
    tab.wait_for_url("**/privacy/")
    tab.get_by_label("完整电话号码或姓名").fill(number)
    tab.get_by_role("button", name="查找").click()
    tab.get_by_test_id("found-customer").get_by_role("link").click()
    tab.wait_for_url(f"**/privacy/customers/{lead.customer_id}/")
    assert "电话中口头同意" in tab.inner_text("main")
    with tab.expect_download() as download:
        tab.get_by_test_id("export-xlsx").click()
    saved = tmp_path / "export.xlsx"
    download.value.save_as(saved)
    book = openpyxl.load_workbook(saved)
    assert book["客户"]["A2"].value == "钱七"
    assert any(cell.value == "客户住在幸福小区" for row in book["历史"].iter_rows() for cell in row)
    gm.screenshot("privacy-customer-zh-hans")

    tab.get_by_role("link", name="删除个人信息…").click()
    tab.get_by_test_id("open-lead-warning").wait_for()
    gm.screenshot("privacy-erase-zh-hans")
    assert tab.evaluate(FITS), tab.evaluate(STICKING_OUT)
    assert tab.evaluate(UNLABELLED_CONTROLS) == []
    tab.get_by_label("原因").fill("客户致电要求删除")
    tab.get_by_test_id("erase").click()
    assert "确认删除" in tab.inner_text("main")  # the open lead: confirm first
    assert Customer.objects.get(pk=lead.customer_id).erased_at is None
    tab.get_by_label("我已知晓").check()
    tab.get_by_test_id("erase").click()
    tab.wait_for_url(f"**/privacy/customers/{lead.customer_id}/")
    tab.get_by_test_id("erased").wait_for()
    gm.screenshot("privacy-erased-zh-hans")

    gm.goto(f"/leads/{lead.pk}/")
    body = tab.inner_text("main")
    assert "钱七" not in body and number not in body and "客户住在幸福小区" not in body
    assert [r.kind for r in DataRequest.objects.order_by("pk")] == ["export", "erasure"]
    out = StringIO()
    call_command("ledger", "verify", stdout=out)
    call_command("ledger", "tallies", stdout=out)
    assert "OK" in out.getvalue() or "ok" in out.getvalue().lower()
