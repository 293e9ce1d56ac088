"""The handoff ledger: how lead events are composed and chained, written one at a time
(`append`, leads.actions) or composed for bulk inserts (`compose`, leads.batch), and verified.

Every event carries the SHA-256 of its own content and of the previous event of its lead, so
an edit or deletion anywhere in a chain is detectable. Database triggers (installed by a
migration) reject UPDATE and DELETE on the table, with one exception: erasure.

Personal data and the chain. A customer may have their personal data erased (PIPL; the
dealer's retention period), and the chain must still verify afterwards. So the only free
text of an event, its note, is not hashed itself: the hash covers its seal, SHA-256 of a random
salt and the note, and salt and note are kept beside it. Erasure blanks note and salt (the one
UPDATE the triggers let through) and appends an ERASED event; `verify` accepts a blank note
under a seal only before such an event. Without the salt the seal tells nothing about the note,
not even for short ones (a name, a number). `data` holds no personal data: ids, codes, amounts,
stages, models; whoever adds to it keeps it so.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper

from leads import tallies
from leads.models import Checkpoint, CheckpointHead, Event, EventKind, Lead

GENESIS = "0" * 64
EVENT_TABLE = Event._meta.db_table
CHECKPOINT_TABLES = (Checkpoint._meta.db_table, CheckpointHead._meta.db_table)


# The text hashed: json.dumps with these arguments, one encoder made once (json.dumps makes a
# new one on every call with non-default arguments, a measurable share of a bulk import).
CANONICAL_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def event_digest(
    *,
    lead_id: int,
    seq: int,
    kind: str,
    actor_id: int | None,
    occurred_at: datetime,
    from_stage: str,
    to_stage: str,
    from_owner_id: int | None,
    to_owner_id: int | None,
    reason: str,
    note_seal: str,
    data: dict[str, Any],
    prev_hash: str,
    **_kept_apart: Any,  # note, note_salt: sealed, not hashed
) -> str:
    """SHA-256 over a canonical JSON of everything an event says, chained to the previous."""
    body = CANONICAL_JSON(
        [
            lead_id,
            seq,
            kind,
            actor_id,
            _stamp(occurred_at),
            from_stage,
            to_stage,
            from_owner_id,
            to_owner_id,
            reason,
            note_seal,
            data,
            prev_hash,
        ]
    )
    return hashlib.sha256(body.encode()).hexdigest()


def digest_of(event: Event) -> str:
    """The hash `event` should carry, recomputed from what it says now."""
    return event_digest(
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


def seal(salt: str, note: str) -> str:
    """The note's seal: what the chain hashes instead of the note ("" for no note, as before
    notes were sealed, so chains without notes hash as they always did)."""
    if not note:
        return ""
    return hashlib.sha256(f"{salt}\x00{note}".encode()).hexdigest()


def new_salt(note: str) -> str:
    """A salt for a note: random, so that once erased the seal tells nothing about it."""
    return secrets.token_hex(16)


def sealed_note(note: str) -> tuple[str, str]:
    """A new salt for `note` and its seal (no salt for no note)."""
    if not note:
        return "", ""
    salt = new_salt(note)
    return salt, seal(salt, note)


def compose(
    *,
    dealer_id: int,
    lead_id: int,
    last_seq: int,
    last_hash: str,
    kind: str,
    actor_id: int | None,
    occurred_at: datetime,
    from_stage: str = "",
    to_stage: str = "",
    from_owner_id: int | None = None,
    to_owner_id: int | None = None,
    reason: str = "",
    note: str = "",
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The column values of the event that follows (`last_seq`, `last_hash`) on a lead's
    chain, hash included, unsaved: `append` saves one, bulk writers (imports) many."""
    note = str(note)
    note_salt, note_seal = sealed_note(note)
    values: dict[str, Any] = dict(
        lead_id=lead_id,
        seq=last_seq + 1,
        kind=str(kind),
        actor_id=actor_id,
        occurred_at=occurred_at,
        from_stage=str(from_stage),
        to_stage=str(to_stage),
        from_owner_id=from_owner_id,
        to_owner_id=to_owner_id,
        reason=str(reason),
        note=note,
        note_salt=note_salt,
        note_seal=note_seal,
        data=data or {},
        prev_hash=last_hash or GENESIS,
    )
    values["hash"] = event_digest(**values)
    values["dealer_id"] = dealer_id
    return values


@dataclass(frozen=True, slots=True)
class Entry:
    """An event still to be written: what an action says happened (leads.decisions)."""

    kind: str
    actor_id: int | None
    at: datetime
    from_stage: str = ""
    to_stage: str = ""
    from_owner_id: int | None = None
    to_owner_id: int | None = None
    reason: str = ""
    note: str = ""
    data: dict[str, Any] = field(default_factory=dict)


