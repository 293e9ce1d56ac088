"""Headquarters' page in a real browser, with the demo's two dealers and a third of the brand
whose arrivals lag: the ranking, the dealers × stages heat map drawn by ECharts with the
flagged cell marked, the same numbers in the table below, fitting a phone; the cohort view,
any days, and the leads behind a cell or a value. Screenshots `hq-*.png` land in
var/screenshots/."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from accounts.models import Dealer, Staff
from accounts.roles import Role
from kpi.dashboard import Month
from leads import actions
from leads.demo import load_demo
from tests.browser.test_pages import FITS, STICKING_OUT, UNLABELLED_CONTROLS
from tests.conftest import build_team, grant
from tests.factories import DealerFactory, make_lead

# The first hours of a month, when the UTC date is still in the month before.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("calendar_day", ["month_start_early"], indirect=True),
]


@pytest.fixture
def month(calendar_day) -> Month:
    return Month.current().previous  # the demo's last full month


@pytest.fixture
def hq(transactional_ledger, month):
    """The demo, and a third dealer of SH001's brand: 60 leads last month, 2 of them
    arrived, granted to headquarters."""
    load_demo(leads_per_dealer=80)
    person = Staff.objects.get(username="hq")
    lagging = build_team(
        DealerFactory(region=Dealer.objects.get(code="SH001").region, city="杭州", name="杭州店")
    )
    start = timezone.make_aware(datetime.combine(month.first, time(10)))
    for n in range(60):
        lead = make_lead(
            lagging.dealer, by=lagging.gm, owner=lagging.dcc_agent, at=start + timedelta(hours=n)
        )
        if n < 2:
            actions.record_arrival(lead=lead, by=lagging.gm, at=start + timedelta(days=3, hours=n))
    grant(person, lagging.dealer, Role.HEADQUARTERS)
    return lagging.dealer


@pytest.mark.parametrize("width", [1440, 375])
def test_the_heat_map_is_drawn_with_its_flagged_cells(open_session, hq, month, width):
    session = open_session(Staff.objects.get(username="hq"), width=width)
    tab = session.page
    session.goto("/dashboard/")
    tab.get_by_role("link", name="Headquarters").first.click()
    tab.wait_for_url("**/dashboard/hq/**")
    session.goto(f"/dashboard/hq/?month={month}&metric=arrival_rate")

    tab.locator("#dcc-heat canvas").first.wait_for()
    size = tab.evaluate(
        "(() => { const c = document.querySelector('#dcc-heat canvas');"
        " return [c.width, c.height]; })()"
    )
    assert size[0] > 300 and size[1] > 150, size
    tab.wait_for_timeout(300)
    assert tab.locator("#ranking tbody tr").count() == 3
    assert tab.locator("#heat tbody tr").count() == 3
    # The lagging dealer's arrival rate is flagged, in the table and in the chart's data.
    flagged = tab.locator(f"#heat tr[data-dealer='{hq.code}'] td.dcc-flagged")
    assert flagged.count() >= 1
    assert "3.3%" in tab.locator(f"#heat tr[data-dealer='{hq.code}']").inner_text()
    marked = tab.evaluate(
        "JSON.parse(document.getElementById('dcc-heat-data').textContent)"
        ".cells.filter((c) => c.low).length"
    )
    assert marked == tab.locator("#heat td.dcc-flagged").count()
    assert tab.locator("#ranking tbody tr").last.get_attribute("data-dealer") == hq.code
    # Judged cells on the scale, the rest grey (its arrival-to-order rate: 0 of 2).
    drawn = tab.evaluate(
        "echarts.getInstanceByDom(document.getElementById('dcc-heat')).getOption().series"
        ".map((s) => s.data.length)"
    )
    assert sum(drawn) == 3 * 7 and drawn[1] >= 1, drawn
    session.screenshot(f"hq-{width}")
    assert tab.evaluate(FITS), tab.evaluate(STICKING_OUT)
    assert tab.evaluate(UNLABELLED_CONTROLS) == []


@pytest.mark.parametrize("width", [1440, 375])
def test_every_number_opens_its_leads_in_either_view_and_any_days(open_session, hq, month, width):
    """In Chinese: the cohort view is said on the page; a heat-map cell (on the chart) and a
    ranking value open the leads behind them at their dealer; any days can be chosen."""
    session = open_session(Staff.objects.get(username="hq"), width=width, language="zh-hans")
    tab = session.page
    session.goto(f"/dashboard/hq/?month={month}&metric=arrival_rate")
    tab.locator(".dcc-view-shown").wait_for()
    tab.locator("a[href*='view=cohort']").first.click()
    tab.wait_for_url("**view=cohort**")
    shown = tab.locator(".dcc-view-shown").inner_text()
    assert shown.startswith("当前显示") and "批次" in shown, shown
    tab.locator("#dcc-heat canvas").first.wait_for()
    tab.wait_for_timeout(300)
    if width == 1440:
        tab.screenshot(path="/tmp/hq.png", full_page=True)
    else:
        tab.screenshot(path="/tmp/hq_375.png", full_page=True)
    session.screenshot(f"hq-cohort-zh-hans-{width}")
    assert tab.evaluate(FITS), tab.evaluate(STICKING_OUT)
    assert tab.evaluate(UNLABELLED_CONTROLS) == []

    # The lagging dealer's arrival rate, clicked on the chart: its 2 arrivals.
    expected = tab.locator(
        f"#heat tr[data-dealer='{hq.code}'] td[data-metric='arrival_rate'] a.dcc-num"
    ).get_attribute("href")
    y = tab.locator("#heat tbody tr").evaluate_all(
        f"(rows) => rows.findIndex((row) => row.dataset.dealer === '{hq.code}')"
    )
    point = tab.evaluate(
        "([x, y]) => echarts.getInstanceByDom(document.getElementById('dcc-heat'))"
        ".convertToPixel({seriesIndex: 0}, [x, y])",
        [4, y],  # arrival rate is the fifth stage
    )
    box = tab.locator("#dcc-heat").bounding_box()
    tab.mouse.click(box["x"] + point[0], box["y"] + point[1])
    tab.wait_for_url("**/dashboard/leads/**")
    assert tab.url.endswith(expected)
    assert f"dealer={hq.code}" in tab.url and "view=cohort" in tab.url
    assert tab.locator("table tbody tr").count() == 2
    assert hq.code in tab.locator(".dcc-drill-dealer").inner_text()
    session.screenshot(f"hq-leads-zh-hans-{width}")
    assert tab.evaluate(FITS), tab.evaluate(STICKING_OUT)

    # Any days: the first week of the month; the ranking's value opens its leads.
    session.goto(f"/dashboard/hq/?month={month}&metric=lead_volume")
    tab.locator(".dcc-mode a").nth(1).click()
    tab.locator("#f-from").wait_for()
    assert tab.locator("#f-from").input_value() == month.first.isoformat()
    tab.locator("#f-to").fill((month.first + timedelta(days=6)).isoformat())
    tab.locator("form.dcc-dash-filter button").click()
    tab.wait_for_url("**range=days**")
    tab.locator("#ranking").wait_for()
    value = tab.locator(f"#ranking tr[data-dealer='{hq.code}'] a.dcc-num")
    counted = int(value.inner_text().replace(",", ""))
    assert counted == 60  # all its leads came within 60 hours of the 1st
    value.click()
    tab.wait_for_url("**/dashboard/leads/**")
    assert tab.locator("table tbody tr").count() == 50  # a page
    assert "1 / 2" in tab.locator(".pagination").inner_text()
