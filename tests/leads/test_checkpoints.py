"""leads.checkpoints: the chain heads anchored by signed checkpoints, so that `verify` names a
lead whose events were deleted or rewritten, even with every hash recomputed after it and the
lead's chain head set back (the triggers dropped by someone with the database in hand)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Iterator
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, transaction
from django.utils import timezone

from leads import actions, checkpoints, ledger, signing
from leads.models import (
    CallOutcome,
    Checkpoint,
    CheckpointHead,
    Customer,
    Event,
    Lead,
    Task,
    TeamKind,
)
from privacy import rights
from tests.factories import make_lead
from tests.leads.test_ledger import raw

pytestmark = pytest.mark.django_db

EVENTS = Event._meta.db_table
LEADS = Lead._meta.db_table
CHECKPOINTS = Checkpoint._meta.db_table
HEADS = CheckpointHead._meta.db_table


@pytest.fixture
def lead(team) -> Lead:
    """A lead with five events: created, touched, called, handed off, arrived."""
    lead = make_lead(team.dealer, owner=team.dcc_agent, name="王小明", car_model="S7")
    actions.create_lead(
        dealer=team.dealer, phone=lead.customer.phone, channel=lead.channel, by=None, note="问价"
    )
    call(lead, CallOutcome.REACHED)
    actions.hand_off(lead=lead, by=team.dcc_agent, team=TeamKind.SHOWROOM, note="到店试驾")
    lead.refresh_from_db()
    actions.record_arrival(lead=lead, by=lead.owner)
    lead.refresh_from_db()
    assert lead.last_event_seq == 5
    return lead


@pytest.fixture
def bystander(team) -> Lead:
    """Another lead of the dealer, never tampered with: never named."""
    return make_lead(team.dealer)


@pytest.fixture
def no_triggers() -> Iterator[None]:
    ledger.drop_triggers()
    try:
        yield
    finally:
        ledger.install_triggers()


def call(lead: Lead, outcome: str = CallOutcome.NO_ANSWER) -> None:
    """One more event on the lead: a call by whoever owns it now."""
    lead.refresh_from_db()
    actions.log_call(lead=lead, by=lead.owner, outcome=outcome)


def rehash(lead_id: int) -> None:
    """What someone with the database and this code can do: recompute every hash of the
    lead's chain as it now stands (renumbered from 1) and set its recorded head to match."""
    prev = ledger.GENESIS
    for seq, event in enumerate(Event.objects.filter(lead_id=lead_id).order_by("seq"), start=1):
        event.seq, event.prev_hash = seq, prev
        event.hash = ledger.digest_of(event)
        Event.objects.filter(pk=event.pk).update(seq=seq, prev_hash=prev, hash=event.hash)
        prev = event.hash
    Lead.objects.filter(pk=lead_id).update(last_event_seq=seq, last_event_hash=prev)


def broken(**kwargs) -> list[tuple[int, int]]:
    report = checkpoints.verify(**kwargs)
    return [(link.lead_id, link.seq) for link in report.broken]


def problem_of(lead_id: int) -> str:
    (link,) = [b for b in checkpoints.verify().broken if b.lead_id == lead_id]
    return link.problem


# ---------------------------------------------------------------- taking checkpoints


def test_a_checkpoint_signs_the_root_over_every_lead_head(lead, bystander, ledger_key):
    made = checkpoints.make(lead.dealer_id)
    taken = made.checkpoint
    bystander.refresh_from_db()
    leaves = [(lead.pk, 5, lead.last_event_hash), (bystander.pk, 1, bystander.last_event_hash)]
    assert (taken.seq, taken.leaf_count, made.changed) == (1, 2, 2)
    assert taken.root == checkpoints.merkle_root(leaves)
    assert taken.prev_hash == ledger.GENESIS
    assert taken.algorithm == signing.HMAC_SHA256
    expected = hmac.new(ledger_key.encode(), taken.hash.encode(), hashlib.sha256).hexdigest()
    assert taken.signature == expected
    assert ledger_key not in taken.key_id  # named, not given away
    heads = set(CheckpointHead.objects.values_list("lead_id", "seq", "hash"))
    assert heads == set(leaves)


