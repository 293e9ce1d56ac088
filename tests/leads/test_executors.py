"""The two executors of leads.decisions write the same thing: a script of actions (every
action there is, by people of every role, refused ones included) carried out live through
leads.actions and in memory through leads.batch leaves the same customers, leads, events
(hash chains included), tasks and daily tallies, and gives the same answers."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dcc.errors import DomainError
from leads import actions, ledger, tallies
from leads.batch import Batch
from leads.decisions import LEAD_ACTIONS
from leads.models import DailyTally, HandoffReason, TeamKind
from tests.factories import channel
from tests.leads.test_replay import high_water, snapshot, strip_ids

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)
BASE = NOW - timedelta(days=60)
PHONES = ["13900000001", "13900000002", "13900000003"]
PEOPLE = [
    "dcc_agent",
    "dcc_agent_2",
    "dcc_supervisor",
    "consultant",
    "consultant_2",
    "showroom_manager",
    "sales_manager",
    "gm",
    "owner_ops",
    "auditor",
    "headquarters",
]

# Every step a script may take: the actions of both executors, intake and check-in.
STEPS = (*LEAD_ACTIONS, "create_lead", "check_in_visitor", "settle_imported_history")


def request(step: str, team: Any, draw: Any) -> dict[str, Any]:
    """The arguments of `step`, beyond the lead, the performer and the time."""
    person = lambda: getattr(team, draw(st.sampled_from(PEOPLE)))  # noqa: E731
    match step:
        case "log_call":
            return {
                "outcome": draw(st.sampled_from(["reached", "no_answer", "busy"])),
                "direction": draw(st.sampled_from(["outbound", "inbound"])),
                "duration_seconds": draw(st.sampled_from([0, 95])),
                "note": draw(st.sampled_from(["", "想看现车"])),
                "grade": draw(st.sampled_from([None, "H", "A", "C"])),
            }
        case "phone_call":
            answered = draw(st.booleans())
            return {
                "call_id": f"C-{draw(st.integers(1, 3))}",
                "direction": draw(st.sampled_from(["outbound", "inbound"])),
                "outcome": "reached" if answered else "no_answer",
                "duration_seconds": 61 if answered else 0,
                "disposition": "answered" if answered else "no_answer",
                "line": "4008001234",
                "recorded": answered,
            }
        case "listen_to_recording":
            return {"call_id": "C-1", "recording_id": 7}
        case "set_grade":
            return {"grade": draw(st.sampled_from(["H", "B", "N", "X"]))}
        case "book_appointment":
            return {"appointment_at": BASE + timedelta(days=draw(st.integers(1, 40)), hours=3)}
        case "invalidate_lead":
            return {"reason": draw(st.sampled_from(["no_intent", "nonsense", ""]))}
        case "request_defeat":
            return {"reason": draw(st.sampled_from(["price", "nonsense"]))}
        case "hand_off":
            if draw(st.booleans()):
                return {"team": draw(st.sampled_from([TeamKind.DCC, TeamKind.SHOWROOM]))}
            return {"to": person(), "reason": HandoffReason.APPOINTMENT}
        case "record_quote":
            return {"amount": Decimal(draw(st.sampled_from(["0", "158000"])))}
        case "record_order":
            return {"amount": draw(st.sampled_from([None, Decimal("155000")]))}
        case "record_return_visit":
            reached = draw(st.booleans())
            return {"reached": reached, "satisfaction": draw(st.sampled_from([None, 4, 9]))}
        case "record_test_drive":
            return {"car_model": draw(st.sampled_from(["", "星途瑶光"]))}
        case "record_fact":
            return {
                "kind": draw(st.sampled_from(["complaint", "audited", "called"])),
                "data": {"audit": 1},
            }
        case "overturn_exit":
            return {"audit": draw(st.integers(1, 3))}
    return {}


@st.composite
def scripts(draw: Any, team: Any) -> list[dict[str, Any]]:
    at = BASE
    script = []
    for _ in range(draw(st.integers(1, 14))):
        at += timedelta(hours=draw(st.integers(1, 30)))
        step = draw(st.sampled_from(STEPS))
        script.append(
            {
                "step": step,
                "phone": draw(st.sampled_from(PHONES)),
                "by": draw(st.sampled_from(PEOPLE)),
                "at": at,
                "channel": draw(st.sampled_from(["autohome", "douyin"])),
                "external_id": draw(st.sampled_from(["", "", "P-1"])),
                "request": request(step, team, draw),
            }
        )
    return script


def run(script: list[dict[str, Any]], team: Any, executor: Any) -> list[str]:
    """Carry `script` out through `executor` (leads.actions or a Batch); each step's answer."""
    batch = executor if isinstance(executor, Batch) else None
    if batch is not None:
        batch.begin(
            phones=PHONES,
            external_ids=[(channel(team.dealer, c).pk, "P-1") for c in ("autohome", "douyin")],
            size=len(script) * 2,
        )
    leads: dict[str, Any] = {}
    answers = []
    for line in script:
        step, phone, by, at = line["step"], line["phone"], getattr(team, line["by"]), line["at"]
        try:
            with batch.row() if batch else transaction.atomic():
                if step == "create_lead":
                    intake = executor.create_lead(
                        dealer=team.dealer,
                        phone=phone,
                        channel=channel(team.dealer, line["channel"]),
                        by=None if line["by"] == "headquarters" else by,
                        name="王女士",
                        external_id=line["external_id"],
                        at=at,
                        **line["request"],
                    )
                    leads[phone] = intake.lead
                    answers.append(f"{intake.outcome} #{intake.lead.pk}")
                elif step == "check_in_visitor":
                    leads[phone] = executor.check_in_visitor(
                        dealer=team.dealer, phone=phone, by=by, at=at
                    )
                    answers.append(f"checked in #{leads[phone].pk}")
                elif phone not in leads:
                    answers.append("no lead")
                elif step == "reveal_phone":  # live, the number; in a batch, the lead
                    executor.reveal_phone(lead=leads[phone], by=by, at=at)
                    answers.append("revealed")
                elif step == "settle_imported_history":
                    executor.settle_imported_history(lead=leads[phone])
                    answers.append("settled")
                else:
                    leads[phone] = getattr(executor, step)(
                        lead=leads[phone], by=by, at=at, **line["request"]
                    )
                    answers.append(f"{step} {leads[phone].stage}")
        except DomainError as error:
            answers.append(f"{step}: {error.code} {error.field} {error.message}")
    if batch is not None:
        batch.write()
    return answers


