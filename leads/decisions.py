"""What each action does to a lead, decided once.

A decision is a function of the lead as it stands, the request (who, what, when) and a few
look-ups of the dealer (`Context`). It checks the input, the permission and the stage machine,
and returns a `Change`: the lead's field changes, its ledger events and the tasks it opens,
closes or moves, in the order they happen. It writes nothing. Two executors carry a change out:
leads.actions live (the lead locked, leads.ledger.append, leads.followups, save) and
leads.batch for many leads at once (in memory, then bulk inserts). What the two write is the
same by construction; tests/leads/test_executors.py holds them equal for every action.

Each function decorated with `@lead_action` is one thing a person can do to a lead; both
executors offer it under the same name and arguments (docs/architecture.md: adding one).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Dealer, Staff
from accounts.roles import roles_at
from dcc import dates
from dcc.errors import Conflict, InvalidInput, NotPermitted
from dcc.phone import NormalisedPhone, normalise_phone
from leads.assignment import on_duty, showroom_receiver
from leads.followups import REMIND_BEFORE_APPOINTMENT, return_visit_due
from leads.ledger import Entry
from leads.models import (
    CallDirection,
    CallOutcome,
    Channel,
    EventKind,
    HandoffReason,
    ReasonKind,
    TaskKind,
    TaskOutcome,
    TeamKind,
    is_reached,
)
from leads.permissions import authorize, authorize_create, authorize_reveal
from leads.sla import first_response_deadline, settled_deadline
from leads.stages import OPEN_STAGES, SHOWROOM_WORKERS, Action, Grade, Stage, check_stage


class IntakeOutcome(StrEnum):
    CREATED = "created"
    TOUCHED = "touched"  # repeat enquiry on the customer's open lead
    DUPLICATE = "duplicate"  # the same external id again: nothing written


@dataclass(frozen=True)
class Intake:
    lead: Any  # a Lead, or a leads.batch draft
    outcome: IntakeOutcome

    @property
    def created(self) -> bool:
        return self.outcome is IntakeOutcome.CREATED


# ---------------------------------------------------------------- what a change is made of


@dataclass(frozen=True, slots=True)
class SetFields:
    values: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CloseTasks:
    """Close the lead's open tasks of `kinds` (all when empty); only those due before
    `due_before` when given. `at` None: the executor's clock."""

    kinds: tuple[str, ...]
    outcome: str
    at: datetime | None = None
    due_before: datetime | None = None


@dataclass(frozen=True, slots=True)
class OpenTask:
    """Open a task, superseding (at the executor's clock) an open one of the same kind.
    `assignee_id` None: the lead's owner at that point of the change."""

    kind: str
    due_at: datetime
    assignee_id: int | None = None


@dataclass(frozen=True, slots=True)
class MoveTasks:
    """The lead's open tasks held by one person go to another."""

    from_id: int
    to_id: int
    task_id: int | None = None  # only this one


Step = Entry | SetFields | CloseTasks | OpenTask | MoveTasks


class Change:
    """What one action does to one lead, in order. `get` reads the lead as the change leaves it
    so far; `created` holds a new lead's first field values."""

    def __init__(self, lead: Any, *, counts_as_edit: bool = True) -> None:
        self.lead = lead
        self.steps: list[Step] = []
        self.changed: dict[str, Any] = {}
        self.created: dict[str, Any] | None = None
        # An edit moves the lead's version (optimistic locking); a reveal or a settlement
        # of imported history does not.
        self.counts_as_edit = counts_as_edit

    def get(self, name: str) -> Any:
        if name in self.changed:
            return self.changed[name]
        if self.created is not None:
            return self.created.get(name)
        return getattr(self.lead, name)

    def set(self, **values: Any) -> None:
        self.changed.update(values)
        self.steps.append(SetFields(values))

    def record(self, kind: EventKind, *, by: Staff | None, at: datetime, **rest: Any) -> None:
        self.steps.append(Entry(str(kind), by.pk if by else None, at, **rest))

    def stage_step(
        self,
        kind: EventKind,
        *,
        by: Staff | None,
        at: datetime,
        to_stage: Stage | None,
        **rest: Any,
    ) -> None:
        """Record `kind` and move the lead to `to_stage` (if any)."""
        if to_stage:
            rest.update(from_stage=self.get("stage"), to_stage=to_stage)
        self.record(kind, by=by, at=at, **rest)
        if to_stage:
            self.set(stage=to_stage)

    def close_tasks(
        self,
        *kinds: TaskKind,
        outcome: TaskOutcome,
        at: datetime | None = None,
        due_before: datetime | None = None,
    ) -> None:
        self.steps.append(CloseTasks(tuple(map(str, kinds)), str(outcome), at, due_before))

    def open_task(self, kind: TaskKind, *, due_at: datetime, assignee_id: int | None = None):
        self.steps.append(OpenTask(str(kind), due_at, assignee_id))

    def follow_up(self, due_at: datetime) -> None:
        self.set(next_follow_up_at=due_at)
        self.open_task(TaskKind.FOLLOW_UP, due_at=due_at)

    def move_tasks(self, from_id: int, to_id: int, *, task_id: int | None = None) -> None:
        self.steps.append(MoveTasks(from_id, to_id, task_id))

    def first_response(self, at: datetime) -> None:
        """The first call, booking or arrival stops the SLA clock."""
        if self.get("first_response_at") is None:
            self.set(first_response_at=at)


