"""The lead's milestones and each dealer's daily tallies: what the KPIs count, kept as events
are written, so that a month of any number of dealers reads a row per dealer per day, and a
dealer's month one row per lead, never the ledger itself.

- `note_event` sets the milestone columns an event reaches on its lead (the first time it was
  contacted, appointed, arrived …; its first owner; who received it at its first arrival).
  Every event passes through it: `leads.ledger.append` and `leads.batch` call it.
- `contributions` is what one lead adds to its dealer's tallies; `count_change` (after every
  save of a Lead: `count_saved`, connected in leads.apps) moves the tallies by the difference
  a save made, and `count_touch` adds a repeat enquiry. Bulk writers (`leads.batch`) hand
  their sums to `apply`.
- `rebuild` recomputes both from the ledger (the migration that added them, `dcc ledger
  tallies --rebuild`) in short transactions; `drift` says, reading only, where the stored
  ones differ from what the ledger gives.

kpi.measures computes the same numbers straight from the ledger; tests hold the two equal
after any sequence of writes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from leads.models import REACHED_CALL, DailyTally, Event, EventKind, Lead
from leads.sla import answered_on_time, sets_an_sla
from leads.stages import Stage

# The milestones: the events that reach each (kinds, and what their data must say), and the
# lead column holding when the lead first reached it. kpi.measures counts from the same table.
EVENT_MILESTONES: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "contacted": ((EventKind.CALLED,), REACHED_CALL),
    "appointed": ((EventKind.APPOINTMENT_SET,), {}),
    "arrived": ((EventKind.ARRIVED,), {}),
    "ordered": ((EventKind.ORDERED,), {}),
    "delivered": ((EventKind.DELIVERED,), {}),
    "defeated": ((EventKind.DEFEAT_APPROVED,), {}),
    "closed": ((EventKind.DELIVERED, EventKind.DEFEAT_APPROVED, EventKind.INVALIDATED), {}),
}
MILESTONE_COLUMNS: dict[str, str] = {measure: f"first_{measure}_at" for measure in EVENT_MILESTONES}
# The lead fields its tallies depend on.
COUNTED_FIELDS = (
    "dealer_id",
    "created_at",
    "stage",
    "first_response_at",
    "sla_deadline",
    *MILESTONE_COLUMNS.values(),
)
TALLY_COLUMNS = tuple(
    f.name for f in DailyTally._meta.concrete_fields if f.name not in ("id", "dealer", "day")
)

Deltas = dict[tuple[int, date], Counter]  # (dealer, day) → column → change
# Leads whose milestones a rebuild writes in one transaction.
REBUILD_BATCH = 2000


def milestone_q(measure: str, prefix: str = "") -> Q:
    """The events that reach `measure`, as a filter (`prefix`: the path to the event)."""
    kinds, needs = EVENT_MILESTONES[measure]
    condition = Q(**{f"{prefix}kind__in": kinds})
    for key, value in needs.items():
        condition &= Q(**{f"{prefix}data__{key}": value})
    return condition


def note_event(
    lead: Any,
    *,
    seq: int,
    kind: str,
    occurred_at: datetime,
    actor_id: int | None,
    to_owner_id: int | None,
    data: Mapping[str, Any],
    **_other: Any,
) -> None:
    """Set the milestones the event reaches on `lead` (a Lead or a replay draft): the earliest
    event of each kind counts, whatever order they were written in (history is backdated)."""
    if seq == 1:
        lead.first_owner_id = to_owner_id
    for measure, (kinds, needs) in EVENT_MILESTONES.items():
        if kind not in kinds or any(data.get(key) != value for key, value in needs.items()):
            continue
        column = MILESTONE_COLUMNS[measure]
        reached = getattr(lead, column)
        if reached is None or occurred_at < reached:
            setattr(lead, column, occurred_at)
            if measure == "arrived":
                lead.consultant_id = actor_id


def day_of(moment: datetime) -> date:
    """The dealer's day of `moment` (every dealer is in the installation's time zone)."""
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


def contributions(values: Mapping[str, Any]) -> Counter:
    """What one lead (its COUNTED_FIELDS) adds to its dealer's tallies: (day, column) → 1."""
    created = day_of(values["created_at"])
    counted: Counter = Counter()
    counted[(created, "leads")] += 1
    counted[(created, "invalid" if values["stage"] == Stage.INVALID else "valid")] += 1
    answered, deadline = values["first_response_at"], values["sla_deadline"]
    # A lead imported past its deadline unanswered has no SLA: it is neither on time nor not.
    if deadline is not None and sets_an_sla(created_at=values["created_at"], deadline=deadline):
        counted[(created, "with_sla")] += 1
        if answered_on_time(
            created_at=values["created_at"], deadline=deadline, first_response_at=answered
        ):
            counted[(created, "on_time")] += 1
    for measure, column in MILESTONE_COLUMNS.items():
        reached = values[column]
        if reached is not None:
            counted[(day_of(reached), measure)] += 1
            counted[(created, f"cohort_{measure}")] += 1
    return counted


