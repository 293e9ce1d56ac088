"""Read-side queries shared by the UI, the API and the command line."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.models import Dealer
from leads.models import Lead
from leads.phone import PhoneError, normalise_phone
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


def search_leads(leads: QuerySet[Lead], query: str) -> QuerySet[Lead]:
    """Leads whose customer matches: a whole mobile (any spelling), its last four digits, a
    name, or the pinyin initials of a name (王小明 → wxm)."""
    query = unicodedata.normalize("NFKC", query).strip()
    if not query:
        return leads.none()
    digits = "".join(ch for ch in query if ch.isdigit())
    if digits and len(digits) == len(query.replace(" ", "").replace("-", "").lstrip("+")):
        if len(digits) <= 4:
            return leads.filter(customer__phone__endswith=digits)
        try:
            return leads.filter(customer__phone=normalise_phone(query).number)
        except PhoneError:
            return leads.filter(customer__phone__contains=digits)
    if query.isascii() and query.isalpha():
        return leads.filter(
            Q(customer__name_initials__startswith=query.lower())
            | Q(customer__name__icontains=query)
        )
    return leads.filter(customer__name__icontains=query)
