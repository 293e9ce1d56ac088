"""Server render times of the main web pages, with one dealer holding N leads.

    .venv/bin/python bench/ui.py [--leads N] [--database-url URL] [--runs 20] [--keep]

A fresh database (by default a SQLite file under $DCC_VAR_DIR/bench/, else var/bench/; a
PostgreSQL URL is dropped and created here, and its database name must contain "bench") gets
one dealer with its staff and N customers and leads spread over twelve months. Each lead's
history is planned step by step (calls, grades, appointments, handoffs, arrivals, orders,
defeats …) and written in bulk batches exactly as leads.actions would have written it: the
same ledger events with a valid hash chain, the same tasks, the same lead fields (milestones
included), the same daily tallies. To prove that, about fifty leads are taken through the real
actions as well, and their rows and the dealer's tallies are compared with what the bulk
generator makes of the same plans. leads.ledger.verify() checks the whole dealer afterwards.

Each page is then requested with django.test.Client as the person who uses it: one warm-up,
one run under CaptureQueriesContext (how many queries, which was slowest), then --runs timed
runs. Pages whose median is over 200 ms are flagged with their slowest queries and the
database's plan for the slowest one. This is a benchmark, not a test: it prints and exits 0
unless the data it generated is wrong.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import re
import resource
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from support import (  # bench/support, beside this script
    CHANNEL_WEIGHTS,
    explain,
    recreate_postgres,
    remove_sqlite,
)

if TYPE_CHECKING:
    from leads.tallies import Deltas

ROOT = Path(__file__).resolve().parent.parent
# The databases' folder: $DCC_VAR_DIR/bench (as bench/kpi.py), else var/bench.
VAR_DIR = Path(os.environ.get("DCC_VAR_DIR") or ROOT / "var") / "bench"
DEFAULT_LEADS = 100_000
SLOW_MS = 200.0
BATCH = 2_000  # leads per bulk transaction: bounds memory whatever N is
ACTION_LEADS = 50
LONG_TIMELINE_CALLS = 300
SEED = 2026
DEALER_CODE = "SH001"
SQL_SHOWN = 1200  # characters of a slow query printed

Op = tuple[str, dict[str, Any]]

# ---------------------------------------------------------------- the shape of the funnel

# Local hour of day an enquiry arrives.
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 1, 2, 4, 7, 10, 11, 11, 9, 9, 10, 10, 10, 10, 9, 9, 8, 6, 3, 2]
GRADES = "HABCN"
GRADE_WEIGHTS = [8, 17, 30, 27, 18]
# Chance that a follow-up call of a lead of this grade ends with a booked visit.
BOOK_CHANCE = {"H": 0.55, "A": 0.33, "B": 0.16, "C": 0.07, "N": 0.02}
DEFEAT_CHANCE = 0.09  # per follow-up: the agent asks to close the lead as defeated
DROP_CHANCE = 0.04  # per follow-up: nobody calls again (the lead stays open, overdue)
MAX_FOLLOW_UPS = 12
NEVER_CALLED = 0.01
LATE_FIRST_CALL = 0.15
FIRST_REACH = 0.72
FOLLOW_UP_REACH = 0.8
INVALID_AFTER_REACH = 0.12
SHOW_UP = 0.72
ORDER_AFTER_ARRIVAL = 0.3
DEFEAT_AFTER_ARRIVAL = 0.45
TOUCH_CHANCE = 0.04
UNDECIDED_DEFEAT = 0.005  # the supervisor never decided
REJECTED_DEFEAT = 0.045
RETURN_VISIT_REACH = 0.8
SATISFACTION = (5, 5, 4, 4, 4, 3, 2)

NOT_REACHED = ("no_answer", "busy", "powered_off", "hung_up")
INVALID_REASONS = ("no_intent", "not_buyer", "out_of_area", "wrong_number")
DCC_DEFEATS = ("price", "postponed", "bought_competitor", "bought_other_dealer", "product")
SHOWROOM_DEFEATS = ("price", "bought_competitor", "bought_other_dealer", "financing", "service")
CALL_NOTES = ("", "", "", "对价格敏感", "周末有空", "想看现车", "在比较竞品", "需要和家人商量")
DEFEAT_NOTES = ("", "客户已在别家下定", "预算不够", "明年再买")

# key, display name, role, how many
STAFF_PLAN = [
    ("gm", "周建国", "gm", 1),
    ("dcc_lead", "李娜", "dcc_supervisor", 1),
    ("agent", "坐席", "dcc_agent", 8),
    ("showroom", "赵强", "showroom_manager", 1),
    ("consultant", "顾问", "consultant", 6),
]

# What the generator writes and the comparison with the real actions checks.
LEAD_FIELDS = (
    "customer_id",
    "channel_id",
    "car_model",
    "grade",
    "stage",
    "owner_id",
    "created_by_id",
    "created_at",
    "sla_deadline",
    "first_response_at",
    "appointment_at",
    "next_follow_up_at",
    "defeat_pending",
    "exit_reason",
    "closed_at",
    "touch_count",
    "last_touched_at",
    "version",
    "last_event_seq",
    "last_event_hash",
    # the milestones (leads.tallies.note_event sets them, as the ledger writes each event)
    "first_owner_id",
    "consultant_id",
    "first_contacted_at",
    "first_appointed_at",
    "first_arrived_at",
    "first_ordered_at",
    "first_delivered_at",
    "first_defeated_at",
    "first_closed_at",
)
EVENT_FIELDS = (
    "lead_id",
    "seq",
    "kind",
    "actor_id",
    "occurred_at",
    "from_stage",
    "to_stage",
    "from_owner_id",
    "to_owner_id",
    "reason",
    "note",
    "data",
    "prev_hash",
    "hash",
)
PEOPLE_ARGS = frozenset({"by", "owner", "to"})


def minutes(value: float) -> timedelta:
    return timedelta(minutes=value)


def hours(value: float) -> timedelta:
    return timedelta(hours=value)


def days(value: float) -> timedelta:
    return timedelta(days=value)


# ---------------------------------------------------------------- plans


@dataclass(frozen=True)
class Cast:
    """Who one lead meets along the line (staff ids)."""

    agent: int
    consultant: int
    supervisor: int
    showroom_manager: int


class Plan:
    """The steps of one lead, each with its time; nothing after `now` happens."""

    def __init__(self, at: datetime, now: datetime) -> None:
        self.at = at
        self.now = now
        self.ops: list[Op] = []

    def later(self, delta: timedelta) -> bool:
        self.at += delta
        return self.at < self.now

    def add(self, op: str, **kwargs: Any) -> None:
        self.ops.append((op, {"at": self.at, **kwargs}))


def plan_lead(
    rng: random.Random,
    *,
    at: datetime,
    now: datetime,
    channel: str,
    car_model: str,
    cast: Cast,
    follow_up_days: dict[str, int],
    long_timeline: bool = False,
) -> list[Op]:
    """A plausible history for one enquiry, as the actions a dealer's people would take."""
    plan = Plan(at, now)
    if channel == "walk_in":
        plan.add("walk_in", by=cast.consultant, car_model=car_model, note="")
        _plan_showroom(plan, rng, cast)
        return plan.ops
    plan.add(
        "create",
        by=None,
        owner=cast.agent,
        by_rules=True,
        channel=channel,
        car_model=car_model,
        note="",
    )
    if rng.random() < NEVER_CALLED and not long_timeline:
        return plan.ops
    delay = minutes(rng.expovariate(1 / 15))
    if rng.random() < LATE_FIRST_CALL:
        delay += hours(rng.uniform(1, 30))
    if not plan.later(delay):
        return plan.ops
    grade = ""
    for attempt in range(3):
        if attempt and not plan.later(days(rng.uniform(0.8, 1.3))):
            return plan.ops
        if rng.random() < FIRST_REACH or long_timeline:
            grade = rng.choices(GRADES, GRADE_WEIGHTS)[0]
            _call(plan, rng, cast.agent, grade)
            break
        _missed_call(plan, rng, cast.agent)
    else:
        if rng.random() < 0.8 and plan.later(days(1)):
            plan.add("invalidate", by=cast.agent, reason="unreachable", note="")
        return plan.ops
    if not long_timeline and rng.random() < INVALID_AFTER_REACH:
        if plan.later(minutes(rng.uniform(1, 10))):
            plan.add("invalidate", by=cast.agent, reason=rng.choice(INVALID_REASONS), note="")
        return plan.ops
    limit = LONG_TIMELINE_CALLS if long_timeline else MAX_FOLLOW_UPS
    for _ in range(limit):
        roll = 1.0 if long_timeline else rng.random()
        if roll < BOOK_CHANCE[grade]:
            _plan_visit(plan, rng, cast)
            return plan.ops
        roll -= BOOK_CHANCE[grade]
        if roll < DEFEAT_CHANCE:
            _plan_defeat(plan, rng, cast.agent, cast.supervisor, DCC_DEFEATS)
            return plan.ops
        if roll - DEFEAT_CHANCE < DROP_CHANCE:
            return plan.ops
        interval = 1 if long_timeline else follow_up_days[grade]
        if not plan.later(days(interval * rng.uniform(0.7, 1.5))):
            return plan.ops
        if rng.random() < TOUCH_CHANCE:
            touch_channel = rng.choice([c for c in CHANNEL_WEIGHTS if c != "walk_in"])
            plan.add("touch", channel=touch_channel, car_model=car_model, note="")
            if not plan.later(minutes(rng.uniform(5, 90))):
                return plan.ops
        if rng.random() < FOLLOW_UP_REACH:
            if rng.random() < 0.25:
                grade = _shift(grade, rng)
            _call(plan, rng, cast.agent, grade)
        else:
            _missed_call(plan, rng, cast.agent)
    if not long_timeline:
        _plan_defeat(plan, rng, cast.agent, cast.supervisor, ("postponed",))
    return plan.ops


