"""leads.ledger: hash-chained, append-only events; tamper detection by `verify` and by the
`ledger verify` command (`dcc ledger verify`)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from leads import actions, ledger
from leads.models import CallOutcome, Event, EventKind, Lead, TeamKind
from leads.stages import Grade
from tests.factories import channel, make_lead

pytestmark = pytest.mark.django_db

TABLE = Event._meta.db_table


@pytest.fixture
def history(team) -> Lead:
    """A lead with five events: created, touched, called, handed off to the showroom, arrived."""
    lead = make_lead(team.dealer, owner=team.dcc_agent, name="王小明", car_model="S7")
    actions.create_lead(
        dealer=team.dealer,
        phone=lead.customer.phone,
        channel=channel(team.dealer, "douyin"),
        by=None,
        note="又来问价",
    )
    actions.log_call(lead=lead, by=team.dcc_agent, outcome=CallOutcome.REACHED, duration_seconds=60)
    actions.hand_off(lead=lead, by=team.dcc_agent, team=TeamKind.SHOWROOM, note="到店试驾")
    lead.refresh_from_db()
    actions.record_arrival(lead=lead, by=lead.owner)
    lead.refresh_from_db()
    assert lead.last_event_seq == 5
    return lead


@pytest.fixture
def no_triggers() -> Iterator[None]:
    """Triggers dropped for the test, reinstalled after (the test transaction also rolls the
    DDL back on SQLite and PostgreSQL)."""
    ledger.drop_triggers()
    try:
        yield
    finally:
        ledger.install_triggers()


def raw(sql: str, *params) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@contextmanager
def rejected() -> Iterator[None]:
    """The database refuses the change; the savepoint keeps the test transaction usable."""
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        yield


# ---------------------------------------------------------------- the chain


def test_events_are_numbered_and_hash_chained(history):
    events = list(Event.objects.filter(lead=history).order_by("seq"))
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert [e.kind for e in events] == [
        EventKind.CREATED,
        EventKind.TOUCHED,
        EventKind.CALLED,
        EventKind.HANDED_OFF,
        EventKind.ARRIVED,
    ]
    assert events[0].prev_hash == ledger.GENESIS
    for previous, event in itertools.pairwise(events):
        assert event.prev_hash == previous.hash
    assert len({e.hash for e in events}) == 5
    assert all(len(e.hash) == 64 for e in events)
    assert history.last_event_hash == events[-1].hash
    assert all(e.dealer_id == history.dealer_id for e in events)


def test_each_hash_is_the_digest_of_the_event(history):
    for event in Event.objects.filter(lead=history):
        assert event.hash == ledger.event_digest(
            lead_id=event.lead_id,
            seq=event.seq,
            kind=event.kind,
            actor_id=event.actor_id,
            occurred_at=event.occurred_at,
            from_stage=event.from_stage,
            to_stage=event.to_stage,
            from_owner_id=event.from_owner_id,
            to_owner_id=event.to_owner_id,
            reason=event.reason,
            note_seal=event.note_seal,
            data=event.data,
            prev_hash=event.prev_hash,
        )
        # The hash covers the note through its seal.
        assert event.note_seal == ledger.seal(event.note_salt, event.note)


def test_chains_are_per_lead(team):
    first, second = make_lead(team.dealer), make_lead(team.dealer)
    for lead in (first, second):
        created = Event.objects.get(lead=lead)
        assert (created.seq, created.prev_hash) == (1, ledger.GENESIS)
    assert Event.objects.get(lead=first).hash != Event.objects.get(lead=second).hash


def test_verify_passes_on_a_normal_history(history, other_team):
    make_lead(other_team.dealer)
    report = ledger.verify()
    assert report.ok
    assert report.broken == []
    assert (report.leads, report.events) == (2, 6)
    assert ledger.verify(dealer_id=history.dealer_id).events == 5


def test_verify_passes_on_an_empty_ledger(db):
    report = ledger.verify()
    assert report.ok
    assert (report.leads, report.events) == (0, 0)


def test_verify_passes_after_every_kind_of_action(team):
    """Every action appends its event and moves the lead's chain head with it."""
    agent, consultant = team.dcc_agent, team.consultant
    lead = make_lead(team.dealer, owner=agent, car_model="S7")
    later = timezone.now() + timedelta(days=2)
    actions.log_call(lead=lead, by=agent, outcome=CallOutcome.NO_ANSWER)
    actions.log_call(lead=lead, by=agent, outcome=CallOutcome.REACHED, grade=Grade.A)
    actions.set_grade(lead=lead, by=agent, grade=Grade.H, note="急")
    actions.book_appointment(lead=lead, by=agent, appointment_at=later)
    actions.book_appointment(lead=lead, by=agent, appointment_at=later + timedelta(hours=2))
    actions.cancel_appointment(lead=lead, by=agent)
    actions.reveal_phone(lead=lead, by=team.dcc_supervisor)
    actions.request_defeat(lead=lead, by=agent, reason="price")
    actions.reject_defeat(lead=lead, by=team.dcc_supervisor)
    actions.hand_off(lead=lead, by=agent, to=consultant)
    actions.record_arrival(lead=lead, by=consultant)
    actions.record_test_drive(lead=lead, by=consultant)
    actions.record_quote(lead=lead, by=consultant, amount=Decimal("189000.50"))
    actions.record_order(lead=lead, by=consultant, amount=Decimal("188000"))
    actions.record_delivery(lead=lead, by=consultant)
    other = make_lead(team.dealer, owner=agent)
    actions.log_call(lead=other, by=agent, outcome=CallOutcome.REACHED)
    actions.request_defeat(lead=other, by=agent, reason="bought_competitor")
    actions.approve_defeat(lead=other, by=team.dcc_supervisor)
    actions.reactivate_lead(lead=other, by=team.dcc_supervisor)

    for each in (lead, other):
        each.refresh_from_db()
        seqs = list(each.events.order_by("seq").values_list("seq", flat=True))
        assert seqs == list(range(1, each.last_event_seq + 1))
        assert each.last_event_hash == each.events.get(seq=each.last_event_seq).hash
    assert lead.last_event_seq == 17  # the graded call writes two events
    report = ledger.verify()
    assert report.ok, report.broken
    assert report.events == lead.last_event_seq + other.last_event_seq


