"""First-response SLA: each channel gives a lead so many minutes of the dealer's business
hours to get its first call. The clock stops outside business hours (dealers work every day
of the week)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Dealer
from leads.models import Channel, Lead


def first_response_deadline(dealer: Dealer, channel: Channel, created_at: datetime) -> datetime:
    local = timezone.localtime(created_at)
    budget = timedelta(minutes=channel.sla_minutes)
    if dealer.opens_at >= dealer.closes_at:  # open around the clock
        return created_at + budget

    def opening(day: datetime) -> datetime:
        return day.replace(
            hour=dealer.opens_at.hour, minute=dealer.opens_at.minute, second=0, microsecond=0
        )

    def closing(day: datetime) -> datetime:
        return day.replace(
            hour=dealer.closes_at.hour, minute=dealer.closes_at.minute, second=0, microsecond=0
        )

    start = local
    if start < opening(start):
        start = opening(start)
    elif start >= closing(start):
        start = opening(start + timedelta(days=1))
    # Spend the budget day by day; what does not fit before closing carries to the next day.
    while start + budget > closing(start):
        budget -= closing(start) - start
        start = opening(start + timedelta(days=1))
    return start + budget


# A lead with no first-response SLA has its deadline at its own creation: no live lead can
# (every channel gives at least a minute), so the rule needs no column of its own.


def without_sla(created_at: datetime) -> datetime:
    """The deadline of a lead that has no first-response SLA."""
    return created_at


def has_sla() -> Q:
    return Q(sla_deadline__gt=F("created_at"))


def lead_has_sla(lead: Lead) -> bool:
    return lead.sla_deadline > lead.created_at


def settled_deadline(
    *, created_at: datetime, deadline: datetime, first_response_at: datetime | None, now: datetime
) -> datetime:
    """The deadline of a lead imported with its past. Its first response in its history is
    judged against its deadline; a lead whose deadline had passed before it was imported, with
    no first response in its history, has no SLA: nobody could have answered it in time, and
    whoever receives it now did not miss it."""
    if first_response_at is None and deadline <= now:
        return without_sla(created_at)
    return deadline


def breached(now: datetime | None = None) -> Q:
    """Leads whose first response came late, or has not come and is overdue now."""
    now = now or timezone.now()
    return has_sla() & (
        Q(first_response_at__gt=F("sla_deadline"))
        | Q(first_response_at__isnull=True, sla_deadline__lt=now)
    )


def is_breached(lead: Lead, now: datetime | None = None) -> bool:
    """`breached` for one lead in hand."""
    now = now or timezone.now()
    return lead_has_sla(lead) and (lead.first_response_at or now) > lead.sla_deadline


def on_time() -> Q:
    return has_sla() & Q(first_response_at__lte=F("sla_deadline"))