def _shift(grade: str, rng: random.Random) -> str:
    index = GRADES.index(grade) + rng.choice((-1, 1))
    return GRADES[min(max(index, 0), len(GRADES) - 1)]


def _call(plan: Plan, rng: random.Random, by: int, grade: str) -> None:
    plan.add(
        "log_call",
        by=by,
        outcome="reached",
        duration_seconds=rng.randrange(40, 600),
        note=rng.choice(CALL_NOTES),
        grade=grade,
    )


def _missed_call(plan: Plan, rng: random.Random, by: int) -> None:
    plan.add(
        "log_call", by=by, outcome=rng.choice(NOT_REACHED), duration_seconds=0, note="", grade=None
    )


def _plan_visit(plan: Plan, rng: random.Random, cast: Cast) -> None:
    """Book a visit, hand the customer to a consultant; they come, or do not."""
    if not plan.later(minutes(rng.uniform(2, 30))):
        return
    visit = plan.at + days(rng.uniform(0.5, 6))
    plan.add("appoint", by=cast.agent, appointment_at=visit, note="")
    if not plan.later(minutes(rng.uniform(5, 120))):
        return
    plan.add("hand_off", by=cast.agent, to=cast.consultant, reason="appointment", note="")
    plan.at = max(plan.at + minutes(1), visit + minutes(rng.uniform(-30, 45)))
    if plan.at >= plan.now:
        return
    if rng.random() < SHOW_UP:
        plan.add("arrive", by=cast.consultant, note="")
        _plan_showroom(plan, rng, cast)
        return
    if not plan.later(hours(rng.uniform(2, 6))):
        return
    plan.add("cancel_appointment", by=cast.consultant, note="未到店")
    if rng.random() < 0.55:
        _plan_defeat(plan, rng, cast.consultant, cast.showroom_manager, SHOWROOM_DEFEATS)


def _plan_showroom(plan: Plan, rng: random.Random, cast: Cast) -> None:
    """After arrival: test drive, quote, a follow-up call, then order and delivery, or defeat."""
    who = cast.consultant
    if rng.random() < 0.7:
        if not plan.later(minutes(rng.uniform(10, 40))):
            return
        plan.add("test_drive", by=who, car_model="")
    if not plan.later(minutes(rng.uniform(15, 60))):
        return
    price = rng.randrange(120, 360) * 1000
    plan.add("quote", by=who, amount=price)
    if rng.random() < 0.5:
        if not plan.later(days(rng.uniform(1, 4))):
            return
        _call(plan, rng, who, rng.choice("HAB"))
    roll = rng.random()
    if roll < ORDER_AFTER_ARRIVAL:
        if not plan.later(hours(rng.uniform(1, 24 * 6))):
            return
        plan.add("order", by=who, amount=rng.choice((None, price - 3000)))
        if plan.later(days(rng.uniform(3, 25))):
            plan.add("deliver", by=who)
            _plan_return_visit(plan, rng, cast)
    elif roll < ORDER_AFTER_ARRIVAL + DEFEAT_AFTER_ARRIVAL:
        _plan_defeat(plan, rng, who, cast.showroom_manager, SHOWROOM_DEFEATS)


def _plan_return_visit(plan: Plan, rng: random.Random, cast: Cast) -> None:
    """The call to the new owner a few days after delivery (no owner-operations specialist
    here: the showroom manager makes it), again the next days until someone answers."""
    wait = days(rng.uniform(3, 6))
    for _attempt in range(3):
        if not plan.later(wait):
            return
        reached = rng.random() < RETURN_VISIT_REACH
        satisfaction = rng.choice(SATISFACTION) if reached else None
        plan.add(
            "return_visit",
            by=cast.showroom_manager,
            reached=reached,
            satisfaction=satisfaction,
            note="",
        )
        if reached:
            return
        wait = days(rng.uniform(1, 2))


def _plan_defeat(
    plan: Plan, rng: random.Random, owner: int, approver: int, reasons: tuple[str, ...]
) -> None:
    if not plan.later(hours(rng.uniform(2, 24 * 5))):
        return
    plan.add("request_defeat", by=owner, reason=rng.choice(reasons), note=rng.choice(DEFEAT_NOTES))
    roll = rng.random()
    if roll < UNDECIDED_DEFEAT or not plan.later(hours(rng.uniform(0.5, 30))):
        return
    if roll < UNDECIDED_DEFEAT + REJECTED_DEFEAT:
        plan.add("reject_defeat", by=approver, note="再跟进一次")
    else:
        plan.add("approve_defeat", by=approver, note="")


# ---------------------------------------------------------------- the bulk generator


@dataclass
class LeadState:
    """A lead, its events and its tasks as leads.actions would leave them."""

    pk: int
    dealer_id: int
    customer_id: int
    channel_id: int
    car_model: str
    owner_id: int
    created_by_id: int | None
    created_at: datetime
    sla_deadline: datetime
    grade: str = ""
    stage: str = "new"
    first_response_at: datetime | None = None
    appointment_at: datetime | None = None
    next_follow_up_at: datetime | None = None
    defeat_pending: bool = False
    exit_reason: str = ""
    closed_at: datetime | None = None
    touch_count: int = 0
    last_touched_at: datetime | None = None
    version: int = 0
    last_event_seq: int = 0
    last_event_hash: str = ""
    first_owner_id: int | None = None
    consultant_id: int | None = None
    first_contacted_at: datetime | None = None
    first_appointed_at: datetime | None = None
    first_arrived_at: datetime | None = None
    first_ordered_at: datetime | None = None
    first_delivered_at: datetime | None = None
    first_defeated_at: datetime | None = None
    first_closed_at: datetime | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)


