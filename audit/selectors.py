"""What the audit group's pages and the scorecards read."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Avg, Count, Q, QuerySet
from django.http import Http404

from accounts.models import Dealer, Staff
from audit import permissions, sources
from audit.models import (
    Appeal,
    Audit,
    AuditForm,
    AuditResult,
    AuditSample,
    AuditTask,
    SamplingPlan,
    TaskStatus,
)


@dataclass(frozen=True)
class PlanRow:
    """One source's sampling plan at a dealer, as the plans page shows it."""

    code: str
    label: str
    share_percent: int
    min_per_person: int
    is_active: bool
    own: bool  # the dealer's own plan, else the source's default
    form_version: int | None  # the current version of its check items (None: the defaults)


def plan_rows(dealer: Dealer) -> list[PlanRow]:
    """Every registered source's plan, the dealer's own where set, in two queries."""
    stored = {plan.source: plan for plan in SamplingPlan.objects.filter(dealer=dealer)}
    versions = dict(
        AuditForm.objects.filter(dealer=dealer, is_current=True).values_list("source", "version")
    )
    rows = []
    for code, source in sources.SOURCES.items():
        plan = stored.get(code)
        rows.append(
            PlanRow(
                code=code,
                label=str(source.label),
                share_percent=plan.share_percent if plan else source.share_percent,
                min_per_person=plan.min_per_person if plan else source.min_per_person,
                is_active=plan.is_active if plan else True,
                own=plan is not None,
                form_version=versions.get(code),
            )
        )
    return rows


@dataclass
class PersonProgress:
    person: Staff
    work: int = 0  # how much of this source they did that week
    drawn: int = 0
    done: int = 0


@dataclass
class SourceProgress:
    code: str
    label: str
    sample: AuditSample
    people: list[PersonProgress] = field(default_factory=list)

    @property
    def drawn(self) -> int:
        return sum(p.drawn for p in self.people)

    @property
    def done(self) -> int:
        return sum(p.done for p in self.people)


def week_progress(dealer: Dealer, week: date) -> list[SourceProgress]:
    """The week's current samples, source by source and person by person: how much work there
    was, how much was drawn, how much is audited."""
    samples = list(
        AuditSample.objects.filter(dealer=dealer, week=week, superseded_at__isnull=True)
        .select_related("drawn_by")
        .order_by("pk")
    )
    if not samples:
        return []
    tallies = (
        AuditTask.objects.filter(sample__in=samples)
        .values("sample_id", "person_id")
        .annotate(drawn=Count("pk"), done=Count("pk", filter=Q(status=TaskStatus.DONE)))
    )
    counted = {(t["sample_id"], t["person_id"]): (t["drawn"], t["done"]) for t in tallies}
    person_ids = {int(p) for s in samples for p in s.population}
    people = Staff.objects.in_bulk(person_ids)
    found = []
    for sample in samples:
        source = sources.SOURCES.get(sample.source)
        progress = SourceProgress(
            sample.source, str(source.label) if source else sample.source, sample
        )
        for person_id, work in sample.population.items():
            drawn, done = counted.get((sample.pk, int(person_id)), (0, 0))
            progress.people.append(PersonProgress(people[int(person_id)], work, drawn, done))
        progress.people.sort(key=lambda p: str(p.person))
        found.append(progress)
    return found


def open_tasks(dealer: Dealer, week: date) -> QuerySet[AuditTask]:
    """The week's tasks still to audit, the oldest draw first."""
    return (
        AuditTask.objects.filter(
            dealer=dealer,
            sample__week=week,
            sample__superseded_at__isnull=True,
            status=TaskStatus.OPEN,
        )
        .select_related("person", "assignee")
        .order_by("source", "person_id", "item_id")
    )


def task_for(staff: Staff, dealer: Dealer, task_id: int) -> AuditTask:
    """A task of the dealer for the audit group (and headquarters, to read); 404 otherwise."""
    if not permissions.may_see_audits(staff, dealer.pk):
        raise Http404
    task = (
        AuditTask.objects.filter(dealer=dealer, pk=task_id)
        .select_related("person", "assignee", "sample", "lead__customer", "lead__owner")
        .first()
    )
    if task is None:
        raise Http404
    return task


def audit_of(task: AuditTask) -> Audit | None:
    return (
        Audit.objects.filter(task=task)
        .select_related("auditor", "form", "appeal__decided_by")
        .first()
    )


def audits_of(person: Staff, dealer: Dealer) -> QuerySet[Audit]:
    """The audits of `person`'s work at the dealer, newest first, with their appeals."""
    return (
        Audit.objects.filter(dealer=dealer, person=person)
        .select_related("task", "auditor", "appeal__decided_by")
        .order_by("-at", "-pk")
    )


def visible_audit(staff: Staff, dealer: Dealer, audit_id: int) -> Audit:
    """An audit of the dealer that `staff` may read: the audit group's and headquarters', or
    the audited person's own; 404 otherwise (another dealer's included)."""
    audit = (
        Audit.objects.filter(dealer=dealer, pk=audit_id)
        .select_related("task", "lead", "appeal")
        .first()
    )
    if audit is None or not (
        audit.person_id == staff.pk or permissions.may_see_audits(staff, dealer.pk)
    ):
        raise Http404
    return audit


def pending_appeals(dealer: Dealer) -> QuerySet[Appeal]:
    return (
        Appeal.objects.filter(dealer=dealer, decision="")
        .select_related("audit__person", "audit__auditor", "audit__task")
        .order_by("at", "pk")
    )


@dataclass(frozen=True)
class AuditScore:
    """A person's audits in a period: how many, their average score (%), passed and failed
    (an overturned exit counts as failed)."""

    audits: int
    average: Decimal
    passed: int
    failed: int


def scores_by_person(
    dealer_ids: list[int], start: datetime, end: datetime
) -> dict[int, AuditScore]:
    """Each audited person's audits made in [start, end) at the dealers, by staff id (what the
    scorecards add to their points, and a KPI may show)."""
    rows = (
        Audit.objects.filter(dealer_id__in=dealer_ids, at__gte=start, at__lt=end)
        .values("person_id")
        .annotate(
            audits=Count("pk"),
            average=Avg("score"),
            passed=Count("pk", filter=Q(result=AuditResult.PASS)),
        )
    )
    found: dict[int, AuditScore] = {}
    for row in rows:
        average = Decimal(str(row["average"])).quantize(Decimal("0.1"))
        found[row["person_id"]] = AuditScore(
            row["audits"], average, row["passed"], row["audits"] - row["passed"]
        )
    return found


def drawn_ids(dealer: Dealer, week: date) -> dict[str, list[int]]:
    """The item ids of the week's current draw, per source (to compare a draw again)."""
    found: dict[str, list[int]] = defaultdict(list)
    for source, items in AuditSample.objects.filter(
        dealer=dealer, week=week, superseded_at__isnull=True
    ).values_list("source", "items"):
        found[source] = list(items)
    return dict(found)
