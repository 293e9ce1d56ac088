"""First-response SLA: each channel gives a lead so many minutes of the dealer's business
hours to get its first call. The clock stops outside business hours (dealers work every day
of the week)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Dealer
from leads.models import Channel


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


def breached(now: datetime | None = None) -> Q:
    """Leads whose first response came late, or has not come and is overdue now."""
    now = now or timezone.now()
    return Q(first_response_at__gt=F("sla_deadline")) | Q(
        first_response_at__isnull=True, sla_deadline__lt=now
    )


def on_time() -> Q:
    return Q(first_response_at__lte=F("sla_deadline"))
