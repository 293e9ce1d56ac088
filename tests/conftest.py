"""Shared fixtures: a fixed clock, a dealer with one person per role, another dealer.
Signing in and checking what an action recorded: tests.kit."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection

from accounts.models import Dealer, Membership, Staff
from accounts.roles import Role
from leads import ledger
from leads.models import Checkpoint, CheckpointHead, Event
from tests.factories import DealerFactory, member

# Every test runs against this clock (a Wednesday mid-month, in business hours, Shanghai),
# ticking from there, so that the suite gives the same answer on any day at any hour.
# `DCC_TEST_NOW=2026-12-06T03:00+08:00 make test` runs the whole suite at another instant.
FIXED_NOW = datetime.fromisoformat(os.environ.get("DCC_TEST_NOW", "2026-11-18T10:00:00+08:00"))


def pytest_configure(config: pytest.Config) -> None:
    # Also during collection, for constants computed when a test module is imported.
    time_machine.travel(FIXED_NOW, tick=True).start()


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    """Counters in the cache (sign-in and webhook throttles) outlive a test's database and,
    with the clock set back for each test, would never expire: each test starts without."""
    cache.clear()


@pytest.fixture
def same_salts(monkeypatch) -> None:
    """Notes' salts made from the note itself, for tests that compare two worlds written the
    same way event for event, hashes included (real salts are random: leads.ledger)."""
    monkeypatch.setattr(
        ledger, "new_salt", lambda note: hashlib.sha256(note.encode()).hexdigest()[:32]
    )


@pytest.fixture(autouse=True)
def fixed_clock() -> Iterator[time_machine.Traveller]:
    """Each test starts at FIXED_NOW; `fixed_clock.move_to(...)` moves it."""
    with time_machine.travel(FIXED_NOW, tick=True) as traveller:
        yield traveller


# Instants where calendars go wrong: each weekday, the ends of a month and a year, and the
# early hours in Shanghai when the UTC date is still yesterday. A test that depends on the
# day takes the `calendar_day` fixture and runs at each of them.
CALENDAR_INSTANTS = {
    "monday": "2026-11-16T10:00:00+08:00",
    "tuesday": "2026-11-17T10:00:00+08:00",
    "wednesday": "2026-11-18T10:00:00+08:00",
    "thursday": "2026-11-19T10:00:00+08:00",
    "friday": "2026-11-20T10:00:00+08:00",
    "saturday": "2026-11-21T10:00:00+08:00",
    "sunday": "2026-11-22T10:00:00+08:00",
    "month_end": "2026-11-30T23:30:00+08:00",
    "month_start_early": "2026-12-01T00:30:00+08:00",
    "sunday_early": "2026-12-06T04:30:00+08:00",
    "year_end": "2026-12-31T23:30:00+08:00",
    "new_year_early": "2027-01-01T07:59:00+08:00",
    "leap_day": "2028-02-29T12:00:00+08:00",
}


# Tests about intervals rather than hours (follow-up by grade, an SLA of minutes) run in the
# dealer's business hours, whatever DCC_TEST_NOW says: they ask for `office_hours`.
OFFICE_HOURS_NOW = datetime.fromisoformat("2026-11-18T10:00:00+08:00")


@pytest.fixture
def office_hours(fixed_clock: time_machine.Traveller) -> datetime:
    fixed_clock.move_to(OFFICE_HOURS_NOW)
    return OFFICE_HOURS_NOW


@pytest.fixture(params=list(CALENDAR_INSTANTS))
def calendar_day(request, fixed_clock: time_machine.Traveller) -> datetime:
    """Moves the clock to each instant of CALENDAR_INSTANTS in turn; returns it."""
    instant = datetime.fromisoformat(CALENDAR_INSTANTS[request.param])
    fixed_clock.move_to(instant)
    return instant


@dataclass
class Team:
    """One person per role at a dealer (plus a second agent and consultant)."""

    dealer: Dealer
    gm: Staff
    sales_manager: Staff
    marketing_manager: Staff
    platform_specialist: Staff
    dcc_supervisor: Staff
    dcc_agent: Staff
    dcc_agent_2: Staff
    showroom_manager: Staff
    consultant: Staff
    consultant_2: Staff
    owner_ops: Staff
    auditor: Staff
    headquarters: Staff

    def by_role(self, role: Role) -> Staff:
        return getattr(self, str(role))


def build_team(dealer: Dealer) -> Team:
    people = {str(role): member(dealer, role) for role in Role}
    people["dcc_agent_2"] = member(dealer, Role.DCC_AGENT)
    people["consultant_2"] = member(dealer, Role.CONSULTANT)
    return Team(dealer=dealer, **people)


# The staff factories hash a password per person; the production hasher is slow on purpose.
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fast_passwords(settings) -> None:
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture(autouse=True)
def ledger_key(settings) -> str:
    """Checkpoints are signed with a test key (HMAC), not a key file in var/."""
    settings.DCC_LEDGER_KEY = "test ledger key"
    settings.DCC_LEDGER_SIGNING_KEY = ""
    settings.DCC_LEDGER_PUBLIC_KEYS = []
    return settings.DCC_LEDGER_KEY


@pytest.fixture(autouse=True)
def english(settings) -> None:
    """Tests read the English source strings; the Chinese default has its own tests, which
    set LANGUAGE_CODE back to zh-hans."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def dealer(db) -> Dealer:
    return DealerFactory()


@pytest.fixture
def team(dealer: Dealer) -> Team:
    return build_team(dealer)


@pytest.fixture
def other_team(db) -> Team:
    """A second dealer of the same brand with its own staff; its headquarters user is also
    granted the first dealer only if a test says so."""
    return build_team(DealerFactory())


@pytest.fixture
def transactional_ledger(transactional_db):
    """For tests with real concurrent transactions: after the test, empty the append-only
    ledger and its checkpoints with their triggers briefly dropped, so the database flush can
    run."""
    yield
    ledger.drop_triggers(connection)
    Event.objects.all().delete()
    CheckpointHead.objects.all().delete()
    Checkpoint.objects.all().delete()
    ledger.install_triggers(connection)


def grant(staff: Staff, dealer: Dealer, role: Role) -> None:
    Membership.objects.get_or_create(staff=staff, dealer=dealer, role=role)
