"""KPIs by team: a lead counts for the team its agent was in when it came in, so a person
who moves mid-month counts for the old team before the move and for the new one after; the
same in the registry, the fast counts, the CLI, the API, the dashboard's drill-down, the
scorecards and the DCC board."""

from __future__ import annotations

import json
from datetime import date, datetime
from html import unescape

import pytest
from django.core.management import call_command
from django.urls import reverse

from kpi import counting, measures
from kpi.dashboard import drill_query
from kpi.scorecards import scorecards
from kpi.selectors import day_window, kpi_report
from kpi.supervision import dcc_board
from leads import actions, teams
from leads.models import CallOutcome, Team, TeamKind
from leads.setup.defaults import set_up_dealer
from tests.conftest import Team as People
from tests.factories import make_lead
from tests.kit import login

pytestmark = pytest.mark.django_db

MOVED = datetime.fromisoformat("2026-11-10T12:00:00+08:00")  # mid-month, before FIXED_NOW


def at(day: int, hour: int = 10) -> datetime:
    return datetime.fromisoformat(f"2026-11-{day:02d}T{hour:02d}:00:00+08:00")


@pytest.fixture
def moved(team: People) -> tuple[Team, Team]:
    """Agent 1 works in the first DCC group until the 10th at noon, then in group 2; each
    group's leads of November: 3 before the move (2 reached), 2 after (1 reached), and one of
    agent 2's, who stays."""
    set_up_dealer(team.dealer)
    first = Team.objects.get(dealer=team.dealer, kind=TeamKind.DCC)
    second = teams.create_team(dealer=team.dealer, by=team.gm, kind=TeamKind.DCC, name="二组")
    teams.place_in_team(team=second, staff=team.dcc_agent, by=team.gm, at=MOVED)
    for n, day in enumerate((3, 5, 9, 11, 12)):
        lead = make_lead(team.dealer, by=team.gm, owner=team.dcc_agent, at=at(day))
        if n in (0, 1, 3):
            actions.log_call(
                lead=lead, by=team.dcc_agent, outcome=CallOutcome.REACHED, at=at(day, 11)
            )
    make_lead(team.dealer, by=team.gm, owner=team.dcc_agent_2, at=at(12))
    return first, second


def window(team: People):
    return day_window(dealer_ids=[team.dealer.pk], first=date(2026, 11, 1), last=date(2026, 11, 17))


def test_a_person_who_moves_counts_for_the_old_team_before_and_the_new_after(team, moved):
    first, second = moved
    report = kpi_report(window=window(team), by="team", metrics=["lead_volume", "contact_rate"])
    found = {
        group.key: (group.label, group.values["lead_volume"].numerator,
                    group.values["contact_rate"].numerator)
        for group in report.groups
    }  # fmt: skip
    # Agent 1: three leads in the first group (2 reached), two in group 2 (1 reached); agent 2
    # stays in the first group.
    assert found == {first.pk: ("DCC invitation group", 4, 2), second.pk: ("二组", 2, 1)}
    assert report.total.values["lead_volume"].numerator == 6


@pytest.mark.parametrize("spelled_out", [True, False], ids=["case", "lookup per row"])
def test_the_fast_counts_by_team_equal_the_ledgers(team, moved, monkeypatch, spelled_out):
    # A dealer's few memberships are a CASE; past TEAM_CASE_LIMIT each row looks its team up.
    monkeypatch.setattr(teams, "TEAM_CASE_LIMIT", 200 if spelled_out else 0)
    for view in ("period", "cohort"):
        w = day_window(
            dealer_ids=[team.dealer.pk], first=date(2026, 11, 1), last=date(2026, 11, 17), view=view
        )
        wanted = {"leads", "contacted", "valid", "with_sla"}
        fast = counting.count_measures(wanted, w, "team")
        for measure in wanted:
            assert fast[measure] == measures.counts(measure, w, "team"), (view, measure)
            for group in fast[measure]:
                assert set(counting.lead_ids(measure, w, "team", group)) == set(
                    measures.lead_ids(measure, w, "team", group)
                )


def test_dcc_kpi_by_team(team, moved, capsys):
    call_command(
        "kpi", "--dealer", team.dealer.code, "--from", "2026-11-01", "--to", "2026-11-17",
        "--by", "team", "--metric", "lead_volume", "--format", "json",
    )  # fmt: skip
    printed = json.loads(capsys.readouterr().out)
    assert {group["label"]: group["metrics"]["lead_volume"]["value"]
            for group in printed["groups"]} == {"DCC invitation group": 4, "二组": 2}  # fmt: skip


def test_the_api_counts_and_drills_down_by_team(team, moved):
    first, second = moved
    query = {"dealer": team.dealer.code, "from": "2026-11-01", "to": "2026-11-17"}
    body = login(team.gm).get("/api/v1/kpi", {**query, "by": "team"}).json()
    assert {group["key"]: group["metrics"]["lead_volume"]["value"] for group in body["groups"]} == {
        first.pk: 4,
        second.pk: 2,
    }
    drilled = login(team.gm).get(
        "/api/v1/kpi/leads", {**query, "measure": "contacted", "by": "team", "group": second.pk}
    )
    assert drilled.json()["count"] == 1


def test_the_dashboard_names_the_team_behind_a_number(team, moved):
    _first, second = moved
    href = "/dashboard/leads/?" + drill_query(window(team), "leads", "team", second.pk)
    html = unescape(login(team.gm).get(href).content.decode())
    assert "Team: 二组" in html
    dashboard = unescape(
        login(team.gm).get(reverse("dashboard") + "?month=2026-11").content.decode()
    )
    teams_table = dashboard[dashboard.index('id="teams"') : dashboard.index('id="agents"')]
    assert "二组" in teams_table and "DCC invitation group" in teams_table
    assert "by=team" in teams_table


def test_scorecards_show_each_persons_team(team, moved):
    first, second = moved
    cards = {card.person: card for card in scorecards(dealer=team.dealer, month=date(2026, 11, 1))}
    assert cards[team.dcc_agent].team == second
    assert cards[team.dcc_agent_2].team == first
    october = {
        card.person: card for card in scorecards(dealer=team.dealer, month=date(2026, 10, 1))
    }
    assert october[team.dcc_agent].team == first  # where they were then


def test_the_dcc_board_is_cut_by_team_and_its_leader_sees_theirs(team, moved):
    first, second = moved
    board = dcc_board(dealer=team.dealer, team=second)
    assert [row.agent for row in board.agents] == [team.dcc_agent]
    board = dcc_board(dealer=team.dealer, team=first)
    assert [row.agent for row in board.agents] == [team.dcc_agent_2]
    assert first.leader == team.dcc_supervisor
    page = login(team.dcc_supervisor).get(reverse("dashboard_dcc")).content.decode()
    assert f'data-agent="{team.dcc_agent_2.username}"' in page
    assert f'data-agent="{team.dcc_agent.username}"' not in page
    page = login(team.dcc_supervisor).get(reverse("dashboard_dcc") + "?team=all").content.decode()
    assert f'data-agent="{team.dcc_agent.username}"' in page
    assert f'data-agent="{team.dcc_agent_2.username}"' in page
