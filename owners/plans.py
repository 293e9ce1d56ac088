"""The return-visit plan: each dealer's calls after a delivery (made with the defaults on first
use), and scheduling them for one delivered vehicle."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import Dealer, Membership, Role, Staff
from accounts.roles import check_configure
from dcc.errors import InvalidInput
from leads import followups
from leads.assignment import absent_staff_ids
from leads.models import Task, TaskKind
from leads.sla import in_business_hours
from owners.models import (
    Performer,
    Questionnaire,
    ReturnVisit,
    ReturnVisitPlan,
    ReturnVisitStep,
    Vehicle,
    VisitStatus,
)
from owners.questionnaires import current_version, default_questionnaire

# (name, hours after delivery, performed by, with the default questionnaire, share %)
DEFAULT_STEPS = [
    (gettext_noop("Thank-you call"), 24, Performer.CONSULTANT, False, 100),
    (gettext_noop("3-day visit (3DC)"), 72, Performer.OWNER_OPS, True, 100),
    (gettext_noop("Sales manager's checklist call"), 7 * 24, Performer.SALES_MANAGER, False, 100),
    (gettext_noop("30-day visit"), 30 * 24, Performer.OWNER_OPS, True, 30),
]


def plan_of(dealer: Dealer) -> ReturnVisitPlan:
    """The dealer's plan, with the default steps on first use."""
    plan = ReturnVisitPlan.objects.filter(dealer=dealer).first()
    if plan is not None:
        return plan
    with transaction.atomic():
        plan, created = ReturnVisitPlan.objects.get_or_create(dealer=dealer)
        if created:
            questionnaire = default_questionnaire(dealer)
            ReturnVisitStep.objects.bulk_create(
                ReturnVisitStep(
                    dealer=dealer,
                    plan=plan,
                    name=name,
                    offset_hours=hours,
                    performer=performer,
                    questionnaire=questionnaire if asks else None,
                    sample_percent=share,
                )
                for name, hours, performer, asks, share in DEFAULT_STEPS
            )
    return plan


def drawn(vehicle: Vehicle, step: ReturnVisitStep) -> bool:
    """Whether this delivery is in the step's sample: drawn from a seed of the sale and the
    step, so the answer is the same however often it is asked."""
    if step.sample_percent >= 100:
        return True
    seed = hashlib.sha256(f"{vehicle.lead_id}:{step.pk}".encode()).digest()
    return int.from_bytes(seed[:4], "big") % 100 < step.sample_percent


def schedule_visits(vehicle: Vehicle) -> list[ReturnVisit]:
    """The plan's visits for a delivered vehicle (those not scheduled yet): due so many hours
    after delivery, in the dealer's business hours. The first owner-operations step is the
    return visit leads already owes (its task, which the KPIs count): it goes to the same
    person."""
    dealer = vehicle.dealer
    plan = plan_of(dealer)
    steps = list(plan.steps.filter(is_active=True).select_related("questionnaire"))
    done = set(ReturnVisit.objects.filter(vehicle=vehicle).values_list("step_id", flat=True))
    task = (
        Task.objects.filter(lead_id=vehicle.lead_id, kind=TaskKind.RETURN_VISIT)
        .order_by("-id")
        .values("assignee_id")
        .first()
    )
    mirrored = ReturnVisit.objects.filter(vehicle=vehicle, is_the_return_visit=True).exists()
    created = []
    for step in steps:
        if step.pk in done or not drawn(vehicle, step):
            continue
        is_the_return_visit = not mirrored and step.performer == Performer.OWNER_OPS
        if is_the_return_visit and task is not None:
            assignee_id = task["assignee_id"]
        else:
            assignee_id = performer_for(dealer, step.performer, vehicle)
        version = current_version(step.questionnaire) if step.questionnaire else None
        created.append(
            ReturnVisit(
                dealer=dealer,
                vehicle=vehicle,
                lead_id=vehicle.lead_id,
                step=step,
                name=step.name,
                due_at=in_business_hours(
                    dealer, vehicle.delivered_at + timedelta(hours=step.offset_hours)
                ),
                assignee_id=assignee_id,
                version=version,
                is_the_return_visit=is_the_return_visit,
            )
        )
        mirrored = mirrored or is_the_return_visit
    return ReturnVisit.objects.bulk_create(created)


