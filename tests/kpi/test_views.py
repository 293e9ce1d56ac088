"""The dealer dashboard (/dashboard/) and its drill-down (/dashboard/leads/): the registry's
numbers for a hand-made ledger, each linked to exactly the leads behind it, for managers and
supervisors only."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from decimal import Decimal
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.roles import Role
from dcc.formats import format_money
from kpi import measures
from kpi.dashboard import (
    FUNNEL,
    Month,
    Period,
    dimension_choices,
    dimension_name,
    drill_query,
    preset_periods,
)
from kpi.registry import METRICS, View
from kpi.selectors import day_window, kpi_report
from leads import actions
from leads.models import CallOutcome, Channel, ChannelGroup
from tests.factories import channel, make_lead, member
from tests.kit import login

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NUMBER = re.compile(r'<a class="dcc-num" href="([^"]+)">([^<]+)</a>')
LEAD_LINK = re.compile(r'href="/leads/(\d+)/"')


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=SHANGHAI)


@pytest.fixture
def ledger(team):
    """April and May 2026 at one dealer:

    A1 autohome, agent 1: April 10, reached the same day.
    A2 douyin, agent 2: April 12, nothing since.
    A3 autohome, agent 1: April 28, walked in May 3 (May's period, April's cohort).
    M1 autohome, agent 1: May 3, reached, booked May 4, arrived May 6, ordered May 10.
    M2 autohome, agent 2: May 5, reached, booked May 7, arrived May 9.
    M3 douyin, agent 2: May 8, marked invalid the same day.
    M4 douyin, agent 1: May 20, reached May 21.
    autohome spends 31,000 a month, the other channels nothing.
    """
    gm, one, two = team.gm, team.dcc_agent, team.dcc_agent_2
    Channel.objects.filter(dealer=team.dealer).update(monthly_spend=0)
    Channel.objects.filter(dealer=team.dealer, code="autohome").update(
        monthly_spend=Decimal("31000")
    )

    def lead(owner, when, via="autohome", **fields):
        return make_lead(team.dealer, by=gm, owner=owner, at=when, channel_code=via, **fields)

    a1 = lead(one, at(4, 10), name="四月一")
    actions.log_call(lead=a1, by=one, outcome=CallOutcome.REACHED, at=at(4, 10, 11))
    a2 = lead(two, at(4, 12), via="douyin", name="四月二")
    a3 = lead(one, at(4, 28), name="四月三")
    actions.record_arrival(lead=a3, by=gm, at=at(5, 3))
    m1 = lead(one, at(5, 3), name="五月一")
    actions.log_call(lead=m1, by=one, outcome=CallOutcome.REACHED, at=at(5, 3, 11))
    actions.book_appointment(lead=m1, by=gm, appointment_at=at(5, 6), at=at(5, 4))
    actions.record_arrival(lead=m1, by=gm, at=at(5, 6))
    actions.record_order(lead=m1, by=gm, at=at(5, 10))
    m2 = lead(two, at(5, 5), name="五月二")
    actions.log_call(lead=m2, by=two, outcome=CallOutcome.REACHED, at=at(5, 5, 11))
    actions.book_appointment(lead=m2, by=gm, appointment_at=at(5, 9), at=at(5, 7))
    actions.record_arrival(lead=m2, by=gm, at=at(5, 9))
    m3 = lead(two, at(5, 8), via="douyin", name="五月三")
    actions.invalidate_lead(lead=m3, by=gm, reason="no_intent", at=at(5, 8, 11))
    m4 = lead(one, at(5, 20), via="douyin", name="五月四")
    actions.log_call(lead=m4, by=one, outcome=CallOutcome.REACHED, at=at(5, 21))
    return {"A1": a1, "A2": a2, "A3": a3, "M1": m1, "M2": m2, "M3": m3, "M4": m4}


def page(client, **params) -> str:
    response = client.get("/dashboard/", params)
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


def section(html: str, element_id: str) -> str:
    return html.split(f'id="{element_id}"', 1)[1]


def row(html: str, marker: str) -> list[tuple[str, str]]:
    """The numbers of the first table row containing `marker`: (drill-down link, text)."""
    for chunk in html.split("<tr")[1:]:
        chunk = chunk.split("</tr>", 1)[0]
        if marker in chunk:
            return [(unescape(href), text) for href, text in NUMBER.findall(chunk)]
    raise AssertionError(f"no row with {marker}")


def listed(client, href: str) -> set[int]:
    response = client.get(href)
    assert response.status_code == 200, response.content[:500]
    return {int(pk) for pk in LEAD_LINK.findall(response.content.decode())}


def ids(ledger, *names: str) -> set[int]:
    return {ledger[name].pk for name in names}


def may_window(team, view=View.PERIOD):
    return day_window(
        dealer_ids=[team.dealer.pk], first=date(2026, 5, 1), last=date(2026, 5, 31), view=view
    )


# ---------------------------------------------------------------- who sees it


@pytest.mark.parametrize("role", [Role.DCC_AGENT, Role.CONSULTANT, Role.OWNER_OPS])
def test_people_on_the_line_are_told_plainly_that_the_dashboard_is_not_theirs(team, role):
    client = login(team.by_role(role))
    for path in ("/dashboard/", "/dashboard/leads/?measure=leads&from=2026-05-01&to=2026-05-31"):
        response = client.get(path)
        assert response.status_code == 403
        assert "Only managers and supervisors see the dealer" in response.content.decode()


@pytest.mark.parametrize(
    "role",
    [Role.GM, Role.SALES_MANAGER, Role.DCC_SUPERVISOR, Role.SHOWROOM_MANAGER, Role.HEADQUARTERS],
)
def test_managers_supervisors_and_headquarters_open_it(team, role):
    assert login(team.by_role(role)).get("/dashboard/").status_code == 200


def test_it_needs_a_login(client):
    assert client.get("/dashboard/").status_code == 302


# ---------------------------------------------------------------- the numbers


def test_the_funnel_shows_the_registrys_numbers_against_the_month_before(team, ledger):
    html = page(login(team.gm), month="2026-05")
    funnel = section(html, "funnel")
    total = kpi_report(window=may_window(team)).total.values
    by_hand = {"leads": 4, "contacted": 3, "appointed": 2, "arrived": 3, "ordered": 1}
    for measure, metric in FUNNEL:
        numbers = row(funnel, f'data-step="{measure}"')
        assert numbers[0][1] == str(total[metric].numerator)
        assert numbers[0][1] == str(by_hand.get(measure, 0))
    leads = row(funnel, 'data-step="leads"')
    assert leads[1][1] == "3"  # April
    assert "+1" in funnel.split('data-step="leads"', 1)[1].split("</tr>", 1)[0]
    # Arrivals of appointments in May: 3 of 2 (the period counts April's walk-in too).
    arrived = row(funnel, 'data-step="arrived"')
    assert arrived[2][1] == "150.0%"
    assert "dcc-funnel-data" in html  # the chart's data, drawn by ECharts


def test_a_rate_above_100_percent_says_why_beside_it(team, ledger):
    period = page(login(team.gm), month="2026-05")
    arrived = section(period, "funnel").split('data-step="arrived"', 1)[1].split("</tr>", 1)[0]
    assert "150.0%" in arrived
    assert "Above 100 %: the period's events include leads created before it" in unescape(arrived)
    # No such note beside a rate of 100 % or less.
    contacted = section(period, "funnel").split('data-step="contacted"', 1)[1].split("</tr>")[0]
    assert "dcc-above-whole" not in contacted
    cohort = page(login(team.gm), month="2026-05", view="cohort")
    assert "the period's events include leads created before it" not in unescape(cohort)


def test_the_funnels_arrival_step_and_the_arrival_rate_say_what_they_are_shares_of(team, ledger):
    html = unescape(page(login(team.gm), month="2026-05"))
    assert "arrivals of appointments. The Arrival rate of the daily report" in html
    daily = unescape(
        login(team.gm).get("/dashboard/daily/", {"date": "2026-05-06"}).content.decode()
    )
    assert "Arrival rate: arrivals of all leads (the dashboard funnel's arrival step" in daily


def test_a_month_under_way_is_compared_with_the_same_days_of_the_month_before(team, calendar_day):
    today = timezone.localdate()
    this = Month.of(today)
    before = this.previous
    same_last = min(before.first.replace(day=min(today.day, before.last.day)), before.last)
    zone = timezone.get_current_timezone()
    # One lead on the first of each month; one late in the month before, after its same days
    # unless the month before is no longer than the days gone by.
    for day in (this.first, before.first, before.last):
        make_lead(team.dealer, by=team.gm, owner=team.dcc_agent,
                  at=datetime.combine(day, datetime.min.time(), zone))  # fmt: skip
    html = unescape(page(login(team.gm)))
    assert f"Funnel {this} so far, against the same days of {before}" in html
    so_far, same_days = Period(this.first, today), Period(before.first, same_last)
    assert (
        f"{so_far} against {same_days}: a month under way is compared with as many days of"
        " the month before"
    ) in html
    leads = row(section(html, "funnel"), 'data-step="leads"')
    assert leads[0][1] == "1"
    assert leads[1][1] == ("2" if same_last == before.last else "1")
    # A past month is compared with the whole month before it.
    past = unescape(page(login(team.gm), month=str(before)))
    assert f"Funnel {before}, against {before.previous}" in past
    assert "so far" not in past


def test_the_channel_and_agent_tables_show_the_registrys_numbers(team, ledger):
    html = page(login(team.gm), month="2026-05")
    autohome = row(section(html, "channels"), '<th scope="row">Autohome</th>')
    assert [text for _href, text in autohome] == [
        "2",  # M1 and M2 (A3 was created in April)
        "3",  # M1, M2 and A3 arrived in May
        "1",
        "50.0%",
        "¥15,500",
        "¥10,333.33",
        "¥31,000",
    ]
    report = kpi_report(window=may_window(team), by="channel")
    group = next(group for group in report.groups if group.label == "Autohome")
    assert autohome[0][1] == str(group.values["lead_volume"].numerator) == "2"
    assert autohome[1][1] == str(group.values["arrivals"].numerator) == "3"
    assert autohome[4][1] == "¥15,500" == format_money(group.values["cost_per_lead"].value)

    agents = section(html, "agents")
    one = row(agents, f'<th scope="row">{team.dcc_agent}</th>')
    # M1 and M4; A3 (theirs, April's) arrived in May too.
    assert [text for _href, text in one] == ["2", "100.0%", "50.0%", "100.0%"]
    two = row(agents, f'<th scope="row">{team.dcc_agent_2}</th>')
    assert [text for _href, text in two] == ["2", "50.0%", "100.0%", "50.0%"]  # M2 and M3
    everyone = row(agents, '<th scope="row">All</th>')
    assert [text for _href, text in everyone] == ["4", "75.0%", "66.7%", "75.0%"]


# ---------------------------------------------------------------- the leads behind them


def test_every_number_drills_down_to_exactly_the_leads_behind_it(team, ledger):
    client = login(team.gm)
    html = page(client, month="2026-05")
    funnel = section(html, "funnel")
    assert listed(client, row(funnel, 'data-step="arrived"')[0][0]) == ids(ledger, "M1", "M2", "A3")
    assert listed(client, row(funnel, 'data-step="leads"')[1][0]) == ids(ledger, "A1", "A2", "A3")
    autohome = row(section(html, "channels"), '<th scope="row">Autohome</th>')
    assert listed(client, autohome[0][0]) == ids(ledger, "M1", "M2")
    assert listed(client, autohome[2][0]) == ids(ledger, "M1")
    agent_two = row(section(html, "agents"), f'<th scope="row">{team.dcc_agent_2}</th>')
    assert listed(client, agent_two[1][0]) == ids(ledger, "M2")  # contacted
    # A rate's parts link to its numerator's and its denominator's leads.
    parts = re.findall(
        r'<small class="dcc-parts[^"]*">(.*?)</small>',
        html.split('<th scope="row">Autohome</th>', 1)[1].split("</tr>", 1)[0],
    )
    close_rate = re.findall(r'href="([^"]+)"', parts[0])
    assert listed(client, unescape(close_rate[1])) == ids(ledger, "M1", "M2")


def test_the_drill_down_hides_leads_the_viewer_may_not_see(team, ledger):
    """A DCC supervisor sees leads in the invite stages, not M1 (ordered) or M2 (arrived)."""
    client = login(team.dcc_supervisor)
    href = "/dashboard/leads/?measure=contacted&from=2026-05-01&to=2026-05-31&view=period"
    response = client.get(href)
    html = response.content.decode()
    assert {int(pk) for pk in LEAD_LINK.findall(html)} == ids(ledger, "M4")
    assert "This number counts 3 leads." in html
    assert "2 of them are not listed: you may not see them." in html
    assert "五月一" not in html
    assert listed(login(team.gm), href) == ids(ledger, "M1", "M2", "M4")


def test_the_drill_down_pages_through_many_leads(team):
    for _n in range(55):
        make_lead(team.dealer, by=team.gm, owner=team.dcc_agent, at=at(5, 2))
    client = login(team.gm)
    href = "/dashboard/leads/?measure=leads&from=2026-05-01&to=2026-05-31&view=period"
    first = client.get(href).content.decode()
    assert len(LEAD_LINK.findall(first)) == 50
    assert "1 / 2" in first
    assert len(listed(client, href + "&page=2")) == 5


@pytest.mark.parametrize(
    "query",
    [
        "measure=spend&from=2026-05-01&to=2026-05-31",
        "measure=nope&from=2026-05-01&to=2026-05-31",
        "measure=leads&from=2026-05-31&to=2026-05-01",
        "measure=leads&from=May&to=2026-05-01",
        "measure=leads&from=2026-05-01&to=2026-05-31&by=colour&group=red",
        "measure=leads&from=2026-05-01&to=2026-05-31&by=channel&group=abc",
    ],
)
def test_a_drill_down_it_cannot_answer_says_so(team, query):
    assert login(team.gm).get("/dashboard/leads/?" + query).status_code == 400


def test_the_drill_down_never_lists_another_dealers_leads(team, other_team, ledger):
    make_lead(other_team.dealer, by=other_team.gm, owner=other_team.dcc_agent, at=at(5, 4))
    href = "/dashboard/leads/?measure=leads&from=2026-05-01&to=2026-05-31&view=period"
    assert listed(login(team.gm), href) == ids(ledger, "M1", "M2", "M3", "M4")


# ---------------------------------------------------------------- month, view, compare


def test_the_month_defaults_to_this_month_and_switches(team, ledger, calendar_day):
    client = login(team.gm)
    html = page(client)
    assert f'value="{calendar_day.strftime("%Y-%m")}"' in html
    html = page(client, month="2026-04")
    assert "Funnel 2026-04, against 2026-03" in html
    april = section(html, "funnel")
    assert row(april, 'data-step="leads"')[0][1] == "3"
    assert row(april, 'data-step="leads"')[1][1] == "0"  # March
    assert row(april, 'data-step="arrived"')[0][1] == "0"


def test_the_view_switch_says_which_view_is_shown(team, ledger):
    client = login(team.gm)
    period = page(client, month="2026-05")
    assert "Shown: Period: what happened in the period." in period
    cohort = page(client, month="2026-05", view="cohort")
    assert "Shown: Cohort: leads created in the period, followed to today." in cohort
    # April's walk-in arrived in May: May's period counts it, May's cohort does not.
    assert row(section(cohort, "funnel"), 'data-step="arrived"')[0][1] == "2"
    assert row(section(period, "funnel"), 'data-step="arrived"')[0][1] == "3"
    total = kpi_report(window=may_window(team, View.COHORT)).total.values
    assert total["arrivals"].numerator == 2
    # The drill-down keeps the view.
    href = row(section(cohort, "funnel"), 'data-step="arrived"')[0][0]
    assert "view=cohort" in href
    assert listed(client, href) == ids(ledger, "M1", "M2")
    # The switch keeps the month.
    assert "month=2026-05" in unescape(period.split("Cohort view", 1)[0].rsplit("href=", 1)[1])


def test_the_compare_mode_puts_two_months_side_by_side(team, ledger):
    client = login(team.gm)
    html = page(client, mode="compare", month="2026-05", other="2026-04")
    assert "2026-04 and 2026-05 side by side" in html
    volume = html.split('data-metric="lead_volume"', 1)[1].split("</tr>", 1)[0]
    assert [text for _href, text in NUMBER.findall(volume)] == ["3", "4"]
    assert "+1" in volume
    arrival = html.split('data-metric="arrival_rate"', 1)[1].split("</tr>", 1)[0]
    assert [text for _href, text in NUMBER.findall(arrival)] == ["0.0%", "75.0%"]
    assert "+75.0 pp" in arrival
    cost = html.split('data-metric="cost_per_lead"', 1)[1].split("</tr>", 1)[0]
    assert [text for _href, text in NUMBER.findall(cost)] == ["¥10,333.33", "¥7,750"]
    assert "dcc-better" in cost  # cheaper leads are the good news
    first_arrivals = NUMBER.findall(html.split('data-metric="arrivals"', 1)[1].split("</tr>")[0])
    assert listed(client, unescape(first_arrivals[0][0])) == set()
    assert listed(client, unescape(first_arrivals[1][0])) == ids(ledger, "M1", "M2", "A3")


# ---------------------------------------------------------------- queries


def test_query_count_does_not_grow_with_channels_or_agents(
    team, ledger, django_assert_max_num_queries
):
    client = login(team.gm)
    client.get("/dashboard/", {"month": "2026-05"})  # the session and such, once
    with CaptureQueriesContext(connection) as few:
        page(client, month="2026-05")
    compare = {"mode": "compare", "month": "2026-05", "other": "2026-04"}
    with CaptureQueriesContext(connection) as compared_few:
        client.get("/dashboard/", compare)
    for n in range(5):
        extra = Channel.objects.create(
            dealer=team.dealer,
            code=f"extra{n}",
            name=f"Extra {n}",
            group=ChannelGroup.PORTAL,
            monthly_spend=Decimal("1000"),
        )
        agent = member(team.dealer, Role.DCC_AGENT)
        lead = make_lead(
            team.dealer, by=team.gm, owner=agent, at=at(5, 10 + n), channel_code=extra.code
        )
        actions.log_call(lead=lead, by=agent, outcome=CallOutcome.REACHED, at=at(5, 11 + n))
    assert channel(team.dealer, "extra4").pk
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = page(client, month="2026-05")
    assert '<th scope="row">Extra 4</th>' in html
    # Comparing two periods counts every metric of the registry twice: as many queries
    # however many channels and people there are.
    with CaptureQueriesContext(connection) as compared:
        client.get("/dashboard/", compare)
    assert len(compared.captured_queries) <= len(compared_few.captured_queries)


# ---------------------------------------------------------------- any two periods side by side


def compare_page(client, status: int = 200, **params) -> str:
    response = client.get("/dashboard/", {"mode": "compare", **params})
    assert response.status_code == status, response.content[:500]
    return unescape(response.content.decode())


def compared(html: str, metric: str) -> tuple[list[tuple[str, str]], str]:
    """The compare table's row of `metric`: its numbers (link, text) and the whole row."""
    chunk = html.split(f'data-metric="{metric}"', 1)[1].split("</tr>", 1)[0]
    return [(unescape(href), text) for href, text in NUMBER.findall(chunk)], chunk