def compose_entry(*, dealer_id: int, lead_id: int, last_seq: int, last_hash: str, entry: Entry):
    """`compose` for an Entry."""
    return compose(
        dealer_id=dealer_id,
        lead_id=lead_id,
        last_seq=last_seq,
        last_hash=last_hash,
        kind=entry.kind,
        actor_id=entry.actor_id,
        occurred_at=entry.at,
        from_stage=entry.from_stage,
        to_stage=entry.to_stage,
        from_owner_id=entry.from_owner_id,
        to_owner_id=entry.to_owner_id,
        reason=entry.reason,
        note=entry.note,
        data=entry.data,
    )


def append(lead: Lead, entry: Entry) -> Event:
    """Write the next event of `lead`. The caller holds the lead locked in a transaction and
    saves the lead afterwards (its chain head fields change here)."""
    values = compose_entry(
        dealer_id=lead.dealer_id,
        lead_id=lead.pk,
        last_seq=lead.last_event_seq,
        last_hash=lead.last_event_hash,
        entry=entry,
    )
    event = Event.objects.create(**values)
    lead.last_event_seq = event.seq
    lead.last_event_hash = event.hash
    tallies.note_event(lead, **values)
    if entry.kind == EventKind.TOUCHED:
        tallies.count_touch(lead, values["occurred_at"])
    return event


@dataclass
class BrokenLink:
    lead_id: int
    seq: int
    event_id: int | None
    problem: str


@dataclass(frozen=True, slots=True)
class Anchor:
    """A lead's chain head as a signed checkpoint saw it (leads.checkpoints): the chain must
    still hold this hash at this seq, whatever was appended since."""

    seq: int
    hash: str
    checkpoint: int
    taken_at: datetime

    @property
    def since(self) -> str:
        return f"since checkpoint #{self.checkpoint} of {self.taken_at:%Y-%m-%d %H:%M}"


@dataclass
class VerifyReport:
    leads: int = 0
    events: int = 0
    broken: list[BrokenLink] = field(default_factory=list)
    checkpoints: int = 0  # signed checkpoints checked
    checkpoint_problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.broken and not self.checkpoint_problems


def _chains(dealer_id: int | None) -> Iterator[tuple[int, list[Event]]]:
    events = Event.objects.order_by("lead_id", "seq")
    if dealer_id is not None:
        events = events.filter(dealer_id=dealer_id)
    current: int | None = None
    chain: list[Event] = []
    for event in events.iterator(chunk_size=5000):
        if event.lead_id != current:
            if current is not None:
                yield current, chain
            current, chain = event.lead_id, []
        chain.append(event)
    if current is not None:
        yield current, chain


def verify(
    *, dealer_id: int | None = None, anchors: dict[int, list[Anchor]] | None = None
) -> VerifyReport:
    """Recompute every chain; report the first broken link of each broken chain, and leads
    whose recorded chain head does not match their last event (events deleted at the end).
    With `anchors` (lead → the heads checkpoints saw, by seq), also each chain that no longer
    holds one of them: events deleted or rewritten since, even with every hash recomputed."""
    report = VerifyReport()
    anchors = anchors or {}
    # One view of the database, read only: events written meanwhile are neither taken for
    # a broken chain nor kept waiting.
    with tallies.read_snapshot():
        heads = dict(
            (Lead.objects.filter(dealer_id=dealer_id) if dealer_id else Lead.objects.all())
            .values_list("pk", "last_event_hash")
            .iterator(chunk_size=5000)
        )
        seen: set[int] = set()
        for lead_id, chain in _chains(dealer_id):
            seen.add(lead_id)
            report.leads += 1
            report.events += len(chain)
            anchored = _anchor_break(lead_id, chain, anchors.get(lead_id, ()))
            problem = _first_break(lead_id, chain, heads.get(lead_id))
            # The checkpoint's word where it says more: what was deleted since, or which
            # stretch was rewritten when no hash in the chain gives it away.
            if anchored and not (problem and problem.event_id and problem.seq >= anchored.seq):
                problem = anchored
            if problem:
                report.broken.append(problem)
    for lead_id, head in heads.items():
        if lead_id not in seen and (head or lead_id in anchors):
            missing = "events missing"
            if lead_id in anchors:
                missing = f"every event deleted {anchors[lead_id][0].since}"
            report.broken.append(BrokenLink(lead_id, 1, None, missing))
    for lead_id, saw in anchors.items():
        if lead_id not in seen and lead_id not in heads:
            report.broken.append(
                BrokenLink(lead_id, 1, None, f"lead and its events deleted {saw[0].since}")
            )
    report.broken.sort(key=lambda link: link.lead_id)
    return report