class Context(Protocol):
    """What a decision may look up about the dealer: read live from the database
    (leads.actions) or from what a batch read once and keeps up to date (leads.batch)."""

    dealer: Dealer
    now: datetime
    # Live actions check that times a person types are ahead and within the horizon;
    # backdated history is not checked.
    checks_ahead: bool

    def person(self, staff_id: int) -> Staff: ...
    def reason_is_active(self, kind: ReasonKind, code: str) -> bool: ...
    def follow_up_due(self, grade: str, after: datetime) -> datetime: ...
    def may_own(self, staff: Staff) -> bool: ...
    def pick_owner(
        self,
        team: TeamKind,
        *,
        channel_id: int | None,
        car_model: str,
        at: datetime,
        exclude: frozenset[int] = frozenset(),
    ) -> Staff: ...
    def return_visit_specialist(self, fallback_id: int) -> int: ...
    def defeat_requester(self, lead: Any) -> int | None: ...
    def absent_ids(self, at: datetime) -> set[int]: ...
    def is_pool_lead(self, lead: Any) -> bool: ...
    def has_other_open_lead(self, lead: Any) -> bool: ...
    def has_tasks_due_before(self, lead: Any, moment: datetime) -> bool: ...


Decision = Callable[..., Change]
LEAD_ACTIONS: dict[str, Decision] = {}


def lead_action(decide: Decision) -> Decision:
    """Register `decide` as an action both executors offer under its name."""
    LEAD_ACTIONS[decide.__name__] = decide
    return decide


# ---------------------------------------------------------------- checks shared by decisions


def _begin(lead: Any, by: Staff, action: Action) -> Stage | None:
    """Permission, then the stage machine; the stage the action leads to (None: stays)."""
    authorize(by, lead, action)
    return check_stage(action, stage=lead.stage, defeat_pending=lead.defeat_pending)


@functools.cache
def _values(choices: type[models.TextChoices]) -> frozenset[str]:
    return frozenset(choices.values)  # Django builds `values` anew at each call


def _choice(choices: type[models.TextChoices], value: str, *, field: str) -> str:
    if value not in _values(choices):
        raise InvalidInput(
            _("“%(value)s” is not a valid choice.") % {"value": value},
            code=f"unknown_{field}",
            field=field,
        )
    return value


def _reason(ctx: Context, kind: ReasonKind, code: str) -> str:
    if not code:
        raise InvalidInput(_("A reason is required."), code="reason_required", field="reason")
    if not ctx.reason_is_active(kind, code):
        raise InvalidInput(
            _("“%(code)s” is not one of this dealer's reasons.") % {"code": code},
            code="unknown_reason",
            field="reason",
        )
    return code


# A time typed as "now" is a minute or two behind by the time it is saved.
PAST_GRACE = timedelta(minutes=5)


def check_ahead(value: datetime, *, dealer: Dealer, now: datetime, field: str) -> datetime:
    """An appointment or a follow-up set live: in the future, and no further ahead than the
    dealer's horizon (9999-12-31 is a typo, not a plan)."""
    appointment = field == "appointment_at"
    what = "appointment" if appointment else "follow_up"
    latest = now + timedelta(days=dealer.horizon_days)
    # Outside the window of accepted dates, compare days only: year 1 or 9999 in a time zone
    # overflows.
    in_window = dates.in_window(value)
    if in_window:
        value = dates.aware(value, field=field)
    if (not in_window and value.date() < dates.EARLIEST) or (
        in_window and value < now - PAST_GRACE
    ):
        message = (
            _("The appointment time is in the past.")
            if appointment
            else _("The next follow-up is in the past.")
        )
        raise InvalidInput(message, code=f"{what}_in_past", field=field)
    if not in_window or value > latest:
        message = (
            _("The appointment is more than %(days)d days ahead: book it by %(latest)s.")
            if appointment
            else _("The next follow-up is more than %(days)d days ahead: set it by %(latest)s.")
        )
        shown = timezone.localtime(latest).strftime("%Y-%m-%d %H:%M")
        raise InvalidInput(
            message % {"days": dealer.horizon_days, "latest": shown},
            code=f"{what}_beyond_horizon",
            field=field,
        )
    return value