APRIL_AND_EARLY_MAY = {
    "first_from": "2026-04-10",
    "first_to": "2026-04-28",
    "second_from": "2026-05-03",
    "second_to": "2026-05-08",
}


def test_any_two_periods_side_by_side_with_every_metric_and_its_leads(team, ledger):
    """April 10–28: A1, A2, A3 created, A1 reached. May 3–8: M1, M2, M3 created, M1 and M2
    reached and booked, A3 (May 3) and M1 (May 6) arrived (M2 only on the 9th), M3 invalid."""
    client = login(team.gm)
    html = compare_page(client, **APRIL_AND_EARLY_MAY)
    assert "2026-04-10 – 2026-04-28 and 2026-05-03 – 2026-05-08 side by side" in html
    assert "The periods are 19 and 6 days long" in html
    assert html.count("data-metric=") == len(METRICS)  # every metric of the registry
    volume, row_html = compared(html, "lead_volume")
    assert [text for _href, text in volume] == ["3", "3"]
    assert "±0" in row_html
    contact, row_html = compared(html, "contact_rate")
    assert [text for _href, text in contact] == ["33.3%", "66.7%"]  # 1 of 3, 2 of 3
    assert "+33.3 pp" in row_html
    arrival, row_html = compared(html, "arrival_rate")
    assert [text for _href, text in arrival] == ["0.0%", "66.7%"]  # 0 of 3, 2 of 3
    assert "+66.7 pp" in row_html
    valid, _row = compared(html, "valid_lead_rate")
    assert [text for _href, text in valid] == ["100.0%", "66.7%"]
    assert [text for _href, text in compared(html, "orders")[0]] == ["0", "0"]  # M1: May 10
    # Each number opens exactly its leads.
    assert listed(client, arrival[1][0]) == ids(ledger, "A3", "M1")
    assert listed(client, contact[0][0]) == ids(ledger, "A1")
    assert listed(client, volume[0][0]) == ids(ledger, "A1", "A2", "A3")
    parts = re.findall(r'<small class="dcc-parts[^"]*">(.*?)</small>', row_html)
    assert len(parts) == 2
    denominator = re.findall(r'href="([^"]+)"', parts[1])[1]
    assert listed(client, unescape(denominator)) == ids(ledger, "M1", "M2", "M3")
    # The chart draws both periods' funnels, each step opening its leads.
    data = re.search(r'id="dcc-compare-data"[^>]*>(.*?)</script>', html, re.S).group(1)
    chart = json.loads(data)
    assert chart["periods"] == ["2026-04-10 – 2026-04-28", "2026-05-03 – 2026-05-08"]
    arrived = next(step for step in chart["steps"] if step["name"] == "Arrivals")
    assert arrived["values"] == [0, 2]
    assert listed(client, "/dashboard/leads/?" + arrived["drills"][1]) == ids(ledger, "A3", "M1")


