"""The DCC supervisor's board (/dashboard/dcc/): each active agent's calls, contacts,
appointments, arrivals and first response, today and this month, for a hand-made ledger whose
numbers are worked out by hand; who may open it; the htmx refresh of its table."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, time
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Membership
from accounts.roles import Role
from kpi import daily, measures
from kpi.daily import build_daily_report
from kpi.models import ScoreEvent
from kpi.scorecards import SCORED, scorecards
from kpi.selectors import day_window, kpi_report, report_json
from kpi.supervision import Figures, board_chart, board_lines, dcc_board, minutes_text
from leads import actions
from leads.models import CallOutcome
from leads.permissions import DCC_BOARD_VIEWERS, KPI_VIEWERS
from tests.factories import make_lead, member
from tests.kit import login

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 5, 20, 15, tzinfo=SHANGHAI)
LEAD_LINK = re.compile(r'href="/leads/(\d+)/"')


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def may(team, other_team):
    """May 2026 up to the 20th, at 15:00 (the dealer opens 9:00–18:00; autohome's SLA is 15
    minutes, douyin's 30). Agents one and two; the supervisor, the GM and the showroom manager
    act too, and count for no agent.

    A  April 28, one's: one calls April 30 (no answer); May 20 11:00 one reaches the customer
       and books a visit at 11:05.
    L1 May 5, one's: one calls 10:10 (no answer: first response 10 min, on time); May 6 one
       reaches and books; the supervisor moves the visit; the showroom manager checks the
       customer in May 8 (one's arrival: one booked it).
    L2 May 10, two's: two reaches 10:40 (40 min, late) and books; arrival May 20 10:00 (two's).
    L3 May 20 9:00 douyin, one's: nobody has answered.
    L4 May 20, two's: two calls 10:05 (busy: 5 min, on time) and reaches 10:30; the supervisor
       calls too.
    L5 May 20 11:00, one's: handed to two at 11:05; two calls 11:20 (no answer): the response
       (20 min, late) is one's, who was first assigned; the call is two's.
    L6 May 12, two's: the GM books at 11:00 (60 min, late); arrival May 14: the GM's, not two's.
    L7 May 15, one's: walks in at 12:00 with no booking (120 min, late): the showroom manager's.
    Agent three held the role until last week (inactive): not on the board. The other dealer's
    agent works too: not on this board.
    """
    one, two, gm, boss = team.dcc_agent, team.dcc_agent_2, team.gm, team.dcc_supervisor
    showroom = team.showroom_manager

    def lead(owner, when, via="autohome"):
        return make_lead(team.dealer, by=gm, owner=owner, at=when, channel_code=via)

    def call(lead_, by, when, outcome=CallOutcome.NO_ANSWER):
        return actions.log_call(lead=lead_, by=by, outcome=outcome, at=when)

    reached = CallOutcome.REACHED
    a = lead(one, at(4, 28))
    a = call(a, one, at(4, 30))
    a = call(a, one, at(5, 20, 11), reached)
    actions.book_appointment(lead=a, by=one, appointment_at=at(5, 22), at=at(5, 20, 11, 5))

    l1 = lead(one, at(5, 5))
    l1 = call(l1, one, at(5, 5, 10, 10))
    l1 = call(l1, one, at(5, 6), reached)
    l1 = actions.book_appointment(lead=l1, by=one, appointment_at=at(5, 8), at=at(5, 6, 10, 5))
    l1 = actions.book_appointment(lead=l1, by=boss, appointment_at=at(5, 8, 14), at=at(5, 7))
    actions.record_arrival(lead=l1, by=showroom, at=at(5, 8, 14))

    l2 = lead(two, at(5, 10))
    l2 = call(l2, two, at(5, 10, 10, 40), reached)
    l2 = actions.book_appointment(lead=l2, by=two, appointment_at=at(5, 20), at=at(5, 10, 10, 45))
    actions.record_arrival(lead=l2, by=showroom, at=at(5, 20))

    l3 = lead(one, at(5, 20, 9), via="douyin")

    l4 = lead(two, at(5, 20))
    l4 = call(l4, two, at(5, 20, 10, 5), CallOutcome.BUSY)
    l4 = call(l4, two, at(5, 20, 10, 30), reached)
    call(l4, boss, at(5, 20, 10, 40), reached)

    l5 = lead(one, at(5, 20, 11))
    l5 = actions.hand_off(lead=l5, by=gm, to=two, at=at(5, 20, 11, 5))
    call(l5, two, at(5, 20, 11, 20))

    l6 = lead(two, at(5, 12))
    l6 = actions.book_appointment(lead=l6, by=gm, appointment_at=at(5, 14), at=at(5, 12, 11))
    actions.record_arrival(lead=l6, by=showroom, at=at(5, 14))

    l7 = lead(one, at(5, 15))
    actions.record_arrival(lead=l7, by=showroom, at=at(5, 15, 12))

    three = member(team.dealer, Role.DCC_AGENT)
    l8 = lead(three, at(5, 18))
    call(l8, three, at(5, 18, 10, 5), reached)
    Membership.objects.filter(staff=three, role=Role.DCC_AGENT).update(is_active=False)

    elsewhere = make_lead(other_team.dealer, by=other_team.gm, owner=other_team.dcc_agent,
                          at=at(5, 20))  # fmt: skip
    call(elsewhere, other_team.dcc_agent, at(5, 20, 10, 1), reached)
    return {"A": a, "L1": l1, "L2": l2, "L3": l3, "L4": l4, "L5": l5, "L6": l6, "L7": l7}


def numbers(figures: Figures) -> dict[str, object]:
    return {
        "calls": figures.calls,
        "contacts": figures.contacts,
        "appointments": figures.appointments,
        "arrivals": figures.arrivals,
        "leads": figures.leads,
        "unanswered": figures.unanswered,
        "on_time": figures.on_time,
        "median": figures.median_response_minutes,
    }


BY_HAND = {
    # today: A's call and booking; L3 (unanswered) and L5 (20 min, late) were first one's.
    ("one", "today"): dict(calls=1, contacts=1, appointments=1, arrivals=0,
                           leads=2, unanswered=1, on_time=0, median=20.0),
    # month: also L1's two calls and booking, its arrival; L1 (10), L5 (20), L7 (120).
    ("one", "month"): dict(calls=3, contacts=2, appointments=2, arrivals=1,
                           leads=4, unanswered=1, on_time=1, median=20.0),
    # today: L4's two calls, L5's call; L2's arrival; L4 (5 min, on time).
    ("two", "today"): dict(calls=3, contacts=1, appointments=0, arrivals=1,
                           leads=1, unanswered=0, on_time=1, median=5.0),
    # month: also L2's call and booking; L2 (40), L4 (5), L6 (60).
    ("two", "month"): dict(calls=4, contacts=2, appointments=1, arrivals=1,
                           leads=3, unanswered=0, on_time=1, median=40.0),
    # The team's median is over all its leads: (5 + 20) / 2 today, (20 + 40) / 2 this month.
    ("team", "today"): dict(calls=4, contacts=2, appointments=1, arrivals=1,
                            leads=3, unanswered=1, on_time=1, median=12.5),
    ("team", "month"): dict(calls=7, contacts=4, appointments=3, arrivals=2,
                            leads=7, unanswered=1, on_time=2, median=30.0),
}  # fmt: skip


def test_each_agent_and_the_team_today_and_this_month_as_worked_out_by_hand(team, may):
    board = dcc_board(dealer=team.dealer, now=NOW)
    assert board.day == date(2026, 5, 20)
    assert {row.agent for row in board.agents} == {team.dcc_agent, team.dcc_agent_2}
    rows = {row.agent: row for row in board.agents}
    found = {}
    for who, row in (
        ("one", rows[team.dcc_agent]),
        ("two", rows[team.dcc_agent_2]),
        ("team", board.total),
    ):
        for period in ("today", "month"):
            found[(who, period)] = numbers(row.period(period))
    assert found == BY_HAND


def test_the_month_agrees_with_the_scorecards(team, may):
    """Every event of the ledger is in May 1–20: the board's month is the scorecards' May,
    arrivals credited by the same rule."""
    board = dcc_board(dealer=team.dealer, now=NOW)
    cards = {card.person: card for card in scorecards(dealer=team.dealer, month=date(2026, 5, 1))}
    for row in board.agents:
        card = cards[row.agent]
        assert (row.month.calls, row.month.contacts) == (
            card.counts[ScoreEvent.CALL],
            card.counts[ScoreEvent.CONTACT],
        )
        assert (row.month.appointments, row.month.arrivals) == (
            card.counts[ScoreEvent.APPOINTMENT],
            card.counts[ScoreEvent.ARRIVAL],
        )


def test_first_responses_count_the_registrys_leads_by_agent(team, may):
    board = dcc_board(dealer=team.dealer, now=NOW)
    for period in ("today", "month"):
        report = kpi_report(
            window=board.windows[period],
            by="agent",
            metrics=["lead_volume", "first_response_on_time"],
        )
        registry = {group.key: group.values for group in report.groups}
        for row in board.agents:
            figures = row.period(period)
            assert figures.leads == registry[row.agent.pk]["lead_volume"].numerator
            on_time = registry[row.agent.pk]["first_response_on_time"]
            assert (figures.on_time, figures.with_sla) == (on_time.numerator, on_time.denominator)


def credited(measure: str, window, person) -> int:
    """What the registry's rows of an activity measure hold for one person."""
    behind = measures.rows(measure, window).queryset
    return behind.annotate(person=measures.credited_to(measure)).filter(person=person.pk).count()


def test_the_board_scorecards_and_daily_report_count_as_the_registry(team, may):
    """The same window gives the same numbers on the board, the scorecards, the daily report
    and the registry's report (kpi_report, and the rows behind each activity measure)."""
    board = dcc_board(dealer=team.dealer, now=NOW)
    cards = {card.person: card for card in scorecards(dealer=team.dealer, month=date(2026, 5, 1))}
    columns = {"calls": "calls", "contacts": "reached_calls", "appointments": "bookings",
               "arrivals": "visits"}  # fmt: skip
    for row in board.agents:
        for period in ("today", "month"):
            for column, measure in columns.items():
                shown = getattr(row.period(period), column)
                assert shown == credited(measure, board.windows[period], row.agent), column
    may_ = day_window(dealer_ids=[team.dealer.pk], first=date(2026, 5, 1), last=date(2026, 5, 31))
    for person, card in cards.items():
        for event, measure in SCORED.items():
            assert card.counts[event] == credited(measure, may_, person), event
    # Everyone's activity, person by person, adds up to the registry's count of it.
    everyone = measures.per_person(columns.values(), {"month": board.windows["month"]})
    for measure in columns.values():
        total = measures.counts(measure, board.windows["month"], None)[None]
        assert sum(everyone["month"][measure].values()) == total

    report = build_daily_report(dealer=team.dealer, day=NOW.date(), now=NOW)
    today = board.windows["today"]
    assert report["day_kpis"] == report_json(kpi_report(window=today, metrics=daily.DAY_METRICS))
    by_agent = kpi_report(window=today, by="agent", metrics=daily.AGENT_METRICS)
    assert report["agents"] == report_json(by_agent)
    leads = {group.key: group.values["lead_volume"].numerator for group in by_agent.groups}
    for row in board.agents:
        assert row.today.leads == leads.get(row.agent.pk, 0)
    # May 20 as it stands at 15:00: L3 never answered (30 minutes), L5 answered late.
    late = [may["L3"].pk, may["L5"].pk]
    assert report["sla_breaches"] == late and report["sla_breach_count"] == 2
    judged = replace(today, as_of=NOW)
    assert sorted(measures.lead_ids("breached", judged, None, None)) == late


def test_agents_are_listed_by_the_pinyin_of_their_names(team):
    names = {
        team.dcc_agent: "王小明",
        team.dcc_agent_2: "李娜",
        member(team.dealer, Role.DCC_AGENT): "张伟",
    }
    for person, name in names.items():
        person.display_name = name
        person.save()
    board = dcc_board(dealer=team.dealer, now=NOW)
    assert [str(row.agent) for row in board.agents] == ["李娜", "王小明", "张伟"]  # Li, Wang, Zhang


def test_a_quiet_day_and_a_dealer_without_agents(team, other_team, may):
    board = dcc_board(dealer=team.dealer, now=datetime(2026, 5, 21, 8, tzinfo=SHANGHAI))
    quiet = dict(calls=0, contacts=0, appointments=0, arrivals=0, leads=0, unanswered=0,
                 on_time=0, median=None)  # fmt: skip
    assert numbers(board.total.today) == quiet
    assert board.total.month.calls == 7
    Membership.objects.filter(dealer=other_team.dealer, role=Role.DCC_AGENT).delete()
    empty = dcc_board(dealer=other_team.dealer, now=NOW)
    assert empty.agents == [] and empty.total.month.calls == 0
    assert board_chart(empty) == {
        "agents": [],
        "series": [
            {"name": "Calls", "values": []},
            {"name": "Appointments", "values": []},
            {"name": "Arrivals", "values": []},
        ],
    }


def test_the_board_takes_the_same_few_queries_for_any_team(team, may):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            dcc_board(dealer=team.dealer, now=NOW)
        return len(captured)

    two_agents = queries()
    for _n in range(4):
        member(team.dealer, Role.DCC_AGENT)
    # agents, calls and bookings, arrivals, leads per agent and for the team
    assert queries() == two_agents == 5


@pytest.mark.parametrize(
    ("minutes", "text"),
    [
        (None, "—"),
        (0.2, "0 min"),
        (12.5, "13 min"),
        (59.4, "59 min"),
        (65, "1 h 5 min"),
        (60 * 24 + 61, "1 d 1 h"),
    ],
)
def test_response_times_read_in_minutes_hours_and_days(minutes, text):
    assert minutes_text(minutes) == text


def test_the_pages_rows_link_the_first_response_to_its_leads(team, may):
    lines = {line.key: line for line in board_lines(dcc_board(dealer=team.dealer, now=NOW))}
    one_today = lines[team.dcc_agent.username].periods[0]
    assert [shown.text for shown in one_today.counts] == ["1", "1", "1", "0"]
    assert (one_today.first_response.text, one_today.unanswered.text) == ("20 min", "1")
    assert "measure=with_sla" in one_today.with_sla.drill
    assert "by=agent" in one_today.with_sla.drill
    assert "measure=on_time" in one_today.on_time.drill
    team_month = lines[""].periods[1]
    assert team_month.first_response.text == "30 min"
    # The drill-down has no group for the team: its numbers link nowhere.
    assert (team_month.with_sla.drill, team_month.on_time.drill) == ("", "")


# ---------------------------------------------------------------- the page


def today_at(hour: int, minute: int = 0) -> datetime:
    """A time of today, the day the page shows (it always shows the current day)."""
    return datetime.combine(timezone.localdate(), time(hour, minute), tzinfo=SHANGHAI)


@pytest.fixture
def today(team):
    """Today: agent one answers a new autohome lead after 10 minutes (reached) and books it;
    a second lead of theirs waits; agent two makes one call on a lead of theirs (no answer,
    after 20 minutes, late)."""
    one, two = team.dcc_agent, team.dcc_agent_2
    first = make_lead(team.dealer, by=team.gm, owner=one, at=today_at(10))
    first = actions.log_call(lead=first, by=one, outcome=CallOutcome.REACHED,
                             at=today_at(10, 10))  # fmt: skip
    actions.book_appointment(lead=first, by=one, appointment_at=today_at(16),
                             at=today_at(10, 12))  # fmt: skip
    waiting = make_lead(team.dealer, by=team.gm, owner=one, at=today_at(11))
    theirs = make_lead(team.dealer, by=team.gm, owner=two, at=today_at(12))
    actions.log_call(lead=theirs, by=two, outcome=CallOutcome.NO_ANSWER, at=today_at(12, 20))
    return {"first": first, "waiting": waiting, "theirs": theirs}


def cells(html: str, agent: str) -> list[str]:
    """The texts of the cells of the agent's row ("" for the team), drill-down parts apart."""
    chunk = html.split(f'data-agent="{agent}"', 1)[1].split("</tr>", 1)[0]
    chunk = re.sub(r'<small class="dcc-parts.*?</small>', "", chunk, flags=re.S)
    found = re.findall(r"<td.*?</td>", chunk, re.S)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in found]


