"""The demo world's owner operations and audits: `demo` leaves owner operations and the audit
group a week's work to look at — visits done with their answers, due today and overdue,
complaints open and escalated, last week's sample half audited with an appeal waiting — and
a second run changes none of it."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from audit.models import Appeal, Audit, AuditResult, AuditSample, AuditTask, TaskStatus
from campaigns.models import CampaignLead, SubsidyMonth
from leads.models import Event, Lead
from leads.stages import Stage
from owners.models import (
    Complaint,
    ComplaintStatus,
    EventGuest,
    Invitation,
    OwnerEvent,
    Referral,
    ReferralSource,
    ReturnVisit,
    Vehicle,
    VisitStatus,
)
from privacy.models import ConsentRecord, DoNotCall, Purpose

pytestmark = pytest.mark.django_db


def demo() -> str:
    out = io.StringIO()
    call_command("demo", leads=80, stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, object]:
    def by(model, field: str) -> dict[str, int]:
        return dict(model.objects.values_list(field).annotate(n=Count("id")))

    return {
        "visits": by(ReturnVisit, "status"),
        "complaints": by(Complaint, "status"),
        "tasks": by(AuditTask, "status"),
        "audits": by(Audit, "result"),
        "appeals": Appeal.objects.count(),
        "events": Event.objects.count(),
        "consents": ConsentRecord.objects.count(),
        "do_not_call": DoNotCall.objects.count(),
        "campaign_leads": CampaignLead.objects.count(),
        "subsidy_months": SubsidyMonth.objects.count(),
    }


def test_the_demo_leaves_owner_operations_and_the_audit_group_a_week_of_work(office_hours):
    said = demo()
    assert "return visits done" in said and "audited" in said

    # The bulk-written deliveries reached owners' follower: each sale has its vehicle.
    delivered = Lead.objects.filter(stage=Stage.DELIVERED)
    assert delivered.exists()
    assert Vehicle.objects.filter(lead__in=delivered).count() == delivered.count()

    now = timezone.now()
    today = timezone.localdate(now)
    due = ReturnVisit.objects.filter(status=VisitStatus.DUE)
    assert any(timezone.localdate(v.due_at) == today for v in due)
    assert due.filter(due_at__date__lt=today).exists()  # overdue since before today
    done = ReturnVisit.objects.filter(status=VisitStatus.DONE, version__isnull=False)
    assert done.exists() and all(visit.answers and visit.score for visit in done)
    assert ReturnVisit.objects.filter(status=VisitStatus.UNREACHABLE).exists()
    assert due.filter(attempt_count__gt=0).exists()  # not reached once, to try again

    statuses = set(Complaint.objects.values_list("status", flat=True))
    assert {ComplaintStatus.OPEN, ComplaintStatus.ESCALATED, ComplaintStatus.CONFIRMED} <= statuses
    assert all(c.visit_id for c in Complaint.objects.all())  # from the visits' low scores

    # Owner events: a past one with check-ins and guests who became referred leads, an
    # upcoming one with its invitations answered.
    assert "owner events: 3" in said
    past = OwnerEvent.objects.filter(ends_at__lt=now)
    assert Invitation.objects.filter(event__in=past, checked_in_at__isnull=False).exists()
    guests = EventGuest.objects.filter(invitation__event__in=past, lead__isnull=False)
    assert guests.exists()
    assert Referral.objects.filter(event__in=past, lead__in=guests.values("lead")).exists()
    # Owner referrals: named on the demo's 转介绍 leads, some credited or rewarded by now.
    named = Referral.objects.filter(source=ReferralSource.LEAD)
    assert named.exists() and "owner referrals named" in said
    assert not said.count(": 0 owner referrals named")
    upcoming = OwnerEvent.objects.filter(starts_at__gt=now)
    assert Invitation.objects.filter(event__in=upcoming, signed_up_at__isnull=False).exists()

    assert AuditSample.objects.exists()
    tasks = set(AuditTask.objects.values_list("status", flat=True))
    assert {TaskStatus.DONE, TaskStatus.OPEN} <= tasks
    assert {AuditResult.PASS, AuditResult.FAIL} <= set(
        Audit.objects.values_list("result", flat=True)
    )
    waiting = Appeal.objects.filter(decision="").select_related("audit")
    assert waiting.exists()
    assert all(appeal.audit.result == AuditResult.FAIL for appeal in waiting)

    # Consent: most customers agreed to marketing, a few withdrew SMS by reply, a few numbers
    # are on the do-not-call list.
    assert "consent statements recorded" in said
    assert ConsentRecord.objects.filter(purpose=Purpose.SMS, given=False).exists()
    assert ConsentRecord.objects.filter(purpose=Purpose.MARKETING_CALLS, given=True).exists()
    assert DoNotCall.objects.exists()
    # Campaigns: the car show's and the promotion's leads credited to their codes, members on
    # the fuel subsidy.
    assert "campaigns: 3" in said
    assert CampaignLead.objects.filter(capture_code__staff__isnull=False).exists()
    assert SubsidyMonth.objects.exists()

    before = snapshot()
    again = demo()
    assert "already played" in again
    assert snapshot() == before