class Simulator:
    """Replays a plan the way leads.actions (with leads.ledger and leads.followups) writes it,
    but into memory, so that thousands of leads can be written with bulk_create. The one
    deliberate difference: a superseded task is closed at the action's time, where the actions
    stamp the wall clock (they are not meant to be backdated). Each event sets the lead's
    milestones through leads.tallies.note_event, as leads.ledger.append does. When an action
    changes, the comparison with the real actions in acted_leads() fails until this follows."""

    def __init__(self, dealer: Any, channels: dict[str, Any]) -> None:
        from leads.ledger import GENESIS, event_digest
        from leads.models import EventKind, TaskKind, TaskOutcome
        from leads.sla import first_response_deadline, in_business_hours
        from leads.stages import DEFAULT_FOLLOW_UP_DAYS, Stage
        from leads.tallies import note_event

        self.dealer = dealer
        self.channels = channels
        self.genesis = GENESIS
        self.digest = event_digest
        self.note_event = note_event
        self.deadline = first_response_deadline
        self.open_hours = in_business_hours
        self.follow_up_days = {str(grade): n for grade, n in DEFAULT_FOLLOW_UP_DAYS.items()}
        self.E, self.T, self.O, self.S = EventKind, TaskKind, TaskOutcome, Stage

    def run(self, ops: list[Op], *, pk: int, customer_id: int) -> LeadState:
        lead: LeadState | None = None
        for op, kwargs in ops:
            if op == "create":
                lead = self.create(pk=pk, customer_id=customer_id, **kwargs)
            elif op == "walk_in":
                lead = self.create(
                    pk=pk,
                    customer_id=customer_id,
                    owner=kwargs["by"],
                    by_rules=False,
                    channel="walk_in",
                    **kwargs,
                )
                self.arrive(lead, at=kwargs["at"], by=kwargs["by"], note=kwargs["note"])
            else:
                assert lead is not None, "a plan starts with its lead"
                getattr(self, op)(lead, **kwargs)
        assert lead is not None
        return lead

    # the ledger and the tasks

    def _append(
        self,
        lead: LeadState,
        kind: str,
        *,
        actor: int | None,
        at: datetime,
        from_stage: str = "",
        to_stage: str = "",
        from_owner: int | None = None,
        to_owner: int | None = None,
        reason: str = "",
        note: str = "",
        data: dict[str, Any] | None = None,
    ) -> None:
        values = {
            "lead_id": lead.pk,
            "seq": lead.last_event_seq + 1,
            "kind": str(kind),
            "actor_id": actor,
            "occurred_at": at,
            "from_stage": str(from_stage),
            "to_stage": str(to_stage),
            "from_owner_id": from_owner,
            "to_owner_id": to_owner,
            "reason": reason,
            "note": note,
            "data": data or {},
            "prev_hash": lead.last_event_hash or self.genesis,
        }
        values["hash"] = self.digest(**values)
        lead.events.append(values)
        lead.last_event_seq, lead.last_event_hash = values["seq"], values["hash"]
        self.note_event(lead, **values)

    def _close_tasks(self, lead: LeadState, *kinds: str, outcome: str, at: datetime) -> None:
        for task in lead.tasks:
            if task["closed_at"] is None and (not kinds or task["kind"] in kinds):
                task["closed_at"], task["outcome"] = at, str(outcome)

    def _schedule(
        self,
        lead: LeadState,
        kind: str,
        *,
        due_at: datetime,
        at: datetime,
        assignee: int | None = None,
    ) -> None:
        self._close_tasks(lead, kind, outcome=self.O.SUPERSEDED, at=at)
        lead.tasks.append(
            {
                "kind": str(kind),
                "assignee_id": assignee or lead.owner_id,
                "due_at": due_at,
                "created_at": at,
                "closed_at": None,
                "outcome": "",
            }
        )

    def _follow_up(self, lead: LeadState, at: datetime) -> None:
        due = self.open_hours(self.dealer, at + days(self.follow_up_days[lead.grade or "N"]))
        lead.next_follow_up_at = due
        self._schedule(lead, self.T.FOLLOW_UP, due_at=due, at=at)

    def _close(self, lead: LeadState, stage: str, at: datetime, outcome: str) -> None:
        lead.stage, lead.closed_at, lead.next_follow_up_at = str(stage), at, None
        if stage != self.S.DELIVERED:
            lead.appointment_at = None  # an exit drops the appointment
        self._close_tasks(lead, outcome=outcome, at=at)

    # the actions

    def create(
        self,
        *,
        pk: int,
        customer_id: int,
        at: datetime,
        by: int | None,
        owner: int,
        by_rules: bool,
        channel: str,
        car_model: str,
        note: str,
    ) -> LeadState:
        chosen = self.channels[channel]
        lead = LeadState(
            pk=pk,
            dealer_id=self.dealer.pk,
            customer_id=customer_id,
            channel_id=chosen.pk,
            car_model=car_model[:100],
            owner_id=owner,
            created_by_id=by,
            created_at=at,
            sla_deadline=self.deadline(self.dealer, chosen, at),
        )
        self._append(
            lead,
            self.E.CREATED,
            actor=by,
            at=at,
            to_stage=self.S.NEW,
            to_owner=owner,
            note=note,
            data={"channel": channel, "car_model": lead.car_model, "by_rules": by_rules},
        )
        self._schedule(lead, self.T.FIRST_CALL, due_at=lead.sla_deadline, at=at)
        return lead

    def touch(
        self, lead: LeadState, *, at: datetime, channel: str, car_model: str, note: str
    ) -> None:
        lead.touch_count += 1
        lead.last_touched_at = at
        self._append(
            lead,
            self.E.TOUCHED,
            actor=None,
            at=at,
            note=note,
            data={"channel": channel, "car_model": car_model},
        )
        lead.version += 1

    def log_call(
        self,
        lead: LeadState,
        *,
        at: datetime,
        by: int,
        outcome: str,
        duration_seconds: int,
        note: str,
        grade: str | None,
    ) -> None:
        before = lead.stage
        if lead.first_response_at is None:
            lead.first_response_at = at
        if outcome == "reached" and lead.stage == self.S.NEW:
            lead.stage = str(self.S.CONTACTED)
        moved = lead.stage != before
        self._append(
            lead,
            self.E.CALLED,
            actor=by,
            at=at,
            from_stage=before if moved else "",
            to_stage=lead.stage if moved else "",
            note=note,
            data={
                "outcome": outcome,
                "direction": "outbound",
                "duration_seconds": duration_seconds,
                "recording_url": "",
            },
        )
        self._close_tasks(lead, self.T.FIRST_CALL, self.T.FOLLOW_UP, outcome=self.O.DONE, at=at)
        if grade and grade != lead.grade:
            self._grade(lead, by, grade, at=at, note="")
        self._follow_up(lead, at)
        lead.version += 1

    def _grade(self, lead: LeadState, by: int, grade: str, *, at: datetime, note: str) -> None:
        self._append(
            lead,
            self.E.GRADED,
            actor=by,
            at=at,
            note=note,
            data={"from": lead.grade, "to": grade},
        )
        lead.grade = grade

    def appoint(
        self, lead: LeadState, *, at: datetime, by: int, appointment_at: datetime, note: str
    ) -> None:
        moved = lead.stage == self.S.APPOINTED and lead.appointment_at is not None
        self._append(
            lead,
            self.E.APPOINTMENT_MOVED if moved else self.E.APPOINTMENT_SET,
            actor=by,
            at=at,
            from_stage="" if moved else lead.stage,
            to_stage="" if moved else self.S.APPOINTED,
            note=note,
            data={
                "appointment_at": appointment_at.isoformat(),
                "previous": lead.appointment_at.isoformat() if moved else None,
            },
        )
        if lead.first_response_at is None:
            lead.first_response_at = at
        lead.stage = str(self.S.APPOINTED)
        lead.appointment_at = appointment_at
        self._close_tasks(lead, self.T.FIRST_CALL, outcome=self.O.DONE, at=at)
        self._schedule(
            lead,
            self.T.APPOINTMENT_REMINDER,
            due_at=max(appointment_at - days(1), at),
            at=at,
        )
        lead.version += 1

    def cancel_appointment(self, lead: LeadState, *, at: datetime, by: int, note: str) -> None:
        assert lead.appointment_at is not None
        self._append(
            lead,
            self.E.APPOINTMENT_CANCELLED,
            actor=by,
            at=at,
            note=note,
            data={"appointment_at": lead.appointment_at.isoformat()},
        )
        lead.appointment_at = None
        self._close_tasks(lead, self.T.APPOINTMENT_REMINDER, outcome=self.O.CANCELLED, at=at)
        self._follow_up(lead, at)
        lead.version += 1

    def invalidate(self, lead: LeadState, *, at: datetime, by: int, reason: str, note: str) -> None:
        self._append(
            lead,
            self.E.INVALIDATED,
            actor=by,
            at=at,
            from_stage=lead.stage,
            to_stage=self.S.INVALID,
            reason=reason,
            note=note,
        )
        lead.exit_reason = reason
        self._close(lead, self.S.INVALID, at, self.O.CANCELLED)
        lead.version += 1

    def hand_off(
        self, lead: LeadState, *, at: datetime, by: int, to: int, reason: str, note: str
    ) -> None:
        previous = lead.owner_id
        self._append(
            lead,
            self.E.HANDED_OFF,
            actor=by,
            at=at,
            from_owner=previous,
            to_owner=to,
            reason=reason,
            note=note,
        )
        for task in lead.tasks:
            if task["closed_at"] is None and task["assignee_id"] == previous:
                task["assignee_id"] = to
        lead.owner_id = to
        lead.version += 1

    def arrive(self, lead: LeadState, *, at: datetime, by: int, note: str) -> None:
        self._append(
            lead,
            self.E.ARRIVED,
            actor=by,
            at=at,
            from_stage=lead.stage,
            to_stage=self.S.ARRIVED,
            note=note,
            data={"with_appointment": lead.appointment_at is not None},
        )
        if lead.first_response_at is None:
            lead.first_response_at = at
        lead.stage = str(self.S.ARRIVED)
        self._close_tasks(
            lead, self.T.FIRST_CALL, self.T.APPOINTMENT_REMINDER, outcome=self.O.DONE, at=at
        )
        lead.version += 1

    def _record(
        self,
        lead: LeadState,
        kind: str,
        *,
        at: datetime,
        by: int,
        data: dict[str, Any],
        to_stage: str = "",
    ) -> None:
        self._append(
            lead,
            kind,
            actor=by,
            at=at,
            from_stage=lead.stage if to_stage else "",
            to_stage=to_stage,
            data=data,
        )
        if to_stage:
            lead.stage = str(to_stage)
        lead.version += 1

    def test_drive(self, lead: LeadState, *, at: datetime, by: int, car_model: str) -> None:
        data = {"car_model": car_model or lead.car_model}
        self._record(lead, self.E.TEST_DRIVE, at=at, by=by, data=data)

    def quote(self, lead: LeadState, *, at: datetime, by: int, amount: int) -> None:
        data = {"amount": str(Decimal(amount)), "car_model": lead.car_model}
        self._record(lead, self.E.QUOTED, at=at, by=by, data=data)

    def order(self, lead: LeadState, *, at: datetime, by: int, amount: int | None) -> None:
        data = {"car_model": lead.car_model, "amount": str(Decimal(amount)) if amount else None}
        self._record(lead, self.E.ORDERED, at=at, by=by, data=data, to_stage=self.S.ORDERED)

    def deliver(self, lead: LeadState, *, at: datetime, by: int) -> None:
        self._append(
            lead,
            self.E.DELIVERED,
            actor=by,
            at=at,
            from_stage=lead.stage,
            to_stage=self.S.DELIVERED,
        )
        self._close(lead, self.S.DELIVERED, at, self.O.DONE)
        # No owner-operations specialist here: the return visit falls to the owner.
        self._schedule(
            lead, self.T.RETURN_VISIT, due_at=self.open_hours(self.dealer, at + days(3)), at=at
        )
        lead.version += 1

    def return_visit(
        self,
        lead: LeadState,
        *,
        at: datetime,
        by: int,
        reached: bool,
        satisfaction: int | None,
        note: str,
    ) -> None:
        data = {"reached": reached, "satisfaction": satisfaction}
        self._append(lead, self.E.RETURN_VISIT, actor=by, at=at, note=note, data=data)
        if reached:
            self._close_tasks(lead, self.T.RETURN_VISIT, outcome=self.O.DONE, at=at)
        lead.version += 1

    def request_defeat(
        self, lead: LeadState, *, at: datetime, by: int, reason: str, note: str
    ) -> None:
        self._append(lead, self.E.DEFEAT_REQUESTED, actor=by, at=at, reason=reason, note=note)
        lead.defeat_pending, lead.exit_reason = True, reason
        lead.version += 1

    def approve_defeat(self, lead: LeadState, *, at: datetime, by: int, note: str) -> None:
        self._append(
            lead,
            self.E.DEFEAT_APPROVED,
            actor=by,
            at=at,
            from_stage=lead.stage,
            to_stage=self.S.DEFEATED,
            reason=lead.exit_reason,
            note=note,
        )
        lead.defeat_pending = False
        self._close(lead, self.S.DEFEATED, at, self.O.CANCELLED)
        lead.version += 1

    def reject_defeat(self, lead: LeadState, *, at: datetime, by: int, note: str) -> None:
        self._append(
            lead, self.E.DEFEAT_REJECTED, actor=by, at=at, reason=lead.exit_reason, note=note
        )
        lead.defeat_pending, lead.exit_reason = False, ""
        self._follow_up(lead, at)
        lead.version += 1


