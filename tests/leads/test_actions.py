"""leads.actions beyond the stage matrix: the tasks each action opens, closes and moves
(follow-up by grade, first call, appointment reminder, return visit), defeat approval by
someone else, reactivation against a newer open lead, and backdated history."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Absence, Staff
from accounts.roles import Role
from dcc.errors import Conflict, InvalidInput, NotPermitted
from leads import actions, followups
from leads.followups import RETURN_VISIT_AFTER
from leads.models import (
    Event,
    EventKind,
    GradePolicy,
    Lead,
    Task,
    TaskKind,
    TaskOutcome,
    TeamKind,
)
from tests.conftest import Team as People
from tests.factories import DealerFactory, fresh_mobile, make_lead, member
from tests.kit import assert_recorded

pytestmark = pytest.mark.django_db

FOLLOW_UP = TaskKind.FOLLOW_UP
FIRST_CALL = TaskKind.FIRST_CALL
REMINDER = TaskKind.APPOINTMENT_REMINDER
RETURN_VISIT = TaskKind.RETURN_VISIT


# ---------------------------------------------------------------- helpers


def new_lead(team: People, *, owner: Staff | None = None, **fields) -> Lead:
    """A new lead entered by the platform specialist, owned by the first DCC agent."""
    return make_lead(
        team.dealer, by=team.platform_specialist, owner=owner or team.dcc_agent, **fields
    )


def contacted(team: People, *, owner: Staff | None = None, **fields) -> Lead:
    lead = new_lead(team, owner=owner, **fields)
    return actions.log_call(lead=lead, by=lead.owner, outcome="reached")


def appointed(team: People, *, owner: Staff | None = None, visit: datetime | None = None) -> Lead:
    lead = contacted(team, owner=owner)
    visit = visit or timezone.now() + timedelta(days=3)
    return actions.book_appointment(lead=lead, by=lead.owner, appointment_at=visit)


def open_tasks(lead: Lead, kind: TaskKind | None = None) -> list[tuple[str, int, datetime]]:
    """(kind, assignee id, due) of the lead's open tasks."""
    tasks = Task.objects.filter(lead=lead, closed_at__isnull=True).order_by("pk")
    if kind:
        tasks = tasks.filter(kind=kind)
    return list(tasks.values_list("kind", "assignee_id", "due_at"))


def tasks_of(lead: Lead, kind: TaskKind) -> list[Task]:
    return list(Task.objects.filter(lead=lead, kind=kind).order_by("pk"))


def fresh(lead: Lead) -> Lead:
    return Lead.objects.get(pk=lead.pk)


def state(lead: Lead) -> tuple:
    """What an action could write: the lead row, its event count, its tasks."""
    row = Lead.objects.filter(pk=lead.pk).values().get()
    tasks = tuple(Task.objects.filter(lead=lead).order_by("pk").values_list())
    return row, Event.objects.filter(lead=lead).count(), tasks


def kinds(lead: Lead) -> list[str]:
    return list(Event.objects.filter(lead=lead).order_by("seq").values_list("kind", flat=True))


# ---------------------------------------------------------------- follow-up by grade


@pytest.mark.usefixtures("office_hours")
@pytest.mark.parametrize(("grade", "days"), [("H", 1), ("A", 3), ("B", 7), ("C", 15)])
def test_a_call_schedules_the_next_follow_up_by_grade(team, grade, days):
    lead = new_lead(team)
    at = timezone.now()
    actions.log_call(lead=lead, by=team.dcc_agent, outcome="reached", grade=grade, at=at)
    due = at + timedelta(days=days)
    assert fresh(lead).next_follow_up_at == due
    assert_recorded(
        lead,
        EventKind.GRADED,
        by=team.dcc_agent,
        stage="contacted",
        open_tasks={FOLLOW_UP: (team.dcc_agent, due)},
    )


@pytest.mark.usefixtures("office_hours")
@pytest.mark.parametrize(("grade", "days"), [("H", 1), ("A", 3), ("B", 7), ("C", 15)])
def test_grading_moves_the_follow_up_to_the_grades_interval(team, grade, days):
    lead = contacted(team)
    first = tasks_of(lead, FOLLOW_UP)
    at = timezone.now()
    actions.set_grade(lead=lead, by=team.dcc_agent, grade=grade, at=at)
    due = at + timedelta(days=days)
    assert fresh(lead).next_follow_up_at == due
    assert_recorded(
        lead,
        EventKind.GRADED,
        by=team.dcc_agent,
        at=at,
        data={"from": "", "to": grade},
        open_tasks={FOLLOW_UP: (team.dcc_agent, due)},
    )
    [before] = first
    before.refresh_from_db()
    assert before.outcome == TaskOutcome.SUPERSEDED