def both_ways(script: list[dict[str, Any]], team: Any) -> list[tuple[list[str], dict]]:
    since = high_water()
    shots = []
    for executor in (actions, "batch"):
        with transaction.atomic():
            if executor == "batch":
                executor = Batch(team.dealer)
            answers = run(script, team, executor)
            assert ledger.verify(dealer_id=team.dealer.pk).ok
            assert tallies.drift([team.dealer.pk]) == []
            shot = strip_ids(snapshot(since))
            days = DailyTally.objects.order_by("day")
            shot["tallies"] = list(days.values(*tallies.TALLY_COLUMNS))
            shots.append((answers, shot))
            transaction.set_rollback(True)
    return shots


sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="sequences do not roll back on PostgreSQL"
)


def journey(team: Any) -> list[dict[str, Any]]:
    """Every action at least once, in an order the stage machine accepts (and a few it does
    not)."""

    def visit(days: int) -> dict[str, Any]:
        return {"appointment_at": BASE + timedelta(days=days)}

    # fmt: off
    PHONE_CALL = {
        "call_id": "C-1", "direction": "inbound", "outcome": "reached", "duration_seconds": 61,
        "disposition": "answered", "line": "4008001234", "recorded": True,
    }
    LISTEN = {"call_id": "C-1", "recording_id": 7}
    steps = [
        ("create_lead", "13900000001", "dcc_agent", {"owner": "dcc_supervisor"}),
        ("claim_lead", "13900000001", "dcc_agent_2", {}),
        ("log_call", "13900000001", "dcc_agent_2", {"outcome": "no_answer"}),
        ("log_call", "13900000001", "dcc_agent_2", {"outcome": "reached", "grade": "A"}),
        ("phone_call", "13900000001", "dcc_agent", PHONE_CALL),
        ("set_grade", "13900000001", "dcc_agent_2", {"grade": "H"}),
        ("reveal_phone", "13900000001", "consultant", {}),
        ("listen_to_recording", "13900000001", "dcc_supervisor", LISTEN),
        ("book_appointment", "13900000001", "dcc_agent_2", visit(3)),
        ("book_appointment", "13900000001", "dcc_agent_2", visit(4)),
        ("cancel_appointment", "13900000001", "dcc_agent_2", {}),
        ("book_appointment", "13900000001", "dcc_agent_2", visit(5)),
        ("hand_off", "13900000001", "dcc_supervisor", {"team": TeamKind.SHOWROOM}),
        ("record_arrival", "13900000001", "showroom_manager", {}),
        ("record_test_drive", "13900000001", "showroom_manager", {}),
        ("record_quote", "13900000001", "showroom_manager", {"amount": Decimal("158000")}),
        ("record_order", "13900000001", "showroom_manager", {}),
        ("record_delivery", "13900000001", "showroom_manager", {}),
        ("phone_call", "13900000001", "owner_ops", PHONE_CALL),
        ("record_return_visit", "13900000001", "owner_ops", {"reached": False}),
        ("record_return_visit", "13900000001", "owner_ops", {"reached": True, "satisfaction": 5}),
        ("create_lead", "13900000002", "dcc_agent", {}),
        ("create_lead", "13900000002", "gm", {}),
        ("log_call", "13900000002", "dcc_supervisor", {"outcome": "reached"}),
        ("hand_off", "13900000002", "dcc_supervisor", {"to": "consultant_2"}),
        ("request_defeat", "13900000002", "consultant_2", {"reason": "price"}),
        ("reject_defeat", "13900000002", "showroom_manager", {}),
        ("request_defeat", "13900000002", "consultant_2", {"reason": "price"}),
        ("approve_defeat", "13900000002", "consultant_2", {}),
        ("approve_defeat", "13900000002", "sales_manager", {}),
        ("reactivate_lead", "13900000002", "dcc_supervisor", {}),
        ("invalidate_lead", "13900000002", "dcc_supervisor", {"reason": "no_intent"}),
        ("record_fact", "13900000002", "auditor", {"kind": "audited", "data": {"score": 60}}),
        ("overturn_exit", "13900000002", "consultant", {"audit": 1}),
        ("overturn_exit", "13900000002", "auditor", {"audit": 1}),
        ("record_fact", "13900000001", "owner_ops", {"kind": "complaint", "note": "交车慢"}),
        ("check_in_visitor", "13900000003", "consultant", {}),
        ("check_in_visitor", "13900000003", "consultant", {}),
        ("settle_imported_history", "13900000003", "gm", {}),
    ]
    # fmt: on
    script = []
    for number, (step, phone, by, extra) in enumerate(steps):
        if "to" in extra:
            extra = {"to": getattr(team, extra["to"]), "reason": HandoffReason.APPOINTMENT}
        if "owner" in extra:
            extra = {"owner": getattr(team, extra["owner"])}
        script.append(
            {
                "step": step,
                "phone": phone,
                "by": by,
                "at": BASE + timedelta(hours=5 * number),
                "channel": "autohome",
                "external_id": "",
                "request": extra,
            }
        )
    return script


