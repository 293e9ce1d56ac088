"""The dealer dashboard in Chinese, with the demo's data, in a real browser: the funnel chart
is drawn, the page fits a phone, a number (in a table or on the chart) opens the leads behind
it, and any two periods compare side by side. Screenshots `dashboard-*.png` land in
var/screenshots/."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Staff
from kpi.dashboard import Month, preset_periods
from leads.demo import load_demo
from tests.browser.test_pages import FITS, STICKING_OUT, UNLABELLED_CONTROLS

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(transactional_ledger):
    load_demo(leads_per_dealer=80)
    return Staff.objects.get(username="gm")


def _chart_drawn(tab) -> None:
    tab.locator("#dcc-funnel canvas, #dcc-funnel svg").first.wait_for()
    size = tab.evaluate(
        "(() => { const c = document.querySelector('#dcc-funnel canvas');"
        " return c ? [c.width, c.height] : [0, 0]; })()"
    )
    assert size[0] > 100 and size[1] > 100, size


@pytest.mark.parametrize("width", [1440, 375])
def test_the_dashboard_draws_its_funnel_and_every_number_opens_its_leads(open_session, demo, width):
    session = open_session(demo, width=width, language="zh-hans")
    tab = session.page
    month = Month.current().previous  # the demo's last full month
    session.goto(f"/dashboard/?month={month}")
    assert tab.evaluate("document.documentElement.lang") == "zh-hans"
    _chart_drawn(tab)
    tab.wait_for_timeout(300)  # the chart's first animation
    session.screenshot(f"dashboard-zh-hans-{width}")
    assert tab.evaluate(FITS), tab.evaluate(STICKING_OUT)
    assert tab.evaluate(UNLABELLED_CONTROLS) == []

    # A number in the channel table opens the leads it counts. Which channel comes first is
    # the alphabet's choice, and a channel with spend may have no leads in the month: take the
    # first that has some.
    numbers = tab.locator("#channels tbody tr td:nth-child(2) a.dcc-num")
    counts = [int(text.replace(",", "")) for text in numbers.all_inner_texts()]
    assert any(counts), counts
    number = numbers.nth(next(i for i, n in enumerate(counts) if n))
    counted = int(number.inner_text().replace(",", ""))
    number.click()
    tab.wait_for_url("**/dashboard/leads/**")
    rows = tab.locator("table tbody tr")
    assert rows.count() == min(counted, 50)
    session.screenshot(f"dashboard-leads-zh-hans-{width}")
    assert tab.evaluate(FITS), tab.evaluate(STICKING_OUT)

    # The chart's first step (all the month's leads) opens them too.
    session.goto(f"/dashboard/?month={month}")
    _chart_drawn(tab)
    leads = tab.locator("#funnel tr[data-step='leads'] a.dcc-num").first
    expected = leads.get_attribute("href")
    box = tab.locator("#dcc-funnel").bounding_box()
    tab.mouse.click(box["x"] + box["width"] / 2, box["y"] + 24)
    tab.wait_for_url("**/dashboard/leads/**")
    assert tab.url.endswith(expected)

    # Two months side by side.
    session.goto(f"/dashboard/?mode=compare&month={month}&other={month.previous}")
    tab.locator("#compare").wait_for()
    session.screenshot(f"dashboard-compare-zh-hans-{width}")
    assert tab.evaluate(FITS), tab.evaluate(STICKING_OUT)


@pytest.mark.parametrize("width", [1440, 375])
def test_the_daily_report_and_the_scorecards_fit(open_session, demo, width):
    session = open_session(demo, width=width, language="zh-hans")
    tab = session.page
    session.goto("/dashboard/")
    tab.locator(".dcc-kpi-pages a[href='/dashboard/daily/']").click()
    tab.wait_for_url("**/dashboard/daily/**")
    tab.locator("#day_kpis table").wait_for()
    assert tab.locator("#daily-xlsx").get_attribute("href").startswith("/dashboard/daily/xlsx/")
    session.screenshot(f"daily-zh-hans-{width}")
    assert tab.evaluate(FITS), tab.evaluate(STICKING_OUT)
    assert tab.evaluate(UNLABELLED_CONTROLS) == []

    session.goto(f"/dashboard/scores/?month={Month.current().previous}")
    tab.locator("#scores-dcc_agent table").wait_for()
    assert tab.locator("#scores-dcc_agent tbody tr").count() >= 1
    session.screenshot(f"scores-zh-hans-{width}")
    assert tab.evaluate(FITS), tab.evaluate(STICKING_OUT)
    assert tab.evaluate(UNLABELLED_CONTROLS) == []


@pytest.mark.parametrize("calendar_day", ["month_end"], indirect=True)
def test_the_gm_sets_the_months_target_and_sees_the_plan(calendar_day, open_session, demo):
    session = open_session(demo, width=375)
    tab = session.page
    session.goto(f"/dashboard/?month={Month.current()}")
    tab.locator("#broken").wait_for()
    tab.get_by_label(f"Orders in {Month.current()}").fill("many")
    tab.get_by_role("button", name="Set the target").click()
    tab.locator("#f-orders-error").wait_for()
    assert "whole number" in tab.locator("#f-orders-error").inner_text()
    tab.get_by_label(f"Orders in {Month.current()}").fill("12")
    tab.get_by_role("button", name="Set the target").click()
    tab.locator("#target-plan").wait_for()
    assert tab.locator("#target-plan tr[data-step='ordered'] td").first.inner_text() == "12"
    session.screenshot("dashboard-target-375")
    assert tab.evaluate(FITS), tab.evaluate(STICKING_OUT)


# A Sunday in its early hours (UTC still Saturday): "this week" and "the last 7 days" are
# then the same days, and the preset clicked is the one marked.
@pytest.mark.parametrize("calendar_day", ["sunday_early"], indirect=True)
@pytest.mark.parametrize("width", [1440, 375])
def test_any_two_periods_side_by_side_in_chinese(calendar_day, open_session, demo, width):
    """A preset is one click; any dates are typed; bad dates are named on the page; every
    number still opens its leads."""
    session = open_session(demo, width=width, language="zh-hans")
    tab = session.page
    session.goto("/dashboard/")
    tab.locator(".dcc-mode a").nth(1).click()  # compare
    tab.locator("#compare").wait_for()
    tab.locator(".dcc-presets a[data-preset='week']").click()
    tab.locator(".dcc-presets a[data-preset='week'].active").wait_for()
    assert tab.locator(".dcc-presets a.active").count() == 1
    _first, second = preset_periods("week", today=timezone.localdate())
    assert tab.locator("#f-second_from").input_value() == second.first.isoformat()

    month = Month.current().previous  # the demo's last full month
    tab.locator("#f-first_from").fill(month.previous.first.isoformat())
    tab.locator("#f-first_to").fill((month.previous.first + timedelta(days=13)).isoformat())
    tab.locator("#f-second_from").fill(month.first.isoformat())
    tab.locator("#f-second_to").fill((month.first + timedelta(days=13)).isoformat())
    tab.locator(".dcc-compare-form button").click()
    tab.wait_for_url("**second_to=**")
    tab.locator("#compare").wait_for()
    assert tab.locator(".dcc-presets a.active").count() == 0
    headers = [
        " ".join(text.split())
        for text in tab.locator("#compare thead th.dcc-period").all_inner_texts()
    ]
    assert headers == [
        f"{month.previous.first.isoformat()} – {(month.previous.first + timedelta(days=13))}",
        f"{month.first.isoformat()} – {(month.first + timedelta(days=13)).isoformat()}",
    ]
    tab.locator("#dcc-compare-chart canvas").first.wait_for()
    tab.wait_for_timeout(300)  # the chart's first animation
    if width == 1440:
        tab.screenshot(path="/tmp/dash_compare.png", full_page=True)
    else:
        tab.screenshot(path="/tmp/dash_compare_375.png", full_page=True)
    session.screenshot(f"dashboard-compare-periods-zh-hans-{width}")
    assert tab.evaluate(FITS), tab.evaluate(STICKING_OUT)
    assert tab.evaluate(UNLABELLED_CONTROLS) == []

    # The second period's lead volume opens its leads.
    number = tab.locator("#compare tr[data-metric='lead_volume'] a.dcc-num").nth(1)
    counted = int(number.inner_text().replace(",", ""))
    assert counted > 0
    number.click()
    tab.wait_for_url("**/dashboard/leads/**")
    assert tab.locator("table tbody tr").count() == min(counted, 50)

    # The second period ending before it starts: said on the page, next to the field.
    session.goto(
        f"/dashboard/?mode=compare&first_from={month.first}&first_to={month.last}"
        f"&second_from={month.last}&second_to={month.first}"
    )
    tab.locator(".dcc-compare-errors").wait_for()
    assert "is-invalid" in tab.locator("#f-second_to").get_attribute("class")
    assert tab.locator("#f-second_to-error").is_visible()
    assert tab.locator("#compare").count() == 0
    if width == 1440:
        tab.screenshot(path="/tmp/dash_compare_error.png", full_page=True)
    assert tab.evaluate(FITS), tab.evaluate(STICKING_OUT)
