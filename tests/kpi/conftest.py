"""Shared by the measurement tests: a dealer's spring of leads."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from leads import actions
from tests.factories import make_lead

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def spring(team):
    """March to May 2026: 20 leads, 10 booked, 8 arrived, 2 ordered. June so far: 3 leads,
    1 arrival."""

    def at(month: int, day: int) -> datetime:
        return datetime(2026, month, day, 10, tzinfo=SHANGHAI)

    gm = team.gm
    for n in range(20):
        lead = make_lead(team.dealer, by=gm, owner=team.dcc_agent, at=at(3 + n % 3, 2 + n))
        if n < 10:
            lead = actions.book_appointment(
                lead=lead, by=gm, appointment_at=at(3 + n % 3, 3 + n), at=at(3 + n % 3, 2 + n)
            )
        if n < 8:
            lead = actions.record_arrival(lead=lead, by=gm, at=at(3 + n % 3, 3 + n))
        if n < 2:
            actions.record_order(lead=lead, by=gm, at=at(3 + n % 3, 4 + n))
    for n in range(3):
        lead = make_lead(team.dealer, by=gm, owner=team.dcc_agent, at=at(6, 1 + n))
        if n == 0:
            actions.record_arrival(lead=lead, by=gm, at=at(6, 10))