@pytest.mark.usefixtures("office_hours")
def test_a_dealers_grade_policy_overrides_the_default(team):
    GradePolicy.objects.create(dealer=team.dealer, grade="A", follow_up_days=2)
    GradePolicy.objects.create(dealer=DealerFactory(), grade="H", follow_up_days=9)
    at = timezone.now()
    a_lead, h_lead = new_lead(team), new_lead(team)
    actions.log_call(lead=a_lead, by=team.dcc_agent, outcome="reached", grade="A", at=at)
    actions.log_call(lead=h_lead, by=team.dcc_agent, outcome="reached", grade="H", at=at)
    # Overridden here; another dealer's policy changes nothing here.
    assert open_tasks(a_lead, FOLLOW_UP) == [(FOLLOW_UP, team.dcc_agent.pk, at + timedelta(days=2))]
    assert open_tasks(h_lead, FOLLOW_UP) == [(FOLLOW_UP, team.dcc_agent.pk, at + timedelta(days=1))]


def test_an_explicit_next_follow_up_wins_over_the_grade(team):
    lead = new_lead(team)
    at = timezone.now()
    wanted = at + timedelta(hours=5)
    actions.log_call(
        lead=lead, by=team.dcc_agent, outcome="reached", grade="C", next_follow_up_at=wanted, at=at
    )
    assert fresh(lead).next_follow_up_at == wanted
    assert open_tasks(lead, FOLLOW_UP) == [(FOLLOW_UP, team.dcc_agent.pk, wanted)]


@pytest.mark.usefixtures("office_hours")
def test_every_call_leaves_exactly_one_open_follow_up_for_the_owner(team):
    lead = new_lead(team)
    t1 = timezone.now()
    t2 = t1 + timedelta(hours=2)
    actions.log_call(lead=lead, by=team.dcc_agent, outcome="reached", grade="B", at=t1)
    # A supervisor calls too: the follow-up stays the owner's, and the grade keeps its interval.
    actions.log_call(lead=lead, by=team.dcc_supervisor, outcome="no_answer", at=t2)
    assert open_tasks(lead, FOLLOW_UP) == [(FOLLOW_UP, team.dcc_agent.pk, t2 + timedelta(days=7))]
    earlier = tasks_of(lead, FOLLOW_UP)[0]
    assert (earlier.closed_at, earlier.outcome) == (t2, TaskOutcome.DONE)


def test_an_unanswered_first_call_still_schedules_a_retry(team):
    lead = new_lead(team)
    at = timezone.now()
    actions.log_call(lead=lead, by=team.dcc_agent, outcome="no_answer", at=at)
    [(kind, assignee, due)] = open_tasks(lead, FOLLOW_UP)
    assert (kind, assignee) == (FOLLOW_UP, team.dcc_agent.pk)
    assert at < due <= at + timedelta(days=3)


# ---------------------------------------------------------------- the first call


def test_a_new_lead_owes_a_first_call_by_the_sla_deadline(team):
    lead = new_lead(team)
    assert_recorded(
        lead,
        EventKind.CREATED,
        by=team.platform_specialist,
        stage=("", "new"),
        open_tasks={FIRST_CALL: (team.dcc_agent, lead.sla_deadline)},
    )
    assert lead.first_response_at is None


def test_the_first_call_closes_the_first_call_task_and_stops_the_clock(team):
    lead = new_lead(team)
    t1 = timezone.now()
    actions.log_call(lead=lead, by=team.dcc_agent, outcome="busy", at=t1)
    [first_call] = tasks_of(lead, FIRST_CALL)
    assert (first_call.closed_at, first_call.outcome) == (t1, TaskOutcome.DONE)
    lead = fresh(lead)
    assert (lead.first_response_at, lead.stage) == (t1, "new")  # not reached: still new

    t2 = t1 + timedelta(hours=1)
    actions.log_call(lead=lead, by=team.dcc_agent, outcome="reached", at=t2)
    assert fresh(lead).first_response_at == t1  # the first one counts
    assert_recorded(
        lead,
        EventKind.CALLED,
        by=team.dcc_agent,
        stage=("new", "contacted"),
        at=t2,
        open_tasks={FOLLOW_UP: team.dcc_agent},
    )


# ---------------------------------------------------------------- business hours


def in_hours(moment: datetime) -> bool:
    local = timezone.localtime(moment).time()
    return time(9, 0) <= local < time(18, 0)


def first_opening_from(moment: datetime) -> datetime:
    """The first moment of the 09:00-18:00 day at or after `moment`."""
    local = timezone.localtime(moment)
    if in_hours(local):
        return local
    day = local if local.time() < time(9, 0) else local + timedelta(days=1)
    return day.replace(hour=9, minute=0, second=0, microsecond=0)


@pytest.mark.parametrize("grade", ["H", "B"])
def test_a_follow_up_falls_due_in_business_hours_at_any_hour(team, calendar_day, grade):
    lead = new_lead(team)
    now = timezone.now()
    lead = actions.log_call(lead=lead, by=team.dcc_agent, outcome="reached", grade=grade)
    [(_kind, _who, due)] = open_tasks(lead, FOLLOW_UP)
    days = {"H": 1, "B": 7}[grade]
    assert in_hours(due)
    assert due == fresh(lead).next_follow_up_at
    assert abs(due - first_opening_from(now + timedelta(days=days))) < timedelta(seconds=1)