def count_change(lead: Lead) -> None:
    """After `lead` was saved: move its dealer's tallies by what the save changed."""
    current = lead.__dict__
    missing = [name for name in COUNTED_FIELDS if name not in current]
    if missing:  # loaded with .only(): what was not loaded was not changed either
        lead.refresh_from_db(fields=[name.removesuffix("_id") for name in missing])
    before = getattr(lead, "_as_counted", None)
    after = {name: current[name] for name in COUNTED_FIELDS}
    if before is not None:
        before = {name: before.get(name, after[name]) for name in COUNTED_FIELDS}
    if before != after:
        change = contributions(after)
        if before is not None:
            change.subtract(contributions(before))
        apply(_by_day(lead.dealer_id, change))
    lead._as_counted = after


def count_saved(sender: type[Lead], instance: Lead, raw: bool = False, **_kwargs: Any) -> None:
    """Lead's post_save: a fixture's raw save is not a change the tallies count."""
    if not raw:
        count_change(instance)


def count_touch(lead: Lead, at: datetime) -> None:
    """A repeat enquiry on `lead` at `at`."""
    apply(_by_day(lead.dealer_id, touch_contributions(lead.created_at, at)))


def touch_contributions(created_at: datetime, at: datetime) -> Counter:
    return Counter({(day_of(at), "touches"): 1, (day_of(created_at), "cohort_touches"): 1})


def _by_day(dealer_id: int, counted: Counter) -> Deltas:
    deltas: Deltas = {}
    for (day, column), change in counted.items():
        if change:
            deltas.setdefault((dealer_id, day), Counter())[column] += change
    return deltas


def merge(into: Deltas, dealer_id: int, counted: Counter) -> None:
    for key, changes in _by_day(dealer_id, counted).items():
        into.setdefault(key, Counter()).update(changes)


def apply(deltas: Deltas) -> None:
    """Add `deltas` to the tallies (in the caller's transaction). Rows in key order, so two
    writers never wait on each other's rows crosswise."""
    rows = [
        (dealer_id, connection.ops.adapt_datefield_value(day), *(c[n] for n in TALLY_COLUMNS))
        for (dealer_id, day), c in sorted(deltas.items())
        if any(c.values())
    ]
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(DailyTally._meta.db_table)
    columns = ", ".join(quote(name) for name in TALLY_COLUMNS)
    marks = ", ".join(["%s"] * (len(TALLY_COLUMNS) + 2))
    sums = ", ".join(
        f"{quote(n)} = {table}.{quote(n)} + excluded.{quote(n)}" for n in TALLY_COLUMNS
    )
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (dealer_id, day, {columns}) VALUES ({marks}) "
            f"ON CONFLICT (dealer_id, day) DO UPDATE SET {sums}",
            rows,
        )


def _from_ledger(event_model: Any) -> dict[str, Subquery]:
    """The milestone columns (and first owner, receiving consultant) as the ledger gives them,
    as expressions on a lead. Correlated on the lead alone: a dealer filter here would lead
    the database to scan the dealer's events for every lead."""

    def earliest(condition: Q, column: str) -> Subquery:
        found = event_model.objects.filter(condition, lead_id=OuterRef("pk"))
        return Subquery(found.order_by("occurred_at", "seq").values(column)[:1])

    expressions = {
        column: earliest(milestone_q(measure), "occurred_at")
        for measure, column in MILESTONE_COLUMNS.items()
    }
    expressions["first_owner_id"] = earliest(Q(seq=1), "to_owner_id")
    expressions["consultant_id"] = earliest(milestone_q("arrived"), "actor_id")
    return expressions


def _touches(event_model: Any, dealer_id: int) -> Iterable[tuple[datetime, datetime]]:
    """(lead created, enquired) of each repeat enquiry at the dealer."""
    found = event_model.objects.filter(dealer_id=dealer_id, kind=EventKind.TOUCHED)
    return found.values_list("lead__created_at", "occurred_at").iterator(chunk_size=5000)


