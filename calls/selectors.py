"""What the call center's pages read: the call at a person's seat now (the screen pop), the
missed calls and callbacks waiting, who is on a call."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q, QuerySet

from accounts.models import Dealer, Staff
from calls.models import Call, Callback, Seat

# A call still shown after it ended, for the agent to finish its notes or the capture form.
KEEP_AFTER_END = timedelta(minutes=15)
# A ringing or talking call whose end never came (a lost push) stops being "now".
STALE_AFTER = timedelta(hours=2)


def has_seat(staff: Staff, dealer_id: int) -> bool:
    return Seat.objects.filter(staff=staff, account__dealer_id=dealer_id).exists()


def call_at_seat(
    staff: Staff, dealer: Dealer, *, now: datetime, dismissed: int | None = None
) -> Call | None:
    """The call the person is on, or just finished: the latest that rang at their seat."""
    calls = Call.objects.filter(dealer=dealer, agent=staff).filter(
        Q(ended_at__isnull=True, rang_at__gte=now - STALE_AFTER)
        | Q(ended_at__gte=now - KEEP_AFTER_END)
    )
    call = (
        calls.select_related("line__channel", "customer", "lead__owner", "lead__customer")
        .order_by("-rang_at", "-pk")
        .first()
    )
    return None if call is None or call.pk == dismissed else call


def on_a_call(dealer: Dealer, *, now: datetime) -> QuerySet[Call]:
    """Calls ringing or under way now, with who is on them."""
    return Call.objects.filter(
        dealer=dealer, ended_at__isnull=True, rang_at__gte=now - STALE_AFTER, agent__isnull=False
    ).select_related("agent")


def open_callbacks(dealer: Dealer) -> QuerySet[Callback]:
    return (
        Callback.objects.filter(dealer=dealer, closed_at__isnull=True)
        .select_related("line", "customer", "lead")
        .order_by("due_at")
    )