def test_a_call_at_night_is_followed_up_after_opening_not_at_night(team, fixed_clock):
    fixed_clock.move_to(datetime(2026, 11, 18, 3, 14, tzinfo=timezone.get_current_timezone()))
    lead = actions.log_call(lead=new_lead(team), by=team.dcc_agent, outcome="reached", grade="A")
    [(_kind, _who, due)] = open_tasks(lead, FOLLOW_UP)
    assert timezone.localtime(due).strftime("%Y-%m-%d %H:%M") == "2026-11-21 09:00"


def test_a_return_visit_falls_due_in_business_hours(team, calendar_day):
    lead = appointed(team)
    lead = actions.record_arrival(lead=lead, by=team.showroom_manager)
    lead = actions.record_order(lead=lead, by=team.showroom_manager)
    now = timezone.now()
    lead = actions.record_delivery(lead=lead, by=team.showroom_manager)
    [(_kind, _who, due)] = open_tasks(lead, RETURN_VISIT)
    assert in_hours(due)
    assert abs(due - first_opening_from(now + RETURN_VISIT_AFTER)) < timedelta(seconds=1)


def test_a_follow_up_time_the_person_names_is_kept(team):
    evening = timezone.localtime() + timedelta(days=1)
    evening = evening.replace(hour=19, minute=30, second=0, microsecond=0)
    lead = actions.log_call(
        lead=new_lead(team), by=team.dcc_agent, outcome="reached", next_follow_up_at=evening
    )
    assert open_tasks(lead, FOLLOW_UP)[0][2] == evening  # "call me after work"


def test_a_dealer_open_around_the_clock_follows_up_at_any_hour(team, fixed_clock):
    team.dealer.opens_at = team.dealer.closes_at = time(0, 0)
    team.dealer.save()
    fixed_clock.move_to(datetime(2026, 11, 18, 3, 14, tzinfo=timezone.get_current_timezone()))
    now = timezone.now()
    lead = actions.log_call(lead=new_lead(team), by=team.dcc_agent, outcome="reached", grade="H")
    due = open_tasks(lead, FOLLOW_UP)[0][2]
    assert abs(due - (now + timedelta(days=1))) < timedelta(seconds=1)


# ---------------------------------------------------------------- appointments


def test_an_appointment_opens_a_reminder_for_the_owner_a_day_before(team):
    lead = contacted(team)
    visit = timezone.now() + timedelta(days=3)
    actions.book_appointment(lead=lead, by=team.dcc_agent, appointment_at=visit)
    assert fresh(lead).appointment_at == visit
    assert_recorded(
        lead,
        EventKind.APPOINTMENT_SET,
        by=team.dcc_agent,
        stage=("contacted", "appointed"),
        open_tasks={
            FOLLOW_UP: team.dcc_agent,
            REMINDER: (team.dcc_agent, visit - timedelta(days=1)),
        },
    )


def test_moving_an_appointment_moves_its_reminder(team):
    first = timezone.now() + timedelta(days=3)
    lead = appointed(team, visit=first)
    later = first + timedelta(days=2)
    actions.book_appointment(lead=lead, by=team.dcc_agent, appointment_at=later)
    moved = assert_recorded(
        lead,
        EventKind.APPOINTMENT_MOVED,
        by=team.dcc_agent,
        stage="appointed",
        open_tasks={
            FOLLOW_UP: team.dcc_agent,
            REMINDER: (team.dcc_agent, later - timedelta(days=1)),
        },
    )
    assert moved.data["previous"] == first.isoformat()
    assert tasks_of(lead, REMINDER)[0].outcome == TaskOutcome.SUPERSEDED


def test_a_reminder_for_a_visit_within_a_day_is_due_at_once(team):
    lead = contacted(team)
    at = timezone.now()
    visit = at + timedelta(hours=3)
    actions.book_appointment(lead=lead, by=team.dcc_agent, appointment_at=visit, at=at)
    assert open_tasks(lead, REMINDER) == [(REMINDER, team.dcc_agent.pk, at)]


def test_cancelling_an_appointment_cancels_its_reminder_and_keeps_the_stage(team):
    lead = appointed(team)
    at = timezone.now()
    actions.cancel_appointment(lead=lead, by=team.dcc_agent, at=at)
    assert fresh(lead).appointment_at is None
    assert_recorded(
        lead,
        EventKind.APPOINTMENT_CANCELLED,
        by=team.dcc_agent,
        stage="appointed",
        at=at,
        open_tasks={FOLLOW_UP: team.dcc_agent},
    )
    [reminder] = tasks_of(lead, REMINDER)
    assert (reminder.closed_at, reminder.outcome) == (at, TaskOutcome.CANCELLED)
    with pytest.raises(Conflict) as caught:
        actions.cancel_appointment(lead=lead, by=team.dcc_agent)
    assert caught.value.code == "no_appointment"