def part_links(html: str, agent: str) -> list[str]:
    chunk = html.split(f'data-agent="{agent}"', 1)[1].split("</tr>", 1)[0]
    return [unescape(href) for href in re.findall(r'<a href="([^"]+)"', chunk)]


def test_the_page_shows_each_agent_today_and_this_month(team, calendar_day, today):
    response = login(team.dcc_supervisor).get("/dashboard/dcc/")
    assert response.status_code == 200
    html = response.content.decode()
    # Calls, contacts, appointments, arrivals, first response, unanswered: today, then month.
    assert cells(html, team.dcc_agent.username) == ["1", "1", "1", "0", "10 min", "1"] * 2
    assert cells(html, team.dcc_agent_2.username) == ["1", "0", "0", "0", "20 min", "0"] * 2
    assert cells(html, "") == ["2", "1", "1", "0", "15 min", "1"] * 2
    assert 'id="dcc-board-chart"' in html and 'id="dcc-board-data"' in html
    assert 'hx-trigger="every 60s"' in html


def test_the_first_response_opens_the_leads_behind_it(team, calendar_day, today):
    client = login(team.dcc_supervisor)
    html = client.get("/dashboard/dcc/").content.decode()
    on_time, with_sla = part_links(html, team.dcc_agent.username)[:2]  # today's
    assert "measure=on_time" in on_time and "measure=with_sla" in with_sla

    def listed(href: str) -> set[int]:
        page = client.get(href)
        assert page.status_code == 200
        return {int(pk) for pk in LEAD_LINK.findall(page.content.decode())}

    assert listed(on_time) == {today["first"].pk}
    assert listed(with_sla) == {today["first"].pk, today["waiting"].pk}
    assert part_links(html, "") == []  # the team is no group the drill-down knows