def performer_for(dealer: Dealer, performer: str, vehicle: Vehicle) -> int:
    """Who does a step: the consultant who sold, the sales manager (the GM if there is none),
    or the owner-ops specialist present with the fewest visits due."""
    if performer == Performer.CONSULTANT and vehicle.consultant_id:
        return vehicle.consultant_id
    fallback = vehicle.consultant_id or vehicle.lead.owner_id
    if performer == Performer.SALES_MANAGER:
        for role in (Role.SALES_MANAGER, Role.GM):
            found = (
                Membership.objects.filter(dealer=dealer, role=role, is_active=True)
                .order_by("staff_id")
                .values_list("staff_id", flat=True)
                .first()
            )
            if found:
                return found
    return owner_ops_specialist(dealer, fallback_id=fallback)


def owner_ops_specialist(dealer: Dealer, *, fallback_id: int) -> int:
    """As leads.followups.return_visit_specialist, counting the visits due."""
    absent = absent_staff_ids(dealer)
    staff_ids = list(
        Membership.objects.filter(dealer=dealer, role=Role.OWNER_OPS, is_active=True)
        .exclude(staff_id__in=absent)
        .values_list("staff_id", flat=True)
    )
    if not staff_ids:
        return followups.return_visit_specialist(dealer, fallback_id=fallback_id)
    loads = dict(
        ReturnVisit.objects.filter(dealer=dealer, assignee_id__in=staff_ids, status=VisitStatus.DUE)
        .values_list("assignee_id")
        .annotate(n=Count("id"))
    )
    return min(staff_ids, key=lambda pk: (loads.get(pk, 0), pk))


# ---------------------------------------------------------------- editing the plan


def save_step(
    *,
    dealer: Dealer,
    by: Staff,
    step: ReturnVisitStep | None,
    name: str,
    offset_hours: int,
    performer: str,
    questionnaire: Questionnaire | None,
    sample_percent: int,
    is_active: bool = True,
) -> ReturnVisitStep:
    """Add a step or change one; visits already scheduled keep their time and person."""
    check_configure(by, dealer)
    if not name.strip():
        raise InvalidInput(_("Give the step a name."), field="name")
    if performer not in Performer.values:
        raise InvalidInput(_("Choose who performs it."), field="performer")
    if not 0 < sample_percent <= 100:
        raise InvalidInput(_("The share is from 1 to 100 %."), field="sample_percent")
    if offset_hours > 24 * 366:
        raise InvalidInput(_("At most a year after delivery."), field="offset_hours")
    if questionnaire is not None and questionnaire.dealer_id != dealer.pk:
        raise InvalidInput(_("Choose one of this dealer's questionnaires."), field="questionnaire")
    step = step or ReturnVisitStep(dealer=dealer, plan=plan_of(dealer))
    step.name = name.strip()[:100]
    step.offset_hours = offset_hours
    step.performer = performer
    step.questionnaire = questionnaire
    step.sample_percent = sample_percent
    step.is_active = is_active
    step.save()
    return step


def save_plan(*, dealer: Dealer, by: Staff, attempts: int, retry_hours: int) -> ReturnVisitPlan:
    check_configure(by, dealer)
    if not 1 <= attempts <= 10:
        raise InvalidInput(_("From 1 to 10 attempts."), field="attempts")
    if not 1 <= retry_hours <= 72:
        raise InvalidInput(_("From 1 to 72 hours."), field="retry_hours")
    plan = plan_of(dealer)
    plan.attempts, plan.retry_hours = attempts, retry_hours
    plan.save(update_fields=["attempts", "retry_hours"])
    return plan