# ---------------------------------------------------------------- dates within limits

FAR = [
    pytest.param(datetime(9999, 12, 31, 10, 0), "beyond_horizon", id="9999-12-31 naive"),
    pytest.param(datetime(9999, 12, 31, tzinfo=UTC), "beyond_horizon", id="9999-12-31"),
    pytest.param(timedelta(days=181), "beyond_horizon", id="181 days ahead"),
    pytest.param(datetime(2019, 5, 1, 10, 0, tzinfo=UTC), "in_past", id="2019"),
    pytest.param(datetime(1, 1, 1), "in_past", id="year 1"),
    pytest.param(timedelta(hours=-1), "in_past", id="an hour ago"),
]


def when(value: datetime | timedelta) -> datetime:
    return timezone.now() + value if isinstance(value, timedelta) else value


@pytest.mark.parametrize(("value", "problem"), FAR)
def test_an_appointment_is_in_the_future_and_within_the_horizon(team, calendar_day, value, problem):
    lead = contacted(team)
    before = state(lead)
    with pytest.raises(InvalidInput) as refused:
        actions.book_appointment(lead=lead, by=team.dcc_agent, appointment_at=when(value))
    assert (refused.value.code, refused.value.field) == (f"appointment_{problem}", "appointment_at")
    assert "appointment" in refused.value.message
    assert state(lead) == before
    visit = timezone.now() + timedelta(days=179)
    assert (
        fresh(
            actions.book_appointment(lead=lead, by=team.dcc_agent, appointment_at=visit)
        ).appointment_at
        == visit
    )


@pytest.mark.parametrize(("value", "problem"), FAR)
def test_a_next_follow_up_is_in_the_future_and_within_the_horizon(team, value, problem):
    lead = new_lead(team)
    before = state(lead)
    with pytest.raises(InvalidInput) as refused:
        actions.log_call(
            lead=lead, by=team.dcc_agent, outcome="reached", next_follow_up_at=when(value)
        )
    assert (refused.value.code, refused.value.field) == (
        f"follow_up_{problem}",
        "next_follow_up_at",
    )
    assert "follow-up" in refused.value.message
    assert state(lead) == before


def test_the_horizon_is_the_dealers(team):
    team.dealer.horizon_days = 30
    team.dealer.save()
    lead = contacted(team)
    with pytest.raises(InvalidInput) as refused:
        actions.book_appointment(
            lead=lead, by=team.dcc_agent, appointment_at=timezone.now() + timedelta(days=31)
        )
    assert "more than 30 days ahead" in refused.value.message
    with pytest.raises(InvalidInput):
        actions.log_call(
            lead=lead,
            by=team.dcc_agent,
            outcome="reached",
            next_follow_up_at=timezone.now() + timedelta(days=31),
        )
    actions.book_appointment(
        lead=lead, by=team.dcc_agent, appointment_at=timezone.now() + timedelta(days=29)
    )


def test_backdated_history_keeps_its_own_dates(team):
    """Imports replay the past: the limits are for live actions."""
    at = timezone.now() - timedelta(days=400)
    lead = new_lead(team, at=at)
    lead = actions.log_call(
        lead=lead,
        by=team.dcc_agent,
        outcome="reached",
        next_follow_up_at=at + timedelta(days=2),
        at=at + timedelta(hours=1),
    )
    lead = actions.book_appointment(
        lead=lead,
        by=team.dcc_agent,
        appointment_at=at + timedelta(days=3),
        at=at + timedelta(hours=2),
    )
    assert fresh(lead).appointment_at == at + timedelta(days=3)


def test_arrival_closes_the_reminder(team):
    lead = appointed(team)
    actions.hand_off(lead=lead, by=team.dcc_agent, to=team.consultant)
    at = timezone.now()
    actions.record_arrival(lead=lead, by=team.consultant, at=at)
    [reminder] = tasks_of(lead, REMINDER)
    assert (reminder.closed_at, reminder.outcome) == (at, TaskOutcome.DONE)
    assert_recorded(
        lead,
        EventKind.ARRIVED,
        by=team.consultant,
        stage=("appointed", "arrived"),
        at=at,
        data={"with_appointment": True},
        open_tasks={FOLLOW_UP: team.consultant},
    )


def test_a_walk_in_arrives_straight_from_new(team):
    lead = new_lead(team, owner=team.consultant, channel_code="walk_in")
    at = timezone.now()
    actions.record_arrival(lead=lead, by=team.consultant, at=at)
    assert fresh(lead).first_response_at == at
    assert_recorded(
        lead,
        EventKind.ARRIVED,
        by=team.consultant,
        stage=("new", "arrived"),
        data={"with_appointment": False},
    )
    assert open_tasks(lead, FIRST_CALL) == []


# ---------------------------------------------------------------- delivery