def _grade_follow_up(change: Change, ctx: Context, at: datetime) -> None:
    change.follow_up(ctx.follow_up_due(change.get("grade") or Grade.N, at))


def _leave_funnel(change: Change, at: datetime, outcome: TaskOutcome) -> None:
    """The lead has left the funnel (delivered, invalid, defeated): nothing is owed on it."""
    change.set(closed_at=at, next_follow_up_at=None)
    if change.get("stage") != Stage.DELIVERED:
        change.set(appointment_at=None)  # its reminder is cancelled with the other tasks
    change.close_tasks(outcome=outcome, at=at)


def transfer(
    change: Change,
    ctx: Context,
    *,
    by: Staff | None,
    to: Staff,
    reason: str,
    note: str,
    at: datetime,
    team: str | None = None,
) -> None:
    """The lead changes hands; its open tasks go with it."""
    previous = change.get("owner_id")
    if to.pk == previous:
        raise Conflict(_("%(name)s already owns this lead.") % {"name": to}, code="already_owner")
    if not ctx.may_own(to):
        raise InvalidInput(
            _("%(name)s cannot take leads at this dealer.") % {"name": to},
            code="bad_owner",
            field="to",
        )
    change.record(
        EventKind.HANDED_OFF,
        by=by,
        at=at,
        from_owner_id=previous,
        to_owner_id=to.pk,
        reason=reason,
        note=note,
        data={"team": str(team)} if team else {},
    )
    change.move_tasks(previous, to.pk)
    change.set(owner_id=to.pk)


# ---------------------------------------------------------------- intake


def check_enquiry(
    *, dealer: Dealer, phone: str | NormalisedPhone, channel: Channel, by: Staff | None
) -> NormalisedPhone:
    """What every enquiry is checked for before anything is looked up: the person may enter
    leads here, the channel is the dealer's, the number is a number."""
    if by is not None:
        authorize_create(by, dealer.pk)
    if channel.dealer_id != dealer.pk:
        raise InvalidInput(_("Unknown channel."), code="unknown_channel", field="channel")
    return phone if isinstance(phone, NormalisedPhone) else normalise_phone(phone)


WALK_IN_CHANNEL = "walk_in"


def check_visit(dealer: Dealer, *, by: Staff, consultant: Staff | None, at: datetime) -> Channel:
    """Before a showroom check-in (these read the database): reception is showroom work, the
    named consultant is on duty. Returns the walk-in channel a visitor without a lead enters
    by."""
    if not roles_at(by, dealer.pk) & SHOWROOM_WORKERS:
        raise NotPermitted(_("Only showroom staff check in visitors."), code="not_permitted")
    channel = Channel.objects.filter(dealer=dealer, code=WALK_IN_CHANNEL).first()
    if channel is None:
        raise InvalidInput(_("This dealer has no walk-in channel."), code="no_walk_in_channel")
    if consultant is not None and not on_duty(dealer, team=TeamKind.SHOWROOM, at=at).filter(
        pk=consultant.pk
    ):
        raise InvalidInput(
            _("%(name)s is not a sales consultant on duty here.") % {"name": consultant},
            code="bad_consultant",
            field="consultant",
        )
    return channel


def new_lead(
    ctx: Context,
    *,
    customer_id: int,
    channel: Channel,
    by: Staff | None,
    owner: Staff | None,
    car_model: str,
    note: str,
    external_id: str,
    at: datetime,
) -> Change:
    """A new lead of the customer: its owner by the assignment rules unless named, its SLA,
    its first call owed."""
    if owner is not None and not ctx.may_own(owner):
        raise InvalidInput(_("This person cannot own leads here."), code="bad_owner", field="owner")
    by_rules = owner is None
    if owner is None:
        owner = ctx.pick_owner(TeamKind.DCC, channel_id=channel.pk, car_model=car_model, at=at)
    change = Change(None, counts_as_edit=False)
    change.created = dict(
        dealer_id=ctx.dealer.pk,
        customer_id=customer_id,
        channel_id=channel.pk,
        car_model=car_model[:100],
        owner_id=owner.pk,
        created_by_id=by.pk if by else None,
        created_at=at,
        external_id=external_id,
        sla_deadline=first_response_deadline(ctx.dealer, channel, at),
        stage=Stage.NEW,
    )
    change.record(
        EventKind.CREATED,
        by=by,
        at=at,
        to_stage=Stage.NEW,
        to_owner_id=owner.pk,
        note=note,
        data={"channel": channel.code, "car_model": car_model[:100], "by_rules": by_rules},
    )
    change.open_task(TaskKind.FIRST_CALL, due_at=change.created["sla_deadline"])
    return change


