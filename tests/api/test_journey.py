"""The whole journey through the API by the right people, recorded step by step."""

from datetime import timedelta

import pytest
from django.utils import timezone

from leads.models import EventKind, Lead, TaskKind
from tests.kit import assert_recorded, login

pytestmark = pytest.mark.django_db

FOLLOW_UP, REMINDER = TaskKind.FOLLOW_UP, TaskKind.APPOINTMENT_REMINDER
RETURN_VISIT = TaskKind.RETURN_VISIT


def test_journey_new_to_delivered_by_the_right_people(team):
    marketing = login(team.platform_specialist, token=True)
    response = marketing.post(
        "/api/v1/leads",
        {
            "dealer": team.dealer.code,
            "mobile": "+86 138-0013-8000",
            "channel": "autohome",
            "name": "王小明",
            "car_model": "S7",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    lead_id = body["lead"]["id"]
    owner_id = body["lead"]["owner"]["id"]
    assert body["outcome"] == "created"
    assert owner_id in {team.dcc_agent.pk, team.dcc_agent_2.pk}
    agent = team.dcc_agent if owner_id == team.dcc_agent.pk else team.dcc_agent_2
    as_agent = login(agent)

    def post(client, path, payload=None):
        r = client.post(
            f"/api/v1/leads/{lead_id}/{path}", payload or {}, content_type="application/json"
        )
        assert r.status_code == 200, r.content
        return r.json()

    lead = Lead(pk=lead_id)
    call = {"outcome": "reached", "duration_seconds": 95, "grade": "H"}
    assert post(as_agent, "calls", call)["stage"] == "contacted"
    assert_recorded(lead, EventKind.GRADED, by=agent, open_tasks={FOLLOW_UP: agent})
    visit = timezone.now() + timedelta(days=1)
    booked = post(as_agent, "appointment", {"appointment_at": visit.isoformat()})
    assert booked["stage"] == "appointed"
    assert_recorded(
        lead,
        EventKind.APPOINTMENT_SET,
        by=agent,
        stage=("contacted", "appointed"),
        open_tasks={FOLLOW_UP: agent, REMINDER: agent},
    )
    assert (
        post(as_agent, "handoff", {"to": team.consultant.pk})["owner"]["id"] == team.consultant.pk
    )
    assert_recorded(
        lead,
        EventKind.HANDED_OFF,
        by=agent,
        owner=(agent, team.consultant),
        open_tasks={FOLLOW_UP: team.consultant, REMINDER: team.consultant},
    )

    as_consultant = login(team.consultant)
    # The agent no longer owns it and may not act on it any more.
    refused = as_agent.post(f"/api/v1/leads/{lead_id}/arrival", {}, content_type="application/json")
    assert refused.status_code == 403
    assert_recorded(lead, EventKind.HANDED_OFF)  # the refusal wrote nothing
    assert post(as_consultant, "arrival")["stage"] == "arrived"
    assert_recorded(
        lead,
        EventKind.ARRIVED,
        by=team.consultant,
        stage=("appointed", "arrived"),
        open_tasks={FOLLOW_UP: team.consultant},
    )
    post(as_consultant, "test-drive", {"car_model": "S7"})
    assert_recorded(lead, EventKind.TEST_DRIVE, by=team.consultant, stage="arrived")
    assert post(as_consultant, "order", {"amount": "189000"})["stage"] == "ordered"
    assert_recorded(lead, EventKind.ORDERED, by=team.consultant, stage=("arrived", "ordered"))
    assert post(as_consultant, "delivery")["stage"] == "delivered"
    assert_recorded(
        lead,
        EventKind.DELIVERED,
        by=team.consultant,
        stage=("ordered", "delivered"),
        open_tasks={RETURN_VISIT: team.owner_ops},
    )

    events = login(team.gm).get(f"/api/v1/leads/{lead_id}/events").json()
    steps = [(e["kind"], e["actor"]["id"] if e["actor"] else None) for e in events]
    assert steps == [
        ("created", team.platform_specialist.pk),
        ("called", agent.pk),
        ("graded", agent.pk),
        ("appointment_set", agent.pk),
        ("handed_off", agent.pk),
        ("arrived", team.consultant.pk),
        ("test_drive", team.consultant.pk),
        ("ordered", team.consultant.pk),
        ("delivered", team.consultant.pk),
    ]
    handoff = events[4]
    assert (handoff["from_owner"]["id"], handoff["to_owner"]["id"]) == (
        agent.pk,
        team.consultant.pk,
    )
    assert all(e["occurred_at"] for e in events)