def test_the_cohort_view_compares_the_leads_created_in_each_period(team, ledger):
    client = login(team.gm)
    html = compare_page(client, view="cohort", **APRIL_AND_EARLY_MAY)
    assert "Shown: Cohort: leads created in the period, followed to today." in html
    arrivals, _row = compared(html, "arrivals")
    # April's A3 arrived in May: its own cohort's; of May 3–8's leads M1 and M2 arrived.
    assert [text for _href, text in arrivals] == ["1", "2"]
    assert listed(client, arrivals[0][0]) == ids(ledger, "A3")
    assert listed(client, arrivals[1][0]) == ids(ledger, "M1", "M2")
    # The view switch keeps the periods.
    switch = html.split("Period view", 1)[0].rsplit("href=", 1)[1]
    assert "first_from=2026-04-10" in switch and "second_to=2026-05-08" in switch


def test_the_presets_are_pairs_of_months_weeks_and_seven_days():
    wednesday = date(2026, 5, 6)

    def days(key):
        return [
            (p.first.isoformat(), p.last.isoformat()) for p in preset_periods(key, today=wednesday)
        ]

    assert days("month") == [("2026-04-01", "2026-04-30"), ("2026-05-01", "2026-05-31")]
    assert days("week") == [("2026-04-27", "2026-05-03"), ("2026-05-04", "2026-05-10")]
    assert days("7days") == [("2026-04-23", "2026-04-29"), ("2026-04-30", "2026-05-06")]
    # A Monday's week starts that day; a Sunday's on the Monday before.
    assert preset_periods("week", today=date(2026, 5, 4))[1].first == date(2026, 5, 4)
    assert preset_periods("week", today=date(2026, 5, 10))[1].first == date(2026, 5, 4)