def touch(
    lead: Any, ctx: Context, *, channel: Channel, by: Staff | None, car_model: str, note: str, at
) -> Change:
    """A repeat enquiry on the customer's open lead."""
    change = Change(lead)
    change.set(touch_count=lead.touch_count + 1, last_touched_at=at)
    change.record(
        EventKind.TOUCHED,
        by=by,
        at=at,
        note=note,
        data={"channel": channel.code, "car_model": car_model},
    )
    return change


def receive_visitor(
    lead: Any,
    ctx: Context,
    *,
    by: Staff,
    receiver: Staff,
    car_model: str,
    note: str,
    at: datetime,
) -> Change:
    """An invited (or just registered) customer at reception: handed to the consultant who
    receives them, and arrived, so that the arrival counts for whoever invited them. An
    arrival is not an enquiry: no touch."""
    change = Change(lead)
    if car_model and not lead.car_model:
        change.set(car_model=car_model[:100])
    if lead.owner_id != receiver.pk:
        transfer(change, ctx, by=by, to=receiver, reason=HandoffReason.ARRIVAL, note="", at=at)
    to_stage = check_stage(Action.ARRIVE, stage=lead.stage, defeat_pending=lead.defeat_pending)
    _arrive(change, by=by, to_stage=to_stage, note=note, at=at)
    return change


def check_in(
    executor: Any,
    ctx: Context,
    *,
    dealer: Dealer,
    phone: str,
    by: Staff,
    consultant: Staff | None,
    name: str,
    car_model: str,
    note: str,
    at: datetime,
) -> Any:
    """A customer at the showroom reception, received by `consultant` (by default the
    assignment rules' showroom receiver: their own consultant, the consultant at reception,
    else the next one on duty). When the number has an open lead in the invite stages (the
    DCC's invitation), it is handed to that consultant and arrives, so the arrival counts for
    the agent who invited. Anyone without an open lead is a walk-in: a new lead of the walk-in
    channel, owned by that consultant, arrived. A customer already past arrival coming back is
    a touch on the lead, left with its consultant. Both executors' check_in_visitor: the
    executor finds the invited lead, enters the walk-in and carries the change out."""
    channel = check_visit(dealer, by=by, consultant=consultant, at=at)
    number = normalise_phone(phone)
    invited = executor.invited_lead(number, name=name.strip()[:100], at=at)
    receiver = consultant or showroom_receiver(
        dealer,
        by=by,
        owner=ctx.person(invited.owner_id) if invited else None,
        channel_id=invited.channel_id if invited else channel.pk,
        car_model=car_model or (invited.car_model if invited else ""),
        at=at,
        pick=ctx.pick_owner,
    )
    if invited is None:
        intake = executor.create_lead(
            dealer=dealer,
            phone=number,
            channel=channel,
            by=by,
            name=name,
            car_model=car_model,
            note=note,
            owner=receiver,
            at=at,
        )
        if not intake.created:
            return intake.lead  # already in the showroom's hands: the visit is a touch
        invited = executor.relock(intake.lead)
    change = receive_visitor(
        invited, ctx, by=by, receiver=receiver, car_model=car_model, note=note, at=at
    )
    return executor.carry(invited, change)


# ---------------------------------------------------------------- invite


@lead_action
def log_call(
    lead: Any,
    ctx: Context,
    *,
    by: Staff,
    at: datetime,
    outcome: CallOutcome,
    direction: CallDirection = CallDirection.OUTBOUND,
    duration_seconds: int = 0,
    note: str = "",
    recording_url: str = "",
    grade: Grade | None = None,
    next_follow_up_at: datetime | None = None,
) -> Change:
    """A call with the customer. The first call stops the SLA clock; the first one that
    reaches the customer makes a new lead contacted. The next follow-up is scheduled from the
    grade unless given."""
    if duration_seconds < 0:
        raise InvalidInput(_("Talk time cannot be negative."), field="duration_seconds")
    _choice(CallOutcome, outcome, field="outcome")
    _choice(CallDirection, direction, field="direction")
    if grade:
        _choice(Grade, grade, field="grade")
    _begin(lead, by, Action.LOG_CALL)
    if next_follow_up_at is not None and ctx.checks_ahead:
        next_follow_up_at = check_ahead(
            next_follow_up_at, dealer=ctx.dealer, now=at, field="next_follow_up_at"
        )
    regrade = bool(grade) and grade != lead.grade
    if regrade:
        _begin(lead, by, Action.GRADE)
    change = Change(lead)
    data = {
        "outcome": str(outcome),
        "direction": str(direction),
        "duration_seconds": duration_seconds,
        "recording_url": recording_url,
    }
    _called(change, by=by, at=at, outcome=outcome, note=note, data=data)
    if regrade:
        _regrade(change, by, Grade(grade), at=at, note="")
    if next_follow_up_at is not None:
        change.follow_up(next_follow_up_at)
    else:
        _grade_follow_up(change, ctx, at)
    return change


