"""The stage machine, cell by cell: every stage (with and without a pending defeat request)
× every action × every role × owner or not, driven through the real action functions.

The expected outcome of each cell comes from RULES below: plain data written from the design
(DESIGN.md: Stages, Intent grades; docs/permissions.md) and the intended rules, deliberately
NOT from leads.stages.SPECS, so that this file checks the code against the rules rather than
against itself. Permission is decided before the stage (a forbidden role gets NotPermitted in
every stage); a refused action writes nothing.

Speed: the dealer, its people and one lead per (stage, pending, owner) are built once per
module inside a transaction that is rolled back at the end; every test runs in its own
savepoint (pytest-django's `db`), so each cell starts from the same untouched lead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import NamedTuple

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone
from django.utils.translation import override

from accounts.models import Staff
from accounts.roles import Role
from dcc.errors import Conflict, DomainError, InvalidInput, NotPermitted, TransitionNotAllowed
from leads import actions
from leads.models import Event, Lead, ReasonCode, ReasonKind, Task
from leads.stages import Action, Stage
from tests.conftest import FAST_HASHERS, Team, build_team
from tests.factories import DealerFactory, make_lead, member

# ---------------------------------------------------------------- the rules, as plain data

STAGES = ("new", "contacted", "appointed", "arrived", "ordered", "delivered", "invalid", "defeated")
ROLES = (
    "gm",
    "sales_manager",
    "marketing_manager",
    "platform_specialist",
    "dcc_supervisor",
    "dcc_agent",
    "showroom_manager",
    "consultant",
    "owner_ops",
    "auditor",
    "headquarters",
)
OPEN = ("new", "contacted", "appointed", "arrived", "ordered")
INVITE = ("new", "contacted", "appointed")
# Where a customer can be lost: contacted up to ordered (a lead never reached is invalid).
LOSABLE = ("contacted", "appointed", "arrived", "ordered")
EXITS = ("invalid", "defeated")

SUPERVISORS = ("gm", "sales_manager", "dcc_supervisor", "showroom_manager")
SHOWROOM_BOSSES = ("gm", "sales_manager", "showroom_manager")
FRONT_LINE = ("dcc_agent", "dcc_supervisor", "consultant")
SHOWROOM = ("consultant", "showroom_manager")
# Roles nobody can hand a lead to (they can still end up holding one after a role change).
CANNOT_OWN = ("marketing_manager", "platform_specialist", "auditor", "headquarters")


@dataclass(frozen=True)
class Rule:
    start: tuple[str, ...]  # the stages it may start from
    to: str | dict[str, str] | None  # where it leads: one stage, per start stage, None = stays
    own: tuple[str, ...]  # roles that may do it on a lead they own
    anyone: tuple[str, ...]  # roles that may do it on any lead of their dealer
    events: tuple[str, ...]  # the ledger events it writes, in order
    pending: bool | None = False  # True: only while a defeat request waits; False: only while
    # none does; None: either way
    events_from: dict[str, tuple[str, ...]] = field(default_factory=dict)  # per start stage
    pending_after: bool | None = None  # the defeat flag afterwards (None: unchanged)
    owner_after: str = "same"  # "same", "target" (the hand-off receiver) or "actor"
    own_conflict: str = ""  # Conflict code when the actor already owns the lead


RULES: dict[str, Rule] = {
    # Anyone working the lead may call; a reached customer makes a new lead contacted.
    # (Grading in the same call needs the right to grade: see test_actions.)
    "log_call": Rule(
        OPEN, {"new": "contacted"}, (*FRONT_LINE, "owner_ops"), SUPERVISORS,
        ("called",), pending=None,
    ),
    "grade": Rule(OPEN, None, FRONT_LINE, SUPERVISORS, ("graded",)),
    # Booking again while appointed moves the appointment.
    "appoint": Rule(
        INVITE, "appointed", FRONT_LINE, SUPERVISORS, ("appointment_set",),
        events_from={"appointed": ("appointment_moved",)},
    ),
    "cancel_appointment": Rule(
        ("appointed",), None, FRONT_LINE, SUPERVISORS, ("appointment_cancelled",)
    ),
    # A walk-in arrives straight from new. The showroom checks arrivals in, not the DCC agent
    # who is judged on the arrival rate.
    "arrive": Rule(INVITE, "arrived", SHOWROOM, SUPERVISORS, ("arrived",)),
    "test_drive": Rule(("arrived", "ordered"), None, SHOWROOM, SHOWROOM_BOSSES, ("test_drive",)),
    "quote": Rule(("arrived", "ordered"), None, SHOWROOM, SHOWROOM_BOSSES, ("quoted",)),
    "order": Rule(("arrived",), "ordered", SHOWROOM, SHOWROOM_BOSSES, ("ordered",)),
    "deliver": Rule(("ordered",), "delivered", SHOWROOM, SHOWROOM_BOSSES, ("delivered",)),
    "invalidate": Rule(INVITE, "invalid", FRONT_LINE, SUPERVISORS, ("invalidated",)),
    # The owner asks (a supervisor may ask on the owner's behalf); a supervisor decides.
    "request_defeat": Rule(
        LOSABLE, None, FRONT_LINE, SUPERVISORS, ("defeat_requested",), pending_after=True
    ),
    "approve_defeat": Rule(
        LOSABLE, "defeated", (), SUPERVISORS, ("defeat_approved",), pending=True,
        pending_after=False,
    ),
    "reject_defeat": Rule(
        LOSABLE, None, (), SUPERVISORS, ("defeat_rejected",), pending=True, pending_after=False
    ),
    "reactivate": Rule(EXITS, "contacted", (), SUPERVISORS, ("reactivated",)),
    "hand_off": Rule(
        OPEN, None, FRONT_LINE, SUPERVISORS, ("handed_off",), pending=None, owner_after="target"
    ),
    # A DCC agent takes a new lead out of the pool (held by someone who is not an agent); a lead
    # the agent already holds cannot be claimed again.
    "claim": Rule(
        ("new",), None, (), ("dcc_agent",), ("handed_off",), owner_after="actor",
        own_conflict="already_claimed",
    ),
    # Owner operations call the new owner after delivery, whoever sold the car.
    "return_visit": Rule(
        ("delivered",), None, (), ("owner_ops", *SUPERVISORS), ("return_visit",)
    ),
    # The customer audit group (or a supervisor) finds an exit wrong: worked again, same owner.
    "overturn": Rule(EXITS, "contacted", (), ("auditor", *SUPERVISORS), ("overturned",)),
}  # fmt: skip

# Cells where the code disagrees with the rules: (action, role, is_owner) -> "BUG: …", marked
# xfail(strict) on every stage. (Claim by a non-owning agent was one, fixed in 44f633a.)
BUGS: dict[tuple[str, str, bool], str] = {}


@dataclass(frozen=True)
class Outcome:
    error: type[DomainError] | None
    code: str = ""
    stage: str = ""
    events: tuple[str, ...] = ()
    pending: bool = False
    owner: str = "same"


def expect(stage: str, pending: bool, action: str, role: str, is_owner: bool) -> Outcome:
    """What the rules say happens. Permission is decided before the stage: a person who may
    never do the action learns nothing about why else it would fail."""
    rule = RULES[action]
    if role not in rule.anyone and not (is_owner and role in rule.own):
        return Outcome(NotPermitted, "not_permitted")
    if stage not in rule.start:
        return Outcome(TransitionNotAllowed, "transition_not_allowed")
    if rule.pending is True and not pending:
        return Outcome(TransitionNotAllowed, "no_defeat_pending")
    if rule.pending is False and pending:
        return Outcome(TransitionNotAllowed, "defeat_pending")
    if is_owner and rule.own_conflict:
        return Outcome(Conflict, rule.own_conflict)
    to = rule.to.get(stage, stage) if isinstance(rule.to, dict) else rule.to or stage
    return Outcome(
        None,
        stage=to,
        events=rule.events_from.get(stage, rule.events),
        pending=pending if rule.pending_after is None else rule.pending_after,
        owner=rule.owner_after,
    )


# ---------------------------------------------------------------- the leads, built once


@dataclass
class World:
    team: Team
    builder: Staff  # a second GM: builds every lead, holds those "someone else" owns
    approver: Staff  # a second sales manager: approves the builder's defeat requests
    receiver: Staff  # whom hand-offs go to (never an owner of a matrix lead)
    leads: dict[tuple[str, bool, str | None], int] = field(default_factory=dict)
    # Each lead's snapshot as built: every test starts from exactly this state (rollback).
    snapshots: dict[int, tuple] = field(default_factory=dict)


def _call(lead: Lead, world: World) -> Lead:
    return actions.log_call(lead=lead, by=world.builder, outcome="reached")


def _appoint(lead: Lead, world: World) -> Lead:
    visit = timezone.now() + timedelta(days=2)
    return actions.book_appointment(lead=lead, by=world.builder, appointment_at=visit)


def _arrive(lead: Lead, world: World) -> Lead:
    return actions.record_arrival(lead=lead, by=world.builder)


def _order(lead: Lead, world: World) -> Lead:
    return actions.record_order(lead=lead, by=world.builder, amount=Decimal("158000"))


def _deliver(lead: Lead, world: World) -> Lead:
    return actions.record_delivery(lead=lead, by=world.builder)


def _invalidate(lead: Lead, world: World) -> Lead:
    return actions.invalidate_lead(lead=lead, by=world.builder, reason="wrong_number")


def _request_defeat(lead: Lead, world: World) -> Lead:
    return actions.request_defeat(lead=lead, by=world.builder, reason="price")


def _approve_defeat(lead: Lead, world: World) -> Lead:
    return actions.approve_defeat(lead=lead, by=world.approver)


PATHS: dict[str, tuple[Callable[[Lead, World], Lead], ...]] = {
    "new": (),
    "contacted": (_call,),
    "appointed": (_call, _appoint),
    "arrived": (_call, _appoint, _arrive),
    "ordered": (_call, _appoint, _arrive, _order),
    "delivered": (_call, _appoint, _arrive, _order, _deliver),
    "invalid": (_invalidate,),
    "defeated": (_call, _request_defeat, _approve_defeat),
}


def lead_in(world: World, stage: str, *, pending: bool = False, owner: Staff | None = None):
    """A lead brought to `stage` through the real actions (optionally with a defeat request
    waiting), owned by `owner` (default: the builder, i.e. someone other than the person under
    test)."""
    dealer = world.team.dealer
    forced = owner is not None and owner.pk in world_cannot_own(world)
    holder = world.builder if owner is None or forced else owner
    lead = make_lead(dealer, by=world.builder, owner=holder)
    for step in PATHS[stage]:
        lead = step(lead, world)
    if pending:
        lead = _request_defeat(lead, world)
    if forced:
        # No action hands a lead to an auditor, HQ or marketing; they can still hold one taken
        # on under an earlier role. Set the owner directly: owning must not empower them.
        Lead.objects.filter(pk=lead.pk).update(owner=owner)
    return Lead.objects.get(pk=lead.pk)


def world_cannot_own(world: World) -> set[int]:
    return {world.team.by_role(Role(role)).pk for role in CANNOT_OWN}


VARIANTS = [(stage, False) for stage in STAGES] + [(stage, True) for stage in LOSABLE]


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        with override_settings(PASSWORD_HASHERS=FAST_HASHERS):
            dealer = DealerFactory()
            team = build_team(dealer)
            built = World(
                team=team,
                builder=member(dealer, Role.GM),
                approver=member(dealer, Role.SALES_MANAGER),
                receiver=team.consultant_2,
            )
        for stage, pending in VARIANTS:
            for role in (None, *ROLES):
                owner = team.by_role(Role(role)) if role else None
                lead = lead_in(built, stage, pending=pending, owner=owner)
                assert (lead.stage, lead.defeat_pending) == (stage, pending)
                assert lead.owner_id == (owner or built.builder).pk
                built.leads[stage, pending, role] = lead.pk
                built.snapshots[lead.pk] = snapshot(lead.pk)
        yield built
        transaction.set_rollback(True)


# ---------------------------------------------------------------- doing an action


def _soon():
    return timezone.now() + timedelta(days=3)


PERFORM: dict[str, Callable[[Lead, Staff, World], Lead]] = {
    "log_call": lambda lead, by, w: actions.log_call(lead=lead, by=by, outcome="reached"),
    "grade": lambda lead, by, w: actions.set_grade(lead=lead, by=by, grade="A"),
    "appoint": lambda lead, by, w: actions.book_appointment(
        lead=lead, by=by, appointment_at=_soon()
    ),
    "cancel_appointment": lambda lead, by, w: actions.cancel_appointment(lead=lead, by=by),
    "arrive": lambda lead, by, w: actions.record_arrival(lead=lead, by=by),
    "test_drive": lambda lead, by, w: actions.record_test_drive(lead=lead, by=by, car_model="S7"),
    "quote": lambda lead, by, w: actions.record_quote(lead=lead, by=by, amount=Decimal("150000")),
    "order": lambda lead, by, w: actions.record_order(lead=lead, by=by, amount=Decimal("150000")),
    "deliver": lambda lead, by, w: actions.record_delivery(lead=lead, by=by),
    "invalidate": lambda lead, by, w: actions.invalidate_lead(
        lead=lead, by=by, reason="wrong_number"
    ),
    "request_defeat": lambda lead, by, w: actions.request_defeat(lead=lead, by=by, reason="price"),
    "approve_defeat": lambda lead, by, w: actions.approve_defeat(lead=lead, by=by),
    "reject_defeat": lambda lead, by, w: actions.reject_defeat(lead=lead, by=by),
    "reactivate": lambda lead, by, w: actions.reactivate_lead(lead=lead, by=by),
    "overturn": lambda lead, by, w: actions.overturn_exit(lead=lead, by=by, audit=1),
    "hand_off": lambda lead, by, w: actions.hand_off(lead=lead, by=by, to=w.receiver),
    "claim": lambda lead, by, w: actions.claim_lead(lead=lead, by=by),
    "return_visit": lambda lead, by, w: actions.record_return_visit(
        lead=lead, by=by, reached=True, satisfaction=5
    ),
}


_LEAD_STATE = f"""
    SELECT version, stage, owner_id, defeat_pending, exit_reason, grade, appointment_at,
           next_follow_up_at, closed_at, last_event_seq, last_event_hash,
           (SELECT COUNT(*) FROM {Event._meta.db_table} e WHERE e.lead_id = l.id)
    FROM {Lead._meta.db_table} l WHERE l.id = %s"""
_TASK_STATE = f"""
    SELECT id, kind, assignee_id, due_at, closed_at, outcome
    FROM {Task._meta.db_table} WHERE lead_id = %s ORDER BY id"""


def snapshot(lead_id: int) -> tuple:
    """Everything an action writes about a lead: the row, its ledger and its tasks (raw SQL:
    this runs twice in each of thousands of tests)."""
    with connection.cursor() as cursor:
        cursor.execute(_LEAD_STATE, [lead_id])
        lead = cursor.fetchone()
        cursor.execute(_TASK_STATE, [lead_id])
        return (lead, tuple(cursor.fetchall()))


# ---------------------------------------------------------------- the matrix


class Cell(NamedTuple):
    stage: str
    pending: bool  # a defeat request is waiting
    action: str
    role: str
    is_owner: bool  # the person under test owns the lead

    @property
    def name(self) -> str:
        pending = "+pending" if self.pending else ""
        owner = "owner" if self.is_owner else "other"
        return f"{self.stage}{pending}-{self.action}-{self.role}-{owner}"


def _cells():
    for stage, pending in VARIANTS:
        for action in Action.values:
            for role in Role.values:
                for is_owner in (True, False):
                    cell = Cell(stage, pending, action, role, is_owner)
                    bug = BUGS.get((action, role, is_owner))
                    marks = []
                    if bug:
                        raises = (NotPermitted, AssertionError)
                        marks = [pytest.mark.xfail(reason=bug, raises=raises, strict=True)]
                    yield pytest.param(cell, marks=marks, id=cell.name)


# One parameter per cell rather than five keeps pytest's per-test overhead down.
@pytest.mark.parametrize("cell", list(_cells()))
def test_stage_machine(world, db, cell: Cell):
    stage, pending, action, role, is_owner = cell
    person = world.team.by_role(Role(role))
    lead_id = world.leads[stage, pending, role if is_owner else None]
    lead = Lead.objects.get(pk=lead_id)
    before = world.snapshots[lead_id]
    assert (lead.owner_id == person.pk) is is_owner
    want = expect(stage, pending, action, role, is_owner)

    with override("en"):
        if want.error is not None:
            with pytest.raises(DomainError) as caught:
                PERFORM[action](lead, person, world)
            assert type(caught.value) is want.error, caught.value.message
            assert caught.value.code == want.code, caught.value.message
            if want.code == "transition_not_allowed":
                assert str(Stage(stage).label) in caught.value.message
            assert snapshot(lead_id) == before, "a refused action wrote something"
            return
        PERFORM[action](lead, person, world)

    after = Lead.objects.get(pk=lead_id)
    written = list(
        Event.objects.filter(lead_id=lead_id, seq__gt=lead.last_event_seq)
        .order_by("seq")
        .values_list("kind", "actor_id")
    )
    assert written == [(kind, person.pk) for kind in want.events]
    assert after.stage == want.stage
    assert after.defeat_pending is want.pending
    assert after.version == lead.version + 1
    expected_owner = {"same": lead.owner_id, "target": world.receiver.pk, "actor": person.pk}
    assert after.owner_id == expected_owner[want.owner]


def test_the_tables_name_every_stage_action_and_role():
    assert set(STAGES) == set(Stage.values)
    assert set(ROLES) == set(Role.values)
    assert set(RULES) == set(Action.values) == set(PERFORM)
    for rule in RULES.values():
        assert set(rule.start) <= set(STAGES)
        assert set(rule.own) | set(rule.anyone) <= set(ROLES)


# ---------------------------------------------------------------- what the actions need


@pytest.fixture
def agent_lead(world, db):
    """A contacted lead owned by the DCC agent, and the agent."""
    agent = world.team.dcc_agent
    return Lead.objects.get(pk=world.leads["contacted", False, "dcc_agent"]), agent


def _refused(call, lead_id: int, *, field_name: str, code: str | None = None):
    before = snapshot(lead_id)
    with override("en"), pytest.raises(InvalidInput) as caught:
        call()
    assert caught.value.field == field_name, caught.value.message
    if code:
        assert caught.value.code == code
    assert snapshot(lead_id) == before
    return caught.value


def test_an_appointment_needs_a_time(agent_lead):
    lead, agent = agent_lead
    _refused(
        lambda: actions.book_appointment(lead=lead, by=agent, appointment_at=None),
        lead.pk,
        field_name="appointment_at",
        code="appointment_required",
    )


def test_an_appointment_cannot_be_in_the_past(agent_lead):
    lead, agent = agent_lead
    _refused(
        lambda: actions.book_appointment(
            lead=lead, by=agent, appointment_at=timezone.now() - timedelta(hours=2)
        ),
        lead.pk,
        field_name="appointment_at",
        code="appointment_in_past",
    )


INVALID_REASONS = ("wrong_number", "no_intent", "not_buyer", "out_of_area", "unreachable")
DEFEAT_REASONS = (
    "bought_competitor",
    "bought_other_dealer",
    "price",
    "postponed",
    "financing",
    "product",
    "service",
)


@pytest.mark.parametrize("reason", INVALID_REASONS)
def test_invalid_takes_each_seeded_reason(agent_lead, reason):
    lead, agent = agent_lead
    done = actions.invalidate_lead(lead=lead, by=agent, reason=reason)
    assert (done.stage, done.exit_reason) == ("invalid", reason)
    assert done.events.get(kind="invalidated").reason == reason


@pytest.mark.parametrize("reason", DEFEAT_REASONS)
def test_defeat_takes_each_seeded_reason(agent_lead, reason):
    lead, agent = agent_lead
    done = actions.request_defeat(lead=lead, by=agent, reason=reason)
    assert (done.defeat_pending, done.exit_reason) == (True, reason)
    assert done.events.get(kind="defeat_requested").reason == reason


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        ("", "reason_required"),
        ("nonsense", "unknown_reason"),
        ("price", "unknown_reason"),  # a defeat reason, not an invalid one
        ("WRONG_NUMBER", "unknown_reason"),
        ("retired", "unknown_reason"),  # deactivated by the dealer
        ("elsewhere_only", "unknown_reason"),  # another dealer's reason
    ],
)
def test_invalid_needs_a_known_reason(agent_lead, reason, code):
    lead, agent = agent_lead
    _other_reasons(lead, ReasonKind.INVALID)
    _refused(
        lambda: actions.invalidate_lead(lead=lead, by=agent, reason=reason),
        lead.pk,
        field_name="reason",
        code=code,
    )


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        ("", "reason_required"),
        ("nonsense", "unknown_reason"),
        ("wrong_number", "unknown_reason"),  # an invalid reason, not a defeat one
        ("retired", "unknown_reason"),
        ("elsewhere_only", "unknown_reason"),
    ],
)
def test_defeat_needs_a_known_reason(agent_lead, reason, code):
    lead, agent = agent_lead
    _other_reasons(lead, ReasonKind.DEFEAT)
    _refused(
        lambda: actions.request_defeat(lead=lead, by=agent, reason=reason),
        lead.pk,
        field_name="reason",
        code=code,
    )


def _other_reasons(lead: Lead, kind: ReasonKind) -> None:
    """A reason this dealer retired, and one only another dealer has."""
    ReasonCode.objects.create(
        dealer=lead.dealer, kind=kind, code="retired", label="Retired", is_active=False
    )
    ReasonCode.objects.create(
        dealer=DealerFactory(), kind=kind, code="elsewhere_only", label="Elsewhere"
    )


def test_a_reason_the_dealer_added_is_accepted(agent_lead):
    lead, agent = agent_lead
    ReasonCode.objects.create(
        dealer=lead.dealer, kind=ReasonKind.INVALID, code="test_drive_only", label="Test drive"
    )
    done = actions.invalidate_lead(lead=lead, by=agent, reason="test_drive_only")
    assert done.exit_reason == "test_drive_only"


@pytest.mark.parametrize("grade", ["H", "A", "B", "C", "N"])
def test_each_grade_is_accepted(agent_lead, grade):
    lead, agent = agent_lead
    graded = actions.set_grade(lead=lead, by=agent, grade=grade)
    assert graded.grade == grade
    called = actions.log_call(
        lead=graded, by=agent, outcome="reached", grade="H" if grade != "H" else "A"
    )
    assert called.grade == ("H" if grade != "H" else "A")


@pytest.mark.parametrize("grade", ["X", "h", "", None, "HA"])
def test_set_grade_takes_only_h_a_b_c_n(agent_lead, grade):
    lead, agent = agent_lead
    _refused(
        lambda: actions.set_grade(lead=lead, by=agent, grade=grade),
        lead.pk,
        field_name="grade",
        code="unknown_grade",
    )


@pytest.mark.parametrize("grade", ["X", "h"])
def test_log_call_takes_only_h_a_b_c_n(agent_lead, grade):
    lead, agent = agent_lead
    _refused(
        lambda: actions.log_call(lead=lead, by=agent, outcome="reached", grade=grade),
        lead.pk,
        field_name="grade",
    )


@pytest.mark.parametrize("outcome", ["", "answered"])
def test_log_call_needs_a_known_outcome(agent_lead, outcome):
    lead, agent = agent_lead
    _refused(
        lambda: actions.log_call(lead=lead, by=agent, outcome=outcome),
        lead.pk,
        field_name="outcome",
    )


def test_talk_time_cannot_be_negative(agent_lead):
    lead, agent = agent_lead
    _refused(
        lambda: actions.log_call(lead=lead, by=agent, outcome="reached", duration_seconds=-1),
        lead.pk,
        field_name="duration_seconds",
    )


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-1")])
def test_a_quote_needs_a_positive_price(world, db, amount):
    consultant = world.team.consultant
    lead = Lead.objects.get(pk=world.leads["arrived", False, "consultant"])
    _refused(
        lambda: actions.record_quote(lead=lead, by=consultant, amount=amount),
        lead.pk,
        field_name="amount",
    )
