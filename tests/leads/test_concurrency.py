"""Real concurrent transactions (threads, each with its own database connection): two agents
claiming one pool lead, two handoffs of one version, enquiries racing for one new mobile, for
a returning customer and with one external id. SQLite (file database, IMMEDIATE
transactions) and PostgreSQL alike."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from accounts.models import Staff
from dcc.errors import Conflict
from leads import actions, ledger
from leads.models import Customer, Event, EventKind, Lead, Task, TaskKind
from tests.factories import channel, fresh_mobile, make_lead

pytestmark = pytest.mark.usefixtures("transactional_ledger")

ROUNDS = 3


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def race(*calls: Callable[[], Any]) -> list[tuple[str, Any]]:
    """Run the calls in threads released together by a barrier; return ("ok", result) or
    ("error", exception) per call, in the order given."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[tuple[str, Any] | None] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[index] = ("ok", call())
        except Exception as error:  # collected, judged by the test
            outcomes[index] = ("error", error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a racer hung"
    return [outcome for outcome in outcomes if outcome is not None]


def split(outcomes: list[tuple[str, Any]]) -> tuple[list[Any], list[Exception]]:
    return (
        [value for kind, value in outcomes if kind == "ok"],
        [value for kind, value in outcomes if kind == "error"],
    )


def reraise_unexpected(failed: list[Exception], *expected: type[Exception]) -> None:
    for error in failed:
        if not isinstance(error, expected):
            raise error


@pytest.fixture
def overlap(monkeypatch):
    """`overlap(n)`: on PostgreSQL, hold each of n racers after it has found or made the
    customer until all have, so their transactions surely overlap past the point where
    they looked for an open lead or an external id. On SQLite there is nothing to force:
    IMMEDIATE transactions queue writers at BEGIN."""

    def install(parties: int) -> None:
        if connection.vendor != "postgresql":
            return
        gate = threading.Barrier(parties)
        real = actions._customer

        def held(*args, **kwargs):
            customer = real(*args, **kwargs)
            with contextlib.suppress(threading.BrokenBarrierError):
                gate.wait(timeout=5)
            return customer

        monkeypatch.setattr(actions, "_customer", held)

    return install


def fresh(staff: Staff) -> Staff:
    """Each thread gets its own instance (roles are cached per instance)."""
    return Staff.objects.get(pk=staff.pk)


# ---------------------------------------------------------------- claiming from the pool


@pytest.mark.parametrize("attempt", range(ROUNDS))
def test_two_concurrent_claims_exactly_one_wins(team, attempt):
    pool_lead = make_lead(team.dealer, owner=team.dcc_supervisor)
    first, second = fresh(team.dcc_agent), fresh(team.dcc_agent_2)

    outcomes = race(
        lambda: actions.claim_lead(lead=Lead.objects.get(pk=pool_lead.pk), by=first),
        lambda: actions.claim_lead(lead=Lead.objects.get(pk=pool_lead.pk), by=second),
    )

    won, failed = split(outcomes)
    reraise_unexpected(failed, Conflict)
    assert len(won) == 1, outcomes
    assert len(failed) == 1, outcomes
    assert failed[0].code == "already_claimed"
    winner = won[0].owner_id
    assert winner in {first.pk, second.pk}
    lead = Lead.objects.get(pk=pool_lead.pk)
    assert lead.owner_id == winner
    moves = list(lead.events.filter(kind=EventKind.HANDED_OFF))
    assert len(moves) == 1
    assert (moves[0].from_owner_id, moves[0].to_owner_id) == (team.dcc_supervisor.pk, winner)
    assert lead.version == 1
    assert ledger.verify().ok


# ---------------------------------------------------------------- one handoff per version


@pytest.mark.parametrize("attempt", range(ROUNDS))
def test_two_concurrent_handoffs_of_one_version_exactly_one_wins(team, attempt):
    lead = make_lead(team.dealer, owner=team.dcc_agent)
    version = Lead.objects.get(pk=lead.pk).version
    supervisor, manager = fresh(team.dcc_supervisor), fresh(team.sales_manager)

    outcomes = race(
        lambda: actions.hand_off(
            lead=Lead.objects.get(pk=lead.pk),
            by=supervisor,
            to=team.consultant,
            expected_version=version,
        ),
        lambda: actions.hand_off(
            lead=Lead.objects.get(pk=lead.pk),
            by=manager,
            to=team.consultant_2,
            expected_version=version,
        ),
    )

    won, failed = split(outcomes)
    assert len(won) == 1, outcomes
    assert len(failed) == 1, outcomes
    assert isinstance(failed[0], Conflict)
    assert failed[0].code == "stale_version"
    lead.refresh_from_db()
    assert lead.owner_id == won[0].owner_id
    assert lead.version == version + 1
    moves = list(lead.events.filter(kind=EventKind.HANDED_OFF))
    assert len(moves) == 1
    assert moves[0].to_owner_id == lead.owner_id
    assert ledger.verify().ok


# ---------------------------------------------------------------- one new mobile, twice


@pytest.mark.parametrize("attempt", range(ROUNDS))
def test_two_concurrent_enquiries_for_one_new_mobile_make_one_lead(team, attempt):
    mobile = fresh_mobile()
    autohome, douyin = channel(team.dealer, "autohome"), channel(team.dealer, "douyin")

    def enquire(via):
        return actions.create_lead(dealer=team.dealer, phone=mobile, channel=via, by=None)

    outcomes = race(lambda: enquire(autohome), lambda: enquire(douyin))

    won, failed = split(outcomes)
    assert failed == [], outcomes
    assert sorted(str(intake.outcome) for intake in won) == ["created", "touched"]
    assert won[0].lead.pk == won[1].lead.pk
    assert Customer.objects.filter(dealer=team.dealer, phone=mobile).count() == 1
    lead = Lead.objects.get(customer__phone=mobile)
    assert lead.touch_count == 1
    kinds = list(Event.objects.filter(lead=lead).order_by("seq").values_list("kind", "seq"))
    assert kinds == [(EventKind.CREATED, 1), (EventKind.TOUCHED, 2)]
    assert Task.objects.filter(lead=lead, kind=TaskKind.FIRST_CALL).count() == 1
    assert ledger.verify().ok


def test_many_concurrent_enquiries_for_one_new_mobile_make_one_lead(team):
    mobile = fresh_mobile()
    via = channel(team.dealer, "autohome")
    racers = 5

    outcomes = race(
        *[
            lambda: actions.create_lead(dealer=team.dealer, phone=mobile, channel=via, by=None)
            for _ in range(racers)
        ]
    )

    won, failed = split(outcomes)
    assert failed == [], outcomes
    assert sorted(str(intake.outcome) for intake in won) == ["created"] + ["touched"] * (racers - 1)
    lead = Lead.objects.get(customer__phone=mobile)
    assert lead.touch_count == racers - 1
    assert list(lead.events.order_by("seq").values_list("seq", flat=True)) == list(
        range(1, racers + 1)
    )
    assert ledger.verify().ok


def test_two_concurrent_enquiries_from_a_returning_customer_make_one_new_lead(team, overlap):
    """The customer exists (their last lead is closed), so nothing serialises the racers
    before the lead insert: the one-open-lead constraint decides, the loser touches."""
    mobile = fresh_mobile()
    old = make_lead(team.dealer, phone=mobile, owner=team.dcc_agent)
    actions.invalidate_lead(lead=old, by=team.dcc_agent, reason="no_intent")
    autohome, douyin = channel(team.dealer, "autohome"), channel(team.dealer, "douyin")
    overlap(2)

    def enquire(via):
        return actions.create_lead(dealer=team.dealer, phone=mobile, channel=via, by=None)

    outcomes = race(lambda: enquire(autohome), lambda: enquire(douyin))

    won, failed = split(outcomes)
    assert failed == [], outcomes
    assert sorted(str(intake.outcome) for intake in won) == ["created", "touched"]
    assert won[0].lead.pk == won[1].lead.pk != old.pk
    assert Customer.objects.filter(dealer=team.dealer, phone=mobile).count() == 1
    new = Lead.objects.get(customer__phone=mobile, stage="new")
    assert new.touch_count == 1
    assert list(new.events.order_by("seq").values_list("kind", flat=True)) == [
        EventKind.CREATED,
        EventKind.TOUCHED,
    ]
    assert Lead.objects.filter(customer__phone=mobile).count() == 2
    assert ledger.verify().ok


def test_two_concurrent_deliveries_of_one_external_id_make_one_lead(team, overlap):
    """A platform webhook retried while the first delivery is still being written (the
    number differs, e.g. re-typed): one lead, the other answer is DUPLICATE."""
    via = channel(team.dealer, "autohome")
    overlap(2)

    def deliver(mobile):
        return actions.create_lead(
            dealer=team.dealer, phone=mobile, channel=via, by=None, external_id="AH-RETRY-1"
        )

    first_mobile, second_mobile = fresh_mobile(), fresh_mobile()
    outcomes = race(lambda: deliver(first_mobile), lambda: deliver(second_mobile))

    won, failed = split(outcomes)
    reraise_unexpected(failed)
    assert sorted(str(intake.outcome) for intake in won) == ["created", "duplicate"]
    assert won[0].lead.pk == won[1].lead.pk
    lead = Lead.objects.get(external_id="AH-RETRY-1")
    assert lead.events.count() == 1
    assert ledger.verify().ok