def active_preset(html: str) -> str | None:
    active = re.findall(r'<a class="btn btn-sm btn-secondary active"[^>]*data-preset="(\w+)"', html)
    assert len(active) <= 1, active
    return active[0] if active else None


@pytest.mark.parametrize("preset", ["month", "week", "7days"])
def test_a_preset_is_one_click_and_fills_the_form(team, ledger, preset, calendar_day):
    client = login(team.gm)
    html = compare_page(client, preset=preset)
    first, second = preset_periods(preset, today=timezone.localdate())
    assert f"{first} and {second} side by side" in html
    for field, day in (("first_from", first.first), ("first_to", first.last),
                       ("second_from", second.first), ("second_to", second.last)):  # fmt: skip
        assert f'name="{field}" value="{day.isoformat()}"' in html
    assert active_preset(html) == preset
    # The other presets are links on the page.
    for other in ("month", "week", "7days"):
        assert f"preset={other}" in html
    # The form carries the preset: sent again as it is, the same preset stays marked.
    assert f'name="preset" value="{preset}"' in html
    dates = {
        "first_from": first.first.isoformat(),
        "first_to": first.last.isoformat(),
        "second_from": second.first.isoformat(),
        "second_to": second.last.isoformat(),
    }
    assert active_preset(compare_page(client, preset=preset, **dates)) == preset
    # Dates changed by hand are no preset any more.
    edited = compare_page(client, preset=preset, **{**dates, "first_from": dates["first_to"]})
    assert active_preset(edited) is None