def _called(
    change: Change, *, by: Staff | None, at: datetime, outcome: str, note: str, data: dict
) -> None:
    """What every call on an open lead does: it stops the SLA clock, the first one that
    reaches the customer makes a new lead contacted, and it is the call the tasks waited for."""
    change.first_response(at)
    reached = is_reached(outcome) and change.get("stage") == Stage.NEW
    change.stage_step(
        EventKind.CALLED,
        by=by,
        at=at,
        to_stage=Stage.CONTACTED if reached else None,
        note=note,
        data=data,
    )
    change.close_tasks(TaskKind.FIRST_CALL, TaskKind.FOLLOW_UP, outcome=TaskOutcome.DONE, at=at)


@lead_action
def phone_call(
    lead: Any,
    ctx: Context,
    *,
    by: Staff | None,
    at: datetime,
    call_id: str,
    direction: CallDirection,
    outcome: CallOutcome,
    duration_seconds: int,
    disposition: str,
    line: str = "",
    recorded: bool = False,
) -> Change:
    """A call the dealer's phone system saw (calls.actions): a fact, so nobody's permission is
    asked, and `by` is None when its seat is nobody's. On an open lead it counts exactly as a
    typed call does; on a closed one it is only recorded. Its `call_id` in the event tells it
    from a typed call."""
    _choice(CallOutcome, outcome, field="outcome")
    _choice(CallDirection, direction, field="direction")
    data = {
        "outcome": str(outcome),
        "direction": str(direction),
        "duration_seconds": duration_seconds,
        "call_id": call_id,
        "disposition": disposition,
        "line": line,
        "recorded": recorded,
    }
    if lead.stage not in OPEN_STAGES:
        change = Change(lead, counts_as_edit=False)
        change.record(EventKind.CALLED, by=by, at=at, data=data)
        return change
    change = Change(lead)
    _called(change, by=by, at=at, outcome=outcome, note="", data=data)
    _grade_follow_up(change, ctx, at)
    return change


def _regrade(change: Change, by: Staff, grade: Grade, *, at: datetime, note: str) -> None:
    change.record(
        EventKind.GRADED,
        by=by,
        at=at,
        note=note,
        data={"from": change.get("grade"), "to": str(grade)},
    )
    change.set(grade=grade)


@lead_action
def set_grade(
    lead: Any, ctx: Context, *, by: Staff, at: datetime, grade: Grade, note: str = ""
) -> Change:
    """Grade the customer's intent; the next follow-up moves to the grade's interval."""
    _choice(Grade, grade, field="grade")
    _begin(lead, by, Action.GRADE)
    change = Change(lead)
    _regrade(change, by, Grade(grade), at=at, note=note)
    _grade_follow_up(change, ctx, at)
    return change


@lead_action
def book_appointment(
    lead: Any,
    ctx: Context,
    *,
    by: Staff,
    at: datetime,
    appointment_at: datetime | None,
    note: str = "",
) -> Change:
    """Book (or move) the customer's showroom visit."""
    if appointment_at is None:
        raise InvalidInput(
            _("An appointment needs a date and time."),
            code="appointment_required",
            field="appointment_at",
        )
    to_stage = _begin(lead, by, Action.APPOINT)
    if ctx.checks_ahead:
        appointment_at = check_ahead(
            appointment_at, dealer=ctx.dealer, now=at, field="appointment_at"
        )
    moved = lead.stage == Stage.APPOINTED and lead.appointment_at is not None
    change = Change(lead)
    change.record(
        EventKind.APPOINTMENT_MOVED if moved else EventKind.APPOINTMENT_SET,
        by=by,
        at=at,
        from_stage="" if moved else lead.stage,
        to_stage="" if moved else to_stage,
        note=note,
        data={
            "appointment_at": appointment_at.isoformat(),
            "previous": lead.appointment_at.isoformat() if moved else None,
        },
    )
    change.first_response(at)
    change.set(stage=to_stage, appointment_at=appointment_at)
    change.close_tasks(TaskKind.FIRST_CALL, outcome=TaskOutcome.DONE, at=at)
    change.open_task(
        TaskKind.APPOINTMENT_REMINDER,
        due_at=max(appointment_at - REMIND_BEFORE_APPOINTMENT, at),
    )
    return change


@lead_action
def cancel_appointment(
    lead: Any, ctx: Context, *, by: Staff, at: datetime, note: str = ""
) -> Change:
    """The customer will not come as booked. The lead stays appointed (stages never go back);
    a new follow-up is due by its grade."""
    _begin(lead, by, Action.CANCEL_APPOINTMENT)
    if lead.appointment_at is None:
        raise Conflict(_("There is no appointment to cancel."), code="no_appointment")
    change = Change(lead)
    change.record(
        EventKind.APPOINTMENT_CANCELLED,
        by=by,
        at=at,
        note=note,
        data={"appointment_at": lead.appointment_at.isoformat()},
    )
    change.set(appointment_at=None)
    change.close_tasks(TaskKind.APPOINTMENT_REMINDER, outcome=TaskOutcome.CANCELLED, at=at)
    _grade_follow_up(change, ctx, at)
    return change


