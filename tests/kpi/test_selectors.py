"""KPIs of a hand-made ledger, computed by hand: May 2026 at one dealer, period and cohort
views, by channel and by agent, with the leads behind every number."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpi.measures import lead_ids
from kpi.registry import METRICS, View
from kpi.selectors import day_window, kpi_report
from leads import actions
from leads.models import CallOutcome, Channel
from tests.factories import channel, make_lead

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def may(team):
    """Six leads around May 2026 (L1–L6), and who did what:

    L1 autohome, agent 1: May 3 10:00, reached 10:05 (in time), booked May 4, arrived May 6,
       ordered May 10, a repeat enquiry May 12, delivered June 2.
    L2 autohome, agent 2: May 5 10:00, reached 10:30 (late), booked May 7, arrived May 9.
    L3 douyin, agent 2: May 8, marked invalid the same day.
    L4 douyin, agent 1: May 20, reached May 21, defeat requested May 25, approved May 26.
    L5 autohome, agent 1: April 28, booked May 2, arrived May 3 (in May's period, not its
       cohort).
    L6 autohome, agent 1: May 30, nothing yet.
    autohome spends 31,000 a month, the other channels nothing.
    """
    gm, one, two = team.gm, team.dcc_agent, team.dcc_agent_2
    Channel.objects.filter(dealer=team.dealer).update(monthly_spend=0)
    autohome = channel(team.dealer, "autohome")
    autohome.monthly_spend = Decimal("31000")
    autohome.save()

    def lead(owner, when, via="autohome"):
        return make_lead(team.dealer, by=gm, owner=owner, at=when, channel_code=via)

    l1 = lead(one, at(5, 3))
    actions.log_call(lead=l1, by=one, outcome=CallOutcome.REACHED, at=at(5, 3, 10, 5))
    actions.book_appointment(lead=l1, by=gm, appointment_at=at(5, 6), at=at(5, 4))
    actions.record_arrival(lead=l1, by=gm, at=at(5, 6))
    actions.record_order(lead=l1, by=gm, at=at(5, 10))
    actions.create_lead(
        dealer=team.dealer, phone=l1.customer.phone, channel=autohome, by=gm, at=at(5, 12)
    )
    actions.record_delivery(lead=l1, by=gm, at=at(6, 2))
    l2 = lead(two, at(5, 5))
    actions.log_call(lead=l2, by=two, outcome=CallOutcome.REACHED, at=at(5, 5, 10, 30))
    actions.book_appointment(lead=l2, by=gm, appointment_at=at(5, 9), at=at(5, 7))
    actions.record_arrival(lead=l2, by=gm, at=at(5, 9))
    l3 = lead(two, at(5, 8), via="douyin")
    actions.invalidate_lead(lead=l3, by=gm, reason="no_intent", at=at(5, 8, 11))
    l4 = lead(one, at(5, 20), via="douyin")
    actions.log_call(lead=l4, by=one, outcome=CallOutcome.REACHED, at=at(5, 21))
    actions.request_defeat(lead=l4, by=one, reason="price", at=at(5, 25))
    actions.approve_defeat(lead=l4, by=gm, at=at(5, 26))
    l5 = lead(one, at(4, 28))
    actions.book_appointment(lead=l5, by=gm, appointment_at=at(5, 3), at=at(5, 2))
    actions.record_arrival(lead=l5, by=gm, at=at(5, 3))
    l6 = lead(one, at(5, 30))
    return {"L1": l1, "L2": l2, "L3": l3, "L4": l4, "L5": l5, "L6": l6}


def numbers(group) -> dict[str, tuple]:
    """(numerator, denominator) of each metric of a report's group (or its total)."""
    return {key: (v.numerator, v.denominator) for key, v in group.values.items()}


def window(team, view=View.PERIOD, first=date(2026, 5, 1), last=date(2026, 5, 31)):
    return day_window(dealer_ids=[team.dealer.pk], first=first, last=last, view=view)


def test_may_in_the_period_view(team, may):
    got = numbers(kpi_report(window=window(team)).total)
    assert got["lead_volume"] == (5, None)
    assert got["touches"] == (1, None)
    assert got["valid_lead_rate"] == (4, 5)
    assert got["first_response_on_time"] == (1, 5)
    assert got["contact_rate"] == (3, 5)
    assert got["invitation_rate"] == (3, 4)  # L1, L2 and April's L5, of 4 valid leads
    assert got["arrival_rate"] == (3, 5)
    assert got["arrival_to_order_rate"] == (1, 3)
    assert got["lead_close_rate"] == (1, 5)
    assert got["deliveries"] == (0, None)  # June
    assert got["defeat_rate"] == (1, 2)  # L4, of L3 and L4 closed in May
    assert got["cost_per_lead"] == (Decimal("31000.00"), 5)
    report = kpi_report(window=window(team), metrics=["arrival_rate"])
    assert report.total.values["arrival_rate"].value == pytest.approx(0.6)


def test_may_in_the_cohort_view_follows_mays_leads_to_today(team, may):
    got = numbers(kpi_report(window=window(team, View.COHORT)).total)
    assert got["lead_volume"] == (5, None)
    assert got["invitation_rate"] == (2, 4)  # L5 was created in April
    assert got["arrival_rate"] == (2, 5)
    assert got["deliveries"] == (1, None)  # L1, delivered in June
    assert got["defeat_rate"] == (1, 3)  # L4, of L1 (delivered), L3 and L4


