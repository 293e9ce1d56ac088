"""Return visits: calling the customer (click-to-call, the number hidden), recording each
attempt, the answers to the visit's questionnaire, and what follows from them: a retry when
the customer was not reached, unreachable after the plan's attempts, a complaint when an
answer says so."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Staff
from accounts.roles import SUPERVISORS, Role, roles_at
from calls.actions import place_call
from calls.models import Call
from dcc.errors import Conflict, NotPermitted
from leads import actions
from leads.sla import business_deadline
from owners import questionnaires
from owners.complaints import raise_complaint
from owners.models import (
    ComplaintCategory,
    ComplaintSource,
    QuestionKind,
    ReturnVisit,
    Severity,
    VisitStatus,
)
from owners.permissions import may_work_visit
from owners.plans import plan_of

# Categories of complaint that are about the person who sold the car.
ABOUT_THE_SELLER = {
    ComplaintCategory.SALESPERSON,
    ComplaintCategory.SALES_PROCESS,
    ComplaintCategory.PRICE,
    ComplaintCategory.DELIVERY,
}
# Who may record leads' return visit (leads.stages: owner operations and supervisors).
RECORDS_THE_RETURN_VISIT = SUPERVISORS | {Role.OWNER_OPS}


def dial_for_visit(*, visit: ReturnVisit, by: Staff) -> Call:
    """Ring the person's seat, then the customer, for a visit they may work; the number stays
    hidden and the call comes back matched to the sale's lead."""
    if not may_work_visit(by, visit):
        raise NotPermitted(_("You may not work this return visit."))
    return place_call(visit.lead, by=by)


def attempt_visit(
    *,
    visit: ReturnVisit,
    by: Staff,
    reached: bool,
    answers: dict[str, Any] | None = None,
    note: str = "",
    at: datetime | None = None,
) -> ReturnVisit:
    """Record one attempt. Reached: the answers are checked against the visit's questionnaire
    version (InvalidInput names the question) and the visit is done; an answer that says so
    opens a complaint. Not reached: a retry a few business hours later, or unreachable after
    the plan's attempts. The plan's return visit is also recorded with leads (its task, the
    KPIs)."""
    now = timezone.now()
    at = at or now
    with transaction.atomic():
        locked = (
            ReturnVisit.objects.select_for_update(of=("self",))
            .select_related("dealer", "lead", "version", "vehicle")
            .get(pk=visit.pk)
        )
        if not may_work_visit(by, locked):
            raise NotPermitted(_("You may not work this return visit."))
        if locked.status != VisitStatus.DUE:
            raise Conflict(_("This return visit is no longer due."), code="visit_closed")
        plan = plan_of(locked.dealer)
        checked = None
        if reached and locked.version is not None:
            checked = questionnaires.check_answers(locked.version.questions, answers or {})
        locked.attempts = [
            *locked.attempts,
            {"at": at.isoformat(), "by": by.pk, "reached": reached, "note": note.strip()[:500]},
        ]
        locked.attempt_count = len(locked.attempts)
        fields = [
            "attempts",
            "attempt_count",
            "status",
            "due_at",
            "completed_at",
            "completed_by",
            "note",
        ]
        if reached:
            locked.status = VisitStatus.DONE
            locked.completed_at, locked.completed_by = at, by
            if checked is not None:
                locked.answers, locked.score, locked.nps = (
                    checked.answers,
                    checked.score,
                    checked.nps,
                )
                fields += ["answers", "score", "nps"]
        elif locked.attempt_count >= plan.attempts:
            locked.status = VisitStatus.UNREACHABLE
            locked.completed_at, locked.completed_by = at, by
        else:
            locked.due_at = business_deadline(locked.dealer, now, minutes=plan.retry_hours * 60)
        locked.note = note.strip()[:2000] or locked.note
        locked.save(update_fields=fields)
        if locked.is_the_return_visit and roles_at(by, locked.dealer_id) & RECORDS_THE_RETURN_VISIT:
            actions.record_return_visit(
                lead=locked.lead,
                by=by,
                at=at,
                reached=reached,
                satisfaction=_satisfaction(locked.score) if reached else None,
                note=note.strip(),
                given_up=locked.status == VisitStatus.UNREACHABLE,
            )
        if checked is not None and checked.complaints:
            _complain(locked, checked, at=at)
    return locked


def _satisfaction(score: Decimal | None) -> int | None:
    if score is None:
        return None
    return int(score.quantize(Decimal(1), ROUND_HALF_UP))


def _complain(visit: ReturnVisit, checked: questionnaires.Checked, *, at: datetime) -> None:
    """One complaint for the visit's low answers: the first one's category, high when an answer
    is the lowest there is, about the seller when it concerns the sale."""
    questions = {q["key"]: q for q in visit.version.questions}
    lines = [f"{questionnaires.label(questions[c.key])}: {c.answer}" for c in checked.complaints]
    lowest = any(
        questions[c.key]["kind"] == QuestionKind.SCORE and c.answer == 1 for c in checked.complaints
    )
    category = checked.complaints[0].category
    raise_complaint(
        customer=visit.vehicle.owner,
        by=None,
        source=ComplaintSource.VISIT,
        category=category,
        severity=Severity.HIGH if lowest else Severity.MEDIUM,
        description=_("Return visit “%(step)s”: %(answers)s")
        % {"step": _(visit.name), "answers": "; ".join(lines)},
        vehicle=visit.vehicle,
        visit=visit,
        about=visit.vehicle.consultant if category in ABOUT_THE_SELLER else None,
        at=at,
    )


def close_exhausted_visits(now: datetime | None = None) -> int:
    """Run by `dcc tick`: visits still due although their attempts have run out (the plan's
    attempts were lowered since) are unreachable. Returns how many."""
    exhausted = ReturnVisit.objects.filter(
        status=VisitStatus.DUE, attempt_count__gte=F("step__plan__attempts")
    )
    return exhausted.update(status=VisitStatus.UNREACHABLE, completed_at=now or timezone.now())