@sqlite_only
def test_every_action_writes_the_same_live_and_in_a_batch(team, same_salts):
    script = journey(team)
    assert {line["step"] for line in script} == set(STEPS)  # every action there is
    (live, live_wrote), (batched, batch_wrote) = both_ways(script, team)
    assert batched == live
    assert batch_wrote == live_wrote
    refused = [answer for answer in live if ": " in answer]
    # The requester approving their own defeat; a consultant overturning an invalid mark.
    assert [answer.split(":")[0] for answer in refused] == ["approve_defeat", "overturn_exit"]
    assert live[-2:] == ["checked in #" + live[-3].split("#")[1], "settled"]


@sqlite_only
@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_any_script_writes_the_same_live_and_in_a_batch(team, same_salts, data):
    script = data.draw(scripts(team))
    (live, live_wrote), (batched, batch_wrote) = both_ways(script, team)
    assert batched == live
    assert batch_wrote == live_wrote


def test_a_batch_of_every_action_leaves_valid_chains_and_tallies_on_any_database(team):
    """Without comparing ids (PostgreSQL's sequences do not roll back): the journey through
    a batch leaves every chain verifiable and the tallies equal to the ledger's."""
    batch = Batch(team.dealer, now=NOW)
    answers = run(journey(team), team, batch)
    assert sum(": " in answer for answer in answers) == 2
    assert ledger.verify(dealer_id=team.dealer.pk).ok
    assert tallies.drift([team.dealer.pk]) == []
