"""GET /api/v1/kpi and /api/v1/kpi/leads: the same numbers as the registry, for those who
may see them."""

from __future__ import annotations

import pytest
from django.utils import timezone

from accounts.roles import Role
from kpi.measures import DIMENSIONS
from kpi.selectors import day_window, kpi_report, report_json
from leads import actions
from leads.models import CallOutcome
from tests.conftest import grant
from tests.factories import make_lead
from tests.kit import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def today_leads(team):
    reached = make_lead(team.dealer, by=team.gm, owner=team.dcc_agent)
    actions.log_call(lead=reached, by=team.dcc_agent, outcome=CallOutcome.REACHED)
    make_lead(team.dealer, by=team.gm, owner=team.dcc_agent_2)
    return reached


def query(team, **extra) -> dict:
    today = timezone.localdate().isoformat()
    return {"dealer": team.dealer.code, "from": today, "to": today, **extra}


def test_a_manager_gets_each_metrics_value_numerator_and_denominator(team, today_leads):
    answer = login(team.gm).get("/api/v1/kpi", query(team, by="agent"))
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["total"]["metrics"]["contact_rate"] == {
        "value": 0.5,
        "numerator": 1,
        "denominator": 2,
    }
    window = day_window(dealer_ids=[team.dealer.pk], first=timezone.localdate(),
                        last=timezone.localdate())  # fmt: skip
    expected = report_json(kpi_report(window=window, by="agent"))
    assert body["groups"] == expected["groups"]
    assert {group["key"] for group in body["groups"]} == {team.dcc_agent.pk, team.dcc_agent_2.pk}


def test_the_leads_behind_a_number(team, today_leads):
    answer = login(team.dcc_supervisor).get(
        "/api/v1/kpi/leads", query(team, measure="contacted", by="agent", group=team.dcc_agent.pk)
    )
    assert answer.json() == {"measure": "contacted", "leads": [today_leads.pk], "count": 1}


# Who reads a dealer's KPIs (docs/permissions.md): at their own dealer / at another dealer.
KPI_MATRIX = {
    Role.GM: (200, 404),
    Role.SALES_MANAGER: (200, 404),
    Role.MARKETING_MANAGER: (200, 404),
    Role.SHOWROOM_MANAGER: (200, 404),
    Role.AUDITOR: (200, 404),
    Role.DCC_SUPERVISOR: (200, 404),
    Role.HEADQUARTERS: (200, 404),
    Role.DCC_AGENT: (403, 404),
    Role.CONSULTANT: (403, 404),
    Role.PLATFORM_SPECIALIST: (403, 404),
    Role.OWNER_OPS: (403, 404),
}


@pytest.mark.parametrize("path", ["/api/v1/kpi", "/api/v1/kpi/leads"])
@pytest.mark.parametrize("role", list(Role))
def test_who_reads_kpis(team, other_team, role, path):
    extra = {"measure": "leads"} if path.endswith("leads") else {}
    person = team.by_role(role)
    own, other = KPI_MATRIX[role]
    assert login(person).get(path, query(team, **extra)).status_code == own
    assert login(person).get(path, query(other_team, **extra)).status_code == other


def test_headquarters_sees_granted_dealers_others_are_refused(team, other_team):
    assert login(team.headquarters).get("/api/v1/kpi", query(team)).status_code == 200
    assert login(team.dcc_agent).get("/api/v1/kpi", query(team)).status_code == 403
    assert login(other_team.gm).get("/api/v1/kpi", query(team)).status_code == 404
    grant(other_team.gm, team.dealer, "headquarters")
    assert login(other_team.gm).get("/api/v1/kpi", query(team)).status_code == 200


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"metric": "happiness"}, "metric"),
        ({"from": "2026-05-02", "to": "2026-05-01"}, "to"),
        ({"by": "weather"}, "by"),
        ({"from": "2026-13-01"}, "from"),
    ],
)
def test_bad_queries_say_what_is_wrong(team, extra, field):
    answer = login(team.gm).get("/api/v1/kpi", query(team, **extra))
    assert answer.status_code == 422
    assert answer.json()["field"] == field


def test_the_api_offers_every_dimension(team):
    for by in DIMENSIONS:
        assert login(team.gm).get("/api/v1/kpi", query(team, by=by)).status_code == 200, by


def test_dcc_kpi_prints_the_same_numbers(team, today_leads, capsys):
    import json

    from django.core.management import call_command

    today = timezone.localdate().isoformat()
    call_command("kpi", "--dealer", team.dealer.code, "--from", today, "--to", today,
                 "--format", "json")  # fmt: skip
    printed = json.loads(capsys.readouterr().out)
    assert printed["total"]["metrics"]["contact_rate"]["numerator"] == 1