# ---------------------------------------------------------------- append-only in the database


def test_orm_update_of_an_event_is_rejected(history):
    event = Event.objects.get(lead=history, seq=2)
    with rejected():
        Event.objects.filter(pk=event.pk).update(note="改过")
    event.note = "改过"
    with rejected():
        event.save()
    assert Event.objects.get(pk=event.pk).note == "又来问价"


def test_orm_delete_of_an_event_is_rejected(history):
    event = Event.objects.get(lead=history, seq=5)
    with rejected():
        Event.objects.filter(pk=event.pk).delete()
    with rejected():
        event.delete()
    assert Event.objects.filter(lead=history).count() == 5


def test_raw_sql_update_and_delete_are_rejected(history):
    event = Event.objects.get(lead=history, seq=3)
    with rejected():
        raw(f"UPDATE {TABLE} SET note = %s WHERE id = %s", "改过", event.pk)
    with rejected():
        raw(f"UPDATE {TABLE} SET hash = %s", "0" * 64)
    with rejected():
        raw(f"DELETE FROM {TABLE} WHERE id = %s", event.pk)
    with rejected():
        raw(f"DELETE FROM {TABLE}")
    assert Event.objects.filter(lead=history).count() == 5
    assert ledger.verify().ok


# ---------------------------------------------------------------- tamper detection


def test_verify_names_the_first_broken_link_after_an_edit(history, team, no_triggers):
    untouched = make_lead(team.dealer)
    tampered = Event.objects.get(lead=history, seq=2)
    raw(f"UPDATE {TABLE} SET note = %s WHERE id = %s", "客户没来过", tampered.pk)

    report = ledger.verify()
    assert not report.ok
    assert len(report.broken) == 1
    link = report.broken[0]
    assert (link.lead_id, link.seq, link.event_id) == (history.pk, 2, tampered.pk)
    assert "seal" in link.problem
    assert untouched.pk not in {b.lead_id for b in report.broken}
    assert ledger.verify(dealer_id=team.dealer.pk).broken == report.broken


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("kind", EventKind.ARRIVED),
        ("reason", "claim"),
        ("to_stage", "ordered"),
        ("prev_hash", "f" * 64),
        ("hash", "e" * 64),
    ],
)
def test_verify_detects_an_edit_of_any_recorded_field(history, no_triggers, column, value):
    tampered = Event.objects.get(lead=history, seq=4)
    raw(f"UPDATE {TABLE} SET {column} = %s WHERE id = %s", str(value), tampered.pk)
    broken = ledger.verify().broken
    assert [(b.lead_id, b.seq) for b in broken] == [(history.pk, 4)]