def test_on_a_sunday_this_week_is_marked_when_chosen_not_the_last_7_days(team, ledger, fixed_clock):
    fixed_clock.move_to(datetime(2026, 12, 6, 10, tzinfo=SHANGHAI))  # a Sunday
    client = login(team.gm)
    assert preset_periods("week", today=timezone.localdate()) == preset_periods(
        "7days", today=timezone.localdate()
    )
    assert active_preset(compare_page(client, preset="week")) == "week"
    assert active_preset(compare_page(client, preset="7days")) == "7days"


def test_compare_defaults_to_this_month_against_the_last(team, ledger, calendar_day):
    html = compare_page(login(team.gm))
    this = Month.current()
    assert this.first == calendar_day.date().replace(day=1)
    assert f"{this.previous} and {this} side by side" in html
    assert active_preset(html) == "month"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"first_from": "May"}, "first_from",
         "“First period, from” is not a date: write it as YYYY-MM-DD."),
        ({"second_to": "2026-13-01"}, "second_to",
         "“Second period, to” is not a date: write it as YYYY-MM-DD."),
        ({"first_to": ""}, "first_to", "“First period, to” is missing."),
        ({"second_from": "2026-05-09"}, "second_to",
         "“Second period, to” is before “Second period, from”."),
        ({"first_from": "2025-04-27"}, "first_to",
         "From “First period, from” to “First period, to” is 367 days: choose at most 366."),
        ({"first_from": "0001-01-01"}, "first_from",
         "“First period, from”: 0001-01-01 is outside the dates accepted (2000-01-01 to"),
        ({"second_to": "9999-12-31"}, "second_to",
         "“Second period, to”: 9999-12-31 is outside the dates accepted (2000-01-01 to"),
    ],
)  # fmt: skip
def test_bad_dates_are_answered_on_the_page_naming_the_field(team, ledger, fields, field,
                                                             message):  # fmt: skip
    html = compare_page(login(team.gm), 422, **{**APRIL_AND_EARLY_MAY, **fields})
    assert message in html
    assert f'id="f-{field}-error"' in html
    tag = html.split(f'id="f-{field}"', 1)[1].split(">", 1)[0]
    assert "is-invalid" in tag
    assert 'id="compare"' not in html  # nothing compared
    assert html.count("is-invalid") == 1  # only the field to fix