def _anchor_break(lead_id: int, chain: list[Event], saw: Iterable[Anchor]) -> BrokenLink | None:
    """Where `chain` no longer holds what the checkpoints saw (`saw`, by seq): events deleted
    since (the chain is shorter), or rewritten (a different hash where one was anchored; the
    rewrite lies after the last anchor still held)."""
    by_seq = {event.seq: event for event in chain}
    last = chain[-1].seq if chain else 0
    held = 0
    for anchor in saw:
        event = by_seq.get(anchor.seq)
        if event is None and anchor.seq > last:
            return BrokenLink(
                lead_id,
                last + 1,
                None,
                f"events #{last + 1}–#{anchor.seq} deleted {anchor.since}",
            )
        if event is None or event.hash != anchor.hash:
            return BrokenLink(
                lead_id,
                held + 1,
                event.pk if event else None,
                f"events after #{held} up to #{anchor.seq} deleted or rewritten {anchor.since}",
            )
        held = anchor.seq
    return None


def _first_break(lead_id: int, chain: list[Event], head: str | None) -> BrokenLink | None:
    prev = GENESIS
    # Notes may be blank under their seals only up to the last erasure of the lead.
    erased_up_to = max((e.seq for e in chain if e.kind == EventKind.ERASED), default=0)
    for expected_seq, event in enumerate(chain, start=1):
        if event.seq != expected_seq:
            return BrokenLink(lead_id, expected_seq, None, "event missing")
        if event.prev_hash != prev:
            return BrokenLink(lead_id, event.seq, event.pk, "previous hash does not match")
        recomputed = digest_of(event)
        if recomputed != event.hash:
            return BrokenLink(lead_id, event.seq, event.pk, "content does not match its hash")
        if event.note or event.note_salt or not event.note_seal:
            if seal(event.note_salt, event.note) != event.note_seal:
                return BrokenLink(lead_id, event.seq, event.pk, "note does not match its seal")
        elif event.seq > erased_up_to:
            return BrokenLink(lead_id, event.seq, event.pk, "note removed without an erasure")
        prev = event.hash
    if head is not None and head != prev:
        return BrokenLink(lead_id, len(chain) + 1, None, "events missing after the last one")
    return None


# Append-only, enforced by the database itself; the one UPDATE let through blanks a note and
# its salt (erasure), nothing else.
_ERASABLE = ("note", "note_salt")
_TRIGGERS = {
    "sqlite": [
        # SQLite checks the columns named in the UPDATE: any but the erasable ones is refused
        # ({sealed}: the table's columns when installed; a migration that adds one reinstalls).
        f"""CREATE TRIGGER IF NOT EXISTS ledger_no_update BEFORE UPDATE OF {{sealed}}
            ON {EVENT_TABLE}
            BEGIN SELECT RAISE(ABORT, 'ledger events are append-only'); END""",
        f"""CREATE TRIGGER IF NOT EXISTS ledger_erase_only BEFORE UPDATE OF note, note_salt
            ON {EVENT_TABLE} WHEN NEW.note <> '' OR NEW.note_salt <> ''
            BEGIN SELECT RAISE(ABORT, 'ledger events are append-only'); END""",
        f"""CREATE TRIGGER IF NOT EXISTS ledger_no_delete BEFORE DELETE ON {EVENT_TABLE}
            BEGIN SELECT RAISE(ABORT, 'ledger events are append-only'); END""",
    ],
    "postgresql": [
        """CREATE OR REPLACE FUNCTION ledger_reject_change() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'UPDATE' AND NEW.note = '' AND NEW.note_salt = ''
                   AND (to_jsonb(NEW) - 'note' - 'note_salt')
                       = (to_jsonb(OLD) - 'note' - 'note_salt') THEN
                    RETURN NEW;
                END IF;
                RAISE EXCEPTION 'ledger events are append-only';
            END $$ LANGUAGE plpgsql""",
        f"""CREATE OR REPLACE TRIGGER ledger_no_update BEFORE UPDATE ON {EVENT_TABLE}
            FOR EACH ROW EXECUTE FUNCTION ledger_reject_change()""",
        f"""CREATE OR REPLACE TRIGGER ledger_no_delete BEFORE DELETE ON {EVENT_TABLE}
            FOR EACH ROW EXECUTE FUNCTION ledger_reject_change()""",
    ],
}
_DROP = {
    "sqlite": [
        "DROP TRIGGER IF EXISTS ledger_no_update",
        "DROP TRIGGER IF EXISTS ledger_erase_only",
        "DROP TRIGGER IF EXISTS ledger_no_delete",
    ],
    "postgresql": [
        f"DROP TRIGGER IF EXISTS ledger_no_update ON {EVENT_TABLE}",
        f"DROP TRIGGER IF EXISTS ledger_no_delete ON {EVENT_TABLE}",
    ],
}


