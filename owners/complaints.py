"""Complaints: raised (by a person, or by a return visit's low score), handled by someone by a
deadline set by severity, escalated level by level (sales manager, GM, headquarters) as
deadlines pass, resolved, and confirmed by the customer or reopened. Every step is a fact in
the lead's ledger (leads.actions.record_fact), so the complaint's history is the ledger's."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import record_change
from accounts.models import Dealer, Membership, Role, Staff
from accounts.roles import check_configure
from dcc.errors import Conflict, InvalidInput, NotPermitted
from leads import actions
from leads.assignment import absent_staff_ids
from leads.models import Customer, Event, EventKind, Lead
from leads.sla import business_deadline, in_business_hours
from owners.models import (
    ACTIVE_COMPLAINT,
    Complaint,
    ComplaintCategory,
    ComplaintPolicy,
    ComplaintSource,
    ComplaintStatus,
    EscalationLevel,
    ReturnVisit,
    Severity,
    Vehicle,
)
from owners.permissions import may_raise_complaint, may_work_complaint

# Most severe first: each deadline at most as long as the next one's.
SEVERITY_ORDER = ("critical", "high", "medium", "low")
DEFAULT_HOURS = {
    Severity.CRITICAL: 4,
    Severity.HIGH: 24,
    Severity.MEDIUM: 72,
    Severity.LOW: 7 * 24,
}
# Whom each escalation level reaches at the dealer (headquarters: the brand's team, no one
# person here).
LEVEL_ROLES = {EscalationLevel.SALES_MANAGER: Role.SALES_MANAGER, EscalationLevel.GM: Role.GM}


class Step:
    """What a complaint's ledger fact says happened (its data's `step`)."""

    OPENED = "opened"
    ASSIGNED = "assigned"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    CONFIRMED = "confirmed"
    REOPENED = "reopened"


def hours_for(dealer: Dealer, severity: str) -> int:
    policy = ComplaintPolicy.objects.filter(dealer=dealer).first()
    if policy is None:
        return DEFAULT_HOURS[Severity(severity)]
    return getattr(policy, f"{severity}_hours")


def save_deadlines(*, dealer: Dealer, by: Staff, **hours: int) -> ComplaintPolicy:
    """The dealer's deadline per severity, in hours, shortest for the most severe; complaints
    already open keep theirs."""
    check_configure(by, dealer)
    ordered = [hours[f"{severity}_hours"] for severity in SEVERITY_ORDER]
    if any(not 1 <= value <= 24 * 60 for value in ordered):
        raise InvalidInput(_("From 1 to 1,440 hours."), field="critical_hours")
    for field, shorter, longer in zip(SEVERITY_ORDER[1:], ordered[:-1], ordered[1:], strict=True):
        if longer < shorter:
            raise InvalidInput(
                _("A less severe complaint may not have less time than a more severe one."),
                field=f"{field}_hours",
                code="deadlines_out_of_order",
            )
    policy, _made = ComplaintPolicy.objects.get_or_create(dealer=dealer)
    for severity in SEVERITY_ORDER:
        setattr(policy, f"{severity}_hours", hours[f"{severity}_hours"])
    policy.save()
    record_change(
        dealer=dealer, by=by, what="complaint_deadlines", subject=dealer.code, detail=hours
    )
    return policy


def deadline_for(dealer: Dealer, severity: str, start: datetime) -> datetime:
    """Less than a day counts the dealer's open hours (a critical complaint at 17:00 is due the
    next morning, not at 21:00 when nobody is in); a day or more counts the clock, the end
    moved into open hours."""
    hours = hours_for(dealer, severity)
    if hours < 24:
        return business_deadline(dealer, start, minutes=hours * 60)
    return in_business_hours(dealer, start + timedelta(hours=hours))


def _fact(
    complaint: Complaint, *, by: Staff | None, at: datetime, step: str, note: str = "", **data
) -> None:
    actions.record_fact(
        lead=complaint.lead,
        by=by,
        at=at,
        kind=EventKind.COMPLAINT,
        note=note,
        data={
            "complaint": complaint.pk,
            "step": step,
            "level": complaint.level,
            "status": complaint.status,
            **data,
        },
    )


def default_handler(dealer: Dealer, *, fallback: Staff | None) -> int:
    """The owner-ops specialist present with the fewest complaints in hand, else a sales
    manager, else `fallback`."""
    absent = absent_staff_ids(dealer)
    for role in (Role.OWNER_OPS, Role.SALES_MANAGER, Role.GM):
        ids = list(
            Membership.objects.filter(dealer=dealer, role=role, is_active=True)
            .exclude(staff_id__in=absent)
            .values_list("staff_id", flat=True)
        )
        if ids:
            loads = dict(
                Complaint.objects.filter(
                    dealer=dealer, handler_id__in=ids, status__in=ACTIVE_COMPLAINT
                )
                .values_list("handler_id")
                .annotate(n=Count("id"))
            )
            return min(ids, key=lambda pk: (loads.get(pk, 0), pk))
    if fallback is None:
        raise InvalidInput(_("Nobody here can handle complaints."), field="handler")
    return fallback.pk


def sale_of(customer: Customer) -> Lead:
    """The lead a complaint about this customer is kept with: their latest sale, else their
    latest lead."""
    vehicle = Vehicle.objects.filter(owner=customer).order_by("-delivered_at").first()
    if vehicle is not None:
        return vehicle.lead
    lead = Lead.objects.filter(customer=customer).order_by("-created_at").first()
    if lead is None:
        raise InvalidInput(_("This customer has no lead to keep the complaint with."))
    return lead


def raise_complaint(
    *,
    customer: Customer,
    by: Staff | None,
    source: str,
    category: str,
    severity: str,
    description: str,
    vehicle: Vehicle | None = None,
    visit: ReturnVisit | None = None,
    about: Staff | None = None,
    handler: Staff | None = None,
    at: datetime | None = None,
) -> Complaint:
    """Open a complaint. `by` None: the system, for a return visit's answers."""
    dealer = customer.dealer
    if by is not None and not may_raise_complaint(by, dealer.pk):
        raise NotPermitted(_("You may not raise complaints here."))
    for value, choices, field in (
        (source, ComplaintSource, "source"),
        (category, ComplaintCategory, "category"),
        (severity, Severity, "severity"),
    ):
        if value not in choices.values:
            raise InvalidInput(_("Choose one of the options."), field=field)
    description = description.strip()
    if not description:
        raise InvalidInput(_("Say what the customer complains about."), field="description")
    if vehicle is not None and vehicle.owner_id != customer.pk:
        raise InvalidInput(_("That vehicle is not this customer's."), field="vehicle")
    if (
        handler is not None
        and not Membership.objects.filter(dealer=dealer, staff=handler, is_active=True)
        .exclude(role=Role.HEADQUARTERS)
        .exists()
    ):
        raise InvalidInput(_("Choose someone who works here."), field="handler")
    now = timezone.now()
    at = at or now
    lead = vehicle.lead if vehicle is not None else sale_of(customer)
    with transaction.atomic():
        complaint = Complaint.objects.create(
            dealer=dealer,
            customer=customer,
            lead=lead,
            vehicle=vehicle,
            visit=visit,
            source=source,
            category=category,
            severity=severity,
            description=description[:4000],
            about=about,
            handler_id=handler.pk if handler else default_handler(dealer, fallback=by),
            deadline=deadline_for(dealer, severity, at),
            opened_at=at,
            opened_by=by,
        )
        _fact(
            complaint,
            by=by,
            at=at,
            step=Step.OPENED,
            note=complaint.description,
            source=source,
            category=category,
            severity=severity,
            handler=complaint.handler_id,
            about=about.pk if about else None,
        )
    return complaint


