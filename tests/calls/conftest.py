"""The call center's fixtures: a dealer's phone account with two seats and its 400 line, and
the fake provider API on 127.0.0.1 (tests/calls/fake_provider.py)."""

from __future__ import annotations

import pytest

from calls.models import PhoneAccount
from tests.calls.fake_provider import fake_provider
from tests.calls.reports import phone_account


@pytest.fixture
def account(team) -> PhoneAccount:
    return phone_account(team)


__all__ = ["account", "fake_provider"]
