"""The audit group's fixtures: a week of work (recorded calls, approved defeats, invalid
marks) by the team's people, drawn from in the tests."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from audit import sources
from audit.actions import draw_sample, ensure_form, submit_audit
from audit.models import Appeal, AuditTask
from calls import actions as call_actions
from calls.models import Call, PhoneAccount
from leads import actions
from leads.models import CallOutcome, Lead
from tests.calls.reports import answered, phone_account
from tests.factories import make_lead

SHANGHAI = ZoneInfo("Asia/Shanghai")
# The week before the tests' fixed day (Wednesday 18 November 2026).
WEEK = date(2026, 11, 9)


def during(week: date, day: int = 2, hour: int = 11) -> datetime:
    """`day` days after the week's Monday, at `hour` in Shanghai."""
    return datetime.combine(week + timedelta(days=day), datetime.min.time(), SHANGHAI).replace(
        hour=hour
    )


def defeated(team, person, at: datetime) -> Lead:
    """A lead of `person`'s, called, its defeat requested by them and approved at `at`."""
    lead = make_lead(team.dealer, owner=person, at=at - timedelta(hours=2))
    actions.log_call(lead=lead, by=person, outcome=CallOutcome.REACHED, at=at - timedelta(hours=1))
    actions.request_defeat(lead=lead, by=person, reason="price", at=at - timedelta(minutes=30))
    return actions.approve_defeat(lead=lead, by=team.sales_manager, at=at)


def invalidated(team, person, at: datetime) -> Lead:
    lead = make_lead(team.dealer, owner=person, at=at - timedelta(hours=1))
    return actions.invalidate_lead(lead=lead, by=person, reason="wrong_number", at=at)


def recorded_call(account: PhoneAccount, at: datetime, *, seat: str = "8001", lead=None) -> Call:
    number = lead.customer.phone if lead else "13911112222"
    return call_actions.receive(
        account,
        answered(
            number=number,
            seat=seat,
            start=at,
            recording_urls=(f"https://rec.example/{at.timestamp()}-{seat}.mp3",),
        ),
    )


@pytest.fixture
def account(team) -> PhoneAccount:
    return phone_account(team)


@pytest.fixture
def week_of_work(team, account):
    """In WEEK: agent 1 took 10 recorded calls (one more without a recording), agent 2 three;
    consultant 1 had 3 defeats approved, consultant 2 one; agent 1 marked 2 leads invalid.
    Work of the weeks before and after is not in it."""
    one, two = team.dcc_agent, team.dcc_agent_2
    for n in range(10):
        recorded_call(account, during(WEEK, n % 7, 10 + n % 5))
    call_actions.receive(account, answered(seat="8001", start=during(WEEK, 3)))
    for n in range(3):
        recorded_call(account, during(WEEK, n), seat="8002")
    recorded_call(account, during(WEEK, -1))  # the Sunday before
    recorded_call(account, during(WEEK, 7, 0))  # the next Monday
    for n in range(3):
        defeated(team, team.consultant, during(WEEK, n + 1))
    defeated(team, team.consultant_2, during(WEEK, 4))
    for n in range(2):
        invalidated(team, one, during(WEEK, n + 2))
    return {"agent": one, "agent_2": two}


@pytest.fixture
def audited(team, account):
    """Two recorded calls of agent 1 (one on a lead) and a defeat of consultant 1's, drawn;
    the defeat audited (failed) and appealed."""
    lead = defeated(team, team.consultant, during(WEEK, 1))
    recorded_call(account, during(WEEK, 2), lead=None)
    draw_sample(dealer=team.dealer, week=WEEK, by=team.auditor, seed=8)
    task = AuditTask.objects.get(source=sources.DEFEAT)
    form = ensure_form(team.dealer, sources.DEFEAT)
    audit = submit_audit(
        task=task, by=team.auditor, form=form,
        scores={item.pk: 0 for item in form.items.all()}, result="fail",
    )  # fmt: skip
    Appeal.objects.create(dealer=team.dealer, audit=audit, reason="客户已在别家提车")
    return {"lead": lead, "audit": audit, "call_task": AuditTask.objects.get(source=sources.CALL)}