def arrived(team: People) -> Lead:
    lead = appointed(team)
    actions.hand_off(lead=lead, by=team.dcc_agent, to=team.consultant)
    return actions.record_arrival(lead=lead, by=team.consultant)


def ordered(team: People) -> Lead:
    lead = arrived(team)
    return actions.record_order(lead=lead, by=team.consultant, amount=Decimal("189000"))


@pytest.mark.usefixtures("office_hours")
def test_delivery_closes_the_lead_and_owes_owner_ops_a_return_visit(team):
    lead = ordered(team)
    assert open_tasks(lead, FOLLOW_UP)  # still following up until the car is handed over
    at = timezone.now()
    actions.record_delivery(lead=lead, by=team.consultant, at=at)
    lead = fresh(lead)
    assert (lead.closed_at, lead.next_follow_up_at) == (at, None)
    assert_recorded(
        lead,
        EventKind.DELIVERED,
        by=team.consultant,
        stage=("ordered", "delivered"),
        at=at,
        open_tasks={RETURN_VISIT: (team.owner_ops, at + RETURN_VISIT_AFTER)},
    )
    assert lead.owner_id == team.consultant.pk  # the sale stays the consultant's
    follow_up = tasks_of(lead, FOLLOW_UP)[-1]
    assert follow_up.closed_at == at


def test_the_return_visit_goes_to_an_owner_ops_specialist_who_is_present(team):
    colleague = member(team.dealer, Role.OWNER_OPS)
    now = timezone.now()
    Absence.objects.create(
        dealer=team.dealer,
        staff=team.owner_ops,
        cover=colleague,
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=5),
        created_by=team.gm,
    )
    lead = ordered(team)
    actions.record_delivery(lead=lead, by=team.consultant)
    assert [assignee for _kind, assignee, _due in open_tasks(lead, RETURN_VISIT)] == [colleague.pk]


# ---------------------------------------------------------------- exits close the work


def test_marking_invalid_cancels_every_open_task(team):
    lead = appointed(team)
    assert {kind for kind, _who, _due in open_tasks(lead)} == {FOLLOW_UP, REMINDER}
    at = timezone.now()
    actions.invalidate_lead(lead=lead, by=team.dcc_agent, reason="not_buyer", note="同行", at=at)
    assert_recorded(
        lead,
        EventKind.INVALIDATED,
        by=team.dcc_agent,
        stage=("appointed", "invalid"),
        at=at,
        reason="not_buyer",
        note="同行",
        open_tasks={},
    )
    lead = fresh(lead)
    assert (lead.exit_reason, lead.closed_at, lead.next_follow_up_at) == ("not_buyer", at, None)
    closed_now = Task.objects.filter(lead=lead, closed_at=at)
    assert set(closed_now.values_list("kind", "outcome")) == {
        (FOLLOW_UP, TaskOutcome.CANCELLED),
        (REMINDER, TaskOutcome.CANCELLED),
    }


def test_an_approved_defeat_cancels_every_open_task(team):
    lead = appointed(team)
    actions.request_defeat(lead=lead, by=team.dcc_agent, reason="bought_competitor")
    # While the supervisor decides, the owner keeps the follow-up.
    assert {kind for kind, _who, _due in open_tasks(lead)} == {FOLLOW_UP, REMINDER}
    at = timezone.now()
    actions.approve_defeat(lead=lead, by=team.dcc_supervisor, at=at)
    assert_recorded(
        lead,
        EventKind.DEFEAT_APPROVED,
        by=team.dcc_supervisor,
        stage=("appointed", "defeated"),
        reason="bought_competitor",
        at=at,
        open_tasks={},
    )
    lead = fresh(lead)
    assert (lead.defeat_pending, lead.exit_reason, lead.closed_at) == (
        False,
        "bought_competitor",
        at,
    )
    assert set(Task.objects.filter(lead=lead, closed_at=at).values_list("outcome", flat=True)) == {
        TaskOutcome.CANCELLED
    }


# ---------------------------------------------------------------- handoffs


def test_a_handoff_moves_the_open_tasks_to_the_new_owner(team):
    lead = appointed(team)
    at = timezone.now()
    actions.hand_off(
        lead=lead, by=team.dcc_agent, to=team.consultant, reason="arrival", note="S7", at=at
    )
    assert_recorded(
        lead,
        EventKind.HANDED_OFF,
        by=team.dcc_agent,
        owner=(team.dcc_agent, team.consultant),
        stage="appointed",
        reason="arrival",
        note="S7",
        at=at,
        open_tasks={FOLLOW_UP: team.consultant, REMINDER: team.consultant},
    )
    # Done work stays with whoever did it.
    [first_call] = tasks_of(lead, FIRST_CALL)
    assert first_call.assignee_id == team.dcc_agent.pk


def test_a_handoff_to_a_team_picks_one_of_its_workers(team):
    lead = appointed(team)
    actions.hand_off(lead=lead, by=team.dcc_agent, team=TeamKind.SHOWROOM)
    assert fresh(lead).owner_id in {team.consultant.pk, team.consultant_2.pk}


