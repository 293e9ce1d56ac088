"""Read-side queries for the supervisors' workbench: the team board, the defeat queue, the
leads a supervisor may move and the people they may move them to, and the absences ahead.

Every function here runs a fixed number of queries, whatever the size of the team."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.models import Absence, Dealer, Membership, Staff
from accounts.roles import Role
from leads.models import Event, EventKind, Lead, ReasonCode, ReasonKind, Task, Team
from leads.permissions import visible_leads
from leads.sla import breached
from leads.stages import OPEN_STAGES
from leads.teams import members_at

# The people on the line, in the order the board lists them.
LINE_ROLES: tuple[Role, ...] = (
    Role.DCC_SUPERVISOR,
    Role.DCC_AGENT,
    Role.SHOWROOM_MANAGER,
    Role.CONSULTANT,
    Role.OWNER_OPS,
)
_RANK = {role: rank for rank, role in enumerate(LINE_ROLES)}


def day_bounds(now: datetime) -> tuple[datetime, datetime]:
    """Start and end of the local calendar day that contains `now`."""
    day = timezone.localtime(now).date()
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


# ---------------------------------------------------------------- people


def line_people(dealer: Dealer) -> QuerySet[Staff]:
    """Active people holding a line role at `dealer`: those who can be handed leads."""
    members = Membership.objects.filter(dealer=dealer, role__in=LINE_ROLES, is_active=True).values(
        "staff_id"
    )
    return Staff.objects.filter(pk__in=members, is_active=True).order_by("display_name", "username")


def _line(dealer: Dealer) -> QuerySet:
    """The ids of the active people holding a line role at `dealer`."""
    return Membership.objects.filter(
        dealer=dealer, role__in=LINE_ROLES, is_active=True, staff__is_active=True
    ).values("staff_id")


def _on_the_board(dealer: Dealer, line: QuerySet | set[int], holders: set[int]) -> QuerySet[Staff]:
    """The line and those of `holders` with a membership at `dealer` (only they can hold its
    work), by name."""
    members = Membership.objects.filter(dealer=dealer).values("staff_id")
    return Staff.objects.filter(Q(pk__in=line) | Q(pk__in=holders), pk__in=members).order_by(
        "display_name", "username"
    )


def team_people(dealer: Dealer) -> QuerySet[Staff]:
    """The line at `dealer`, plus anyone else still holding open leads or tasks there (a
    manager holding the pool, someone who left): no open work is off the board."""
    line = set(_line(dealer).values_list("staff_id", flat=True))
    # Only those off the line need asking, by their ids: the database reads their few rows,
    # not every agent's (an OR of EXISTS per person read every lead of the dealer).
    others = set(Membership.objects.filter(dealer=dealer).values_list("staff_id", flat=True))
    others -= line
    holders: set[int] = set()
    if others:
        holders = set(
            Lead.objects.filter(dealer=dealer, stage__in=OPEN_STAGES, owner_id__in=others)
            .values_list("owner_id", flat=True)
            .distinct()
        ) | set(
            Task.objects.filter(dealer=dealer, closed_at__isnull=True, assignee_id__in=others)
            .values_list("assignee_id", flat=True)
            .distinct()
        )
    return _on_the_board(dealer, line, holders)


def available_people(dealer: Dealer, *, now: datetime | None = None) -> QuerySet[Staff]:
    """The line at `dealer` minus those on leave now: who may take leads today."""
    now = now or timezone.now()
    away = Absence.objects.filter(dealer=dealer, starts_at__lte=now, ends_at__gt=now).values(
        "staff_id"
    )
    return line_people(dealer).exclude(pk__in=away)


# ---------------------------------------------------------------- the board


@dataclass(frozen=True)
class BoardRow:
    staff: Staff
    roles: list[str]  # role labels at this dealer, line roles first
    on_line: bool  # False: holds work here without a line role
    open_leads: int
    due_today: int  # open tasks due from now to the end of today
    overdue: int  # open tasks past their due time
    breached_today: int  # leads they own, created today, past their first-response SLA
    absence: Absence | None  # current leave, with its cover


@dataclass(frozen=True)
class Board:
    rows: list[BoardRow]
    now: datetime

    def total(self, column: str) -> int:
        return sum(getattr(row, column) for row in self.rows)

    @property
    def totals(self) -> dict[str, int]:
        return {
            column: self.total(column)
            for column in ("open_leads", "due_today", "overdue", "breached_today")
        }


def team_board(*, dealer: Dealer, now: datetime | None = None, team: Team | None = None) -> Board:
    """Each person's load at `dealer` (in `team` now, when given): open leads, tasks due today
    and overdue, today's SLA breaches, and whether they are away and who covers. Six queries
    for any team size."""
    now = now or timezone.now()
    start, end = day_bounds(now)
    # Two narrow counts, each answered from an index, rather than one over every lead.
    open_leads = dict(
        Lead.objects.filter(dealer=dealer, stage__in=OPEN_STAGES)
        .values("owner_id")
        .annotate(n=Count("id"))
        .values_list("owner_id", "n")
        .order_by()
    )
    breached_today = dict(
        Lead.objects.filter(dealer=dealer, created_at__gte=start, created_at__lt=end)
        .filter(breached(now))
        .values("owner_id")
        .annotate(n=Count("id"))
        .values_list("owner_id", "n")
        .order_by()
    )
    tasks = {
        row["assignee_id"]: row
        for row in Task.objects.filter(dealer=dealer, closed_at__isnull=True)
        .values("assignee_id")
        .annotate(
            due_today=Count("id", filter=Q(due_at__gte=now, due_at__lt=end)),
            overdue=Count("id", filter=Q(due_at__lt=now)),
        )
        .order_by()
    }
    # team_people, with the holders known from the counts just made.
    people = _on_the_board(dealer, _line(dealer), set(open_leads) | set(tasks))
    if team is not None:
        people = people.filter(pk__in=members_at(team, now).values("pk"))
    people = list(
        people.prefetch_related(
            Prefetch(
                "memberships",
                queryset=Membership.objects.filter(dealer=dealer, is_active=True),
                to_attr="memberships_here",
            )
        )
    )
    absences = {
        absence.staff_id: absence
        for absence in Absence.objects.filter(dealer=dealer, starts_at__lte=now, ends_at__gt=now)
        .select_related("cover")
        .order_by("ends_at")  # the longest leave wins
    }
    ranked = []
    for person in people:
        held = sorted(
            (Role(m.role) for m in person.memberships_here),
            key=lambda role: (_RANK.get(role, len(_RANK)), role),
        )
        rank = _RANK.get(held[0], len(_RANK)) if held else len(_RANK)
        task_row = tasks.get(person.pk, {})
        row = BoardRow(
            staff=person,
            roles=[role.label for role in held],
            on_line=rank < len(_RANK) and person.is_active,
            open_leads=open_leads.get(person.pk, 0),
            due_today=task_row.get("due_today", 0),
            overdue=task_row.get("overdue", 0),
            breached_today=breached_today.get(person.pk, 0),
            absence=absences.get(person.pk),
        )
        ranked.append((rank, str(person), person.pk, row))
    rows = [row for *_key, row in sorted(ranked, key=lambda item: item[:3])]
    return Board(rows=rows, now=now)


# ---------------------------------------------------------------- defeat requests


@dataclass(frozen=True)
class DefeatRequest:
    lead: Lead
    requested_by: Staff | None
    requested_at: datetime | None
    reason: str  # reason code; label via defeat_reasons
    note: str


def pending_defeats(
    *, staff: Staff, dealer: Dealer, lead_ids: list[int] | None = None, limit: int = 100
) -> list[DefeatRequest]:
    """Leads at `dealer` that `staff` may see with a defeat request waiting, oldest request
    first, each with who asked, when, why and their note. Two queries."""
    leads = (
        visible_leads(staff, dealer_id=dealer.pk)
        .filter(defeat_pending=True)
        .select_related("customer", "owner", "channel")
    )
    if lead_ids is not None:
        leads = leads.filter(pk__in=lead_ids)
    # The oldest first, a page at a time: the tab shows how many wait in all.
    by_id = {lead.pk: lead for lead in leads.order_by("pk")[:limit]}
    latest: dict[int, Event] = {}
    for event in (
        Event.objects.filter(
            dealer=dealer, lead_id__in=list(by_id), kind=EventKind.DEFEAT_REQUESTED
        )
        .select_related("actor")
        .order_by("lead_id", "seq")
    ):
        latest[event.lead_id] = event
    requests = []
    for lead_id, lead in by_id.items():
        event = latest.get(lead_id)
        requests.append(
            DefeatRequest(
                lead=lead,
                requested_by=event.actor if event else None,
                requested_at=event.occurred_at if event else None,
                reason=lead.exit_reason,
                note=event.note if event else "",
            )
        )
    epoch = datetime.min.replace(tzinfo=timezone.get_current_timezone())
    requests.sort(key=lambda r: (r.requested_at or epoch, r.lead.pk))
    return requests


def pending_defeat_count(*, staff: Staff, dealer: Dealer) -> int:
    return visible_leads(staff, dealer_id=dealer.pk).filter(defeat_pending=True).count()


def defeat_reasons(dealer: Dealer) -> dict[str, str]:
    """Defeat reason code → label at `dealer` (inactive ones too: old requests use them)."""
    return dict(
        ReasonCode.objects.filter(dealer=dealer, kind=ReasonKind.DEFEAT).values_list(
            "code", "label"
        )
    )


# ---------------------------------------------------------------- reassignment and leave


def reassignable_leads(
    *, staff: Staff, dealer: Dealer, owner_id: int | None = None, stage: str = ""
) -> QuerySet[Lead]:
    """Open leads at `dealer` that `staff` may see, by owner and stage if given."""
    leads = visible_leads(staff, dealer_id=dealer.pk).filter(stage__in=OPEN_STAGES)
    if owner_id is not None:
        leads = leads.filter(owner_id=owner_id)
    if stage:
        leads = leads.filter(stage=stage)
    return leads.select_related("customer", "owner", "channel").order_by("created_at", "pk")


def absences_ahead(*, dealer: Dealer, now: datetime | None = None) -> QuerySet[Absence]:
    """Absences at `dealer` under way or still to come, soonest first."""
    now = now or timezone.now()
    return (
        Absence.objects.filter(dealer=dealer, ends_at__gt=now)
        .select_related("staff", "cover", "created_by")
        .order_by("starts_at", "pk")
    )