def tally(deltas: Deltas, lead: LeadState) -> None:
    """Add what `lead` counts in its dealer's daily tallies to `deltas`, as
    leads.replay.Replayer._tallied counts a batch: the lead itself, and its repeat enquiries."""
    from leads import tallies
    from leads.models import EventKind

    values = {name: getattr(lead, name) for name in tallies.COUNTED_FIELDS}
    tallies.merge(deltas, lead.dealer_id, tallies.contributions(values))
    for event in lead.events:
        if event["kind"] == EventKind.TOUCHED:
            touch = tallies.touch_contributions(lead.created_at, event["occurred_at"])
            tallies.merge(deltas, lead.dealer_id, touch)


# ---------------------------------------------------------------- the dealer


@dataclass
class World:
    dealer: Any
    channels: dict[str, Any]
    staff: dict[int, Any]
    people: dict[str, list[Any]]  # role key → staff, in creation order
    phones: set[str] = field(default_factory=set)

    def cast(self, rng: random.Random, agent: Any | None = None) -> Cast:
        return Cast(
            agent=(agent or rng.choice(self.people["agent"])).pk,
            consultant=rng.choice(self.people["consultant"]).pk,
            supervisor=self.people["dcc_lead"][0].pk,
            showroom_manager=self.people["showroom"][0].pk,
        )

    def new_customer(self, rng: random.Random) -> dict[str, str]:
        from leads.demo import GIVEN, MOBILE_PREFIXES, SURNAMES

        while True:
            phone = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
            if phone not in self.phones:
                self.phones.add(phone)
                break
        given = rng.choice(("先生", "女士", rng.choice(GIVEN) + rng.choice(GIVEN)))
        city = self.dealer.city if rng.random() < 0.85 else rng.choice(("苏州", "嘉兴", "南通"))
        return {"phone": phone, "name": rng.choice(SURNAMES) + given, "city": city}