@pytest.mark.parametrize(
    ("target", "error", "code"),
    [
        ("dcc_agent", Conflict, "already_owner"),
        ("auditor", InvalidInput, "bad_owner"),
        ("headquarters", InvalidInput, "bad_owner"),
        ("marketing_manager", InvalidInput, "bad_owner"),
        ("elsewhere", InvalidInput, "bad_owner"),
    ],
)
def test_a_handoff_needs_someone_else_who_can_own_leads_here(team, target, error, code):
    lead = contacted(team)
    to = member(DealerFactory(), Role.DCC_AGENT) if target == "elsewhere" else getattr(team, target)
    before = state(lead)
    with pytest.raises(error) as caught:
        actions.hand_off(lead=lead, by=team.dcc_agent, to=to)
    assert caught.value.code == code
    assert state(lead) == before


def test_a_handoff_on_a_stale_version_is_refused(team):
    lead = contacted(team)
    before = state(lead)
    with pytest.raises(Conflict) as caught:
        actions.hand_off(
            lead=lead, by=team.dcc_agent, to=team.consultant, expected_version=lead.version - 1
        )
    assert caught.value.code == "stale_version"
    assert state(lead) == before


# ---------------------------------------------------------------- defeat decisions


def test_nobody_approves_their_own_defeat_request(team):
    lead = contacted(team, owner=team.dcc_supervisor)
    actions.request_defeat(lead=lead, by=team.dcc_supervisor, reason="price")
    before = state(lead)
    with pytest.raises(NotPermitted) as caught:
        actions.approve_defeat(lead=lead, by=team.dcc_supervisor)
    assert caught.value.code == "own_request"
    assert state(lead) == before
    actions.approve_defeat(lead=lead, by=team.sales_manager)
    assert fresh(lead).stage == "defeated"


def test_a_supervisor_who_asked_for_the_owner_cannot_approve_it_either(team):
    lead = contacted(team)
    actions.request_defeat(lead=lead, by=team.gm, reason="postponed")
    with pytest.raises(NotPermitted) as caught:
        actions.approve_defeat(lead=lead, by=team.gm)
    assert caught.value.code == "own_request"
    actions.approve_defeat(lead=lead, by=team.showroom_manager)
    assert fresh(lead).stage == "defeated"


def test_the_latest_request_decides_who_may_not_approve(team):
    lead = contacted(team)
    actions.request_defeat(lead=lead, by=team.gm, reason="price")
    actions.reject_defeat(lead=lead, by=team.dcc_supervisor)
    actions.request_defeat(lead=lead, by=team.dcc_agent, reason="price")
    actions.approve_defeat(lead=lead, by=team.gm)
    assert fresh(lead).stage == "defeated"


def test_rejecting_a_defeat_keeps_the_stage_and_clears_the_request(team):
    lead = appointed(team)
    actions.request_defeat(lead=lead, by=team.dcc_agent, reason="price")
    at = timezone.now()
    actions.reject_defeat(lead=lead, by=team.dcc_supervisor, note="再跟一下", at=at)
    assert_recorded(
        lead,
        EventKind.DEFEAT_REJECTED,
        by=team.dcc_supervisor,
        stage="appointed",
        at=at,
        reason="price",
        note="再跟一下",
        open_tasks={FOLLOW_UP: team.dcc_agent, REMINDER: team.dcc_agent},
    )
    lead = fresh(lead)
    assert (lead.defeat_pending, lead.exit_reason, lead.closed_at) == (False, "", None)
    # The owner follows up and may ask again later.
    actions.request_defeat(lead=lead, by=team.dcc_agent, reason="bought_competitor")
    assert fresh(lead).defeat_pending is True


# ---------------------------------------------------------------- reactivation


def exited(team: People, how: str, **fields) -> Lead:
    if how == "invalid":
        lead = new_lead(team, **fields)
        return actions.invalidate_lead(lead=lead, by=team.dcc_agent, reason="unreachable")
    lead = contacted(team, **fields)
    actions.request_defeat(lead=lead, by=team.dcc_agent, reason="postponed")
    return actions.approve_defeat(lead=lead, by=team.dcc_supervisor)


@pytest.mark.parametrize("how", ["invalid", "defeated"])
def test_reactivation_brings_a_lead_back_to_contacted_with_a_follow_up(team, how):
    lead = exited(team, how)
    at = timezone.now()
    actions.reactivate_lead(lead=lead, by=team.dcc_supervisor, note="客户回电", at=at)
    assert_recorded(
        lead,
        EventKind.REACTIVATED,
        by=team.dcc_supervisor,
        stage=(how, "contacted"),
        at=at,
        note="客户回电",
        open_tasks={FOLLOW_UP: team.dcc_agent},
    )
    lead = fresh(lead)
    assert (lead.closed_at, lead.exit_reason, lead.defeat_pending) == (None, "", False)
    assert lead.owner_id == team.dcc_agent.pk