def test_by_channel_with_spend_per_lead(team, may):
    report = kpi_report(window=window(team), by="channel")
    groups = {group.label: numbers(group) for group in report.groups}
    assert set(groups) == {"Autohome", "Douyin"}
    assert groups["Autohome"]["lead_volume"] == (3, None)
    assert groups["Autohome"]["arrival_rate"] == (3, 3)
    assert groups["Autohome"]["cost_per_lead"] == (Decimal("31000.00"), 3)
    assert groups["Douyin"]["lead_volume"] == (2, None)
    assert groups["Douyin"]["cost_per_lead"] == (0, 2)
    assert report.groups[0].values["cost_per_lead"].value == Decimal("10333.33")


def test_by_agent_the_lead_counts_for_whom_it_was_assigned_to(team, may):
    report = kpi_report(window=window(team), by="agent", metrics=["lead_volume", "contact_rate"])
    groups = {group.key: numbers(group) for group in report.groups}
    assert groups[team.dcc_agent.pk] == {"lead_volume": (3, None), "contact_rate": (2, 3)}
    assert groups[team.dcc_agent_2.pk] == {"lead_volume": (2, None), "contact_rate": (1, 2)}
    # Spend belongs to channels, not people: no cost metrics per agent.
    money = kpi_report(window=window(team), by="agent", metrics=["cost_per_lead"])
    assert all("cost_per_lead" not in group.values for group in money.groups)


def test_by_week_day_and_consultant(team, may):
    """Weeks start on Monday (May 4, 2026 is one); a consultant is who received the customer
    at the lead's first arrival."""
    weekly = kpi_report(window=window(team), by="week", metrics=["lead_volume", "arrivals"])
    weeks = {group.label: numbers(group) for group in weekly.groups}
    # L1 May 3 (Sunday), L2 May 5, L3 May 8, L4 May 20, L6 May 30; arrivals May 3, 6, 9.
    assert weeks["2026-W18"] == {"lead_volume": (1, None), "arrivals": (1, None)}
    assert weeks["2026-W19"] == {"lead_volume": (2, None), "arrivals": (2, None)}
    assert weeks["2026-W21"]["lead_volume"] == (1, None)
    daily = kpi_report(window=window(team), by="day", metrics=["lead_volume"])
    assert {group.label: numbers(group)["lead_volume"][0] for group in daily.groups} == {
        "2026-05-03": 1,
        "2026-05-05": 1,
        "2026-05-08": 1,
        "2026-05-20": 1,
        "2026-05-30": 1,
    }
    walk_in = actions.check_in_visitor(
        dealer=team.dealer, phone=may["L6"].customer.phone, by=team.consultant, at=at(5, 31)
    )
    assert walk_in.pk == may["L6"].pk  # the invited customer, handed to the consultant
    report = kpi_report(window=window(team), by="consultant", metrics=["arrivals"])
    received = {group.label: numbers(group)["arrivals"] for group in report.groups}
    assert received == {str(team.gm): (3, None), str(team.consultant): (1, None)}


def test_every_number_links_to_the_leads_behind_it(team, may):
    w = window(team)
    assert set(lead_ids("arrived", w, None, None)) == {may["L1"].pk, may["L2"].pk, may["L5"].pk}
    assert set(lead_ids("leads", w, None, None)) - set(lead_ids("valid", w, None, None)) == {
        may["L3"].pk
    }
    douyin = channel(team.dealer, "douyin").pk
    assert set(lead_ids("leads", w, "channel", douyin)) == {may["L3"].pk, may["L4"].pk}
    months = kpi_report(window=w, by="month", metrics=["arrivals"]).groups
    assert [(g.label, g.values["arrivals"].numerator) for g in months] == [("2026-05", 3)]
    assert set(lead_ids("arrived", w, "month", months[0].key)) == {
        may["L1"].pk,
        may["L2"].pk,
        may["L5"].pk,
    }


def test_the_registry_defines_every_kpi_of_the_design_once():
    wanted = {
        "lead_volume",
        "valid_lead_rate",
        "first_response_on_time",
        "invitation_rate",
        "arrival_rate",
        "arrival_to_order_rate",
        "lead_close_rate",
        "defeat_rate",
        "return_visit_completion",
        "cost_per_lead",
        "cost_per_arrival",
        "cost_per_order",
    }
    assert wanted <= set(METRICS)
    for metric in METRICS.values():
        assert str(metric.name) and str(metric.description)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(first=st.integers(1, 20), length=st.integers(1, 11))
def test_the_days_of_a_period_add_up_to_the_period(team, may, first, length):
    """Counts of any stretch of days are the sums of its days' counts (period view)."""
    days = [date(2026, 5, first + n) for n in range(length)]
    whole = kpi_report(window=window(team, first=days[0], last=days[-1]))
    counted = [m.key for m in whole.metrics if m.denominator is None] + ["arrival_rate"]
    summed = dict.fromkeys(counted, 0)
    for day in days:
        report = kpi_report(window=window(team, first=day, last=day), metrics=counted)
        for key in counted:
            summed[key] += report.total.values[key].numerator
    assert summed == {key: whole.total.values[key].numerator for key in counted}


@pytest.mark.parametrize("view", list(View))
@pytest.mark.parametrize("by", ["channel", "channel_group", "month", "model", "grade", "agent"])
def test_totals_by_any_dimension_are_the_totals_without_one(team, may, by, view):
    """Totals of a grouped report add its groups up; they must be the ungrouped numbers (of
    the metrics the dimension cuts: all but the members, a stock, by month)."""
    w = window(team, view, first=date(2026, 4, 1), last=date(2026, 6, 30))
    grouped = numbers(kpi_report(window=w, by=by).total)
    whole = numbers(kpi_report(window=w).total)
    assert set(whole) - set(grouped) == (
        {"members", "active_member_rate"} if by == "month" else set()
    )
    assert grouped == {key: whole[key] for key in grouped}