def test_the_htmx_refresh_gets_just_the_table(team, today):
    response = login(team.gm).get("/dashboard/dcc/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="dcc-board"')
    assert "<html" not in html and "<nav" not in html and 'id="dcc-board-chart"' not in html
    assert cells(html, team.dcc_agent.username)[:6] == ["1", "1", "1", "0", "10 min", "1"]
    assert 'id="dcc-board-data"' in html  # the chart is redrawn from the fresh numbers


def test_the_page_takes_the_same_queries_for_any_team(team, today):
    client = login(team.dcc_supervisor)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/dashboard/dcc/").status_code == 200
        return len(captured)

    queries()  # the session's first read
    two_agents = queries()
    for _n in range(4):
        member(team.dealer, Role.DCC_AGENT)
    assert queries() == two_agents


def test_a_refused_refresh_says_why_in_place(team):
    response = login(team.consultant).get("/dashboard/dcc/", headers={"HX-Request": "true"})
    assert response.status_code == 403
    html = response.content.decode()
    assert "<html" not in html and "DCC supervisor" in html


# ---------------------------------------------------------------- who sees it


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.DCC_SUPERVISOR, 200),
        (Role.GM, 200),
        (Role.SALES_MANAGER, 200),
        (Role.HEADQUARTERS, 200),
        (Role.DCC_AGENT, 403),
        (Role.SHOWROOM_MANAGER, 403),
        (Role.MARKETING_MANAGER, 403),
        (Role.AUDITOR, 403),
        (Role.PLATFORM_SPECIALIST, 403),
        (Role.CONSULTANT, 403),
        (Role.OWNER_OPS, 403),
    ],
)
def test_who_opens_the_board(team, role, status):
    response = login(team.by_role(role)).get("/dashboard/dcc/")
    assert response.status_code == status
    if status == 403:
        assert "Only the DCC supervisor" in response.content.decode()
    # The dashboard links to the board exactly for those who may open it.
    dashboard = login(team.by_role(role)).get("/dashboard/")
    if dashboard.status_code == 200:
        assert ('href="/dashboard/dcc/"' in dashboard.content.decode()) == (status == 200)


def test_the_boards_readers_all_read_the_kpis():
    assert DCC_BOARD_VIEWERS <= KPI_VIEWERS


def test_another_dealers_supervisor_sees_their_own_team_only(team, other_team, today):
    html = login(other_team.dcc_supervisor).get("/dashboard/dcc/").content.decode()
    assert f'data-agent="{other_team.dcc_agent.username}"' in html
    assert f'data-agent="{team.dcc_agent.username}"' not in html
    assert f">{team.dcc_agent}<" not in html


def test_it_needs_a_login(client):
    assert client.get("/dashboard/dcc/").status_code == 302
