"""What the call center's pages read: the call at a person's seat now (the screen pop), the
missed calls and callbacks waiting, who is on a call."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q, QuerySet

from accounts.models import Dealer, Staff
from accounts.roles import SUPERVISORS, Role, roles_at
from calls.models import Call, Callback, Recording, Seat
from leads.models import Event, EventKind, Lead
from leads.permissions import may_reveal, visible_leads

# A call still shown after it ended, for the agent to finish its notes or the capture form.
KEEP_AFTER_END = timedelta(minutes=15)
# A ringing or talking call whose end never came (a lost push) stops being "now".
STALE_AFTER = timedelta(hours=2)


def has_seat(staff: Staff, dealer_id: int) -> bool:
    return Seat.objects.filter(staff=staff, account__dealer_id=dealer_id).exists()


def call_id_at_seat(
    staff: Staff, dealer: Dealer, *, now: datetime, dismissed: int | None = None
) -> int | None:
    """The id of the call the person is on, or just finished: the latest that rang at their
    seat. Every page of an agent asks this every POLL_MS, so it reads one column and joins
    nothing; the call itself is loaded only when it is not the one already shown."""
    found = (
        Call.objects.filter(dealer=dealer, agent=staff)
        .filter(
            Q(ended_at__isnull=True, rang_at__gte=now - STALE_AFTER)
            | Q(ended_at__gte=now - KEEP_AFTER_END)
        )
        .order_by("-rang_at", "-pk")
        .values_list("pk", flat=True)
        .first()
    )
    return None if found == dismissed else found


def call_for_panel(call_id: int) -> Call:
    return Call.objects.select_related(
        "line__channel", "customer", "lead__owner", "lead__customer"
    ).get(pk=call_id)


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


def recordings_by_event(lead: Lead) -> list[tuple[int, Recording]]:
    """The lead's CALLED events that came from the phone system, each with its call's
    recordings still kept: (event id, recording)."""
    events = dict(
        Event.objects.filter(lead=lead, kind=EventKind.CALLED, data__has_key="call_id").values_list(
            "data__call_id", "pk"
        )
    )
    if not events:
        return []
    kept = Recording.objects.filter(
        call__dealer_id=lead.dealer_id, call__call_id__in=events, purged_at__isnull=True
    ).select_related("call")
    return [(events[r.call.call_id], r) for r in kept.order_by("call__rang_at", "pk")]


def may_listen(staff: Staff, call: Call) -> bool:
    """Recordings follow the lead's access (headquarters reads figures, not calls); a call
    without a lead, the person who took it, the supervisors and the audit group (who sample
    every recorded call)."""
    if call.lead_id:
        return may_reveal(staff, call.lead) and (
            visible_leads(staff, dealer_id=call.dealer_id).filter(pk=call.lead_id).exists()
        )
    return call.agent_id == staff.pk or bool(
        roles_at(staff, call.dealer_id) & (SUPERVISORS | {Role.AUDITOR})
    )