def set_up_world() -> World:
    """One brand, region and dealer with its defaults, and the people of its line."""
    from accounts.models import Brand, Dealer, Membership, Region, Staff
    from leads.models import Channel
    from leads.setup.defaults import set_up_dealer

    brand = Brand.objects.create(code="xingtu", name="星途汽车")
    region = Region.objects.create(brand=brand, code="east", name="华东区")
    dealer = Dealer.objects.create(
        region=region, code=DEALER_CODE, name="上海浦东星途4S店", city="上海"
    )
    set_up_dealer(dealer)
    people: dict[str, list[Any]] = {}
    for key, username, name, role in _usernames():
        staff = Staff(username=username, display_name=name)
        staff.set_unusable_password()  # the benchmark signs in with force_login
        staff.save()
        Membership.objects.create(staff=staff, dealer=dealer, role=role)
        people.setdefault(key, []).append(staff)
    channels = {channel.code: channel for channel in Channel.objects.filter(dealer=dealer)}
    missing = set(CHANNEL_WEIGHTS) - set(channels)
    assert not missing, f"channels missing from leads.defaults: {missing}"
    staff_by_id = {s.pk: s for group in people.values() for s in group}
    return World(dealer=dealer, channels=channels, staff=staff_by_id, people=people)


def _usernames() -> Iterator[tuple[str, str, str, str]]:
    """(key, username, display name, role) of every person STAFF_PLAN asks for."""
    for key, name, role, count in STAFF_PLAN:
        for number in range(1, count + 1):
            if count == 1:
                yield key, key, name, role
            else:
                yield key, f"{key}{number}", f"{name}{number}", role


def load_world() -> World:
    """The dealer a previous run left behind (--reuse)."""
    from accounts.models import Dealer, Staff
    from leads.models import Channel

    dealer = Dealer.objects.get(code=DEALER_CODE)
    people: dict[str, list[Any]] = {}
    for key, username, _name, _role in _usernames():
        people.setdefault(key, []).append(Staff.objects.get(username=username))
    channels = {channel.code: channel for channel in Channel.objects.filter(dealer=dealer)}
    staff_by_id = {s.pk: s for group in people.values() for s in group}
    return World(dealer=dealer, channels=channels, staff=staff_by_id, people=people)


@lru_cache(maxsize=50_000)
def initials(name: str) -> str:
    from leads.search import name_initials

    return name_initials(name)


def creation_times(rng: random.Random, count: int, now: datetime) -> list[datetime]:
    """Enquiry times over the last twelve months, by the local hour people enquire."""
    from django.utils import timezone

    local_now = timezone.localtime(now)
    times = []
    for _ in range(count):
        day = local_now - days(rng.uniform(0, 365))
        at = day.replace(
            hour=rng.choices(range(24), HOUR_WEIGHTS)[0],
            minute=rng.randrange(60),
            second=rng.randrange(60),
            microsecond=rng.randrange(10**6),
        ).astimezone(UTC)
        if at >= now:
            at = now - minutes(rng.uniform(1, 240))
        times.append(at)
    times.sort()
    return times


def generate(world: World, *, count: int, rng: random.Random, now: datetime) -> int:
    """Write `count` customers and leads with their events and tasks, and add them to the
    dealer's daily tallies, BATCH leads per transaction. The earliest lead is the
    long-timeline one, owned by the first agent."""
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.db.models import Max

    from leads import tallies
    from leads.demo import CAR_MODELS
    from leads.models import Customer, Event, Lead, Task

    sim = Simulator(world.dealer, world.channels)
    codes, weights = list(CHANNEL_WEIGHTS), list(CHANNEL_WEIGHTS.values())
    next_customer = (Customer.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
    next_lead = (Lead.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
    times = creation_times(rng, count, now)
    dealer_id = world.dealer.pk
    started = time.perf_counter()
    for start in range(0, count, BATCH):
        customers, leads, events, tasks = [], [], [], []
        deltas: tallies.Deltas = {}
        for index, at in enumerate(times[start : start + BATCH], start):
            long_timeline = index == 0
            channel = "autohome" if long_timeline else rng.choices(codes, weights)[0]
            cast = world.cast(rng, world.people["agent"][0] if long_timeline else None)
            ops = plan_lead(
                rng,
                at=at,
                now=now,
                channel=channel,
                car_model=rng.choice(CAR_MODELS),
                cast=cast,
                follow_up_days=sim.follow_up_days,
                long_timeline=long_timeline,
            )
            person = world.new_customer(rng)
            customers.append(
                Customer(
                    pk=next_customer,
                    dealer_id=dealer_id,
                    phone=person["phone"],
                    phone_kind="mobile",
                    name=person["name"],
                    name_initials=initials(person["name"]),
                    city=person["city"],
                    created_at=at,
                )
            )
            state = sim.run(ops, pk=next_lead, customer_id=next_customer)
            leads.append(
                Lead(
                    pk=state.pk, dealer_id=dealer_id, **{f: getattr(state, f) for f in LEAD_FIELDS}
                )
            )
            events.extend(
                Event(dealer_id=dealer_id, recorded_at=event["occurred_at"], **event)
                for event in state.events
            )
            tasks.extend(Task(dealer_id=dealer_id, lead_id=state.pk, **t) for t in state.tasks)
            tally(deltas, state)
            next_customer += 1
            next_lead += 1
        with transaction.atomic():
            Customer.objects.bulk_create(customers)
            Lead.objects.bulk_create(leads)
            Event.objects.bulk_create(events, batch_size=5_000)
            Task.objects.bulk_create(tasks, batch_size=5_000)
            tallies.apply(deltas)
        done = start + len(leads)
        if done % 20_000 < BATCH or done == count:
            rate = done / (time.perf_counter() - started)
            print(f"  … {done:,} leads written ({rate:,.0f}/s)", flush=True)
    # Explicit keys do not move PostgreSQL's sequences (SQLite's AUTOINCREMENT follows them).
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), [Customer, Lead]):
            cursor.execute(statement)
    return count


# ---------------------------------------------------------------- the same plans, really acted


def act(world: World, ops: list[Op], customer: dict[str, str]) -> tuple[Any, list[Op]]:
    """Take a plan through leads.actions. The assignment rules may pick another agent than
    planned: the plan follows them. Returns the lead and the plan as acted."""
    from leads import actions

    remap: dict[int, int] = {}
    acted: list[Op] = []
    lead = None
    channels, dealer = world.channels, world.dealer

    def person(pk: int | None) -> Any:
        return world.staff[pk] if pk is not None else None

    for op, planned in ops:
        kw = {k: remap.get(v, v) if k in PEOPLE_ARGS else v for k, v in planned.items()}
        at, by = kw["at"], person(kw.get("by"))
        if op == "create":
            intake = actions.create_lead(
                dealer=dealer,
                phone=customer["phone"],
                channel=channels[kw["channel"]],
                by=by,
                name=customer["name"],
                car_model=kw["car_model"],
                city=customer["city"],
                note=kw["note"],
                owner=None if kw["by_rules"] else person(kw["owner"]),
                at=at,
            )
            assert intake.created
            lead = intake.lead
            if lead.owner_id != kw["owner"]:
                remap[kw["owner"]] = lead.owner_id
                kw["owner"] = lead.owner_id
        elif op == "walk_in":
            lead = actions.check_in_visitor(
                dealer=dealer,
                phone=customer["phone"],
                by=by,
                name=customer["name"],
                car_model=kw["car_model"],
                note=kw["note"],
                at=at,
            )
        elif op == "touch":
            intake = actions.create_lead(
                dealer=dealer,
                phone=customer["phone"],
                channel=channels[kw["channel"]],
                by=None,
                car_model=kw["car_model"],
                note=kw["note"],
                at=at,
            )
            assert not intake.created
            lead = intake.lead
        else:
            lead = _act_on(actions, op, lead, by, kw, person)
        acted.append((op, kw))
    return lead, acted


