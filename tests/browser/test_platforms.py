"""Platform operations in a real browser, in Chinese: the platform specialist ticks today's
checklist of the dealer's 车商汇 account and enters a score of 82, under its line of 85; the
alert shows on the platforms page, on the dashboard of the DCC supervisor, and headquarters
sees that dealer's account below the line. Screenshots `platforms-*.png` land in
var/screenshots/."""

from __future__ import annotations

import pytest

from platforms import actions
from platforms.models import Platform
from tests.browser.test_pages import FITS, STICKING_OUT, UNLABELLED_CONTROLS
from tests.conftest import build_team
from tests.factories import DealerFactory, channel

pytestmark = pytest.mark.browser

CHECKLIST = ["已登录后台", "报价已更新", "已发布文章", "推广位已使用", "线索已全部下发"]


def test_the_specialist_ticks_the_checklist_and_a_low_score_reaches_headquarters(
    open_session, transactional_ledger
):
    team = build_team(DealerFactory())
    account = actions.create_account(
        dealer=team.dealer,
        by=team.marketing_manager,
        platform=Platform.AUTOHOME,
        name="车商汇",
        channel=channel(team.dealer, "autohome"),
        specialist=team.platform_specialist,
    )

    session = open_session(team.platform_specialist, language="zh-hans")
    tab = session.page
    session.goto("/")
    tab.get_by_role("link", name="平台运营").first.click()
    tab.wait_for_url("**/platforms/")
    card = tab.get_by_test_id("platform-account")
    assert "汽车之家·车商汇 · 车商汇" in card.inner_text()
    assert card.locator(".badge").inner_text() == "0/5"
    for item in CHECKLIST:
        tab.get_by_role("button", name=f"完成：{item}").click()
        tab.get_by_role("button", name=f"撤销：{item}").wait_for()
    assert card.locator(".badge").inner_text() == "5/5"
    assert card.locator("[data-done='1']").count() == 5
    assert "100%" in tab.locator("#history").inner_text()
    session.screenshot("platforms-checklist-zh-hans")

    # The score of 82 (today's date is filled in), under the line of 85.
    card.get_by_role("link", name="汽车之家·车商汇 · 车商汇").click()
    tab.wait_for_url(f"**/platforms/{account.pk}/")
    form = tab.get_by_test_id("score-form")
    form.get_by_label("平台评分").fill("82")
    form.get_by_role("button", name="保存评分").click()
    alert = tab.get_by_test_id("platform-alert")
    alert.wait_for()
    assert "平台评分 82.00" in alert.inner_text() and "低于分数线 85.00" in alert.inner_text()
    assert "82.00" in tab.locator("#scores").inner_text()
    session.screenshot("platforms-alert-zh-hans")
    assert tab.evaluate(FITS), tab.evaluate(STICKING_OUT)
    assert tab.evaluate(UNLABELLED_CONTROLS) == []
    session.goto("/platforms/")
    assert tab.get_by_test_id("platform-alert").is_visible()

    # The DCC supervisor's dashboard says so.
    supervisor = open_session(team.dcc_supervisor, language="zh-hans")
    supervisor.goto("/dashboard/")
    strip = supervisor.page.get_by_test_id("platform-alert")
    strip.wait_for()
    assert "82.00 < 85.00" in strip.inner_text()

    # Headquarters: from its dashboard to the dealers' platform scores.
    hq = open_session(team.headquarters, language="zh-hans")
    hq.goto("/dashboard/hq/")
    hq.page.get_by_role("link", name="平台评分").click()
    hq.page.wait_for_url("**/platforms/hq/")
    row = hq.page.locator(f"#platform-scores tr[data-dealer='{team.dealer.code}']")
    assert row.get_attribute("data-below") == "1"
    assert "低于分数线" in row.inner_text()
    assert row.locator("td[data-kind='platform']").inner_text().startswith("82.00")
    hq.screenshot("platforms-hq-zh-hans")
    assert hq.page.evaluate(FITS), hq.page.evaluate(STICKING_OUT)
