"""Follow-up tasks: what each person owes each lead and by when. leads.actions writes them
through these; leads.batch keeps them in memory. Due times worked out here fall in the
dealer's business hours, as the SLA clock does; a time a person names is kept as named."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count
from django.utils import timezone

from accounts.models import Dealer, Membership
from accounts.roles import Role
from leads.assignment import absent_staff_ids
from leads.models import GradePolicy, Lead, Task, TaskKind, TaskOutcome
from leads.sla import in_business_hours
from leads.stages import DEFAULT_FOLLOW_UP_DAYS, Grade

RETURN_VISIT_AFTER = timedelta(days=3)
REMIND_BEFORE_APPOINTMENT = timedelta(days=1)


def follow_up_days(dealer: Dealer, grade: str) -> int:
    override = (
        GradePolicy.objects.filter(dealer=dealer, grade=grade)
        .values_list("follow_up_days", flat=True)
        .first()
    )
    return override if override is not None else DEFAULT_FOLLOW_UP_DAYS[Grade(grade or Grade.N)]


def next_follow_up(dealer: Dealer, grade: str, after: datetime) -> datetime:
    """The grade's interval after `after`, in the dealer's business hours (nobody follows up at
    03:14: a time outside them moves to the next opening)."""
    return in_business_hours(dealer, after + timedelta(days=follow_up_days(dealer, grade)))


def return_visit_due(dealer: Dealer, delivered_at: datetime) -> datetime:
    """The return visit after a delivery, in the dealer's business hours."""
    return in_business_hours(dealer, delivered_at + RETURN_VISIT_AFTER)


def open_tasks(lead: Lead, *kinds: TaskKind):
    tasks = Task.objects.filter(lead=lead, closed_at__isnull=True)
    return tasks.filter(kind__in=kinds) if kinds else tasks


def close(
    lead: Lead,
    *kinds: str,
    outcome: str,
    at: datetime | None = None,
    due_before: datetime | None = None,
) -> None:
    tasks = open_tasks(lead, *kinds)
    if due_before is not None:
        tasks = tasks.filter(due_at__lt=due_before)
    tasks.update(closed_at=at or timezone.now(), outcome=outcome)


def schedule(lead: Lead, kind: str, *, due_at: datetime, assignee_id: int | None = None) -> Task:
    """Open a task, superseding any open one of the same kind on the lead."""
    close(lead, kind, outcome=TaskOutcome.SUPERSEDED)
    return Task.objects.create(
        dealer_id=lead.dealer_id,
        lead=lead,
        assignee_id=assignee_id or lead.owner_id,
        kind=kind,
        due_at=due_at,
    )


def move_open_tasks(lead: Lead, from_id: int, to_id: int, *, task_id: int | None = None) -> int:
    tasks = open_tasks(lead).filter(assignee_id=from_id)
    if task_id is not None:
        tasks = tasks.filter(pk=task_id)
    return tasks.update(assignee_id=to_id)


def return_visit_specialist(dealer: Dealer, fallback_id: int) -> int:
    """The owner-ops specialist present with the fewest open tasks, else `fallback_id`."""
    absent = absent_staff_ids(dealer)
    staff_ids = list(
        Membership.objects.filter(dealer=dealer, role=Role.OWNER_OPS, is_active=True)
        .exclude(staff_id__in=absent)
        .values_list("staff_id", flat=True)
    )
    if not staff_ids:
        return fallback_id
    loads = dict(
        Task.objects.filter(dealer=dealer, assignee_id__in=staff_ids, closed_at__isnull=True)
        .values_list("assignee_id")
        .annotate(n=Count("id"))
    )
    return min(staff_ids, key=lambda pk: (loads.get(pk, 0), pk))