def test_the_next_checkpoint_keeps_only_what_changed_and_follows_the_last(lead, bystander, team):
    first = checkpoints.make(lead.dealer_id).checkpoint
    call(lead, CallOutcome.NO_ANSWER)
    made = checkpoints.make(lead.dealer_id)
    assert (made.checkpoint.seq, made.checkpoint.leaf_count, made.changed) == (2, 2, 1)
    assert made.checkpoint.prev_hash == first.hash
    assert made.checkpoint.root != first.root
    assert made.regressions == []
    lead.refresh_from_db()
    assert list(made.checkpoint.heads.values_list("lead_id", "seq", "hash")) == [
        (lead.pk, 6, lead.last_event_hash)
    ]


def test_checkpoints_are_per_dealer(lead, other_team):
    other = make_lead(other_team.dealer)
    made = checkpoints.make_due()
    assert sorted((m.checkpoint.dealer_id, m.checkpoint.leaf_count) for m in made) == sorted(
        [(lead.dealer_id, 1), (other.dealer_id, 1)]
    )


def test_the_root_depends_on_every_leaf_and_not_on_their_order():
    leaves = [(lead_id, lead_id % 7 + 1, f"{lead_id:064x}") for lead_id in range(1, 12)]
    root = checkpoints.merkle_root(leaves)
    assert checkpoints.merkle_root(reversed(leaves)) == root
    for index in range(len(leaves)):
        lead_id, seq, head = leaves[index]
        for changed in ((lead_id, seq + 1, head), (lead_id, seq, "f" * 64)):
            assert checkpoints.merkle_root([*leaves[:index], changed, *leaves[index + 1 :]]) != root
        assert checkpoints.merkle_root(leaves[:index] + leaves[index + 1 :]) != root


