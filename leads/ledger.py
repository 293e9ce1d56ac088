"""The handoff ledger: how lead events are composed and chained, written one at a time
(`append`, leads.actions) or composed for bulk inserts (`compose`, leads.batch), and verified.

Every event carries the SHA-256 of its own content and of the previous event of its lead, so
an edit or deletion anywhere in a chain is detectable. Database triggers (installed by a
migration) reject UPDATE and DELETE on the table outright.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper

from leads import tallies
from leads.models import Event, EventKind, Lead

GENESIS = "0" * 64
EVENT_TABLE = Event._meta.db_table


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
    note: str,
    data: dict[str, Any],
    prev_hash: str,
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
            note,
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
        note=event.note,
        data=event.data,
        prev_hash=event.prev_hash,
    )


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
        note=str(note),
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


@dataclass
class VerifyReport:
    leads: int = 0
    events: int = 0
    broken: list[BrokenLink] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.broken


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


def verify(*, dealer_id: int | None = None) -> VerifyReport:
    """Recompute every chain; report the first broken link of each broken chain, and leads
    whose recorded chain head does not match their last event (events deleted at the end)."""
    report = VerifyReport()
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
            problem = _first_break(lead_id, chain, heads.get(lead_id))
            if problem:
                report.broken.append(problem)
    for lead_id, head in heads.items():
        if lead_id not in seen and head:
            report.broken.append(BrokenLink(lead_id, 1, None, "events missing"))
    report.broken.sort(key=lambda link: link.lead_id)
    return report


def _first_break(lead_id: int, chain: list[Event], head: str | None) -> BrokenLink | None:
    prev = GENESIS
    for expected_seq, event in enumerate(chain, start=1):
        if event.seq != expected_seq:
            return BrokenLink(lead_id, expected_seq, None, "event missing")
        if event.prev_hash != prev:
            return BrokenLink(lead_id, event.seq, event.pk, "previous hash does not match")
        recomputed = digest_of(event)
        if recomputed != event.hash:
            return BrokenLink(lead_id, event.seq, event.pk, "content does not match its hash")
        prev = event.hash
    if head is not None and head != prev:
        return BrokenLink(lead_id, len(chain) + 1, None, "events missing after the last one")
    return None


# Append-only, enforced by the database itself.
_TRIGGERS = {
    "sqlite": [
        f"""CREATE TRIGGER IF NOT EXISTS ledger_no_update BEFORE UPDATE ON {EVENT_TABLE}
            BEGIN SELECT RAISE(ABORT, 'ledger events are append-only'); END""",
        f"""CREATE TRIGGER IF NOT EXISTS ledger_no_delete BEFORE DELETE ON {EVENT_TABLE}
            BEGIN SELECT RAISE(ABORT, 'ledger events are append-only'); END""",
    ],
    "postgresql": [
        """CREATE OR REPLACE FUNCTION ledger_reject_change() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'ledger events are append-only'; END $$ LANGUAGE plpgsql""",
        f"""CREATE OR REPLACE TRIGGER ledger_no_update BEFORE UPDATE ON {EVENT_TABLE}
            FOR EACH ROW EXECUTE FUNCTION ledger_reject_change()""",
        f"""CREATE OR REPLACE TRIGGER ledger_no_delete BEFORE DELETE ON {EVENT_TABLE}
            FOR EACH ROW EXECUTE FUNCTION ledger_reject_change()""",
    ],
}
_DROP = {
    "sqlite": [
        "DROP TRIGGER IF EXISTS ledger_no_update",
        "DROP TRIGGER IF EXISTS ledger_no_delete",
    ],
    "postgresql": [
        f"DROP TRIGGER IF EXISTS ledger_no_update ON {EVENT_TABLE}",
        f"DROP TRIGGER IF EXISTS ledger_no_delete ON {EVENT_TABLE}",
    ],
}


def install_triggers(conn: BaseDatabaseWrapper = connection) -> None:
    with conn.cursor() as cursor:
        for statement in _TRIGGERS[conn.vendor]:
            cursor.execute(statement)


def drop_triggers(conn: BaseDatabaseWrapper = connection) -> None:
    """For maintenance by a database administrator only (and tests of tamper detection)."""
    with conn.cursor() as cursor:
        for statement in _DROP[conn.vendor]:
            cursor.execute(statement)
