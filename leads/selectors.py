"""Read-side queries shared by the UI, the API and the command line."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.models import Dealer, Membership, Staff
from accounts.roles import Role
from dcc.phone import PhoneError, normalise_phone
from leads.models import Event, EventKind, Lead, Task, TaskKind
from leads.permissions import may_claim_from_pool
from leads.sla import breached, waiting
from leads.stages import Stage


@dataclass(frozen=True)
class SlaRow:
    dealer: str
    channel: str
    leads: int
    waiting: int  # not yet called, still within the deadline
    breached: int  # called late, or not called and past the deadline
    breached_open: int  # past the deadline and still not called: call them now


def sla_counts(
    *, dealers: list[Dealer], since: datetime | None = None, now: datetime | None = None
) -> list[SlaRow]:
    """First-response SLA per dealer and channel for leads created since `since` (default:
    the last 24 hours)."""
    now = now or timezone.now()
    since = since or now - timedelta(days=1)
    late = breached(now)
    rows = (
        Lead.objects.filter(dealer__in=dealers, created_at__gte=since)
        .values("dealer__code", "channel__code")
        .annotate(
            leads=Count("id"),
            waiting=Count("id", filter=waiting(now)),
            breached=Count("id", filter=late),
            breached_open=Count("id", filter=late & Q(first_response_at__isnull=True)),
        )
        .order_by("dealer__code", "channel__code")
    )
    return [
        SlaRow(
            dealer=row["dealer__code"],
            channel=row["channel__code"],
            leads=row["leads"],
            waiting=row["waiting"],
            breached=row["breached"],
            breached_open=row["breached_open"],
        )
        for row in rows
    ]


def search_leads(leads: QuerySet[Lead], query: str) -> QuerySet[Lead]:
    """Leads whose customer matches: a whole mobile (any spelling), its last four digits, a
    name, or the pinyin initials of a name (王小明 → wxm)."""
    query = unicodedata.normalize("NFKC", query).strip()
    if not query:
        return leads.none()
    digits = re.sub(r"[\s\-.()+]", "", query)
    if digits.isdigit():
        if len(digits) <= 4:
            return leads.filter(customer__phone__endswith=digits)
        try:
            return leads.filter(customer__phone=normalise_phone(query).number)
        except PhoneError:
            return leads.filter(customer__phone__contains=digits)
    if query.isascii() and query.isalpha():
        return leads.filter(
            Q(customer__name_initials__startswith=query.lower())
            | Q(customer__name__icontains=query)
        )
    return leads.filter(customer__name__icontains=query)


# Rows shown per section of the queue; its count says how many wait. An agent works from the
# top, and the page refreshes itself every few seconds: rendering a thousand rows each time
# would cost more than the rest of the page together.
QUEUE_ROWS = 30
T = TypeVar("T")


@dataclass(frozen=True)
class QueueSection(Generic[T]):
    rows: list[T]  # the first QUEUE_ROWS, most urgent first
    count: int  # all of them

    @property
    def more(self) -> int:
        return self.count - len(self.rows)


@dataclass(frozen=True)
class WorkQueue:
    """A person's day, most urgent first."""

    new_leads: QueueSection[Lead]  # waiting for their first call, by SLA deadline
    overdue: QueueSection[Task]
    due_today: QueueSection[Task]
    pool: QueueSection[Lead]  # new leads nobody on the team holds yet: claimable
    coming: QueueSection[Task]  # due in the next COMING_DAYS days, to plan the week


COMING_DAYS = 7


def _end_of_day(now: datetime) -> datetime:
    local = timezone.localtime(now)
    return local.replace(hour=23, minute=59, second=59, microsecond=999999)


def _section(rows: QuerySet, count: int | None = None) -> QueueSection:
    shown = list(rows[:QUEUE_ROWS])
    if count is None:
        count = len(shown) if len(shown) < QUEUE_ROWS else rows.order_by().count()
    return QueueSection(rows=shown, count=count)