def test_verify_detects_a_changed_owner(history, team, no_triggers):
    handoff = Event.objects.get(lead=history, kind=EventKind.HANDED_OFF)
    raw(f"UPDATE {TABLE} SET to_owner_id = %s WHERE id = %s", team.dcc_agent_2.pk, handoff.pk)
    broken = ledger.verify().broken
    assert [(b.lead_id, b.seq) for b in broken] == [(history.pk, handoff.seq)]


def test_verify_detects_deleting_the_last_event(history, no_triggers):
    last = Event.objects.get(lead=history, seq=5)
    raw(f"DELETE FROM {TABLE} WHERE id = %s", last.pk)
    broken = ledger.verify().broken
    assert len(broken) == 1
    assert (broken[0].lead_id, broken[0].seq) == (history.pk, 5)
    assert "missing" in broken[0].problem


def test_verify_detects_deleting_an_event_in_the_middle(history, no_triggers):
    raw(f"DELETE FROM {TABLE} WHERE lead_id = %s AND seq = %s", history.pk, 3)
    broken = ledger.verify().broken
    assert [(b.lead_id, b.seq) for b in broken] == [(history.pk, 3)]
    assert "missing" in broken[0].problem


def test_verify_detects_deleting_every_event_of_a_lead(history, no_triggers):
    raw(f"DELETE FROM {TABLE} WHERE lead_id = %s", history.pk)
    broken = ledger.verify().broken
    assert [(b.lead_id, b.seq) for b in broken] == [(history.pk, 1)]


def test_verify_reports_each_broken_lead_once(team, no_triggers):
    leads = [make_lead(team.dealer) for _ in range(3)]
    for lead in (leads[2], leads[0]):
        raw(f"UPDATE {TABLE} SET note = %s WHERE lead_id = %s", "x", lead.pk)
    broken = ledger.verify().broken
    assert [(b.lead_id, b.seq) for b in broken] == [(leads[0].pk, 1), (leads[2].pk, 1)]


def test_triggers_are_back_after_a_test_that_dropped_them(history):
    """Runs after the tests above: their dropped triggers must not leak into this one."""
    event = Event.objects.get(lead=history, seq=1)
    with rejected():
        raw(f"UPDATE {TABLE} SET note = %s WHERE id = %s", "x", event.pk)
    with rejected():
        Event.objects.filter(pk=event.pk).delete()


def test_drop_and_reinstall_within_one_test(history):
    event = Event.objects.get(lead=history, seq=1)
    ledger.drop_triggers()
    try:
        Event.objects.filter(pk=event.pk).update(note="maintenance")
    finally:
        ledger.install_triggers()
    with rejected():
        Event.objects.filter(pk=event.pk).update(note="again")
    # Installing twice is harmless.
    ledger.install_triggers()
    with rejected():
        Event.objects.filter(pk=event.pk).delete()


# ---------------------------------------------------------------- the command


def run_verify(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("ledger", "verify", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_command_prints_ok_when_sound(history):
    out, err = run_verify()
    assert out.startswith("OK")
    assert "5 events of 1 leads" in out
    assert err == ""


def test_command_fails_naming_the_lead_when_broken(history, team, no_triggers):
    make_lead(team.dealer)
    tampered = Event.objects.get(lead=history, seq=2)
    raw(f"UPDATE {TABLE} SET note = %s WHERE id = %s", "客户没来过", tampered.pk)
    err = StringIO()
    with pytest.raises(CommandError, match="1 broken chain"):
        call_command("ledger", "verify", stdout=StringIO(), stderr=err)
    report = err.getvalue()
    assert f"lead {history.pk}, event #2 (event id {tampered.pk})" in report
    assert report.count("BROKEN") == 1


def test_command_for_one_dealer(history, other_team, no_triggers):
    other = make_lead(other_team.dealer)
    raw(f"UPDATE {TABLE} SET note = %s WHERE lead_id = %s", "x", other.pk)
    out, _err = run_verify("--dealer", history.dealer.code)
    assert out.startswith("OK")
    err = StringIO()
    with pytest.raises(CommandError):
        call_command(
            "ledger", "verify", "--dealer", other_team.dealer.code, stdout=StringIO(), stderr=err
        )
    assert f"lead {other.pk}" in err.getvalue()


def test_command_rejects_an_unknown_dealer(db):
    with pytest.raises(CommandError, match="Unknown dealer"):
        run_verify("--dealer", "NOPE")