def rebuild(
    dealer_ids: Iterable[int] | None = None, *, models: Any = None, batch: int = REBUILD_BATCH
) -> int:
    """Recompute the milestone columns and the tallies of `dealer_ids` (default: all) from the
    ledger; returns the leads counted. `models` (Lead, Event, DailyTally) lets a migration pass
    its historical models.

    It writes in short transactions, so that the product goes on meanwhile: the milestones
    `batch` leads at a time, then each dealer's tallies in one transaction (counted there, so
    that no lead saved meanwhile is missed or counted twice)."""
    lead_model, event_model, tally_model = models or (Lead, Event, DailyTally)
    if dealer_ids is None:
        dealer_ids = set(lead_model.objects.values_list("dealer_id", flat=True).distinct())
        dealer_ids |= set(tally_model.objects.values_list("dealer_id", flat=True).distinct())
    counted = 0
    for dealer_id in sorted(set(dealer_ids)):
        leads = lead_model.objects.filter(dealer_id=dealer_id)
        pks = list(leads.order_by("pk").values_list("pk", flat=True))
        expressions = _from_ledger(event_model)
        for start in range(0, len(pks), batch):
            chunk = pks[start : start + batch]
            with transaction.atomic():
                leads.filter(pk__gte=chunk[0], pk__lte=chunk[-1]).update(**expressions)
        with transaction.atomic():
            deltas: Deltas = {}
            for values in leads.values(*COUNTED_FIELDS).iterator(chunk_size=5000):
                merge(deltas, dealer_id, contributions(values))
            for created_at, at in _touches(event_model, dealer_id):
                merge(deltas, dealer_id, touch_contributions(created_at, at))
            tally_model.objects.filter(dealer_id=dealer_id).delete()
            # A migration's model has the columns of its day: a later one fills the rest.
            kept = {field.name for field in tally_model._meta.concrete_fields}
            tally_model.objects.bulk_create(
                (
                    tally_model(
                        dealer_id=dealer_id,
                        day=day,
                        **{name: n for name, n in changes.items() if name in kept},
                    )
                    for (_dealer, day), changes in sorted(deltas.items())
                ),
                batch_size=2000,
            )
        counted += sum(c["leads"] for c in deltas.values())
    return counted


def stored_tallies(dealer_ids: Iterable[int]) -> dict[tuple[int, date], dict[str, int]]:
    """The tallies of `dealer_ids` as stored (days with any count), to compare with a rebuild."""
    found = DailyTally.objects.filter(dealer_id__in=list(dealer_ids)).values(
        "dealer_id", "day", *TALLY_COLUMNS
    )
    return {
        (row.pop("dealer_id"), row.pop("day")): {k: v for k, v in row.items() if v}
        for row in found
        if any(row[n] for n in TALLY_COLUMNS)
    }


@contextmanager
def read_snapshot() -> Iterator[None]:
    """One consistent view of the database for a read-only check, without the write lock
    (SQLite's IMMEDIATE transactions take it at BEGIN): a deferred transaction on SQLite,
    which in WAL mode lets writers go on; a read-only repeatable-read one on PostgreSQL."""
    if connection.in_atomic_block:  # the caller's transaction is the view
        yield
        return
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("BEGIN DEFERRED")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("ROLLBACK")
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def drift(dealer_ids: Iterable[int]) -> list[str]:
    """Where the stored milestones and tallies of `dealer_ids` differ from what the ledger
    gives. Read only: the fresh values are selected beside the stored ones and counted in
    memory, so a check never holds the write lock (nor waits for it)."""
    dealer_ids = list(dealer_ids)
    expressions = _from_ledger(Event)
    fresh_names = {f"ledger_{name}": expression for name, expression in expressions.items()}
    found: list[str] = []
    deltas: Deltas = {}
    with read_snapshot():
        stored = stored_tallies(dealer_ids)
        for dealer_id in dealer_ids:
            leads = Lead.objects.filter(dealer_id=dealer_id).annotate(**fresh_names)
            rows = leads.order_by("pk").values("pk", *COUNTED_FIELDS, *expressions, *fresh_names)
            for row in rows.iterator(chunk_size=5000):
                for name in expressions:
                    if row[name] != row[f"ledger_{name}"]:
                        found.append(
                            f"lead {row['pk']}: {name} is {row[name]}, "
                            f"the ledger says {row[f'ledger_{name}']}"
                        )
                values = {name: row.get(f"ledger_{name}", row[name]) for name in COUNTED_FIELDS}
                merge(deltas, dealer_id, contributions(values))
            for created_at, at in _touches(Event, dealer_id):
                merge(deltas, dealer_id, touch_contributions(created_at, at))
    fresh = {
        key: {name: value for name, value in changes.items() if value}
        for key, changes in deltas.items()
        if any(changes.values())
    }
    for key in sorted(stored.keys() | fresh.keys()):
        kept, counted = stored.get(key, {}), fresh.get(key, {})
        if kept != counted:
            found.append(f"dealer {key[0]}, {key[1]}: tallied {kept}, the ledger says {counted}")
    return found
