"""Real concurrent transactions (threads, each with its own database connection): two agents
claiming one pool lead, two handoffs of one version, enquiries racing for one new mobile, for
a returning customer and with one external id; requests answered while a check, a rebuild or
a long write runs. SQLite (file database, IMMEDIATE transactions) and PostgreSQL alike."""

from __future__ import annotations

import contextlib
import io
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from accounts.models import ApiToken, Staff
from dcc.errors import Conflict
from leads import actions, checkpoints, ledger, tallies
from leads.models import CallOutcome, Customer, DailyTally, Event, EventKind, Lead, Task, TaskKind
from tests.factories import channel, fresh_mobile, make_lead
from tests.kit import login

pytestmark = pytest.mark.usefixtures("transactional_ledger")

ROUNDS = 3


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


# ---------------------------------------------------- checks never take the product down


def in_background(call: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    """Start `call` in a thread of its own (own connection); its result or error lands in the
    list returned."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(call())
        except Exception as error:  # judged by the test
            outcome.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def timed_read(client) -> tuple[int, float]:
    started = time.monotonic()
    response = client.get("/api/v1/leads")
    return response.status_code, time.monotonic() - started


def test_a_read_api_call_answers_at_once_while_the_tallies_check_of_a_dealer_runs(
    team, monkeypatch
):
    """The check reads only: a client's request (whose token notes its use) neither waits
    for it nor fails with "database is locked"."""
    for _ in range(3):
        make_lead(team.dealer, owner=team.dcc_agent)
    client = login(team.platform_specialist, token=True)
    checking, answered = threading.Event(), threading.Event()
    counted = tallies.contributions

    def held(values):  # the check stops half-way until the request has been answered
        checking.set()
        answered.wait(timeout=30)
        return counted(values)

    monkeypatch.setattr(tallies, "contributions", held)
    out = io.StringIO()
    check, outcome = in_background(
        lambda: call_command("ledger", "tallies", "--dealer", team.dealer.code, stdout=out)
    )
    try:
        assert checking.wait(timeout=10), "the check did not start"
        status, took = timed_read(client)
    finally:
        answered.set()
        check.join(timeout=60)
    assert status == 200 and took < 5, (status, took)
    assert outcome == [None] and out.getvalue().startswith("OK"), outcome
    assert ApiToken.objects.get(staff=team.platform_specialist).last_used_at is not None


def test_a_read_api_call_does_not_wait_for_a_writer_to_note_its_token(team, fixed_clock):
    """A long write (an import's batch, a rebuild) holds SQLite's write lock: a read
    request answers at once and leaves the note of its token's use for a later request."""
    lead = make_lead(team.dealer, owner=team.dcc_agent)
    client = login(team.platform_specialist, token=True)
    writing, done = threading.Event(), threading.Event()

    def long_write() -> None:
        with transaction.atomic():
            Lead.objects.filter(pk=lead.pk).update(car_model="being written")
            writing.set()
            done.wait(timeout=30)

    writer, _outcome = in_background(long_write)
    try:
        assert writing.wait(timeout=10), "the writer did not start"
        status, took = timed_read(client)
    finally:
        done.set()
        writer.join(timeout=60)
    assert status == 200 and took < 5, (status, took)
    token = ApiToken.objects.get(staff=team.platform_specialist)
    if connection.vendor == "sqlite":
        assert token.last_used_at is None  # left for a later request
    assert client.get("/api/v1/leads").status_code == 200
    token.refresh_from_db()
    noted = token.last_used_at
    assert noted is not None
    # Noted at most every few minutes: most requests write nothing.
    fixed_clock.shift(timedelta(minutes=2))
    client.get("/api/v1/leads")
    token.refresh_from_db()
    assert token.last_used_at == noted
    fixed_clock.shift(timedelta(minutes=4))
    client.get("/api/v1/leads")
    token.refresh_from_db()
    assert token.last_used_at > noted


def test_a_tallies_rebuild_lets_other_writers_in_between_dealers(team, other_team, monkeypatch):
    """A rebuild writes one dealer (or batch of leads) per transaction: an action taken
    meanwhile goes through, and is counted."""
    lead = make_lead(team.dealer, owner=team.dcc_agent)
    make_lead(other_team.dealer, owner=other_team.dcc_agent)
    between, acted = threading.Event(), threading.Event()
    dealers_started: list[int] = []
    real = tallies._from_ledger

    def next_dealer(event_model):
        dealers_started.append(1)
        if len(dealers_started) == 2:  # the first dealer is written and committed
            between.set()
            acted.wait(timeout=30)
        return real(event_model)

    monkeypatch.setattr(tallies, "_from_ledger", next_dealer)
    out = io.StringIO()
    rebuild, outcome = in_background(
        lambda: call_command("ledger", "tallies", "--rebuild", stdout=out)
    )
    try:
        assert between.wait(timeout=10), "the rebuild did not reach the second dealer"
        agent = fresh(team.dcc_agent)
        started = time.monotonic()
        actions.log_call(lead=Lead.objects.get(pk=lead.pk), by=agent, outcome=CallOutcome.REACHED)
        took = time.monotonic() - started
    finally:
        acted.set()
        rebuild.join(timeout=60)
    assert took < 5, took
    assert outcome == [None] and "Rebuilt from the ledger: 2 leads" in out.getvalue()
    assert tallies.drift([team.dealer.pk, other_team.dealer.pk]) == []
    assert DailyTally.objects.filter(dealer=team.dealer, contacted=1).exists()


def test_ledger_verify_reads_one_view_while_leads_are_worked(team, monkeypatch):
    """An agent logs a call while the chains are checked: the check neither waits for it
    nor takes the lead's new event for a broken chain."""
    lead = make_lead(team.dealer, owner=team.dcc_agent)
    agent = fresh(team.dcc_agent)
    read_chains = ledger._chains

    def chains_after_a_call(dealer_id):  # the heads are read; the chains are next
        call = lambda: actions.log_call(  # noqa: E731
            lead=Lead.objects.get(pk=lead.pk), by=agent, outcome=CallOutcome.REACHED
        )
        thread, outcome = in_background(call)
        thread.join(timeout=30)
        assert outcome and not isinstance(outcome[0], Exception), outcome
        return read_chains(dealer_id)

    monkeypatch.setattr(ledger, "_chains", chains_after_a_call)
    report = ledger.verify()
    assert report.ok, report.broken
    monkeypatch.setattr(ledger, "_chains", read_chains)
    after = ledger.verify()
    assert after.ok and after.events == report.events + 1


# ---------------------------------------------------------------- ledger checkpoints


def test_two_checkpoints_at_once_follow_one_another_while_a_lead_is_worked(team):
    """Two ticks taking the dealer's checkpoint together: #1 and #2, chained, neither refused;
    a call logged meanwhile is not held up by them and verifies against both."""
    lead = make_lead(team.dealer, owner=team.dcc_agent)
    agent = fresh(team.dcc_agent)
    outcomes = race(
        lambda: checkpoints.make(team.dealer.pk).checkpoint.seq,
        lambda: checkpoints.make(team.dealer.pk).checkpoint.seq,
        lambda: actions.log_call(
            lead=Lead.objects.get(pk=lead.pk), by=agent, outcome=CallOutcome.REACHED
        ),
    )
    assert [kind for kind, _ in outcomes] == ["ok", "ok", "ok"], outcomes
    assert sorted(seq for _kind, seq in outcomes[:2]) == [1, 2]
    report = checkpoints.verify()
    assert report.ok and report.checkpoints == 2, (report.broken, report.checkpoint_problems)