@lead_action
def invalidate_lead(
    lead: Any, ctx: Context, *, by: Staff, at: datetime, reason: str, note: str = ""
) -> Change:
    """Not a lead after all (wrong number, no intent, not a buyer …): needs a reason code."""
    to_stage = _begin(lead, by, Action.INVALIDATE)
    reason = _reason(ctx, ReasonKind.INVALID, reason)
    change = Change(lead)
    change.stage_step(
        EventKind.INVALIDATED, by=by, at=at, to_stage=to_stage, reason=reason, note=note
    )
    change.set(exit_reason=reason)
    _leave_funnel(change, at, TaskOutcome.CANCELLED)
    return change


# ---------------------------------------------------------------- handoffs


@lead_action
def hand_off(
    lead: Any,
    ctx: Context,
    *,
    by: Staff,
    at: datetime,
    to: Staff | None = None,
    team: TeamKind | None = None,
    reason: str = "",
    note: str = "",
) -> Change:
    """Give the lead to a named person, or to whoever the assignment rules pick in `team`.
    Open tasks go with it."""
    if to is None and team is None:
        raise InvalidInput(_("Name a person or a team to hand the lead to."), field="to")
    _begin(lead, by, Action.HAND_OFF)
    if to is None:
        to = ctx.pick_owner(
            TeamKind(team),
            channel_id=lead.channel_id,
            car_model=lead.car_model,
            at=at,
            exclude=frozenset({lead.owner_id}),
        )
    change = Change(lead)
    transfer(change, ctx, by=by, to=to, reason=reason, note=note, at=at, team=team)
    return change


@lead_action
def claim_lead(lead: Any, ctx: Context, *, by: Staff, at: datetime) -> Change:
    """A DCC agent takes a new lead out of the pool. Of two concurrent claims, exactly one
    wins; the other gets a Conflict naming who has it."""
    _begin(lead, by, Action.CLAIM)
    if not ctx.is_pool_lead(lead):
        raise Conflict(
            _("%(name)s has already taken this lead.") % {"name": ctx.person(lead.owner_id)},
            code="already_claimed",
        )
    change = Change(lead)
    transfer(change, ctx, by=by, to=by, reason=HandoffReason.CLAIM, note="", at=at)
    return change


# ---------------------------------------------------------------- close


def _arrive(change: Change, *, by: Staff, to_stage: Stage | None, note: str, at: datetime) -> None:
    change.stage_step(
        EventKind.ARRIVED,
        by=by,
        at=at,
        to_stage=to_stage,
        note=note,
        data={"with_appointment": change.get("appointment_at") is not None},
    )
    change.first_response(at)
    change.close_tasks(
        TaskKind.FIRST_CALL, TaskKind.APPOINTMENT_REMINDER, outcome=TaskOutcome.DONE, at=at
    )


@lead_action
def record_arrival(lead: Any, ctx: Context, *, by: Staff, at: datetime, note: str = "") -> Change:
    """The customer is in the showroom, with or without an appointment."""
    to_stage = _begin(lead, by, Action.ARRIVE)
    change = Change(lead)
    _arrive(change, by=by, to_stage=to_stage, note=note, at=at)
    return change


def _showroom_step(
    lead: Any, by: Staff, action: Action, kind: EventKind, at: datetime, note: str, data: dict
) -> Change:
    to_stage = _begin(lead, by, action)
    change = Change(lead)
    change.stage_step(kind, by=by, at=at, to_stage=to_stage, note=note, data=data)
    return change


@lead_action
def record_test_drive(
    lead: Any, ctx: Context, *, by: Staff, at: datetime, car_model: str = "", note: str = ""
) -> Change:
    data = {"car_model": car_model or lead.car_model}
    return _showroom_step(lead, by, Action.TEST_DRIVE, EventKind.TEST_DRIVE, at, note, data)


@lead_action
def record_quote(
    lead: Any,
    ctx: Context,
    *,
    by: Staff,
    at: datetime,
    amount: Decimal,
    car_model: str = "",
    note: str = "",
) -> Change:
    if amount <= 0:
        raise InvalidInput(_("The quoted price must be positive."), field="amount")
    data = {"amount": str(amount), "car_model": car_model or lead.car_model}
    return _showroom_step(lead, by, Action.QUOTE, EventKind.QUOTED, at, note, data)


