"""Demo data: owner operations' last weeks at a demo dealer, played through the real services
over the visits the demo's deliveries scheduled. Most visits past due were made (the customers
mostly satisfied, a few not, which opened complaints); some are left overdue, a few retried or
given up as unreachable; most complaints were resolved, some confirmed, a couple are still
open and one ran late and was escalated. Owner events: a self-drive tour last week with its
check-ins and guests (who became leads credited to the owners who brought them), a model
launch next week with its invitations answered, and a family day still to be invited to."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count
from django.utils import timezone

from accounts.models import Dealer, Membership, Role
from leads.ledger import Entry
from leads.models import EventKind, Lead
from owners import events, referrals, upkeep
from owners.complaints import confirm_complaint, resolve_complaint
from owners.models import (
    ACTIVE_COMPLAINT,
    Complaint,
    Invitation,
    OwnerEvent,
    OwnerEventKind,
    Referral,
    ReferralSource,
    ReturnVisit,
    Vehicle,
    VisitStatus,
)
from owners.plans import plan_of
from owners.visits import attempt_visit

COMMENTS = ["", "", "", "提车很顺利", "顾问很专业", "希望保养提醒及时一些", "交车仪式很用心"]
RESOLUTIONS = [
    "已致电客户致歉并说明原因",
    "已安排顾问上门回访",
    "已补送保养券一张",
    "已协调财务退还差价",
]
# Complaints left with their handler, still within their deadline.
LEFT_OPEN = 2


@dataclass
class OwnerWork:
    done: int = 0
    low: int = 0  # of those, answers that opened a complaint
    overdue: int = 0
    due_today: int = 0
    retrying: int = 0
    unreachable: int = 0
    complaints: dict[str, int] | None = None
    events: str = ""
    skipped: bool = False

    def summary(self, code: str) -> str:
        if self.skipped:
            return f"{code}: owner operations already played."
        counts = ", ".join(f"{n} {status}" for status, n in sorted((self.complaints or {}).items()))
        return (
            f"{code}: {self.done} return visits done ({self.low} low scores), "
            f"{self.overdue} overdue, {self.due_today} due today, {self.retrying} retrying, "
            f"{self.unreachable} unreachable; complaints: {counts or 'none'}; "
            f"owner events: {self.events or 'none'}."
        )


def play_owner_work(dealer: Dealer, seed: int, *, now: datetime | None = None) -> OwnerWork:
    """Work the dealer's visits due before today (once: skipped when any visit was attempted
    already), then its complaints, then the tick that escalates the late one."""
    if ReturnVisit.objects.filter(dealer=dealer, attempt_count__gt=0).exists():
        return OwnerWork(skipped=True)
    now = now or timezone.now()
    rng = random.Random(f"{seed}-owners-{dealer.pk}")
    today = datetime.combine(
        timezone.localdate(now), time.min, tzinfo=timezone.get_current_timezone()
    )
    attempts = plan_of(dealer).attempts
    past = list(
        ReturnVisit.objects.filter(dealer=dealer, status=VisitStatus.DUE, due_at__lt=today)
        .select_related("assignee", "version")
        .order_by("due_at", "pk")
    )
    # The newest of the visits past due are the ones still waiting: overdue, or retried.
    waiting = max(2, len(past) // 6)
    worked, left = past[:-waiting], past[-waiting:]
    work = OwnerWork()
    asked = [visit for visit in worked if visit.version is not None]
    # A few unhappy customers, the last two recent enough for their complaints to be in time.
    recent = asked[-LEFT_OPEN:]
    earlier = asked[: -LEFT_OPEN or None]
    low = set(recent) | set(rng.sample(earlier, min(4, len(earlier))))
    for index, visit in enumerate(worked):
        at = min(visit.due_at + timedelta(minutes=rng.uniform(10, 240)), now)
        if index % 15 == 7:  # the customer never picked up
            for attempt in range(attempts):
                attempt_visit(
                    visit=visit,
                    by=visit.assignee,
                    reached=False,
                    note="无人接听",
                    at=min(at + timedelta(hours=3 * attempt), now),
                )
            work.unreachable += 1
            continue
        # Those left open are of medium severity (a 2): their deadline comes after the late one's.
        unhappy = 2 if visit in recent else (rng.choice([1, 2]) if visit in low else None)
        answers = _answers(visit, rng, unhappy=unhappy) if visit.version else None
        attempt_visit(visit=visit, by=visit.assignee, reached=True, answers=answers, at=at)
        work.done += 1
        work.low += visit in low
    for visit in left[::3]:  # tried once, not reached: due again a few hours on
        at = min(visit.due_at + timedelta(hours=1), now)
        attempt_visit(visit=visit, by=visit.assignee, reached=False, note="客户在开会", at=at)
        work.retrying += 1
    _handle_complaints(dealer, rng, now)
    work.events = play_owner_events(dealer, rng, now)
    due = ReturnVisit.objects.filter(dealer=dealer, status=VisitStatus.DUE)
    work.overdue = due.filter(due_at__lt=now).count()
    work.due_today = due.filter(due_at__gte=today, due_at__lt=today + timedelta(days=1)).count()
    work.complaints = dict(
        Complaint.objects.filter(dealer=dealer).values_list("status").annotate(n=Count("id"))
    )
    return work


def _answers(visit: ReturnVisit, rng: random.Random, *, unhappy: int | None) -> dict[str, Any]:
    """Mostly 4s and 5s; an unhappy customer scores one thing `unhappy` (a 1 or 2: a
    complaint)."""
    answers: dict[str, Any] = {}
    questions = visit.version.questions
    scored = [q["key"] for q in questions if q["kind"] == "score"]
    sore = rng.choice(scored) if unhappy and scored else None
    for question in questions:
        key, kind = question["key"], question["kind"]
        if kind == "score":
            answers[key] = unhappy if key == sore else rng.choice([4, 5, 5, 5])
        elif kind == "nps":
            answers[key] = rng.randint(3, 6) if unhappy else rng.choice([8, 9, 9, 10, 10])
        elif kind == "yes_no":
            answers[key] = "no" if unhappy or rng.random() < 0.3 else "yes"
        elif kind == "choice":
            answers[key] = rng.choice(question["options"])
        elif kind == "text":
            answers[key] = "" if unhappy else rng.choice(COMMENTS)
    return answers


def _handle_complaints(dealer: Dealer, rng: random.Random, now: datetime) -> None:
    """The older complaints resolved, most of them confirmed by the customer; the newest left
    open; the oldest unresolved one is late, and the tick run just after its deadline
    escalates it (the one late at that moment)."""
    complaints = list(
        Complaint.objects.filter(dealer=dealer, status__in=ACTIVE_COMPLAINT)
        .select_related("handler")
        .order_by("opened_at", "pk")
    )
    older = complaints[:-LEFT_OPEN]
    if not older:
        return
    late, handled = older[0], older[1:]
    for index, complaint in enumerate(handled):
        resolved = resolve_complaint(
            complaint=complaint, by=complaint.handler, resolution=rng.choice(RESOLUTIONS)
        )
        if index % 2 == 0:  # the others wait for the customer's word
            confirm_complaint(complaint=resolved, by=complaint.handler, satisfied=True)
    if late.deadline < now:
        upkeep.run(now=late.deadline + timedelta(minutes=1))


def play_referrals(dealer: Dealer, seed: int) -> int:
    """Name a referrer — an owner who took delivery before the lead came — on the demo's
    owner-referral leads, each at the lead's creation, then let their orders credit it and
    their deliveries reward it as the ledger followers would have (once: skipped when the
    dealer has referrals named on leads). How many referrals were named."""
    if Referral.objects.filter(dealer=dealer, source=ReferralSource.LEAD).exists():
        return 0  # (the owner events' guests are referrals of their own)
    rng = random.Random(f"{seed}:referrals:{dealer.code}")
    owners = list(
        Vehicle.objects.filter(dealer=dealer, returned_at=None)
        .order_by("delivered_at", "pk")
        .values_list("owner_id", "delivered_at")
    )
    leads = Lead.objects.filter(
        dealer=dealer, channel__code="referral", referral__isnull=True
    ).order_by("created_at")
    named = 0
    for lead in leads.select_related("customer"):
        known = [owner for owner, delivered in owners if delivered < lead.created_at]
        known = [owner for owner in known if owner != lead.customer_id]
        if not known:
            continue
        referral = Referral.objects.create(
            dealer=dealer,
            lead=lead,
            referrer_id=rng.choice(known),
            named_at=lead.created_at,
            named_by_id=lead.first_owner_id,
        )
        referrals.record_named(referral)
        if lead.first_ordered_at:
            referrals.on_order(lead, Entry(EventKind.ORDERED, None, lead.first_ordered_at))
        if lead.first_delivered_at:
            referrals.on_delivery(lead, Entry(EventKind.DELIVERED, None, lead.first_delivered_at))
        named += 1
    return named


def _day(now: datetime, days: int, hour: int, minute: int = 0) -> datetime:
    local = timezone.localtime(now) + timedelta(days=days)
    return local.replace(hour=hour, minute=minute, second=0, microsecond=0)


def play_owner_events(dealer: Dealer, rng: random.Random, now: datetime) -> str:
    """Three events (none when the dealer has events already); what they came to, in words."""
    ops = (
        Membership.objects.filter(dealer=dealer, role=Role.OWNER_OPS, is_active=True)
        .select_related("staff")
        .order_by("pk")
        .first()
    )
    if ops is None or OwnerEvent.objects.filter(dealer=dealer).exists():
        return ""
    by = ops.staff

    def create(title: str, kind: str, starts: datetime, hours: float, **values) -> OwnerEvent:
        ends = starts + timedelta(hours=hours)
        fields = events.EventFields(
            title=title, kind=kind, starts_at=starts, ends_at=ends, **values
        )
        created = starts - timedelta(days=14)
        return events.create_event(dealer=dealer, by=by, fields=fields, at=created)

    # Last week's self-drive tour: most who signed up came; three brought friends along.
    tour = create(
        "秋季自驾游 · 莫干山",
        OwnerEventKind.SELF_DRIVE,
        _day(now, -5, 9),
        8,
        place="莫干山 · 裸心谷",
        capacity=30,
        budget=Decimal(20000),
        cost=Decimal(18600),
    )
    _answer(tour, by, rng, invited_at=tour.starts_at - timedelta(days=10), up_to=12)
    coming = list(
        Invitation.objects.filter(event=tour, signed_up_at__isnull=False)
        .select_related("customer")
        .order_by("pk")
    )
    guests = 0
    for index, invitation in enumerate(coming[: max(1, len(coming) - 2)]):  # two did not come
        at = tour.starts_at + timedelta(minutes=rng.randint(-20, 25))
        events.check_in(dealer=dealer, code=invitation.code, by=by, at=at)
        if index < 3:
            surname = rng.choice("王李张刘陈杨黄赵吴周")
            events.add_guest(
                invitation=invitation,
                name=f"{surname}{rng.choice(['先生', '女士'])}",
                phone=f"139{rng.randint(0, 99_999_999):08d}",
                by=by,
                at=at + timedelta(minutes=5),
            )
            guests += 1
    # Next week's launch: invited, some answered.
    launch = create(
        "星途新车发布会",
        OwnerEventKind.LAUNCH,
        _day(now, 6, 14),
        2.5,
        place="展厅",
        capacity=40,
        budget=Decimal(30000),
        cost=Decimal(6500),
    )
    _answer(launch, by, rng, invited_at=now - timedelta(days=2), up_to=10)
    # A family day further on, not invited yet.
    create(
        "亲子嘉年华",
        OwnerEventKind.FAMILY_DAY,
        _day(now, 20, 10),
        6,
        place="展厅及停车场",
        capacity=60,
        budget=Decimal(15000),
    )
    checked_in = Invitation.objects.filter(dealer=dealer, checked_in_at__isnull=False).count()
    return f"3 ({checked_in} check-ins, {guests} guests)"


def _answer(event: OwnerEvent, by, rng: random.Random, *, invited_at: datetime, up_to: int) -> None:
    """Invite every owner; most of the first `up_to` sign up (1–3 people), a few decline."""
    events.invite(event=event, segment={}, by=by, at=invited_at)
    invitations = list(Invitation.objects.filter(event=event).order_by("pk")[:up_to])
    for invitation in invitations:
        at = invited_at + timedelta(hours=rng.randint(2, 72))
        if rng.random() < 0.2:
            events.decline(invitation=invitation, by=by, at=at)
        else:
            party = rng.choice([1, 2, 2, 3])
            if party <= events.places_left(event):
                events.sign_up(invitation=invitation, by=by, party_size=party, at=at)