@pytest.mark.parametrize("how", ["invalid", "defeated"])
def test_reactivation_is_refused_while_the_customer_has_another_open_lead(team, how):
    phone = fresh_mobile()
    old = exited(team, how, phone=phone)
    newer = new_lead(team, phone=phone, owner=team.dcc_agent_2)
    assert newer.pk != old.pk and newer.customer_id == old.customer_id
    before_old, before_newer = state(old), state(newer)
    with pytest.raises(Conflict) as caught:
        actions.reactivate_lead(lead=old, by=team.dcc_supervisor)
    assert caught.value.code == "customer_has_open_lead"
    assert (state(old), state(newer)) == (before_old, before_newer)


def test_a_lead_reactivated_after_its_owner_left_goes_to_a_present_agent(team):
    lead = exited(team, "invalid")
    Staff.objects.filter(pk=team.dcc_agent.pk).update(is_active=False)
    actions.reactivate_lead(lead=lead, by=team.dcc_supervisor)
    assert_recorded(
        lead,
        EventKind.HANDED_OFF,
        owner=(team.dcc_agent, team.dcc_agent_2),
        reason="reactivation",
        stage="contacted",
        open_tasks={FOLLOW_UP: team.dcc_agent_2},
    )


# ---------------------------------------------------------------- backdated history


def test_backdated_actions_record_when_things_happened(team):
    start = timezone.now().replace(microsecond=0) - timedelta(days=40)
    at = [start + timedelta(hours=hours) for hours in range(20)]
    lead = new_lead(team, at=at[0])
    agent, consultant = team.dcc_agent, team.consultant
    actions.log_call(lead=lead, by=agent, outcome="reached", grade="A", at=at[1])
    actions.set_grade(lead=lead, by=agent, grade="H", at=at[2])
    # An appointment booked in the past for a time that is past too: fine for history.
    actions.book_appointment(lead=lead, by=agent, appointment_at=at[5], at=at[3])
    actions.hand_off(lead=lead, by=agent, to=consultant, at=at[4])
    actions.record_arrival(lead=lead, by=consultant, at=at[5])
    actions.record_test_drive(lead=lead, by=consultant, at=at[6])
    actions.record_quote(lead=lead, by=consultant, amount=Decimal("150000"), at=at[7])
    actions.request_defeat(lead=lead, by=consultant, reason="price", at=at[8])
    actions.reject_defeat(lead=lead, by=team.showroom_manager, at=at[9])
    actions.record_order(lead=lead, by=consultant, at=at[10])
    actions.record_delivery(lead=lead, by=consultant, at=at[11])

    events = list(Event.objects.filter(lead=lead).order_by("seq"))
    assert [(e.kind, e.occurred_at) for e in events] == [
        ("created", at[0]),
        ("called", at[1]),
        ("graded", at[1]),
        ("graded", at[2]),
        ("appointment_set", at[3]),
        ("handed_off", at[4]),
        ("arrived", at[5]),
        ("test_drive", at[6]),
        ("quoted", at[7]),
        ("defeat_requested", at[8]),
        ("defeat_rejected", at[9]),
        ("ordered", at[10]),
        ("delivered", at[11]),
    ]
    # When it was typed in is kept apart from when it happened.
    assert all(e.recorded_at > at[-1] for e in events)
    lead = fresh(lead)
    assert (lead.created_at, lead.first_response_at, lead.closed_at) == (at[0], at[1], at[11])
    first_call = tasks_of(lead, FIRST_CALL)[0]
    assert first_call.closed_at == at[1]
    due = followups.return_visit_due(team.dealer, at[11])
    assert open_tasks(lead) == [(RETURN_VISIT, team.owner_ops.pk, due)]


def test_backdated_exits_and_reactivation_record_when_they_happened(team):
    start = timezone.now().replace(microsecond=0) - timedelta(days=10)
    at = [start + timedelta(hours=hours) for hours in range(8)]
    lead = new_lead(team, at=at[0])
    sup = team.dcc_supervisor
    actions.book_appointment(
        lead=lead, by=team.dcc_agent, appointment_at=at[0] + timedelta(days=2), at=at[1]
    )
    actions.cancel_appointment(lead=lead, by=team.dcc_agent, at=at[2])
    actions.invalidate_lead(lead=lead, by=team.dcc_agent, reason="no_intent", at=at[3])
    actions.reactivate_lead(lead=lead, by=sup, at=at[4])
    actions.request_defeat(lead=lead, by=team.dcc_agent, reason="price", at=at[5])
    actions.approve_defeat(lead=lead, by=sup, at=at[6])
    events = Event.objects.filter(lead=lead).order_by("seq")
    assert [(e.kind, e.occurred_at) for e in events] == [
        ("created", at[0]),
        ("appointment_set", at[1]),
        ("appointment_cancelled", at[2]),
        ("invalidated", at[3]),
        ("reactivated", at[4]),
        ("defeat_requested", at[5]),
        ("defeat_approved", at[6]),
    ]
    assert fresh(lead).closed_at == at[6]
    # Tasks closed by a backdated action are closed at that time.
    [reminder] = tasks_of(lead, REMINDER)
    assert reminder.closed_at == at[2]


