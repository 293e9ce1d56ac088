"""First-response SLA: each channel gives a lead so many minutes of the dealer's business
hours to get its first call. The clock stops outside business hours (dealers work every day
of the week)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Dealer
from leads.models import Channel, Lead


def _opening(dealer: Dealer, day: datetime) -> datetime:
    return day.replace(
        hour=dealer.opens_at.hour, minute=dealer.opens_at.minute, second=0, microsecond=0
    )


def _closing(dealer: Dealer, day: datetime) -> datetime:
    return day.replace(
        hour=dealer.closes_at.hour, minute=dealer.closes_at.minute, second=0, microsecond=0
    )


def _around_the_clock(dealer: Dealer) -> bool:
    return dealer.opens_at >= dealer.closes_at


def in_business_hours(dealer: Dealer, at: datetime) -> datetime:
    """`at` when the dealer is open then, else its next opening (local time)."""
    if _around_the_clock(dealer):
        return at
    local = timezone.localtime(at)
    if local < _opening(dealer, local):
        return _opening(dealer, local)
    if local >= _closing(dealer, local):
        return _opening(dealer, local + timedelta(days=1))
    return local


def first_response_deadline(dealer: Dealer, channel: Channel, created_at: datetime) -> datetime:
    return business_deadline(dealer, created_at, minutes=channel.sla_minutes)


def business_deadline(dealer: Dealer, start: datetime, *, minutes: int) -> datetime:
    """`minutes` of the dealer's business hours after `start` (a callback's deadline too)."""
    budget = timedelta(minutes=minutes)
    if _around_the_clock(dealer):
        return start + budget
    start = in_business_hours(dealer, start)
    # Spend the budget day by day; what does not fit before closing carries to the next day.
    while start + budget > _closing(dealer, start):
        budget -= _closing(dealer, start) - start
        start = _opening(dealer, start + timedelta(days=1))
    return start + budget


# A lead with no first-response SLA has its deadline at its own creation: no live lead can
# (every channel gives at least a minute), so the rule needs no column of its own.


def without_sla(created_at: datetime) -> datetime:
    """The deadline of a lead that has no first-response SLA."""
    return created_at


def has_sla() -> Q:
    return Q(sla_deadline__gt=F("created_at"))


def lead_has_sla(lead: Lead) -> bool:
    return sets_an_sla(created_at=lead.created_at, deadline=lead.sla_deadline)


def sets_an_sla(*, created_at: datetime, deadline: datetime) -> bool:
    """`has_sla` for a lead's values in hand (the tallies count leads as values)."""
    return deadline > created_at


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


def waiting(now: datetime | None = None) -> Q:
    """Leads not answered yet whose deadline is still ahead (at `now`)."""
    now = now or timezone.now()
    return Q(first_response_at__isnull=True, sla_deadline__gte=now)


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
    """Leads answered on time: with an SLA, and first answered by its deadline."""
    return has_sla() & Q(first_response_at__lte=F("sla_deadline"))


def is_on_time(lead: Lead) -> bool:
    """`on_time` for one lead in hand."""
    return answered_on_time(
        created_at=lead.created_at,
        deadline=lead.sla_deadline,
        first_response_at=lead.first_response_at,
    )


def answered_on_time(
    *, created_at: datetime, deadline: datetime, first_response_at: datetime | None
) -> bool:
    """`on_time` for a lead's values in hand (the tallies count leads as values)."""
    return (
        sets_an_sla(created_at=created_at, deadline=deadline)
        and first_response_at is not None
        and first_response_at <= deadline
    )