def test_a_year_of_366_days_is_compared(team, ledger):
    html = compare_page(login(team.gm), first_from="2024-01-01", first_to="2024-12-31",
                        second_from="2025-05-01", second_to="2026-05-01")  # fmt: skip
    assert "2024-01-01 – 2024-12-31 and 2025-05-01 – 2026-05-01 side by side" in html
    volume = [text for _h, text in compared(html, "lead_volume")[0]]
    assert volume == ["0", "3"]  # A1 to A3


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=May&to=2026-05-31", "“From” is not a date"),
        ("from=2026-05-01&to=", "“To” is missing."),
        ("from=2026-05-31&to=2026-05-01", "“To” is before “From”."),
        ("from=2025-01-01&to=2026-05-01", "choose at most 366"),
    ],
)
def test_the_drill_down_names_the_date_that_is_wrong(team, query, message):
    response = login(team.gm).get(f"/dashboard/leads/?measure=leads&{query}")
    assert response.status_code == 400
    assert message in unescape(response.content.decode())


def test_the_drill_down_takes_any_days(team, ledger):
    href = "/dashboard/leads/?measure=arrived&from=2026-05-06&to=2026-05-09&view=period"
    client = login(team.gm)
    assert listed(client, href) == ids(ledger, "M1", "M2")
    html = unescape(client.get(href).content.decode())
    assert "2026-05-06 – 2026-05-09" in html


# ---------------------------------------------------------------- dimensions the engine offers


def test_every_dimension_the_engine_offers_is_named_and_drills_down(team, ledger):
    """Asked at run time: whatever kpi.measures.DIMENSIONS holds (day, week, consultant … when
    the engine has them), each group's leads are exactly the number it counts."""
    client = login(team.gm)
    window = may_window(team)
    for by in measures.DIMENSIONS:
        assert dict(dimension_choices())[by] == dimension_name(by)
        report = kpi_report(window=window, by=by, metrics=["lead_volume"])
        assert report.groups, by
        for group in report.groups:
            href = "/dashboard/leads/?" + drill_query(window, "leads", by, group.key)
            response = client.get(href)
            assert response.status_code == 200, (by, group.key, response.content[:300])
            html = unescape(response.content.decode())
            assert f"{dimension_name(by)}: " in html, by
            counted = group.values["lead_volume"].numerator
            assert len(LEAD_LINK.findall(html)) == counted, (by, group.key)
    assert dimension_name("month") == "Month"
    assert dimension_name("day") == "Day" and dimension_name("week") == "Week"
    assert dimension_name("mood") == "mood"  # one the pages do not know yet: its key