def _act_on(actions: Any, op: str, lead: Any, by: Any, kw: dict[str, Any], person: Any) -> Any:
    at = kw["at"]
    if op == "log_call":
        return actions.log_call(
            lead=lead,
            by=by,
            outcome=kw["outcome"],
            duration_seconds=kw["duration_seconds"],
            note=kw["note"],
            grade=kw["grade"],
            at=at,
        )
    if op == "appoint":
        return actions.book_appointment(
            lead=lead, by=by, appointment_at=kw["appointment_at"], note=kw["note"], at=at
        )
    if op == "hand_off":
        return actions.hand_off(
            lead=lead, by=by, to=person(kw["to"]), reason=kw["reason"], note=kw["note"], at=at
        )
    if op == "test_drive":
        return actions.record_test_drive(lead=lead, by=by, car_model=kw["car_model"], at=at)
    if op == "quote":
        return actions.record_quote(lead=lead, by=by, amount=Decimal(kw["amount"]), at=at)
    if op == "order":
        amount = Decimal(kw["amount"]) if kw["amount"] else None
        return actions.record_order(lead=lead, by=by, amount=amount, at=at)
    simple = {
        "cancel_appointment": actions.cancel_appointment,
        "arrive": actions.record_arrival,
        "deliver": actions.record_delivery,
        "invalidate": actions.invalidate_lead,
        "request_defeat": actions.request_defeat,
        "approve_defeat": actions.approve_defeat,
        "reject_defeat": actions.reject_defeat,
        "return_visit": actions.record_return_visit,
    }
    extra = {k: v for k, v in kw.items() if k not in ("at", "by")}
    return simple[op](lead=lead, by=by, at=at, **extra)


def _task_key(task: dict[str, Any]) -> tuple:
    # Superseded tasks: the actions stamp the wall clock, the generator the action's time.
    closed = task["closed_at"] if task["outcome"] != "superseded" else None
    return (task["kind"], task["assignee_id"], task["due_at"], task["outcome"], closed)


def compare(real: Any, state: LeadState) -> list[str]:
    """Differences between a lead written by the actions and the generator's version of it."""
    from leads.models import Event, Task

    problems = [
        f"lead {real.pk} {name}: actions {getattr(real, name)!r}, bulk {getattr(state, name)!r}"
        for name in LEAD_FIELDS
        if getattr(real, name) != getattr(state, name)
    ]
    events = list(Event.objects.filter(lead_id=real.pk).order_by("seq").values(*EVENT_FIELDS))
    planned = [{k: e[k] for k in EVENT_FIELDS} for e in state.events]
    if len(events) != len(planned):
        problems.append(f"lead {real.pk}: {len(events)} events by actions, {len(planned)} bulk")
    for mine, theirs in zip(events, planned, strict=False):
        if mine != theirs:
            diff = {k: (mine[k], theirs[k]) for k in EVENT_FIELDS if mine[k] != theirs[k]}
            problems.append(f"lead {real.pk} event {mine['seq']}: {diff}")
            break
    fields = ("kind", "assignee_id", "due_at", "outcome", "closed_at")
    tasks = sorted(map(_task_key, Task.objects.filter(lead_id=real.pk).values(*fields)))
    if tasks != sorted(map(_task_key, state.tasks)):
        problems.append(
            f"lead {real.pk} tasks: actions {tasks}, bulk {sorted(state.tasks, key=_task_key)}"
        )
    return problems


def compare_tallies(dealer: Any, states: list[LeadState]) -> list[str]:
    """Differences between the dealer's daily tallies as the actions left them and as the bulk
    generator writes them for the same leads (stored in a transaction rolled back here)."""
    from django.db import transaction

    from leads import tallies
    from leads.models import DailyTally

    by_actions = tallies.stored_tallies([dealer.pk])
    deltas: tallies.Deltas = {}
    for state in states:
        tally(deltas, state)
    with transaction.atomic():
        DailyTally.objects.filter(dealer=dealer).delete()
        tallies.apply(deltas)
        by_bulk = tallies.stored_tallies([dealer.pk])
        transaction.set_rollback(True)
    problems = []
    for key in sorted(by_actions.keys() | by_bulk.keys()):
        mine, theirs = by_actions.get(key, {}), by_bulk.get(key, {})
        diff = {c: (mine.get(c, 0), theirs.get(c, 0)) for c in mine.keys() | theirs.keys()}
        diff = {c: counts for c, counts in sorted(diff.items()) if counts[0] != counts[1]}
        if diff:
            problems.append(f"tallies of {key[1]} (column: actions, bulk): {diff}")
    return problems


def acted_leads(world: World, *, count: int, rng: random.Random, now: datetime) -> Counter:
    """Take `count` plans through the real actions, chosen so that every kind of step occurs,
    and check each (and the dealer's daily tallies) against the bulk generator's rendering of
    the same plan."""
    from leads.demo import CAR_MODELS

    sim = Simulator(world.dealer, world.channels)
    candidates = []
    for at in creation_times(rng, count * 10, now):
        ops = plan_lead(
            rng,
            at=at,
            now=now,
            channel=rng.choices(list(CHANNEL_WEIGHTS), list(CHANNEL_WEIGHTS.values()))[0],
            car_model=rng.choice(CAR_MODELS),
            cast=world.cast(rng),
            follow_up_days=sim.follow_up_days,
        )
        candidates.append(ops)
    chosen, seen = [], set()
    for ops in sorted(candidates, key=lambda o: -len({op for op, _ in o})):
        kinds = {op for op, _ in ops}
        if kinds - seen:
            chosen.append(ops)
            seen |= kinds
    rest = [ops for ops in candidates if all(ops is not c for c in chosen)]
    chosen += rng.sample(rest, max(count - len(chosen), 0))
    coverage: Counter = Counter()
    problems: list[str] = []
    states: list[LeadState] = []
    for ops in chosen[:count]:
        lead, acted = act(world, ops, world.new_customer(rng))
        lead.refresh_from_db()
        coverage.update(op for op, _ in acted)
        states.append(sim.run(acted, pk=lead.pk, customer_id=lead.customer_id))
        problems += compare(lead, states[-1])
    problems += compare_tallies(world.dealer, states)
    if problems:
        print("\n".join(problems[:20]), file=sys.stderr)
        raise SystemExit("the bulk generator does not write what leads.actions writes")
    return coverage


# ---------------------------------------------------------------- pages


@dataclass(frozen=True)
class Page:
    label: str
    who: str  # key into the people to sign in as
    url_name: str
    args: tuple = ()
    query: str = ""
    htmx: bool = False


@dataclass
class Timing:
    page: Page
    path: str
    status: int = 0
    runs: list[float] = field(default_factory=list)  # wall ms
    cpu: list[float] = field(default_factory=list)  # this process's CPU ms
    queries: list[tuple[float, str]] = field(default_factory=list)  # replayed ms, SQL

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def p95(self) -> float:
        ordered = sorted(self.runs)
        return ordered[math.ceil(0.95 * len(ordered)) - 1]

    @property
    def sql_ms(self) -> float:
        return sum(ms for ms, _sql in self.queries)

    def slowest(self, n: int = 1) -> list[tuple[float, str]]:
        return sorted(self.queries, key=lambda item: item[0], reverse=True)[:n]


