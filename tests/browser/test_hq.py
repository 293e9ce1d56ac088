"""Headquarters' page in a real browser, with the demo's two dealers and a third of the brand
whose arrivals lag: the ranking, the dealers × stages heat map drawn by ECharts with the
flagged cell marked, the same numbers in the table below, fitting a phone. Screenshots
`hq-*.png` land in var/screenshots/."""

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

pytestmark = pytest.mark.browser


@pytest.fixture
def month() -> Month:
    return Month.current().previous  # the demo's last full month


@pytest.fixture
def hq(transactional_ledger, month):
    """The demo, and a third dealer of SH001's brand: 60 leads last month, 2 of them
    arrived, granted to headquarters."""
    load_demo(leads_per_dealer=80)
    person = Staff.objects.get(username="hq")
    person.set_password("pw-for-tests-1")
    person.save()
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
    session = open_session("hq", width=width)
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
