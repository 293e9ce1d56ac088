"""Read-side queries shared by the UI, the API and the command line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import Dealer
from leads.models import Lead
from leads.sla import breached


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
            waiting=Count("id", filter=Q(first_response_at__isnull=True, sla_deadline__gte=now)),
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