def replay(sql: str, times: int = 5) -> float:
    """Best ms of `times` runs of one captured query, all its rows fetched (the request's own
    timing of a query stops at cursor.execute, before SQLite has produced most rows; the best
    run is the one least disturbed by other work on the machine)."""
    from django.db import connection

    if not sql.lstrip().upper().startswith("SELECT"):
        return 0.0
    durations = []
    with connection.cursor() as cursor:
        for _ in range(times):
            started = time.perf_counter()
            cursor.execute(sql)
            cursor.fetchall()
            durations.append((time.perf_counter() - started) * 1000)
    return min(durations)


@dataclass
class Targets:
    """The records the pages are about, picked from the generated data."""

    agent: Any
    long_lead: int
    long_events: int
    delivered_lead: int
    customer_phone: str
    customer_name: str
    customer_initials: str
    last_page: int


def pick_targets(world: World) -> Targets:
    from leads.models import Lead

    agent = world.people["agent"][0]
    candidates = (
        Lead.objects.filter(dealer=world.dealer, owner=agent, stage="contacted")
        .select_related("customer")
        .order_by("-created_at")[:500]
    )
    customer = next(
        lead.customer
        for lead in candidates
        if len(lead.customer.name) == 3 and not lead.customer.name.endswith(("先生", "女士"))
    )
    delivered = Lead.objects.filter(dealer=world.dealer, stage="delivered").order_by("-pk").first()
    longest = Lead.objects.filter(dealer=world.dealer).order_by("-last_event_seq").first()
    total = Lead.objects.filter(dealer=world.dealer).count()
    assert delivered is not None and longest is not None
    return Targets(
        agent=agent,
        long_lead=longest.pk,
        long_events=longest.last_event_seq,
        delivered_lead=delivered.pk,
        customer_phone=customer.phone,
        customer_name=customer.name,
        customer_initials=customer.name_initials,
        last_page=max(math.ceil(total / 50), 1),
    )


def page_list(t: Targets) -> list[Page]:
    return [
        Page("agent queue", "agent", "queue"),
        Page("agent queue, htmx refresh (every 10 s)", "agent", "queue", htmx=True),
        Page(f"lead page, {t.long_events} events", "agent", "lead_detail", (t.long_lead,)),
        Page("lead page, delivered lead", "gm", "lead_detail", (t.delivered_lead,)),
        Page("lead list, page 1", "gm", "lead_list"),
        Page(
            f"lead list, page {t.last_page} (last)", "gm", "lead_list", query=f"page={t.last_page}"
        ),
        Page("lead list, stage=contacted", "gm", "lead_list", query="stage=contacted"),
        Page("lead list, page 1", "agent", "lead_list"),
        Page(
            "search last 4 digits", "agent", "search", query=urlencode({"q": t.customer_phone[-4:]})
        ),
        Page("search last 4 digits", "gm", "search", query=urlencode({"q": t.customer_phone[-4:]})),
        Page(
            "search pinyin initials", "agent", "search", query=urlencode({"q": t.customer_initials})
        ),
        Page("search name", "agent", "search", query=urlencode({"q": t.customer_name})),
        Page(
            "search full mobile (→ lead)",
            "agent",
            "search",
            query=urlencode({"q": t.customer_phone}),
        ),
        Page("showroom day", "consultant", "showroom"),
        Page("showroom day, whole showroom", "showroom", "showroom"),
        Page("team board", "dcc_lead", "team"),
        Page("team defeat approvals", "dcc_lead", "team_defeats"),
        Page("team reassign", "dcc_lead", "team_reassign"),
        Page("team absences", "dcc_lead", "team_absences"),
        Page("KPI dashboard, this month", "gm", "dashboard"),
        Page("DCC board", "dcc_lead", "dashboard_dcc"),
        Page("DCC board, htmx refresh (every 60 s)", "dcc_lead", "dashboard_dcc", htmx=True),
        Page("settings", "gm", "dealer_settings"),
        Page("settings: staff", "gm", "settings_staff"),
        Page("settings: channels", "gm", "settings_channels"),
    ]


def time_pages(world: World, targets: Targets, *, runs: int) -> tuple[list[Timing], list[str]]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import NoReverseMatch, reverse

    clients: dict[str, Client] = {}
    timings, skipped = [], []
    for page in page_list(targets):
        try:
            path = reverse(page.url_name, args=page.args)
        except NoReverseMatch:
            skipped.append(f"{page.label}: no URL named {page.url_name!r}")
            continue
        if page.query:
            path += "?" + page.query
        if page.who not in clients:
            person = targets.agent if page.who == "agent" else world.people[page.who][0]
            clients[page.who] = Client(SERVER_NAME="localhost")
            clients[page.who].force_login(person)
        client = clients[page.who]
        headers = {"HX-Request": "true"} if page.htmx else {}
        timing = Timing(page, path)
        timing.status = client.get(path, headers=headers).status_code
        if timing.status not in (200, 302):
            skipped.append(f"{page.label} as {page.who}: HTTP {timing.status}")
            continue
        with CaptureQueriesContext(connection) as captured:
            client.get(path, headers=headers)
        # Copied now: the next request empties the connection's query log.
        statements = [query["sql"] for query in captured.captured_queries]
        for _ in range(runs):
            cpu, started = time.process_time(), time.perf_counter()
            client.get(path, headers=headers)
            timing.runs.append((time.perf_counter() - started) * 1000)
            timing.cpu.append((time.process_time() - cpu) * 1000)
        timing.queries = [(replay(sql), sql) for sql in statements]
        timings.append(timing)
        print(f"  {page.label} as {page.who}: {timing.median:.0f} ms", flush=True)
    return timings, skipped


# ---------------------------------------------------------------- report


def dataset_report(world: World) -> list[str]:
    from django.db.models import Count, Q, Sum

    from leads.models import Customer, DailyTally, Event, Lead, Task

    dealer = world.dealer
    stages = dict(
        Lead.objects.filter(dealer=dealer).values_list("stage").annotate(n=Count("id")).order_by()
    )
    total = sum(stages.values())
    events = Event.objects.filter(dealer=dealer).count()
    tasks = Task.objects.filter(dealer=dealer).aggregate(
        all=Count("id"), open=Count("id", filter=Q(closed_at__isnull=True))
    )
    agent = world.people["agent"][0]
    owned = Lead.objects.filter(dealer=dealer, owner=agent).aggregate(
        all=Count("id"), open=Count("id", filter=Q(closed_at__isnull=True))
    )
    ever = Event.objects.filter(dealer=dealer, to_owner=agent).values("lead_id").distinct().count()
    agent_tasks = Task.objects.filter(dealer=dealer, assignee=agent, closed_at__isnull=True).count()
    pending = Lead.objects.filter(dealer=dealer, defeat_pending=True).count()
    tallied = DailyTally.objects.filter(dealer=dealer).aggregate(
        days=Count("id"), arrived=Sum("arrived"), delivered=Sum("delivered")
    )
    order = ["new", "contacted", "appointed", "arrived", "ordered", "delivered", "invalid"]
    funnel = ", ".join(f"{s} {stages.get(s, 0) / total:.1%}" for s in [*order, "defeated"])
    return [
        f"customers {Customer.objects.filter(dealer=dealer).count():,}, leads {total:,}, "
        f"events {events:,} ({events / total:.1f} a lead), tasks {tasks['all']:,} "
        f"({tasks['open']:,} open)",
        f"stages: {funnel}; defeat requests waiting: {pending:,}",
        f"{agent.username} (queue, lead list, search): owns {owned['all']:,} leads "
        f"({owned['open']:,} open), ever held {ever:,}, {agent_tasks:,} open tasks",
        f"daily tallies: {tallied['days']:,} days, {tallied['arrived'] or 0:,} arrivals, "
        f"{tallied['delivered'] or 0:,} deliveries",
        f"staff: {len(world.staff)} ("
        + ", ".join(f"{len(v)} {k}" for k, v in world.people.items())
        + ")",
    ]


