"""What owner operations hold about a customer (privacy.holdings): their cars, return visits,
complaints, member card and points, referrals and owner-event invitations."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from leads.models import Customer
from owners.models import (
    Complaint,
    Invitation,
    Member,
    PointsEntry,
    Referral,
    ReturnVisit,
    Vehicle,
)
from privacy.holdings import Holding, Row


def _visits(customer: Customer):
    return ReturnVisit.objects.filter(vehicle__owner=customer)


def export(customer: Customer) -> list[Row]:
    """One row per record, its section named in `kind` (one sheet for owner operations)."""
    rows: list[Row] = []

    def add(kind: str, record: int, when: Any, what: str, detail: str = "") -> None:
        rows.append({"kind": kind, "record": record, "when": when, "what": what, "detail": detail})

    for car in Vehicle.objects.filter(owner=customer).order_by("delivered_at"):
        add("vehicle", car.pk, car.delivered_at, car.car_model, f"{car.vin} {car.plate}".strip())
    for visit in _visits(customer).order_by("due_at"):
        answers = "; ".join(f"{k}: {v}" for k, v in sorted(visit.answers.items()))
        add("return_visit", visit.pk, visit.completed_at or visit.due_at, visit.name, answers)
        if visit.note:
            add("return_visit_note", visit.pk, visit.completed_at, visit.name, visit.note)
    for complaint in Complaint.objects.filter(customer=customer).order_by("opened_at"):
        add(
            "complaint",
            complaint.pk,
            complaint.opened_at,
            complaint.description,
            complaint.resolution,
        )
    for member in Member.objects.filter(customer=customer):
        add("member", member.pk, None, member.card_number, str(member.usable_points))
        for line in PointsEntry.objects.filter(member=member).order_by("at", "pk"):
            add("points", line.pk, line.at, line.get_kind_display(), str(line.points))
    for referral in Referral.objects.filter(referrer=customer).order_by("named_at"):
        add("referral", referral.pk, referral.named_at, referral.get_status_display())
    for invitation in Invitation.objects.filter(customer=customer).select_related("event"):
        add("owner_event", invitation.pk, invitation.invited_at, invitation.event.name)
    return rows


def _without_words(answers: dict[str, Any]) -> dict[str, Any]:
    """The scores and yes/no answers, without what the customer said in words."""
    return {k: v for k, v in answers.items() if not isinstance(v, str)}


def erase(customer: Customer) -> int:
    """Blank VINs and plates, what the customer said (visit notes, spoken answers, complaint
    texts); scores, dates, points and statuses stay for the KPIs."""
    touched = Vehicle.objects.filter(owner=customer).update(vin="", plate="")
    visits = list(_visits(customer).filter(~Q(note="") | ~Q(answers={}) | ~Q(attempts=[])))
    for visit in visits:
        visit.note = ""
        visit.answers = _without_words(visit.answers)
        visit.attempts = [{**attempt, "note": ""} for attempt in visit.attempts]
    ReturnVisit.objects.bulk_update(visits, ["note", "answers", "attempts"])
    touched += len(visits)
    touched += Complaint.objects.filter(customer=customer).update(description="", resolution="")
    return touched


def remains(customer: Customer) -> int:
    return (
        Vehicle.objects.filter(owner=customer).count()
        + _visits(customer).count()
        + Complaint.objects.filter(customer=customer).count()
        + Member.objects.filter(customer=customer).count()
    )


HOLDING = Holding("owners", _("Owner operations"), export, erase, remains)
