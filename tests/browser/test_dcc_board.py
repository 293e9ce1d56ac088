"""The DCC supervisor's board in Chinese, in a real browser: the table and this month's chart
are drawn, the page fits a phone, and the table refreshes itself (htmx) with a call logged
meanwhile, the chart following, without reloading the page. The screenshot lands in
/tmp/dcc_board.png (and var/screenshots/)."""

from __future__ import annotations

import shutil
from datetime import datetime, time

import pytest
from django.utils import timezone

from accounts.roles import Role
from kpi import views
from leads import actions
from leads.models import CallOutcome
from tests.browser.test_pages import FITS, STICKING_OUT, UNLABELLED_CONTROLS
from tests.factories import make_lead, member

# The first hours of a month, when the UTC date is still yesterday, in the month before.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("calendar_day", ["month_start_early"], indirect=True),
]


def today_at(hour: int, minute: int = 0) -> datetime:
    return datetime.combine(
        timezone.localdate(), time(hour, minute), tzinfo=timezone.get_current_timezone()
    )


@pytest.fixture
def working_day(calendar_day, team):
    """Three agents with Chinese names at work today: calls, a few reached, visits booked,
    one customer already in the showroom, one lead still waiting."""
    agents = [team.dcc_agent, team.dcc_agent_2, member(team.dealer, Role.DCC_AGENT)]
    for agent, name in zip(agents, ["王小明", "李娜", "张伟"], strict=True):
        agent.display_name = name
        agent.save()
    for index, agent in enumerate(agents):
        for n in range(3 - index):
            lead = make_lead(team.dealer, by=team.gm, owner=agent, at=today_at(9, 10 * n))
            outcome = CallOutcome.REACHED if n % 2 == 0 else CallOutcome.NO_ANSWER
            lead = actions.log_call(lead=lead, by=agent, outcome=outcome,
                                    at=today_at(9, 10 * n + 4 + 6 * index))  # fmt: skip
            if outcome == CallOutcome.REACHED:
                lead = actions.book_appointment(lead=lead, by=agent, appointment_at=today_at(15),
                                                at=today_at(9, 10 * n + 8 + 6 * index))  # fmt: skip
            if index == 0 and n == 0:
                actions.record_arrival(lead=lead, by=team.showroom_manager, at=today_at(9, 50))
    waiting = make_lead(team.dealer, by=team.gm, owner=agents[2], at=today_at(10))
    return agents, waiting


def _chart_drawn(tab) -> None:
    tab.locator("#dcc-board-chart canvas").first.wait_for()
    size = tab.evaluate(
        "(() => { const c = document.querySelector('#dcc-board-chart canvas');"
        " return [c.width, c.height]; })()"
    )
    assert size[0] > 100 and size[1] > 100, size


def _calls_today(tab, username: str) -> str:
    return tab.locator(f"#dcc-agents tr[data-agent='{username}'] td").first.inner_text()


def test_the_board_draws_refreshes_and_fits(open_session, team, working_day, monkeypatch):
    agents, waiting = working_day
    monkeypatch.setattr(views, "DCC_BOARD_REFRESH_SECONDS", 1)
    session = open_session(team.dcc_supervisor, language="zh-hans")
    tab = session.page
    session.goto("/dashboard/dcc/")
    assert tab.evaluate("document.documentElement.lang") == "zh-hans"
    _chart_drawn(tab)
    assert tab.locator("#dcc-agents tbody tr").count() == 4  # three agents and the team
    assert _calls_today(tab, agents[0].username) == "3"
    assert _calls_today(tab, agents[2].username) == "1"
    tab.wait_for_timeout(400)  # the chart's first animation
    shot = session.screenshot("dcc-board-zh-hans-1440")
    shutil.copy(shot, "/tmp/dcc_board.png")
    assert tab.evaluate(FITS), tab.evaluate(STICKING_OUT)
    assert tab.evaluate(UNLABELLED_CONTROLS) == []

    # A call logged meanwhile shows within a refresh, the page itself not reloaded.
    tab.evaluate("window.dccNotReloaded = true")
    actions.log_call(lead=waiting, by=agents[2], outcome=CallOutcome.REACHED, at=today_at(10, 5))
    tab.wait_for_function(
        "(name) => document.querySelector(`#dcc-agents tr[data-agent='${name}'] td`)"
        ".textContent.trim() === '2'",
        arg=agents[2].username,
        timeout=10_000,
    )
    assert tab.evaluate("window.dccNotReloaded") is True
    # The chart follows: this month's calls of 李娜, 王小明, 张伟 (the table's order, by pinyin).
    tab.wait_for_function(
        "() => echarts.getInstanceByDom(document.getElementById('dcc-board-chart'))"
        ".getOption().series[0].data.join() === '2,3,2'",
        timeout=5_000,
    )


def test_the_board_fits_a_phone(open_session, team, working_day):
    session = open_session(team.gm, width=375, language="zh-hans")
    tab = session.page
    session.goto("/dashboard/")
    tab.locator(".dcc-kpi-pages a[href='/dashboard/dcc/']").click()
    tab.wait_for_url("**/dashboard/dcc/")
    _chart_drawn(tab)
    tab.wait_for_timeout(400)
    session.screenshot("dcc-board-zh-hans-375")
    assert tab.evaluate(FITS), tab.evaluate(STICKING_OUT)
    # The numbers scroll sideways; whose row it is stays in view.
    tab.locator("#dcc-board .table-responsive").evaluate("(el) => { el.scrollLeft = 400; }")
    name = tab.locator("#dcc-agents tbody th[scope='row']").first.bounding_box()
    assert 0 <= name["x"] < 40, name
    session.screenshot("dcc-board-zh-hans-375-scrolled")
