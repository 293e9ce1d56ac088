"""The queries of the main API endpoints against their baselines in query_counts.json beside
this file (one figure per database vendor). More queries than the baseline fail; when they
are meant, regenerate every app's file with `make query-counts` (tests/kit.py says how)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from leads import actions
from tests.conftest import Team
from tests.factories import fresh_mobile, make_lead
from tests.kit import check_query_counts, count_queries, login

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("office_hours")]

BASELINE = Path(__file__).with_name("query_counts.json")
JSON = "application/json"
MAY = {"from": "2026-05-01", "to": "2026-05-31"}


def test_the_endpoints_make_no_more_queries_than_their_baseline(team: Team, other_team: Team):
    agent = team.dcc_agent
    leads = [make_lead(team.dealer, by=team.platform_specialist, owner=agent) for _ in range(6)]
    for lead in leads[:3]:
        actions.log_call(lead=lead, by=agent, outcome="reached", grade="A")
    may = datetime(2026, 5, 6, 10, tzinfo=ZoneInfo("Asia/Shanghai"))
    for each in (team, other_team):
        arrived = make_lead(each.dealer, by=each.gm, owner=each.dcc_agent, at=may)
        actions.record_arrival(lead=arrived, by=each.gm, at=may)
    team.headquarters.memberships.create(dealer=other_team.dealer, role="headquarters")
    lead = leads[0]
    gm, token = login(team.gm), login(agent, token=True)
    specialist = login(team.platform_specialist, token=True)
    today = timezone.localdate().isoformat()
    kpi = {"dealer": team.dealer.code, "from": today, "to": today}
    hq = login(team.headquarters)

    def enquiry():
        body = {"dealer": team.dealer.code, "mobile": fresh_mobile(), "channel": "autohome"}
        return specialist.post("/api/v1/leads", body, content_type=JSON)

    calls = iter(leads[3:])

    def call():
        url = f"/api/v1/leads/{next(calls).pk}/calls"
        return token.post(url, {"outcome": "no_answer"}, content_type=JSON)

    endpoints = {
        "GET /leads (GM, session)": lambda: gm.get("/api/v1/leads"),
        "GET /leads (DCC agent, token)": lambda: token.get("/api/v1/leads"),
        "GET /leads filtered (GM)": lambda: gm.get("/api/v1/leads", {"stage": "new"}),
        "GET /leads/{id} (GM)": lambda: gm.get(f"/api/v1/leads/{lead.pk}"),
        "GET /leads/{id}/events (GM)": lambda: gm.get(f"/api/v1/leads/{lead.pk}/events"),
        "GET /tasks (GM)": lambda: gm.get("/api/v1/tasks"),
        "POST /leads (platform specialist, token)": enquiry,
        "POST /leads/{id}/calls (DCC agent, token)": call,
        "GET /kpi (GM)": lambda: gm.get("/api/v1/kpi", kpi),
        "GET /kpi/leads (GM)": lambda: gm.get("/api/v1/kpi/leads", {**kpi, "measure": "leads"}),
        "GET /kpi/ranking (headquarters)": lambda: hq.get(
            "/api/v1/kpi/ranking", {**MAY, "metric": "arrival_rate"}
        ),
        "GET /kpi/heatmap (headquarters)": lambda: hq.get("/api/v1/kpi/heatmap", MAY),
    }
    measured = {name: count_queries(request) for name, request in endpoints.items()}
    check_query_counts(BASELINE, measured)
