"""The queries of the leads' pages against their baselines in query_counts.json beside this
file (one figure per database vendor). More queries than the baseline fail; when they are
meant, regenerate every app's file with `make query-counts` (tests/kit.py says how)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from leads import actions
from tests.conftest import Team
from tests.factories import make_lead
from tests.kit import check_query_counts, count_queries, login

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("office_hours")]

BASELINE = Path(__file__).with_name("query_counts.json")


def working_day(team: Team) -> dict[str, int]:
    """Leads in each state a page shows: new, followed up, appointed, handed to the showroom,
    waiting for a defeat decision. Their ids by name."""
    agent, boss = team.dcc_agent, team.platform_specialist
    new = [make_lead(team.dealer, by=boss, owner=agent) for _ in range(3)]
    called = actions.log_call(lead=new[0], by=agent, outcome="reached", grade="A")
    appointed = actions.book_appointment(
        lead=make_lead(team.dealer, by=boss, owner=agent),
        by=agent,
        appointment_at=timezone.now() + timedelta(days=1),
    )
    arrived = actions.hand_off(lead=appointed, by=agent, to=team.consultant)
    arrived = actions.record_arrival(lead=arrived, by=team.consultant)
    pending = actions.log_call(
        lead=make_lead(team.dealer, by=boss, owner=team.dcc_agent_2),
        by=team.dcc_agent_2,
        outcome="reached",
    )
    actions.request_defeat(lead=pending, by=team.dcc_agent_2, reason="price")
    visit = actions.book_appointment(
        lead=actions.log_call(
            lead=make_lead(team.dealer, by=boss, owner=agent), by=agent, outcome="reached"
        ),
        by=agent,
        appointment_at=timezone.now() + timedelta(hours=3),
    )
    return {"called": called.pk, "arrived": arrived.pk, "visit": visit.pk}


def test_the_pages_make_no_more_queries_than_their_baseline(team: Team):
    leads = working_day(team)
    pages = {
        "queue (DCC agent)": (team.dcc_agent, "/queue/", {}),
        "lead page (GM)": (team.gm, f"/leads/{leads['arrived']}/", {}),
        "lead page (owner)": (team.dcc_agent, f"/leads/{leads['called']}/", {}),
        "lead list (GM)": (team.gm, "/leads/", {}),
        "lead list filtered (GM)": (team.gm, "/leads/", {"stage": "new", "sla": "breached"}),
        "new lead form (platform specialist)": (team.platform_specialist, "/leads/new/", {}),
        "search (DCC agent)": (team.dcc_agent, "/search/", {"q": "139"}),
        "showroom (showroom manager)": (team.showroom_manager, "/showroom/", {}),
        "team board (DCC supervisor)": (team.dcc_supervisor, "/team/", {}),
        "defeat requests (sales manager)": (team.sales_manager, "/team/defeats/", {}),
        "reassignment (DCC supervisor)": (team.dcc_supervisor, "/team/reassign/", {}),
        "staff settings (GM)": (team.gm, "/settings/staff/", {}),
        "channel settings (GM)": (team.gm, "/settings/channels/", {}),
    }
    measured = {}
    for name, (person, path, params) in pages.items():
        client = login(person)
        measured[name] = count_queries(lambda: client.get(path, params))  # noqa: B023
    check_query_counts(BASELINE, measured)
