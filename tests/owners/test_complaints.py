"""Complaints: deadlines by severity in business hours, escalation level by level on the
tick, resolution, the customer's word; every step a fact in the lead's ledger."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from dcc.errors import Conflict, NotPermitted
from leads import ledger
from leads.models import EventKind
from owners.complaints import (
    confirm_complaint,
    raise_complaint,
    resolve_complaint,
    steps_of,
)
from owners.models import Complaint, ComplaintStatus
from owners.upkeep import run as tick

pytestmark = pytest.mark.django_db


def local(text: str) -> datetime:
    return datetime.fromisoformat(text + "+08:00")


@pytest.fixture
def complaint(team, vehicle) -> Complaint:
    return raise_complaint(
        customer=vehicle.owner,
        by=team.owner_ops,
        source="call",
        category="delivery",
        severity="high",
        description="The car was delivered dirty.",
        vehicle=vehicle,
    )


def test_deadlines_follow_severity_in_business_hours(team, vehicle, fixed_clock):
    friday = local("2026-11-20T17:00:00")  # an hour before closing
    fixed_clock.move_to(friday)
    critical = raise_complaint(
        customer=vehicle.owner,
        by=team.gm,
        source="showroom",
        category="quality",
        severity="critical",
        description="Brakes squeal.",
        at=friday,
    )
    assert critical.deadline == local("2026-11-21T12:00:00")  # 1 h today, 3 h tomorrow
    low = raise_complaint(
        customer=vehicle.owner,
        by=team.gm,
        source="showroom",
        category="other",
        severity="low",
        description="Coffee was cold.",
        at=friday,
    )
    assert low.deadline == local("2026-11-27T17:00:00")


def test_escalation_goes_up_a_level_each_time_a_deadline_passes(team, complaint, fixed_clock):
    assert tick() == (0, 0)
    levels = []
    for _ in range(4):
        fixed_clock.move_to(Complaint.objects.get(pk=complaint.pk).deadline + timedelta(minutes=1))
        tick()
        tick()  # again: nothing more
        now = Complaint.objects.get(pk=complaint.pk)
        levels.append((now.level, now.escalated_to_id, now.status))
    assert levels == [
        (1, team.sales_manager.pk, ComplaintStatus.ESCALATED),
        (2, team.gm.pk, ComplaintStatus.ESCALATED),
        (3, None, ComplaintStatus.ESCALATED),
        (3, None, ComplaintStatus.ESCALATED),  # headquarters is the last level
    ]
    steps = [(e.data["step"], e.data["level"]) for e in steps_of(complaint)]
    assert steps == [("opened", 0), ("escalated", 1), ("escalated", 2), ("escalated", 3)]
    assert not ledger.verify(dealer_id=team.dealer.pk).broken


def test_a_late_tick_catches_up_level_by_level(team, complaint, fixed_clock):
    fixed_clock.move_to(complaint.deadline + timedelta(days=30))
    assert tick() == (3, 0)
    assert Complaint.objects.get(pk=complaint.pk).level == 3


def test_resolved_then_confirmed_or_reopened(team, complaint, fixed_clock):
    resolve_complaint(complaint=complaint, by=team.owner_ops, resolution="Cleaned, apologised.")
    reopened = confirm_complaint(complaint=complaint, by=team.owner_ops, satisfied=False)
    assert reopened.status == ComplaintStatus.REOPENED and reopened.deadline > complaint.opened_at
    with pytest.raises(Conflict):
        confirm_complaint(complaint=complaint, by=team.owner_ops, satisfied=True)
    resolve_complaint(complaint=complaint, by=team.owner_ops, resolution="Free wash for a year.")
    done = confirm_complaint(complaint=complaint, by=team.owner_ops, satisfied=True, note="ok")
    assert done.status == ComplaintStatus.CONFIRMED and done.closed_at
    steps = [e.data["step"] for e in steps_of(complaint)]
    assert steps == ["opened", "resolved", "reopened", "resolved", "confirmed"]
    # A resolved complaint is not escalated, nor a confirmed one.
    fixed_clock.move_to(done.deadline + timedelta(days=30))
    assert tick() == (0, 0)


def test_who_may_raise_and_handle(team, vehicle, complaint):
    hq = raise_complaint(
        customer=vehicle.owner,
        by=team.headquarters,
        source="headquarters",
        category="price",
        severity="medium",
        description="Reported on the brand hotline.",
    )
    assert hq.lead_id == vehicle.lead_id
    for person in (team.consultant, team.dcc_agent, team.auditor):
        with pytest.raises(NotPermitted):
            raise_complaint(
                customer=vehicle.owner,
                by=person,
                source="call",
                category="other",
                severity="low",
                description="x",
            )
    for person in (team.consultant, team.headquarters, team.auditor):
        with pytest.raises(NotPermitted):
            resolve_complaint(complaint=complaint, by=person, resolution="done")
    assert vehicle.lead.events.filter(kind=EventKind.COMPLAINT).count() == 2