def work_queue(*, staff: Staff, dealer: Dealer, now: datetime | None = None) -> WorkQueue:
    now = now or timezone.now()
    waiting_calls = Lead.objects.filter(
        dealer=dealer, owner=staff, stage=Stage.NEW, first_response_at__isnull=True
    )
    today_ends = _end_of_day(now)
    tasks = (
        Task.objects.filter(
            dealer=dealer,
            assignee=staff,
            closed_at__isnull=True,
            due_at__lte=_end_of_day(now + timedelta(days=COMING_DAYS)),
        )
        # A first call's task is its lead waiting in the new leads: it follows the lead's owner
        # and closes with the first response (leads.decisions, leads.followups).
        .exclude(kind=TaskKind.FIRST_CALL)
        .select_related("lead__customer", "lead__channel")
        .order_by("due_at", "pk")
    )
    when = {
        "overdue": Q(due_at__lt=now),
        "due_today": Q(due_at__gte=now, due_at__lte=today_ends),
        "coming": Q(due_at__gt=today_ends),
    }
    counts = tasks.order_by().aggregate(**{key: Count("pk", filter=q) for key, q in when.items()})
    pool = Lead.objects.none()
    if may_claim_from_pool(staff, dealer.pk):
        agents = Membership.objects.filter(dealer=dealer, role=Role.DCC_AGENT, is_active=True)
        # Held by the dealer's people who are not (or no longer) its agents: named, so that
        # the thousands of leads agents hold are not read to be left out.
        holders = Membership.objects.filter(dealer=dealer).exclude(
            staff_id__in=agents.values("staff_id")
        )
        pool = (
            Lead.objects.filter(
                dealer=dealer,
                stage=Stage.NEW,
                first_response_at__isnull=True,
                owner_id__in=list(holders.values_list("staff_id", flat=True).distinct()),
            )
            .select_related("customer", "channel", "owner")
            .order_by("sla_deadline", "pk")
        )
    return WorkQueue(
        new_leads=_section(
            waiting_calls.select_related("customer", "channel").order_by("sla_deadline", "pk")
        ),
        overdue=_section(tasks.filter(when["overdue"]), counts["overdue"]),
        due_today=_section(tasks.filter(when["due_today"]), counts["due_today"]),
        pool=_section(pool),
        coming=_section(tasks.filter(when["coming"]), counts["coming"]),
    )


@dataclass(frozen=True)
class ShowroomDay:
    appointments: list[Lead]  # booked for today, not yet arrived
    arrivals: list[Lead]  # checked in today
    by_grade: list[tuple[str, list[Lead]]]  # my open leads after arrival, H first


def showroom_day(
    *, staff: Staff, dealer: Dealer, whole_showroom: bool, now: datetime | None = None
) -> ShowroomDay:
    """A consultant's day (a showroom manager's: everyone's)."""
    now = now or timezone.now()
    start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    end = _end_of_day(now)
    leads = Lead.objects.filter(dealer=dealer).select_related("customer", "channel", "owner")
    mine = leads if whole_showroom else leads.filter(owner=staff)
    arrived_today = Event.objects.filter(
        dealer=dealer, kind=EventKind.ARRIVED, occurred_at__range=(start, end)
    ).values("lead_id")
    grades: dict[str, list[Lead]] = {}
    open_after_arrival = mine.filter(stage__in=(Stage.ARRIVED, Stage.ORDERED)).order_by(
        "next_follow_up_at", "pk"
    )
    for lead in open_after_arrival[:300]:
        grades.setdefault(lead.grade or "", []).append(lead)
    order = {grade: index for index, grade in enumerate("HABCN")}
    return ShowroomDay(
        appointments=list(
            mine.filter(stage=Stage.APPOINTED, appointment_at__range=(start, end)).order_by(
                "appointment_at"
            )
        ),
        arrivals=list(mine.filter(pk__in=arrived_today).order_by("-pk")),
        by_grade=sorted(grades.items(), key=lambda item: order.get(item[0], 9)),
    )