@lead_action
def record_order(
    lead: Any,
    ctx: Context,
    *,
    by: Staff,
    at: datetime,
    car_model: str = "",
    amount: Decimal | None = None,
    note: str = "",
) -> Change:
    if amount is not None and amount <= 0:
        raise InvalidInput(_("The price must be positive."), field="amount")
    data = {"car_model": car_model or lead.car_model, "amount": str(amount) if amount else None}
    return _showroom_step(lead, by, Action.ORDER, EventKind.ORDERED, at, note, data)


@lead_action
def record_delivery(lead: Any, ctx: Context, *, by: Staff, at: datetime, note: str = "") -> Change:
    """The car is handed over. The lead closes; owner operations owes a return visit."""
    to_stage = _begin(lead, by, Action.DELIVER)
    change = Change(lead)
    change.stage_step(EventKind.DELIVERED, by=by, at=at, to_stage=to_stage, note=note)
    _leave_funnel(change, at, TaskOutcome.DONE)
    change.open_task(
        TaskKind.RETURN_VISIT,
        due_at=return_visit_due(ctx.dealer, at),
        assignee_id=ctx.return_visit_specialist(fallback_id=lead.owner_id),
    )
    return change


# ---------------------------------------------------------------- defeat and reactivation


@lead_action
def request_defeat(
    lead: Any, ctx: Context, *, by: Staff, at: datetime, reason: str, note: str = ""
) -> Change:
    """The owner says the customer is lost; a supervisor decides."""
    _begin(lead, by, Action.REQUEST_DEFEAT)
    reason = _reason(ctx, ReasonKind.DEFEAT, reason)
    change = Change(lead)
    change.record(EventKind.DEFEAT_REQUESTED, by=by, at=at, reason=reason, note=note)
    change.set(defeat_pending=True, exit_reason=reason)
    return change


@lead_action
def approve_defeat(lead: Any, ctx: Context, *, by: Staff, at: datetime, note: str = "") -> Change:
    to_stage = _begin(lead, by, Action.APPROVE_DEFEAT)
    if ctx.defeat_requester(lead) == by.pk:
        raise NotPermitted(
            _("A defeat must be approved by someone other than who requested it."),
            code="own_request",
        )
    change = Change(lead)
    change.stage_step(
        EventKind.DEFEAT_APPROVED,
        by=by,
        at=at,
        to_stage=to_stage,
        reason=lead.exit_reason,
        note=note,
    )
    change.set(defeat_pending=False)
    _leave_funnel(change, at, TaskOutcome.CANCELLED)
    return change


@lead_action
def reject_defeat(lead: Any, ctx: Context, *, by: Staff, at: datetime, note: str = "") -> Change:
    """Not lost yet: the owner keeps following up."""
    _begin(lead, by, Action.REJECT_DEFEAT)
    change = Change(lead)
    change.record(EventKind.DEFEAT_REJECTED, by=by, at=at, reason=lead.exit_reason, note=note)
    change.set(defeat_pending=False, exit_reason="")
    _grade_follow_up(change, ctx, at)
    return change


@lead_action
def reactivate_lead(lead: Any, ctx: Context, *, by: Staff, at: datetime, note: str = "") -> Change:
    """Bring an invalid or defeated lead back into follow-up (contacted). An owner who has left
    or is away hands it to the DCC's next agent."""
    to_stage = _begin(lead, by, Action.REACTIVATE)
    if ctx.has_other_open_lead(lead):
        raise Conflict(
            _("This customer already has another open lead."), code="customer_has_open_lead"
        )
    change = Change(lead)
    change.stage_step(EventKind.REACTIVATED, by=by, at=at, to_stage=to_stage, note=note)
    change.set(closed_at=None, exit_reason="")
    if lead.owner_id in ctx.absent_ids(at) or not ctx.person(lead.owner_id).is_active:
        successor = ctx.pick_owner(
            TeamKind.DCC, channel_id=lead.channel_id, car_model=lead.car_model, at=at
        )
        transfer(
            change, ctx, by=by, to=successor, reason=HandoffReason.REACTIVATION, note="", at=at
        )
    _grade_follow_up(change, ctx, at)
    return change


@lead_action
def record_return_visit(
    lead: Any,
    ctx: Context,
    *,
    by: Staff,
    at: datetime,
    reached: bool,
    satisfaction: int | None = None,
    note: str = "",
    given_up: bool = False,
) -> Change:
    """Owner operations' call to a new owner after delivery: reached or not, how satisfied
    (1–5). Reaching them completes the open return-visit task; `given_up` (not reached, the
    plan's attempts spent) cancels it, so it does not wait in a queue for ever."""
    if satisfaction is not None and not 1 <= satisfaction <= 5:
        raise InvalidInput(_("Satisfaction is from 1 to 5."), field="satisfaction")
    if satisfaction is not None and not reached:
        raise InvalidInput(_("Only a customer who was reached can rate us."), field="satisfaction")
    _begin(lead, by, Action.RETURN_VISIT)
    change = Change(lead)
    change.record(
        EventKind.RETURN_VISIT,
        by=by,
        at=at,
        note=note,
        data={"reached": reached, "satisfaction": satisfaction},
    )
    if reached:
        change.close_tasks(TaskKind.RETURN_VISIT, outcome=TaskOutcome.DONE, at=at)
    elif given_up:
        change.close_tasks(TaskKind.RETURN_VISIT, outcome=TaskOutcome.CANCELLED, at=at)
    return change