def _locked(complaint: Complaint, by: Staff) -> Complaint:
    locked = (
        Complaint.objects.select_for_update().select_related("dealer", "lead").get(pk=complaint.pk)
    )
    if not may_work_complaint(by, locked):
        raise NotPermitted(_("You may not handle this complaint."))
    return locked


def assign_complaint(*, complaint: Complaint, by: Staff, to: Staff, note: str = "") -> Complaint:
    with transaction.atomic():
        locked = _locked(complaint, by)
        if locked.status not in ACTIVE_COMPLAINT:
            raise Conflict(_("This complaint is no longer being handled."), code="closed")
        if (
            not Membership.objects.filter(dealer_id=locked.dealer_id, staff=to, is_active=True)
            .exclude(role=Role.HEADQUARTERS)
            .exists()
        ):
            raise InvalidInput(_("Choose someone who works here."), field="to")
        locked.handler = to
        locked.save(update_fields=["handler"])
        _fact(locked, by=by, at=timezone.now(), step=Step.ASSIGNED, note=note, handler=to.pk)
    return locked


def resolve_complaint(*, complaint: Complaint, by: Staff, resolution: str) -> Complaint:
    resolution = resolution.strip()
    if not resolution:
        raise InvalidInput(_("Say how it was resolved."), field="resolution")
    with transaction.atomic():
        locked = _locked(complaint, by)
        if locked.status not in ACTIVE_COMPLAINT:
            raise Conflict(_("This complaint is no longer being handled."), code="closed")
        now = timezone.now()
        locked.status, locked.resolution, locked.resolved_at = (
            ComplaintStatus.RESOLVED,
            resolution[:4000],
            now,
        )
        locked.save(update_fields=["status", "resolution", "resolved_at"])
        _fact(locked, by=by, at=now, step=Step.RESOLVED, note=locked.resolution)
    return locked