def print_table(timings: list[Timing]) -> None:
    header = (
        f"{'page':<40} {'as':<10} {'median ms':>9} {'p95 ms':>7} {'CPU ms':>7} "
        f"{'queries':>7} {'SQL ms':>7} {'slowest':>7}"
    )
    print(header)
    print("-" * len(header))
    for t in timings:
        slowest = t.slowest()
        worst = slowest[0][0] if slowest else 0.0
        flag = "  SLOW" if t.median > SLOW_MS else ""
        label = (t.page.label + (" (302)" if t.status == 302 else ""))[:40]
        print(
            f"{label:<40} {t.page.who:<10} {t.median:>9.1f} {t.p95:>7.1f} "
            f"{statistics.median(t.cpu):>7.1f} {len(t.queries):>7} {t.sql_ms:>7.1f} "
            f"{worst:>7.1f}{flag}"
        )
    print(
        "median, p95, CPU ms (this process; on SQLite the database's work too): over the timed "
        "runs. SQL ms: the page's queries run again one by one, all rows fetched, best of 5; "
        "slowest: the slowest of them."
    )


def shorten(sql: str) -> str:
    """One line, the column list of the outer SELECT elided: what is left is what matters."""
    text = " ".join(sql.split())
    text = re.sub(r'^SELECT (?:(?:"\w+"\.)?"\w+"(?: AS "\w+")?, )+', "SELECT …, ", text)
    return text if len(text) <= SQL_SHOWN else text[:SQL_SHOWN] + " …"


def print_details(timings: list[Timing], *, everything: bool) -> None:
    for t in timings:
        if not everything and t.median <= SLOW_MS:
            continue
        print(f"\n{t.page.label} as {t.page.who}: {t.path}  median {t.median:.0f} ms")
        slowest = t.slowest(3)
        for ms, sql in slowest:
            print(f"  {ms:7.1f} ms  {shorten(sql)}")
        if slowest:
            print("  plan of the slowest:")
            for line in explain(slowest[0][1]):
                print(f"    {line}")


# ---------------------------------------------------------------- set-up and main


def configure(args: argparse.Namespace) -> tuple[str, Path | None]:
    """A fresh database (unless --reuse), and the environment dcc.settings reads, before
    django.setup()."""
    import django

    VAR_DIR.mkdir(parents=True, exist_ok=True)
    sqlite_file = None
    if args.database_url:
        url = args.database_url
        if urlsplit(url).scheme.startswith("postgres") and not args.reuse:
            recreate_postgres(url)
    else:
        sqlite_file = VAR_DIR / f"ui-{args.leads}.sqlite3"
        if not args.reuse:
            remove_sqlite(sqlite_file)
        url = f"sqlite:///{sqlite_file}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "dcc.settings"
    os.environ["DATABASE_URL"] = url
    os.environ["DCC_VAR_DIR"] = str(VAR_DIR)
    os.environ["DEBUG"] = "false"  # as served: cached templates, no query log
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    django.setup()
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 -- a broken URLconf fails now, not after the load
    return url, sqlite_file


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=DEFAULT_LEADS, help="leads at the dealer")
    parser.add_argument(
        "--database-url",
        help="e.g. postgres://postgres@127.0.0.1:5432/dcc_bench (dropped and created); "
        "default: a fresh SQLite file under $DCC_VAR_DIR/bench/ (else var/bench/)",
    )
    parser.add_argument("--runs", type=int, default=20, help="timed runs per page")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--keep", action="store_true", help="keep the database afterwards (to look at plans)"
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="time the pages on the database a --keep run left, without generating",
    )
    parser.add_argument(
        "--explain", action="store_true", help="show slowest queries and plans of every page"
    )
    parser.add_argument(
        "--analyze",
        action="store_true",
        help="on SQLite, ANALYZE after the load (PostgreSQL is always analysed; the app itself "
        "never analyses SQLite)",
    )
    args = parser.parse_args(argv)
    if args.leads < 1000:
        parser.error("--leads must be at least 1000")
    return args


def build(args: argparse.Namespace, url: str) -> World:
    """Migrate, then the dealer, its people, the acted and the bulk leads; verify the ledger."""
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from leads import ledger

    clock = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrate: {time.perf_counter() - clock:.1f} s")
    rng = random.Random(args.seed)
    now = timezone.now()
    world = set_up_world()
    clock = time.perf_counter()
    coverage = acted_leads(world, count=ACTION_LEADS, rng=rng, now=now)
    print(
        f"{ACTION_LEADS} leads through leads.actions in {time.perf_counter() - clock:.1f} s, "
        "identical (daily tallies too) to what the bulk generator writes for the same plans; "
        "steps: " + ", ".join(f"{op} {n}" for op, n in sorted(coverage.items()))
    )
    clock = time.perf_counter()
    written = generate(world, count=args.leads - ACTION_LEADS, rng=rng, now=now)
    print(f"bulk: {written:,} leads in {time.perf_counter() - clock:.1f} s")
    if connection.vendor == "postgresql" or args.analyze:
        # PostgreSQL: what autovacuum does soon after a load.
        statement = "VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE"
        clock = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(statement)
        print(f"{statement}: {time.perf_counter() - clock:.1f} s")
    clock = time.perf_counter()
    report = ledger.verify(dealer_id=world.dealer.pk)
    assert report.ok, f"ledger broken: {report.broken[:5]}"
    print(
        f"ledger.verify: {report.leads:,} chains, {report.events:,} events, ok "
        f"({time.perf_counter() - clock:.1f} s)"
    )
    check_tallies(world)
    return world


def check_tallies(world: World) -> None:
    """The daily tallies count every lead and every repeat enquiry of the dealer once."""
    from django.db.models import Sum

    from leads.models import DailyTally, Event, EventKind, Lead

    dealer = world.dealer
    tallied = DailyTally.objects.filter(dealer=dealer).aggregate(
        leads=Sum("leads"), touches=Sum("touches")
    )
    stored = {
        "leads": Lead.objects.filter(dealer=dealer).count(),
        "touches": Event.objects.filter(dealer=dealer, kind=EventKind.TOUCHED).count(),
    }
    assert tallied == stored, f"daily tallies count {tallied}, the tables hold {stored}"


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    url, sqlite_file = configure(args)
    from django.db import connection, connections

    vendor = connection.vendor
    print(f"DCC UI benchmark: {args.leads:,} leads at one dealer on {vendor} ({url})")
    started = time.perf_counter()
    world = load_world() if args.reuse else build(args, url)
    print(f"data ready in {time.perf_counter() - started:.0f} s")
    print("\n".join(dataset_report(world)))
    if sqlite_file is not None:
        print(f"database file: {sqlite_file.stat().st_size / 2**20:,.0f} MB")

    print(
        f"\ntiming pages: 1 warm-up, 1 captured run, {args.runs} timed runs each "
        f"({os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f})"
    )
    timings, skipped = time_pages(world, pick_targets(world), runs=args.runs)
    print()
    print_table(timings)
    for note in skipped:
        print(f"skipped: {note}")
    slow = [t for t in timings if t.median > SLOW_MS]
    print(
        f"\n{len(slow)} of {len(timings)} pages over {SLOW_MS:.0f} ms median "
        f"(load average at the end {os.getloadavg()[0]:.1f})"
    )
    print_details(timings, everything=args.explain)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory: {peak:,.0f} MB")

    connections.close_all()
    if not args.keep:
        if sqlite_file is not None:
            remove_sqlite(sqlite_file)
        elif vendor == "postgresql":
            recreate_postgres(url, create=False)


if __name__ == "__main__":
    main()