@lead_action
def reveal_phone(lead: Any, ctx: Context, *, by: Staff, at: datetime) -> Change:
    """Show a masked number in full; the reveal is recorded in the ledger."""
    authorize_reveal(by, lead)
    change = Change(lead, counts_as_edit=False)
    change.record(EventKind.PHONE_REVEALED, by=by, at=at)
    return change


@lead_action
def listen_to_recording(
    lead: Any, ctx: Context, *, by: Staff, at: datetime, call_id: str, recording_id: int
) -> Change:
    """Play a call's recording; whoever may see the lead may listen, and each listen is
    recorded in the ledger (the call center's recordings are personal data)."""
    authorize_reveal(by, lead)
    change = Change(lead, counts_as_edit=False)
    change.record(
        EventKind.RECORDING_PLAYED,
        by=by,
        at=at,
        data={"call_id": call_id, "recording": recording_id},
    )
    return change


# ---------------------------------------------------------------- owner operations and audit

# What the groups above the leads (owners, audit, sms) record on a lead through record_fact.
FACT_KINDS = frozenset(
    {EventKind.COMPLAINT, EventKind.AUDITED, EventKind.REFERRED, EventKind.SMS, EventKind.ERASED}
)


@lead_action
def record_fact(
    lead: Any,
    ctx: Context,
    *,
    by: Staff | None,
    at: datetime,
    kind: str,
    note: str = "",
    data: dict[str, Any] | None = None,
) -> Change:
    """A fact about the customer that owner operations or the audit group keeps with the lead:
    a complaint's step, an audit's result, who referred the customer, a text message (sms).
    Their apps decide who may record it (they hold the rules); here it only joins the lead's
    ledger, in any stage."""
    if kind not in FACT_KINDS:
        raise InvalidInput(_("This is not something kept with a lead."), field="kind")
    change = Change(lead, counts_as_edit=False)
    change.record(kind, by=by, at=at, note=note, data=dict(data or {}))
    return change


@lead_action
def overturn_exit(
    lead: Any,
    ctx: Context,
    *,
    by: Staff,
    at: datetime,
    audit: int,
    to: Staff | None = None,
    note: str = "",
) -> Change:
    """An audit found the defeat or the invalid mark wrong (the customer still wants a car):
    the lead is followed up again, by its owner at the exit, or by whom the supervisor names;
    an owner who has left or is away hands it to the DCC's next agent. `audit` is the audit's
    id, kept in the event."""
    to_stage = _begin(lead, by, Action.OVERTURN)
    if ctx.has_other_open_lead(lead):
        raise Conflict(
            _("This customer already has another open lead."), code="customer_has_open_lead"
        )
    change = Change(lead)
    change.stage_step(
        EventKind.OVERTURNED,
        by=by,
        at=at,
        to_stage=to_stage,
        reason=lead.exit_reason,
        note=note,
        data={"audit": audit, "from": lead.stage},
    )
    change.set(closed_at=None, exit_reason="")
    if to is None and (
        lead.owner_id in ctx.absent_ids(at) or not ctx.person(lead.owner_id).is_active
    ):
        to = ctx.pick_owner(
            TeamKind.DCC, channel_id=lead.channel_id, car_model=lead.car_model, at=at
        )
    if to is not None and to.pk != lead.owner_id:
        transfer(change, ctx, by=by, to=to, reason=HandoffReason.AUDIT, note="", at=at)
    _grade_follow_up(change, ctx, at)
    return change


def settle_imported_history(lead: Any, ctx: Context) -> Change:
    """After a backdated import, what fell due long ago is nobody's work today: tasks due
    before now close as superseded (old return visits included), and an open lead that had one
    overdue gets a single follow-up due now, so it surfaces in its owner's queue. Its
    first-response SLA is judged from its history alone (leads.sla.settled_deadline)."""
    now = ctx.now
    change = Change(lead, counts_as_edit=False)
    deadline = settled_deadline(
        created_at=lead.created_at,
        deadline=lead.sla_deadline,
        first_response_at=lead.first_response_at,
        now=now,
    )
    if deadline != lead.sla_deadline:
        change.set(sla_deadline=deadline)
    if ctx.has_tasks_due_before(lead, now):
        change.close_tasks(outcome=TaskOutcome.SUPERSEDED, at=now, due_before=now)
        if lead.is_open:
            change.follow_up(now)
    return change