def confirm_complaint(
    *, complaint: Complaint, by: Staff, satisfied: bool, note: str = ""
) -> Complaint:
    """The customer's word on the resolution: satisfied closes the complaint, not satisfied
    reopens it with a fresh deadline."""
    with transaction.atomic():
        locked = _locked(complaint, by)
        if locked.status != ComplaintStatus.RESOLVED:
            raise Conflict(_("Only a resolved complaint is confirmed."), code="not_resolved")
        now = timezone.now()
        if satisfied:
            locked.status, locked.closed_at = ComplaintStatus.CONFIRMED, now
            step = Step.CONFIRMED
        else:
            locked.status = ComplaintStatus.REOPENED
            locked.deadline = deadline_for(locked.dealer, locked.severity, now)
            step = Step.REOPENED
        locked.save(update_fields=["status", "closed_at", "deadline"])
        _fact(locked, by=by, at=now, step=step, note=note.strip())
    return locked


def late(dealer_id: int | None = None, now: datetime | None = None) -> QuerySet[Complaint]:
    complaints = Complaint.objects.filter(
        status__in=ACTIVE_COMPLAINT, deadline__lte=now or timezone.now()
    )
    return complaints.filter(dealer_id=dealer_id) if dealer_id is not None else complaints


def escalate_late_complaints(now: datetime | None = None) -> int:
    """Run by `dcc tick`: each complaint past its deadline goes up a level (sales manager, GM,
    headquarters) with a fresh deadline counted from the one it missed; a tick that comes
    late catches up level by level. Running it again changes nothing. Returns the
    escalations made."""
    now = now or timezone.now()
    made = 0
    pending = (
        late(now=now).filter(level__lt=EscalationLevel.HEADQUARTERS).values_list("pk", flat=True)
    )
    for pk in list(pending):
        with transaction.atomic():
            complaint = (
                Complaint.objects.select_for_update().select_related("dealer", "lead").get(pk=pk)
            )
            while (
                complaint.status in ACTIVE_COMPLAINT
                and complaint.deadline <= now
                and complaint.level < EscalationLevel.HEADQUARTERS
            ):
                missed = complaint.deadline
                complaint.level += 1
                complaint.escalated_to_id = _escalated_to(complaint.dealer, complaint.level)
                complaint.status = ComplaintStatus.ESCALATED
                complaint.deadline = deadline_for(complaint.dealer, complaint.severity, missed)
                complaint.save(update_fields=["level", "escalated_to", "status", "deadline"])
                _fact(
                    complaint,
                    by=None,
                    at=now,
                    step=Step.ESCALATED,
                    missed=missed.isoformat(),
                    escalated_to=complaint.escalated_to_id,
                )
                made += 1
    return made


def _escalated_to(dealer: Dealer, level: int) -> int | None:
    role = LEVEL_ROLES.get(EscalationLevel(level))
    if role is None:
        return None
    return (
        Membership.objects.filter(dealer=dealer, role=role, is_active=True)
        .order_by("staff_id")
        .values_list("staff_id", flat=True)
        .first()
    )


def steps_of(complaint: Complaint) -> QuerySet[Event]:
    """The complaint's steps, as its lead's ledger has them."""
    return (
        Event.objects.filter(
            dealer_id=complaint.dealer_id,
            lead_id=complaint.lead_id,
            kind=EventKind.COMPLAINT,
            data__complaint=complaint.pk,
        )
        .select_related("actor")
        .order_by("seq")
    )
