"""The call center's fixtures: a dealer's phone account with two seats and its 400 line, and
the fake provider API on 127.0.0.1 (tests/calls/fake_provider.py)."""

from __future__ import annotations

import pytest

from calls.models import Line, LineKind, PhoneAccount, Seat
from tests.calls.fake_provider import fake_provider
from tests.calls.reports import HOTLINE
from tests.factories import channel


@pytest.fixture
def account(team) -> PhoneAccount:
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


__all__ = ["account", "fake_provider"]
