"""Server render times of the main web pages, with one dealer holding N leads.

    .venv/bin/python bench/ui.py [--leads N] [--database-url URL] [--runs 20] [--keep]

A fresh database (by default a SQLite file under $DCC_VAR_DIR/bench/, else var/bench/; a
PostgreSQL URL is dropped and created here, and its database name must contain "bench") gets
one dealer with its staff and N customers and leads spread over twelve months. Each lead's
history is planned step by step (calls, grades, appointments, handoffs, arrivals, orders,
defeats …) and taken through the batch executor (leads.batch): the same decisions as the live
actions, written in bulk batches, so the ledger events (hash chains included), tasks, lead
fields, milestones and daily tallies are what the actions would have written
(tests/leads/test_executors.py holds the two executors equal). leads.ledger.verify() and the
tallies are checked afterwards.

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
    pass

ROOT = Path(__file__).resolve().parent.parent
# The databases' folder: $DCC_VAR_DIR/bench (as bench/kpi.py), else var/bench.
VAR_DIR = Path(os.environ.get("DCC_VAR_DIR") or ROOT / "var") / "bench"
DEFAULT_LEADS = 100_000
SLOW_MS = 200.0
BATCH = 2_000  # leads per bulk transaction: bounds memory whatever N is
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
    ("owner_ops", "钱芳", "owner_ops", 1),
    ("auditor", "孙敏", "auditor", 1),
]


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
    assert not missing, f"channels missing from leads.setup.defaults: {missing}"
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
    """Write `count` customers and leads, each taken through its plan by the batch executor
    (leads.batch: the same decisions as the live actions, written in bulk), BATCH leads per
    transaction. The earliest lead is the long-timeline one, owned by the first agent."""
    from django.db import transaction

    from leads.batch import Batch
    from leads.demo import CAR_MODELS

    batch = Batch(world.dealer, now=now)
    codes, weights = list(CHANNEL_WEIGHTS), list(CHANNEL_WEIGHTS.values())
    times = creation_times(rng, count, now)
    started = time.perf_counter()
    for start in range(0, count, BATCH):
        chunk = times[start : start + BATCH]
        people = [world.new_customer(rng) for _ in chunk]
        steps = Counter()
        with transaction.atomic():
            batch.begin(phones=[p["phone"] for p in people], external_ids=(), size=len(chunk))
            for index, (at, person) in enumerate(zip(chunk, people, strict=True), start):
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
                    follow_up_days=batch.follow_up_days,
                    long_timeline=long_timeline,
                )
                with batch.row():
                    act(batch, world, ops, person)
                steps.update(op for op, _kw in ops)
            batch.write()
        done = start + len(chunk)
        if done % 20_000 < BATCH or done == count:
            rate = done / (time.perf_counter() - started)
            print(f"  … {done:,} leads written ({rate:,.0f}/s)", flush=True)
    return count


def act(batch: Any, world: World, ops: list[Op], customer: dict[str, str]) -> Any:
    """Take one lead's plan through the executor's actions (the planned agent owns it)."""
    channels, dealer = world.channels, world.dealer
    lead = None
    for op, planned in ops:
        kw = dict(planned)
        by = world.staff.get(kw.pop("by", None))
        if op in ("create", "touch"):
            owner = world.staff[kw.pop("owner")] if op == "create" else None
            kw.pop("by_rules", None)
            intake = batch.create_lead(
                dealer=dealer,
                phone=customer["phone"],
                channel=channels[kw.pop("channel")],
                by=by,
                name=customer["name"] if op == "create" else "",
                city=customer["city"] if op == "create" else "",
                owner=owner,
                **kw,
            )
            lead = intake.lead
        elif op == "walk_in":
            lead = batch.check_in_visitor(
                dealer=dealer, phone=customer["phone"], by=by, name=customer["name"], **kw
            )
        else:
            if "to" in kw:
                kw["to"] = world.staff[kw["to"]]
            if op in ("quote", "order") and kw.get("amount"):
                kw["amount"] = Decimal(kw["amount"])
            lead = getattr(batch, ACTIONS.get(op, op))(lead=lead, by=by, **kw)
    return lead


# Plan steps by the name of the action that takes them.
ACTIONS = {
    "appoint": "book_appointment",
    "arrive": "record_arrival",
    "test_drive": "record_test_drive",
    "quote": "record_quote",
    "order": "record_order",
    "deliver": "record_delivery",
    "invalidate": "invalidate_lead",
    "return_visit": "record_return_visit",
}


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
    visit: int | None = None
    complaint: int | None = None
    owner: int | None = None
    member: int | None = None
    referred_lead: int | None = None
    audit_task: int | None = None
    owner_event: int | None = None


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
        **_after_sales_targets(world),
        agent=agent,
        long_lead=longest.pk,
        long_events=longest.last_event_seq,
        delivered_lead=delivered.pk,
        customer_phone=customer.phone,
        customer_name=customer.name,
        customer_initials=customer.name_initials,
        last_page=max(math.ceil(total / 50), 1),
    )


def _after_sales_targets(world: World) -> dict[str, int | None]:
    """The busiest owner (most visits), an open complaint, the richest member, a referred lead
    and an audit task still to score."""
    from django.db.models import Count

    from audit.models import AuditTask, TaskStatus
    from owners.models import Complaint, Member, OwnerEvent, Referral, ReturnVisit, VisitStatus

    dealer = world.dealer
    visit = ReturnVisit.objects.filter(dealer=dealer, status=VisitStatus.DUE).order_by("due_at")
    owner = (
        ReturnVisit.objects.filter(dealer=dealer)
        .values("vehicle__owner_id")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .values_list("vehicle__owner_id", flat=True)
        .first()
    )
    task = AuditTask.objects.filter(sample__dealer=dealer, status=TaskStatus.OPEN).order_by("pk")
    return {
        "visit": visit.values_list("pk", flat=True).first(),
        "complaint": Complaint.objects.filter(dealer=dealer)
        .order_by("-opened_at")
        .values_list("pk", flat=True)
        .first(),
        "owner": owner,
        "member": Member.objects.filter(dealer=dealer)
        .order_by("-lifetime_points")
        .values_list("pk", flat=True)
        .first(),
        "referred_lead": Referral.objects.filter(dealer=dealer)
        .values_list("lead_id", flat=True)
        .first(),
        "audit_task": task.values_list("pk", flat=True).first(),
        "owner_event": OwnerEvent.objects.filter(dealer=dealer)
        .order_by("starts_at")
        .values_list("pk", flat=True)
        .first(),
    }


def _after_sales_pages(t: Targets) -> list[Page]:
    """Owner operations' and the audit group's pages (those about a record the data lacks are
    left out)."""
    about = [
        (t.visit, Page("return visit", "owner_ops", "return_visit", (t.visit,))),
        (t.complaint, Page("complaint", "owner_ops", "complaint", (t.complaint,))),
        (t.owner, Page("owner page", "owner_ops", "owner_detail", (t.owner,))),
        (t.owner, Page("personal data of an owner", "gm", "privacy_customer", (t.owner,))),
        (t.owner, Page("erasure page of an owner", "gm", "privacy_erase", (t.owner,))),
        (t.member, Page("member card", "owner_ops", "member", (t.member,))),
        (
            t.referred_lead,
            Page("lead's referrer panel", "gm", "lead_referral", (t.referred_lead,)),
        ),
        (t.audit_task, Page("audit task", "auditor", "audit_task", (t.audit_task,))),
        (t.owner_event, Page("owner event", "owner_ops", "owner_event", (t.owner_event,))),
        (
            t.owner_event,
            Page("owner event's door", "owner_ops", "owner_event_door", (t.owner_event,)),
        ),
    ]
    return [
        Page("return visits to make", "owner_ops", "return_visits"),
        Page("complaints", "owner_ops", "complaints"),
        Page("members", "owner_ops", "members"),
        Page("members, search by phone digits", "owner_ops", "members", query="q=8888"),
        Page("owner events", "owner_ops", "owner_events"),
        Page("settings: return visits", "gm", "settings_return_visits"),
        Page("settings: members", "gm", "settings_members"),
        Page("audit workbench", "auditor", "audit_workbench"),
        Page("audit appeals", "gm", "audit_appeals"),
        *[page for record, page in about if record is not None],
    ]


def page_list(t: Targets) -> list[Page]:
    return [
        Page("agent queue", "agent", "queue"),
        Page("agent queue, htmx refresh (every 10 s)", "agent", "queue", htmx=True),
        Page(f"lead page, {t.long_events} events", "agent", "lead_detail", (t.long_lead,)),
        Page("lead page, delivered lead", "gm", "lead_detail", (t.delivered_lead,)),
        Page("lead's consent panel", "agent", "lead_consent", (t.long_lead,)),
        Page(
            "personal data, find by full mobile",
            "gm",
            "privacy",
            query=urlencode({"q": t.customer_phone}),
        ),
        Page("do-not-call list", "gm", "do_not_call"),
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
        *_after_sales_pages(t),
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
    """Migrate, then the dealer, its people and its leads; verify the ledger and the tallies."""
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
    written = generate(world, count=args.leads, rng=rng, now=now)
    print(f"batch executor: {written:,} leads in {time.perf_counter() - clock:.1f} s")
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
    play_after_sales(world)
    return world


def play_after_sales(world: World) -> None:
    """Owner operations' and the audit group's work over the generated deliveries, calls and
    exits, through the demo's real services: the visits due worked (some low scores opening
    complaints), owner-referral leads credited to owners, last week's audit sample drawn and
    half scored."""
    from audit.demo import play_audit_week
    from owners.demo import play_owner_work, play_referrals

    clock = time.perf_counter()
    work = play_owner_work(world.dealer, SEED)
    print(f"{work.summary(DEALER_CODE)} ({time.perf_counter() - clock:.1f} s)")
    clock = time.perf_counter()
    named = play_referrals(world.dealer, SEED)
    print(f"{named:,} owner referrals named ({time.perf_counter() - clock:.1f} s)")
    clock = time.perf_counter()
    week = play_audit_week(world.dealer, SEED)
    print(f"{week.summary(DEALER_CODE)} ({time.perf_counter() - clock:.1f} s)")


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
