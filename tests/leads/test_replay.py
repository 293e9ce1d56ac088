"""leads.batch writes what leads.actions writes: the same rows of history, imported once
through the actions one by one and once replayed in memory and written in bulk, leave the
same customers, leads, events (hash chains included) and tasks, and the same rejections."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Membership
from dcc.errors import DomainError
from dcc.phone import normalise_phone
from intake import history
from intake.history import Lookups
from intake.rows import LeadRow
from leads import ledger
from leads.batch import Batch
from leads.models import Customer, Event, Lead, Task
from leads.stages import Grade
from tests.factories import channel, make_lead

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)
BASE = NOW - timedelta(days=200)
PHONES = ["13800000001", "13800000002", "13800000003"]
OWNERS = ["", "dcc_agent", "dcc_agent_2", "consultant", "gm", "auditor"]
STEPS = ("contacted_at", "appointed_at", "arrived_at", "ordered_at", "delivered_at")


@st.composite
def rows(draw: Any) -> dict[str, Any]:
    """A row of history: a lifecycle cut at some step, maybe defeated or invalid."""
    start = draw(st.integers(0, 190))
    reached = draw(st.integers(0, len(STEPS)))
    gaps = draw(st.lists(st.integers(0, 20), min_size=6, max_size=6))
    row: dict[str, Any] = {
        "phone": draw(st.sampled_from(PHONES)),
        "created_at": BASE + timedelta(days=start, hours=1),
        "grade": draw(st.sampled_from(["", *Grade.values])),
        "owner": draw(st.sampled_from(OWNERS)),
        "name": draw(st.sampled_from(["", "王小明"])),
        "external_id": draw(st.sampled_from(["", "", "P-1", "P-2"])),
        "channel": draw(st.sampled_from(["autohome", "douyin"])),
    }
    at = row["created_at"]
    for step, gap in zip(STEPS[:reached], gaps, strict=False):
        at += timedelta(days=gap, hours=2)
        row[step] = at
    exit_kind = draw(st.sampled_from(["", "", "defeat", "invalid"]))
    if exit_kind == "defeat":
        row["defeated_at"] = at + timedelta(days=gaps[-1], hours=3)
        row["defeat_reason"] = "price"
    elif exit_kind == "invalid":
        row["invalid_reason"] = "no_intent"
    # Some land in the future (rejected both ways); most in the past.
    for key, value in list(row.items()):
        if key.endswith("_at") and value > NOW:
            row[key] = NOW - timedelta(minutes=1)
    return row


def lead_rows(specs: list[dict[str, Any]], team: Any) -> list[LeadRow]:
    made = []
    for number, spec in enumerate(specs, start=2):
        spec = dict(spec)
        owner = spec.pop("owner", "")
        made.append(
            LeadRow(
                row_number=number,
                phone=normalise_phone(spec.pop("phone")),
                owner=getattr(team, owner).username if owner else "",
                **spec,
            )
        )
    return made


def import_rows(team: Any, rows: list[LeadRow], *, batch: Batch | None) -> list[str]:
    """Each row's outcome ("created", "touched", "duplicate" or the rejection's message)."""
    lookups = Lookups(team.dealer)
    if batch is not None:
        batch.begin(
            phones=[row.phone.number for row in rows],
            external_ids=[(channel(team.dealer, r.channel).pk, r.external_id) for r in rows],
            size=len(rows),
        )
    outcomes = []
    for row in rows:
        try:
            with transaction.atomic():
                intake = history.replay(
                    row=row,
                    dealer=team.dealer,
                    channel=channel(team.dealer, row.channel),
                    importer=team.gm,
                    lookups=lookups,
                    batch=batch,
                )
            outcomes.append(str(intake.outcome))
        except DomainError as error:
            outcomes.append(f"{error.field}: {error.message}")
    if batch is not None:
        batch.write()
    return outcomes


def snapshot(since: dict[str, int]) -> dict[str, Any]:
    """What the import wrote, with wall-clock stamps (task creation, superseding) blurred."""
    recent = timezone.now() - timedelta(minutes=5)

    def blur(values: dict[str, Any]) -> dict[str, Any]:
        return {
            key: "now" if hasattr(value, "tzinfo") and value and value > recent else value
            for key, value in values.items()
        }

    return {
        "customers": [
            blur(c)
            for c in Customer.objects.filter(pk__gt=since["customer"])
            .order_by("pk")
            .values("pk", "phone", "phone_kind", "name", "name_initials", "city", "created_at")
        ],
        "leads": [
            blur(lead) for lead in Lead.objects.filter(pk__gt=since["lead"]).order_by("pk").values()
        ]
        + [
            blur(lead)
            for lead in Lead.objects.filter(pk__lte=since["lead"])
            .order_by("pk")
            .values("pk", "touch_count", "version", "last_event_seq", "last_event_hash")
        ],
        "events": [
            blur(event)
            for event in Event.objects.filter(pk__gt=since["event"])
            .order_by("lead_id", "seq")
            .values()
        ],
        "tasks": [
            blur(task)
            for task in Task.objects.filter(pk__gt=since["task"])
            .order_by("lead_id", "kind", "due_at", "closed_at")
            .values(
                "lead_id", "assignee_id", "kind", "due_at", "created_at", "closed_at", "outcome"
            )
        ],
        "marks": sorted((m.staff_id, bool(m.last_assigned_at)) for m in Membership.objects.all()),
    }


def high_water() -> dict[str, int]:
    def top(model: Any) -> int:
        return model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    return {"customer": top(Customer), "lead": top(Lead), "event": top(Event), "task": top(Task)}


def strip_ids(shot: dict[str, Any]) -> dict[str, Any]:
    """Event ids and the stamps of recording differ by construction."""
    for event in shot["events"]:
        event.pop("id"), event.pop("recorded_at")
    return shot


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="sequences do not roll back on PostgreSQL"
)
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(specs=st.lists(rows(), min_size=1, max_size=6), open_before=st.booleans())
def test_a_batch_replayed_in_memory_writes_what_the_actions_write(team, specs, open_before):
    with transaction.atomic():
        if open_before:  # a customer who already has an open lead: rows for them touch it
            make_lead(team.dealer, phone=PHONES[0], by=team.dcc_agent)
        rows_ = lead_rows(specs, team)
        since = high_water()
        shots = []
        for batch in (None, Batch(team.dealer, now=timezone.now())):
            with transaction.atomic():
                outcomes = import_rows(team, rows_, batch=batch)
                assert ledger.verify(dealer_id=team.dealer.pk).ok
                shots.append((outcomes, strip_ids(snapshot(since))))
                transaction.set_rollback(True)
        transaction.set_rollback(True)
    (by_actions, actions_wrote), (replayed, replay_wrote) = shots
    assert replayed == by_actions
    assert replay_wrote == actions_wrote


def test_an_import_batch_writes_valid_chains_on_any_database(team):
    """Without comparing ids (PostgreSQL sequences differ between two runs): a batch with
    touches, history and rejections leaves every chain verifiable."""
    specs = [
        {"phone": PHONES[0], "created_at": BASE, "owner": "dcc_agent",
         "contacted_at": BASE + timedelta(days=1), "appointed_at": BASE + timedelta(days=2),
         "arrived_at": BASE + timedelta(days=3), "ordered_at": BASE + timedelta(days=4),
         "delivered_at": BASE + timedelta(days=9), "channel": "autohome"},
        {"phone": PHONES[0], "created_at": BASE + timedelta(days=20), "channel": "douyin"},
        {"phone": PHONES[0], "created_at": BASE + timedelta(days=21), "channel": "douyin",
         "name": "王小明"},
        {"phone": PHONES[1], "created_at": BASE, "owner": "gm", "channel": "autohome",
         "contacted_at": BASE + timedelta(days=1), "defeated_at": BASE + timedelta(days=2),
         "defeat_reason": "price"},
    ]  # fmt: skip
    outcomes = import_rows(team, lead_rows(specs, team), batch=Batch(team.dealer))
    assert outcomes[:3] == ["created", "created", "touched"]
    assert outcomes[3].startswith("owner: A defeat is requested by the lead's owner")
    assert ledger.verify(dealer_id=team.dealer.pk).ok
    second = Lead.objects.get(customer__phone=PHONES[0], stage="new")
    assert (second.touch_count, second.customer.name) == (1, "王小明")
