"""The fast counts (daily tallies, the leads' milestone columns) equal a fresh count from the
ledger after any sequence of writes: live actions in any order, repeat enquiries, handoffs and
reassignments, reactivations, and backdated history imports written in bulk."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dcc.errors import DomainError
from kpi import counting, measures
from kpi.measures import DIMENSIONS, Window
from kpi.registry import View
from leads import actions, tallies, teams
from leads.batch import Batch
from leads.models import CallOutcome, Lead, TeamKind
from leads.setup.defaults import set_up_dealer
from leads.stages import Grade
from tests.factories import make_lead
from tests.leads.test_replay import import_rows, lead_rows
from tests.leads.test_replay import rows as history_rows

pytestmark = pytest.mark.django_db

ZONE = timezone.get_default_timezone()
NOW = timezone.now().replace(microsecond=0)
START = datetime.combine(NOW.astimezone(ZONE).date() - timedelta(days=60), time.min, ZONE)
PHONES = [f"1390000{n:04d}" for n in range(6)]  # few numbers: repeat enquiries happen
OPS = (
    "create",
    "reached",
    "missed",
    "grade",
    "book",
    "arrive",
    "check_in",
    "order",
    "deliver",
    "defeat",
    "invalidate",
    "reactivate",
    "hand_off",
    "reassign",
    "sell",
    "return_visit",
    "import",
)
MEASURED = sorted(counting.TALLIED | set(measures.RETURN_VISIT_MEASURES))


def apply_step(team: Any, leads: list[Lead], step: tuple, at: datetime) -> None:
    op, target, pick, specs = step
    gm = team.gm
    people = [team.dcc_agent, team.dcc_agent_2, team.consultant, team.consultant_2]
    if op == "create" or not leads:
        channel_code = ("autohome", "douyin")[pick % 2]
        lead = make_lead(
            team.dealer, phone=PHONES[target % len(PHONES)], channel_code=channel_code, at=at
        )
        leads.append(lead)
        return
    if op == "import":  # one by one through the actions, or replayed in bulk
        batch = Batch(team.dealer, now=timezone.now()) if pick % 2 else None
        import_rows(team, lead_rows(specs, team), batch=batch)
        leads[:] = Lead.objects.filter(dealer=team.dealer).order_by("pk")
        return
    lead = Lead.objects.get(pk=leads[target % len(leads)].pk)
    if op in ("reached", "missed"):
        outcome = CallOutcome.REACHED if op == "reached" else CallOutcome.NO_ANSWER
        actions.log_call(lead=lead, by=gm, outcome=outcome, at=at)
    elif op == "grade":
        actions.set_grade(lead=lead, by=gm, grade=Grade.values[pick % 4], at=at)
    elif op == "book":
        actions.book_appointment(lead=lead, by=gm, appointment_at=at + timedelta(days=1), at=at)
    elif op == "arrive":
        actions.record_arrival(lead=lead, by=gm, at=at)
    elif op == "check_in":
        consultant = (team.consultant, team.consultant_2)[pick % 2]
        actions.check_in_visitor(
            dealer=team.dealer, phone=lead.customer.phone, by=consultant, at=at
        )
    elif op == "order":
        actions.record_order(lead=lead, by=gm, at=at)
    elif op == "deliver":
        actions.record_delivery(lead=lead, by=gm, at=at)
    elif op == "defeat":
        lead = actions.request_defeat(lead=lead, by=team.dcc_supervisor, reason="price", at=at)
        actions.approve_defeat(lead=lead, by=gm, at=at + timedelta(minutes=5))
    elif op == "invalidate":
        actions.invalidate_lead(lead=lead, by=gm, reason="no_intent", at=at)
    elif op == "reactivate":
        actions.reactivate_lead(lead=lead, by=gm, at=at)
    elif op == "hand_off":
        actions.hand_off(lead=lead, by=gm, to=people[pick % len(people)], at=at)
    elif op == "reassign":
        actions.reassign_leads(leads=[lead], by=gm, to=people[pick % len(people)])
    elif op == "sell":  # received by a consultant, ordered, delivered: a return visit falls due
        consultant = (team.consultant, team.consultant_2)[pick % 2]
        lead = actions.check_in_visitor(
            dealer=team.dealer, phone=lead.customer.phone, by=consultant, at=at
        )
        # Minutes apart: no event is ever in the future (live actions stamp now, imports
        # refuse it), and the cohort view follows leads to now.
        lead = actions.record_order(lead=lead, by=consultant, at=at + timedelta(minutes=1))
        actions.record_delivery(lead=lead, by=consultant, at=at + timedelta(minutes=2))
    elif op == "return_visit":
        actions.record_return_visit(lead=lead, by=team.owner_ops, reached=pick % 3 > 0, at=at)


steps = st.lists(
    st.tuples(
        st.sampled_from(OPS),
        st.integers(0, 30),
        st.integers(0, 7),
        st.lists(history_rows(), min_size=1, max_size=3),
    ),
    min_size=1,
    max_size=25,
)
# When each step happens, in hours after START: not in order, as backdated entries are not.
moments = st.lists(st.integers(0, 60 * 24), min_size=25, max_size=25)


def imported(days_ago: int, phone: str, **steps: timedelta) -> dict[str, Any]:
    """A row of history created `days_ago`, as `history_rows` draws them."""
    created_at = NOW - timedelta(days=days_ago)
    return {
        "phone": phone,
        "created_at": created_at,
        "grade": "",
        "owner": "dcc_agent",
        "name": "",
        "external_id": "",
        "channel": "autohome",
        **{step: created_at + gap for step, gap in steps.items()},
    }


# Leads imported past their deadline with no first response in their history have no SLA
# (through the actions, and replayed): one is called afterwards. One is imported with its
# first response; a live lead is answered a day late.
NO_SLA_PLAN = [
    ("create", 1, 0, []),
    ("import", 0, 0, [imported(50, "13800000001")]),
    ("import", 0, 1, [imported(49, "13800000002", contacted_at=timedelta(minutes=5))]),
    ("import", 0, 1, [imported(48, "13800000003")]),
    ("reached", 1, 0, []),
    ("reached", 0, 0, []),
]
NO_SLA_HOURS = [24 * 11] * 5 + [24 * 12] * 20


def windows(dealer_id: int, first_day: int, length: int) -> list[Window]:
    """Whole days (the tallies answer by dealer and time), a window starting at noon (the
    milestone columns answer), each in both views, and a cohort seen from a past day."""
    start = START + timedelta(days=first_day)
    dealer_ids = (dealer_id,)
    made = []
    for begin in (start, start + timedelta(hours=12)):
        for view in View:
            made.append(Window(dealer_ids, begin, begin + timedelta(days=length), View(view)))
    made.append(
        Window(
            dealer_ids,
            start,
            start + timedelta(days=length),
            View.COHORT,
            as_of=NOW - timedelta(days=3),
        )
    )
    return made


def without_zeros(found: dict) -> dict:
    return {key: n for key, n in found.items() if n}


def check_counts_equal_the_ledger(windows_: list[Window]) -> None:
    for window in windows_:
        for by in (None, *DIMENSIONS):
            fast = counting.count_measures(set(MEASURED), window, by)
            for measure in MEASURED:
                ledger = measures.counts(measure, window, by)
                assert without_zeros(fast[measure]) == without_zeros(ledger), (
                    measure,
                    by,
                    window,
                )
                for group in list(ledger)[:1] if by else [None]:
                    ours = set(counting.lead_ids(measure, window, by, group))
                    theirs = set(measures.lead_ids(measure, window, by, group))
                    assert ours == theirs, (measure, by, group, window)


def in_two_dcc_groups(team: Any) -> None:
    """The line in its default teams, and the second agent moving to a second DCC group on
    the 20th day: by team, leads count for the group their agent was in when they came in."""
    set_up_dealer(team.dealer)
    second = teams.create_team(dealer=team.dealer, by=team.gm, kind=TeamKind.DCC, name="2")
    teams.place_in_team(
        team=second, staff=team.dcc_agent_2, by=team.gm, at=START + timedelta(days=20)
    )


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@example(plan=NO_SLA_PLAN, hours=NO_SLA_HOURS, first_day=5, length=10)
@given(
    plan=steps,
    hours=moments,
    first_day=st.integers(0, 50),
    length=st.integers(1, 40),
)
def test_fast_counts_equal_a_fresh_count_from_the_ledger(team, plan, hours, first_day, length):
    with transaction.atomic():
        in_two_dcc_groups(team)
        leads: list[Lead] = []
        for step, hour in zip(plan, hours, strict=False):
            at = min(START + timedelta(hours=hour, minutes=7), NOW - timedelta(minutes=10))
            try:
                with transaction.atomic():
                    apply_step(team, leads, step, at)
            except DomainError:
                pass  # not allowed in the lead's stage now: nothing was written
        assert tallies.drift([team.dealer.pk]) == []
        check_counts_equal_the_ledger(windows(team.dealer.pk, first_day, length))
        transaction.set_rollback(True)


def test_the_tallies_answer_a_month_of_every_dealer_without_reading_leads(
    team, other_team, django_assert_max_num_queries
):
    """Headquarters' question (every dealer, a month, by dealer) reads the tallies alone."""
    for number, dealer_team in enumerate((team, other_team)):
        for n in range(number + 2):
            lead = make_lead(dealer_team.dealer, at=START + timedelta(days=3, hours=n))
            actions.log_call(
                lead=lead,
                by=dealer_team.gm,
                outcome=CallOutcome.REACHED,
                at=START + timedelta(days=4),
            )
    window = Window(
        (team.dealer.pk, other_team.dealer.pk), START, START + timedelta(days=30), View.PERIOD
    )
    with django_assert_max_num_queries(1):
        found = counting.count_measures({"leads", "contacted", "valid"}, window, "dealer")
    assert found["leads"] == {team.dealer.pk: 2, other_team.dealer.pk: 3}
    assert found["contacted"] == {team.dealer.pk: 2, other_team.dealer.pk: 3}


def test_return_visits_count_for_the_agent_who_first_had_the_lead(team):
    """The consultant who received and sold it owns it now; the agent keeps its KPIs."""
    sold = START + timedelta(days=2, hours=10)
    lead = make_lead(team.dealer, owner=team.dcc_agent, at=START + timedelta(hours=10))
    lead = actions.check_in_visitor(
        dealer=team.dealer, phone=lead.customer.phone, by=team.consultant, at=sold
    )
    lead = actions.record_order(lead=lead, by=team.consultant, at=sold + timedelta(hours=1))
    actions.record_delivery(lead=lead, by=team.consultant, at=sold + timedelta(hours=2))
    window = Window((team.dealer.pk,), START, START + timedelta(days=40), View.PERIOD)
    for by in ("agent", "consultant", "channel", None):
        fast = counting.count_measures({"return_visits_due"}, window, by)["return_visits_due"]
        assert fast == measures.counts("return_visits_due", window, by), by
    assert counting.count_measures({"return_visits_due"}, window, "agent") == {
        "return_visits_due": {team.dcc_agent.pk: 1}
    }
