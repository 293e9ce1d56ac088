"""Owner operations' fixtures: a customer who bought and took delivery."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from leads import actions
from leads.models import Lead
from owners.models import Vehicle
from tests.factories import fresh_mobile


def deliver(
    team,
    *,
    at: datetime | None = None,
    phone: str | None = None,
    executor=actions,
    car_model: str = "Model Y",
) -> Lead:
    """A walk-in who orders and takes delivery at `at` (default: an hour ago), through the
    real actions (or a Batch as `executor`)."""
    at = at or timezone.now() - timedelta(hours=1)
    start = at - timedelta(minutes=2)
    lead = executor.check_in_visitor(
        dealer=team.dealer,
        phone=phone or fresh_mobile(),
        by=team.consultant,
        name="王先生",
        at=start,
    )
    lead = executor.record_order(
        lead=lead, by=team.consultant, car_model=car_model, at=start + timedelta(minutes=1)
    )
    return executor.record_delivery(lead=lead, by=team.consultant, at=at)


@pytest.fixture
def delivered(team) -> Lead:
    return deliver(team)


@pytest.fixture
def vehicle(team, delivered) -> Vehicle:
    return Vehicle.objects.get(lead=delivered)