# ---------------------------------------------------------------- rules the call bypasses


def test_grading_through_a_call_needs_the_right_to_grade(team):
    lead = new_lead(team, owner=team.owner_ops)
    before = state(lead)
    with pytest.raises(NotPermitted):
        actions.log_call(lead=lead, by=team.owner_ops, outcome="reached", grade="H")
    assert state(lead) == before


def test_staff_of_another_dealer_may_do_nothing(team):
    outsider = member(DealerFactory(), Role.GM)
    lead = appointed(team)
    before = state(lead)
    for attempt in (
        lambda: actions.log_call(lead=lead, by=outsider, outcome="reached"),
        lambda: actions.record_arrival(lead=lead, by=outsider),
        lambda: actions.hand_off(lead=lead, by=outsider, to=team.consultant),
        lambda: actions.invalidate_lead(lead=lead, by=outsider, reason="wrong_number"),
    ):
        with pytest.raises(NotPermitted):
            attempt()
    assert state(lead) == before


# ---------------------------------------------------------------- the pool


def test_claiming_a_pool_lead_takes_its_first_call_task(team):
    lead = new_lead(team, owner=team.dcc_supervisor)  # nobody present: the supervisor holds it
    actions.claim_lead(lead=lead, by=team.dcc_agent_2)
    assert_recorded(
        lead,
        EventKind.HANDED_OFF,
        by=team.dcc_agent_2,
        stage="new",
        owner=(team.dcc_supervisor, team.dcc_agent_2),
        open_tasks={FIRST_CALL: (team.dcc_agent_2, fresh(lead).sla_deadline)},
    )
    with pytest.raises(Conflict) as caught:
        actions.claim_lead(lead=lead, by=team.dcc_agent)
    assert caught.value.code == "already_claimed"


# ---------------------------------------------------------------- what an exit leaves behind


@pytest.mark.parametrize("how", ["invalidate", "defeat"])
def test_an_exit_drops_the_appointment_it_cancels(team, how):
    lead = appointed(team)
    if how == "invalidate":
        actions.invalidate_lead(lead=lead, by=team.dcc_agent, reason="no_intent")
    else:
        actions.request_defeat(lead=lead, by=team.dcc_agent, reason="postponed")
        actions.approve_defeat(lead=lead, by=team.dcc_supervisor)
    actions.reactivate_lead(lead=lead, by=team.dcc_supervisor)
    actions.hand_off(lead=lead, by=team.dcc_supervisor, to=team.consultant)
    actions.record_arrival(lead=lead, by=team.consultant)
    arrived = Event.objects.get(lead=lead, kind="arrived")
    assert arrived.data == {"with_appointment": False}
    assert fresh(lead).appointment_at is None


def test_an_order_amount_must_be_positive(team):
    lead = arrived(team)
    before = state(lead)
    with pytest.raises(InvalidInput) as caught:
        actions.record_order(lead=lead, by=team.consultant, amount=Decimal("-189000"))
    assert caught.value.field == "amount"
    assert state(lead) == before


def test_return_visit_completes_the_owner_ops_task_and_records_satisfaction(team):
    lead = make_lead(team.dealer, owner=team.consultant)
    lead = actions.log_call(lead=lead, by=team.consultant, outcome="reached")
    lead = actions.record_arrival(lead=lead, by=team.consultant)
    lead = actions.record_order(lead=lead, by=team.consultant)
    lead = actions.record_delivery(lead=lead, by=team.consultant)
    task = Task.objects.get(lead=lead, kind=TaskKind.RETURN_VISIT, closed_at__isnull=True)
    assert task.assignee == team.owner_ops

    actions.record_return_visit(lead=lead, by=team.owner_ops, reached=False)
    assert Task.objects.filter(pk=task.pk, closed_at__isnull=True).exists()  # try again

    actions.record_return_visit(lead=lead, by=team.owner_ops, reached=True, satisfaction=4)
    assert_recorded(
        lead,
        EventKind.RETURN_VISIT,
        by=team.owner_ops,
        stage="delivered",
        data={"reached": True, "satisfaction": 4},
        open_tasks={},
    )
    task.refresh_from_db()
    assert task.outcome == TaskOutcome.DONE
    visits = Event.objects.filter(lead=lead, kind=EventKind.RETURN_VISIT).order_by("seq")
    assert [(e.actor_id, e.data) for e in visits] == [
        (team.owner_ops.pk, {"reached": False, "satisfaction": None}),
        (team.owner_ops.pk, {"reached": True, "satisfaction": 4}),
    ]
    with pytest.raises(InvalidInput) as refused:
        actions.record_return_visit(lead=lead, by=team.owner_ops, reached=True, satisfaction=6)
    assert refused.value.field == "satisfaction"