def test_checkpoints_are_append_only_in_the_database(lead):
    checkpoints.make(lead.dealer_id)
    for statement in (
        f"UPDATE {CHECKPOINTS} SET root = 'x'",
        f"DELETE FROM {CHECKPOINTS}",
        f"UPDATE {HEADS} SET seq = 1",
        f"DELETE FROM {HEADS}",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            raw(statement)
    assert checkpoints.verify().ok


# ---------------------------------------------------------------- verify passes


def test_verify_passes_with_checkpoints_and_events_written_since(lead, bystander, team):
    checkpoints.make(lead.dealer_id)
    call(lead, CallOutcome.REACHED)
    make_lead(team.dealer)  # a lead no checkpoint saw yet
    checkpoints.make(lead.dealer_id)
    call(bystander, CallOutcome.BUSY)
    report = checkpoints.verify()
    assert report.ok, (report.broken, report.checkpoint_problems)
    assert (report.leads, report.checkpoints) == (3, 2)


def test_checkpoints_still_verify_after_an_erasure(lead, bystander, team):
    """Erasure blanks notes under their seals and appends an ERASED event: every head a
    checkpoint saw is still in the chain."""
    checkpoints.make(lead.dealer_id)
    rights.erase(Customer.objects.get(pk=lead.customer_id), by=team.gm, confirmed=True)
    assert not Event.objects.filter(lead=lead).exclude(note="").exists()
    assert checkpoints.verify().ok
    made = checkpoints.make(lead.dealer_id)
    assert made.regressions == []
    assert checkpoints.verify().ok


# ---------------------------------------------------------------- tampering with the chains


def test_an_edited_event_is_named(lead, bystander, no_triggers):
    checkpoints.make(lead.dealer_id)
    raw(f"UPDATE {EVENTS} SET reason = 'price' WHERE lead_id = %s AND seq = 2", lead.pk)
    assert broken() == [(lead.pk, 2)]
    assert problem_of(lead.pk) == "content does not match its hash"


def test_a_deleted_last_event_is_named(lead, bystander, no_triggers):
    checkpoints.make(lead.dealer_id)
    raw(f"DELETE FROM {EVENTS} WHERE lead_id = %s AND seq = 5", lead.pk)
    assert broken() == [(lead.pk, 5)]
    assert problem_of(lead.pk).startswith("events #5–#5 deleted since checkpoint #1")


def test_a_deleted_last_event_with_the_head_set_back_is_named(lead, bystander, no_triggers):
    checkpoints.make(lead.dealer_id)
    fourth = Event.objects.get(lead=lead, seq=4)
    raw(f"DELETE FROM {EVENTS} WHERE lead_id = %s AND seq = 5", lead.pk)
    raw(
        f"UPDATE {LEADS} SET last_event_seq = 4, last_event_hash = %s WHERE id = %s",
        fourth.hash,
        lead.pk,
    )
    assert ledger.verify().ok  # the chain alone cannot tell
    assert broken() == [(lead.pk, 5)]
    assert "deleted since checkpoint #1" in problem_of(lead.pk)


def test_a_deleted_middle_event_is_named(lead, bystander, no_triggers):
    checkpoints.make(lead.dealer_id)
    raw(f"DELETE FROM {EVENTS} WHERE lead_id = %s AND seq = 3", lead.pk)
    assert broken() == [(lead.pk, 3)]
    assert problem_of(lead.pk) == "event missing"


def test_a_deleted_middle_event_with_the_chain_renumbered_and_rehashed_is_named(
    lead, bystander, no_triggers
):
    checkpoints.make(lead.dealer_id)
    raw(f"DELETE FROM {EVENTS} WHERE lead_id = %s AND seq = 3", lead.pk)
    rehash(lead.pk)
    assert ledger.verify().ok
    assert broken() == [(lead.pk, 5)]
    assert problem_of(lead.pk).startswith("events #5–#5 deleted since checkpoint #1")


def test_an_edit_with_the_whole_chain_rehashed_and_the_head_fixed_is_named(
    lead, bystander, no_triggers
):
    checkpoints.make(lead.dealer_id)
    raw(f"UPDATE {EVENTS} SET to_stage = 'ordered' WHERE lead_id = %s AND seq = 4", lead.pk)
    rehash(lead.pk)
    assert ledger.verify().ok  # the chain alone cannot tell
    report = checkpoints.verify()
    assert [(b.lead_id, b.seq) for b in report.broken] == [(lead.pk, 1)]
    assert report.broken[0].problem.startswith(
        "events after #0 up to #5 deleted or rewritten since checkpoint #1"
    )


def test_a_rewrite_is_placed_between_the_checkpoints_that_saw_the_chain(
    lead, bystander, team, no_triggers
):
    """A checkpoint at #5, another at #6: a rewrite of #6 alone keeps #5 anchored."""
    checkpoints.make(lead.dealer_id)
    call(lead, CallOutcome.REACHED)
    checkpoints.make(lead.dealer_id)
    call(lead, CallOutcome.BUSY)
    raw(f"UPDATE {EVENTS} SET data = %s WHERE lead_id = %s AND seq = 6", '{"x": 1}', lead.pk)
    rehash(lead.pk)
    assert ledger.verify().ok
    assert broken() == [(lead.pk, 6)]
    assert problem_of(lead.pk).startswith("events after #5 up to #6 deleted or rewritten")


def test_a_lead_deleted_with_all_its_events_is_named(lead, bystander, no_triggers):
    checkpoints.make(lead.dealer_id)
    for table in (EVENTS, Task._meta.db_table):
        raw(f"DELETE FROM {table} WHERE lead_id = %s", lead.pk)
    raw(f"DELETE FROM {LEADS} WHERE id = %s", lead.pk)
    assert ledger.verify().ok  # nothing left to recompute
    assert broken() == [(lead.pk, 1)]
    assert "lead and its events deleted since checkpoint #1" in problem_of(lead.pk)


def test_tampering_between_two_checkpoints_is_still_named_after_the_second(
    lead, bystander, no_triggers
):
    """The second checkpoint saw the rewritten chain; the first still names it, and taking
    the second warns."""
    checkpoints.make(lead.dealer_id)
    raw(f"DELETE FROM {EVENTS} WHERE lead_id = %s AND seq = 5", lead.pk)
    rehash(lead.pk)
    made = checkpoints.make(lead.dealer_id)
    assert made.regressions == [f"lead {lead.pk}: head went from #5 to #4"]
    assert broken() == [(lead.pk, 5)]


def test_the_command_names_the_lead_and_what_happened(lead, bystander, no_triggers):
    call_command("ledger", "checkpoint", stdout=StringIO())
    raw(f"DELETE FROM {EVENTS} WHERE lead_id = %s AND seq = 3", lead.pk)
    rehash(lead.pk)
    err = StringIO()
    with pytest.raises(CommandError, match="1 broken chain"):
        call_command("ledger", "verify", stdout=StringIO(), stderr=err)
    assert f"BROKEN: lead {lead.pk}, event #5: events #5–#5 deleted since checkpoint #1" in (
        err.getvalue()
    )
    assert f"lead {bystander.pk}" not in err.getvalue()


# ---------------------------------------------------------------- tampering with checkpoints


@pytest.fixture
def three(lead, team) -> list[Checkpoint]:
    """Three checkpoints of the dealer, a call between each."""
    taken = []
    for _ in range(3):
        taken.append(checkpoints.make(lead.dealer_id).checkpoint)
        call(lead, CallOutcome.NO_ANSWER)
    return taken


def checkpoint_problems() -> list[str]:
    return checkpoints.verify().checkpoint_problems


def test_a_changed_root_is_found(three, no_triggers):
    raw(f"UPDATE {CHECKPOINTS} SET root = %s WHERE id = %s", "a" * 64, three[2].pk)
    assert checkpoint_problems() == [
        f"dealer {three[2].dealer.code}, checkpoint #3: content does not match its hash",
        f"dealer {three[2].dealer.code}, checkpoint #3: the heads kept do not give its signed root",
    ]


def test_a_checkpoint_rehashed_without_the_key_has_an_invalid_signature(three, no_triggers):
    taken = three[1]
    taken.root = "a" * 64
    taken.hash = checkpoints._digest_of(taken)
    raw(
        f"UPDATE {CHECKPOINTS} SET root = %s, hash = %s WHERE id = %s",
        taken.root,
        taken.hash,
        taken.pk,
    )
    problems = checkpoint_problems()
    assert f"dealer {taken.dealer.code}, checkpoint #2: signature invalid (key {taken.key_id})" in (
        problems
    )
    assert f"dealer {taken.dealer.code}, checkpoint #3: does not follow checkpoint #2" in problems


def test_a_changed_signature_is_found(three, no_triggers):
    raw(f"UPDATE {CHECKPOINTS} SET signature = %s WHERE id = %s", "0" * 64, three[0].pk)
    assert checkpoint_problems() == [
        f"dealer {three[0].dealer.code}, checkpoint #1: signature invalid (key {three[0].key_id})"
    ]


def test_a_deleted_checkpoint_breaks_the_chain_of_checkpoints(three, no_triggers):
    raw(f"DELETE FROM {HEADS} WHERE checkpoint_id = %s", three[1].pk)
    raw(f"DELETE FROM {CHECKPOINTS} WHERE id = %s", three[1].pk)
    assert checkpoint_problems() == [f"dealer {three[1].dealer.code}: checkpoints #2–#2 missing"]


def test_a_changed_head_at_a_checkpoint_is_found(three, lead, no_triggers):
    raw(f"UPDATE {HEADS} SET hash = %s WHERE checkpoint_id = %s", "b" * 64, three[2].pk)
    report = checkpoints.verify()
    assert report.checkpoint_problems == [
        f"dealer {lead.dealer.code}, checkpoint #3: the heads kept do not give its signed root"
    ]


def test_a_forged_signature_under_the_real_key_id_is_invalid(lead, no_triggers):
    taken = checkpoints.make(lead.dealer_id).checkpoint
    forged = hmac.new(b"a guessed key", taken.hash.encode(), hashlib.sha256).hexdigest()
    raw(f"UPDATE {CHECKPOINTS} SET signature = %s WHERE id = %s", forged, taken.pk)
    assert checkpoint_problems() == [
        f"dealer {lead.dealer.code}, checkpoint #1: signature invalid (key {taken.key_id})"
    ]


def test_checkpoints_signed_with_another_key_do_not_verify(lead, settings):
    taken = checkpoints.make(lead.dealer_id).checkpoint
    settings.DCC_LEDGER_KEY = "another key"
    assert checkpoint_problems() == [
        f"dealer {lead.dealer.code}, checkpoint #1: signed with key {taken.key_id}, "
        "which is not configured here"
    ]


def test_a_dealer_without_a_recent_checkpoint_is_reported(lead, fixed_clock):
    checkpoints.make(lead.dealer_id)
    fixed_clock.shift(timedelta(days=2, hours=1))
    (problem,) = checkpoint_problems()
    assert "no checkpoint since #1" in problem


# ---------------------------------------------------------------- export


def test_export_writes_one_line_per_checkpoint_to_keep(three, lead, tmp_path):
    kept = tmp_path / "checkpoints.jsonl"
    out = StringIO()
    call_command(
        "ledger",
        "export-checkpoints",
        "--dealer",
        lead.dealer.code,
        "--output",
        str(kept),
        stdout=out,
    )
    assert "3 checkpoint(s) appended" in out.getvalue()
    lines = [json.loads(line) for line in kept.read_text().splitlines()]
    assert [line["seq"] for line in lines] == [1, 2, 3]
    assert set(lines[0]) == {
        "dealer", "dealer_id", "seq", "taken_at", "leaf_count", "root", "algorithm", "key_id",
        "prev_hash", "hash", "signature",
    }  # fmt: skip
    assert lines[0]["dealer"] == lead.dealer.code
    assert lines[1]["prev_hash"] == lines[0]["hash"] == three[0].hash
    assert checkpoints.check_export(kept.read_text().splitlines()) == []
    after = StringIO()
    call_command(
        "ledger", "export-checkpoints", "--dealer", lead.dealer.code, "--after", "2", stdout=after
    )
    assert [json.loads(line)["seq"] for line in after.getvalue().splitlines()] == [3]


def test_a_kept_export_finds_the_newest_checkpoint_deleted(three, lead, tmp_path, no_triggers):
    """Deleting the newest checkpoint leaves a sound chain of checkpoints in the database:
    the export kept elsewhere still has it."""
    kept = tmp_path / "kept.jsonl"
    kept.write_text("\n".join(checkpoints.export_lines(lead.dealer_id)) + "\n")
    raw(f"DELETE FROM {HEADS} WHERE checkpoint_id = %s", three[2].pk)
    raw(f"DELETE FROM {CHECKPOINTS} WHERE id = %s", three[2].pk)
    assert checkpoints.verify().ok
    err = StringIO()
    with pytest.raises(CommandError, match="1 checkpoint problem"):
        call_command("ledger", "verify", "--against", str(kept), stdout=StringIO(), stderr=err)
    assert f"line 3 (dealer {lead.dealer.code}, checkpoint #3): no longer in the database" in (
        err.getvalue()
    )


def test_a_tampered_export_line_is_found(three, lead):
    lines = list(checkpoints.export_lines(lead.dealer_id))
    edited = json.loads(lines[1])
    edited["leaf_count"] += 1
    lines[1] = json.dumps(edited)
    assert checkpoints.check_export(lines) == [
        f"line 2 (dealer {lead.dealer.code}, checkpoint #2): content does not match its hash"
    ]


# ---------------------------------------------------------------- keys


def test_without_a_configured_key_one_is_made_in_a_file_only_its_owner_reads(
    lead, settings, tmp_path
):
    settings.DCC_LEDGER_KEY = ""
    settings.DCC_LEDGER_KEY_FILE = tmp_path / "ledger_key"
    taken = checkpoints.make(lead.dealer_id).checkpoint
    assert (os.stat(settings.DCC_LEDGER_KEY_FILE).st_mode & 0o777) == 0o600
    key = settings.DCC_LEDGER_KEY_FILE.read_text().strip()
    assert len(key) == 64
    assert taken.key_id == signing.hmac_key_id(key.encode())
    assert checkpoints.make(lead.dealer_id).checkpoint.key_id == taken.key_id
    assert checkpoints.verify().ok


@pytest.fixture
def ed25519_key(settings, tmp_path) -> signing.Signer:
    private, _public = signing.generate_ed25519(tmp_path, "dealer")
    settings.DCC_LEDGER_SIGNING_KEY = str(private)
    return signing.signer()


def test_an_ed25519_key_signs_and_its_public_key_alone_checks(
    lead, ed25519_key, settings, tmp_path
):
    taken = checkpoints.make(lead.dealer_id).checkpoint
    assert (taken.algorithm, taken.key_id) == (signing.ED25519, ed25519_key.key_id)
    assert len(taken.signature) == 128
    assert checkpoints.verify().ok
    # Headquarters: the public key, not the private one.
    settings.DCC_LEDGER_SIGNING_KEY = ""
    settings.DCC_LEDGER_PUBLIC_KEYS = [str(tmp_path / "dealer.pub.pem")]
    report = checkpoints.verify()
    assert report.ok and report.checkpoints == 1
    assert checkpoints.check_export(checkpoints.export_lines(lead.dealer_id)) == []


def test_a_rotated_key_signs_from_now_on_and_the_old_public_key_checks_the_old(
    lead, ed25519_key, settings, tmp_path
):
    checkpoints.make(lead.dealer_id)
    new_private, _ = signing.generate_ed25519(tmp_path, "rotated")
    settings.DCC_LEDGER_SIGNING_KEY = str(new_private)
    assert checkpoint_problems() == [
        f"dealer {lead.dealer.code}, checkpoint #1: signed with key {ed25519_key.key_id}, "
        "which is not configured here"
    ]
    # After a rotation a checkpoint is taken at once: it vouches for the older ones.
    second = checkpoints.make(lead.dealer_id).checkpoint
    assert second.key_id != ed25519_key.key_id
    report = checkpoints.verify()
    assert report.ok and report.checkpoints == 1
    settings.DCC_LEDGER_PUBLIC_KEYS = [str(tmp_path / "dealer.pub.pem")]
    assert checkpoints.verify().checkpoints == 2


def test_keygen_writes_a_private_key_only_its_owner_reads(tmp_path):
    out = StringIO()
    call_command("ledger", "keygen", str(tmp_path), stdout=out)
    assert (os.stat(tmp_path / "ledger.pem").st_mode & 0o777) == 0o600
    assert "BEGIN PUBLIC KEY" in (tmp_path / "ledger.pub.pem").read_text()
    with pytest.raises(CommandError, match="exists"):
        call_command("ledger", "keygen", str(tmp_path), stdout=StringIO())


# ---------------------------------------------------------------- the daily tick


def test_the_tick_takes_each_dealers_checkpoint_once_a_day(lead, other_team, fixed_clock):
    make_lead(other_team.dealer)
    out = StringIO()
    call_command("tick", stdout=out)
    assert out.getvalue().count("Ledger checkpoint #1 of dealer") == 2
    call_command("tick", stdout=(again := StringIO()))
    assert "Ledger checkpoint" not in again.getvalue()
    assert Checkpoint.objects.count() == 2
    fixed_clock.move_to(timezone.localtime().replace(hour=0, minute=5) + timedelta(days=1))
    call_command("tick", stdout=(next_day := StringIO()))
    assert next_day.getvalue().count("Ledger checkpoint #2 of dealer") == 2
    assert checkpoints.verify().ok
