"""The whole journey through the API by the right people, recorded step by step."""

from datetime import timedelta

import pytest
from django.utils import timezone

from leads.models import Lead
from tests.kit import login

pytestmark = pytest.mark.django_db


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

    assert (
        post(as_agent, "calls", {"outcome": "reached", "duration_seconds": 95, "grade": "H"})[
            "stage"
        ]
        == "contacted"
    )
    visit = (timezone.now() + timedelta(days=1)).isoformat()
    assert post(as_agent, "appointment", {"appointment_at": visit})["stage"] == "appointed"
    assert (
        post(as_agent, "handoff", {"to": team.consultant.pk})["owner"]["id"] == team.consultant.pk
    )

    as_consultant = login(team.consultant)
    # The agent no longer owns it and may not act on it any more.
    refused = as_agent.post(f"/api/v1/leads/{lead_id}/arrival", {}, content_type="application/json")
    assert refused.status_code == 403
    assert post(as_consultant, "arrival")["stage"] == "arrived"
    post(as_consultant, "test-drive", {"car_model": "S7"})
    assert post(as_consultant, "order", {"amount": "189000"})["stage"] == "ordered"
    assert post(as_consultant, "delivery")["stage"] == "delivered"

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
    assert Lead.objects.get(pk=lead_id).stage == "delivered"