# The checkpoints (leads.checkpoints) are append-only without exception.
_CHECKPOINT_TRIGGERS = {
    "sqlite": [
        """CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table}
            BEGIN SELECT RAISE(ABORT, 'ledger checkpoints are append-only'); END""",
        """CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table}
            BEGIN SELECT RAISE(ABORT, 'ledger checkpoints are append-only'); END""",
    ],
    "postgresql": [
        """CREATE OR REPLACE FUNCTION ledger_checkpoint_reject_change() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'ledger checkpoints are append-only'; END $$
            LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
            FOR EACH ROW EXECUTE FUNCTION ledger_checkpoint_reject_change()""",
        """CREATE OR REPLACE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION ledger_checkpoint_reject_change()""",
    ],
}
_CHECKPOINT_DROP = {
    "sqlite": [
        "DROP TRIGGER IF EXISTS {table}_no_update",
        "DROP TRIGGER IF EXISTS {table}_no_delete",
    ],
    "postgresql": [
        "DROP TRIGGER IF EXISTS {table}_no_update ON {table}",
        "DROP TRIGGER IF EXISTS {table}_no_delete ON {table}",
    ],
}


def _checkpoint_tables(conn: BaseDatabaseWrapper, cursor: Any) -> list[str]:
    """The checkpoint tables that exist (none before their migration)."""
    present = set(conn.introspection.table_names(cursor))
    return [table for table in CHECKPOINT_TABLES if table in present]


def install_triggers(conn: BaseDatabaseWrapper = connection) -> None:
    with conn.cursor() as cursor:
        columns = [c.name for c in conn.introspection.get_table_description(cursor, EVENT_TABLE)]
        # Before notes were sealed (an early migration) nothing is erasable.
        erasable = _ERASABLE if "note_salt" in columns else ()
        sealed = ", ".join(c for c in columns if c not in erasable)
        for statement in _TRIGGERS[conn.vendor]:
            if erasable or "ledger_erase_only" not in statement:
                cursor.execute(statement.replace("{sealed}", sealed))
        for table in _checkpoint_tables(conn, cursor):
            for statement in _CHECKPOINT_TRIGGERS[conn.vendor]:
                cursor.execute(statement.replace("{table}", table))


def drop_triggers(conn: BaseDatabaseWrapper = connection) -> None:
    """For maintenance by a database administrator only (and tests of tamper detection)."""
    with conn.cursor() as cursor:
        for statement in _DROP[conn.vendor]:
            cursor.execute(statement)
        for table in _checkpoint_tables(conn, cursor):
            for statement in _CHECKPOINT_DROP[conn.vendor]:
                cursor.execute(statement.replace("{table}", table))


def erase_notes(lead_ids: list[int]) -> int:
    """Blank the notes (and their salts) of the leads' events, keeping the seals the chain
    hashes: the caller appends an ERASED event to each lead afterwards. How many were blanked."""
    return (
        Event.objects.filter(lead_id__in=lead_ids)
        .exclude(note="", note_salt="")
        .update(note="", note_salt="")
    )


def seal_notes(events: Any = Event, leads: Any = Lead) -> int:
    """Seal the notes written before notes were sealed and rehash their chains (a one-off
    migration, with its historical models, triggers dropped by the caller). How many leads
    were rehashed."""
    lead_ids = list(
        events.objects.filter(note_seal="").exclude(note="").values_list("lead_id", flat=True)
    )
    done = 0
    for start in range(0, len(lead_ids), 500):
        batch = sorted(set(lead_ids[start : start + 500]))
        chains: dict[int, list] = {}
        for event in events.objects.filter(lead_id__in=batch).order_by("lead_id", "seq"):
            chains.setdefault(event.lead_id, []).append(event)
        changed, heads = [], []
        for lead_id, chain in chains.items():
            prev = GENESIS
            for event in chain:
                if event.note and not event.note_seal:
                    event.note_salt, event.note_seal = sealed_note(event.note)
                event.prev_hash = prev
                event.hash = digest_of(event)
                prev = event.hash
                changed.append(event)
            heads.append(leads(pk=lead_id, last_event_hash=prev))
        events.objects.bulk_update(
            changed, ["note_salt", "note_seal", "prev_hash", "hash"], batch_size=1000
        )
        leads.objects.bulk_update(heads, ["last_event_hash"], batch_size=1000)
        done += len(chains)
    return done
