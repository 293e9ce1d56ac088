"""Call reports as a provider's pushes would give them, at fixed times of the tests' day."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import datetime, timedelta

from django.utils import timezone

from calls.models import Line, LineKind, PhoneAccount, Seat
from calls.report import CallReport, Direction, Disposition, HungUpBy, Phase
from tests.factories import channel

HOTLINE = "4008001234"
CALLER = "13911112222"
_ids = itertools.count(1)


def at(minutes: float) -> datetime:
    """Minutes after 10:00 on the tests' fixed day (within business hours)."""
    return timezone.now().replace(hour=2, minute=0, second=0, microsecond=0) + timedelta(
        minutes=minutes
    )


def answered(call_id: str = "", *, number: str = CALLER, seat: str = "8001", **more):
    start = more.pop("start", at(0))
    return CallReport(
        provider="generic",
        call_id=call_id or f"c{next(_ids)}",
        phase=Phase.ENDED,
        direction=more.pop("direction", Direction.INBOUND),
        line_number=HOTLINE,
        customer_number=number,
        seat=seat,
        rang_at=start,
        answered_at=start + timedelta(seconds=8),
        ended_at=start + timedelta(seconds=128),
        wait_seconds=8,
        talk_seconds=120,
        disposition=Disposition.ANSWERED,
        status="1",
        hung_up_by=HungUpBy.CUSTOMER,
        raw={"id": call_id, "kind": "cdr"},
        **more,
    )


def missed(call_id: str = "", *, number: str = CALLER, start: datetime | None = None):
    start = start or at(0)
    return CallReport(
        provider="generic",
        call_id=call_id or f"c{next(_ids)}",
        phase=Phase.ENDED,
        direction=Direction.INBOUND,
        line_number=HOTLINE,
        customer_number=number,
        rang_at=start,
        ended_at=start + timedelta(seconds=40),
        wait_seconds=40,
        disposition=Disposition.MISSED_IN_QUEUE,
        status="4",
        raw={"id": call_id, "kind": "cdr", "missed": True, "at": start.isoformat()},
    )


def ringing(call_id: str, **more):
    return replace(
        answered(call_id, **more),
        phase=Phase.RINGING,
        answered_at=None,
        ended_at=None,
        talk_seconds=None,
        disposition=None,
        hung_up_by=HungUpBy.UNKNOWN,
        raw={"ringing": call_id},
    )


def phone_account(team) -> PhoneAccount:
    """A generic phone account of the team's dealer: the two agents at seats 8001 and 8002,
    the 400 line on the hotline channel, callbacks within 30 business minutes."""
    account = PhoneAccount.objects.create(dealer=team.dealer, provider="generic")
    Seat.objects.create(account=account, seat="8001", staff=team.dcc_agent)
    Seat.objects.create(account=account, seat="8002", staff=team.dcc_agent_2)
    Line.objects.create(
        dealer=team.dealer,
        number=HOTLINE,
        kind=LineKind.HOTLINE_400,
        channel=channel(team.dealer, "hotline_400"),
        callback_minutes=30,
    )
    return account
