"""Headquarters views: dealers ranked on a metric, the dealers × stages heat map, and the API
endpoints (with the bottleneck finder's) for those who may see them."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.roles import Role
from kpi.headquarters import heat_map, kpi_dealer_ids, ranking
from tests.conftest import build_team, grant
from tests.factories import DealerFactory
from tests.kpi.test_bottlenecks import funnel

pytestmark = pytest.mark.django_db

MAY = {"first": date(2026, 5, 1), "last": date(2026, 5, 31)}
MAY_QUERY = {"from": "2026-05-01", "to": "2026-05-31"}


@pytest.fixture
def dealers(team, other_team):
    """May 2026, four dealers of one brand, walk-in arrivals only:

    team (Shanghai)        4 of 40 arrived (10 %)
    other_team (Shanghai) 16 of 40 (40 %)
    beijing (Beijing)     20 of 40 (50 %)
    hidden (Shanghai)     20 of 40 (50 %): not granted to headquarters
    Brand: 60 of 160 = 37.5 %. Headquarters (team.headquarters) is granted the first three.
    """
    beijing = build_team(DealerFactory(city="北京"))
    hidden = build_team(DealerFactory())
    for each, arrived in ((team, 4), (other_team, 16), (beijing, 20), (hidden, 20)):
        funnel(each.dealer, by=each.gm, agent=each.dcc_agent, leads=40, arrived=arrived)
    for granted in (other_team, beijing):
        grant(team.headquarters, granted.dealer, Role.HEADQUARTERS)
    return {"team": team, "other": other_team, "beijing": beijing, "hidden": hidden}


def test_headquarters_sees_the_dealers_it_is_granted(team, dealers):
    assert kpi_dealer_ids(team.headquarters) == sorted(
        d.dealer.pk for d in (team, dealers["other"], dealers["beijing"])
    )
    assert kpi_dealer_ids(team.gm) == [team.dealer.pk]
    assert kpi_dealer_ids(team.dcc_agent) == []


def test_ranking_by_value_with_the_rank_in_the_city_and_the_brand_average(team, dealers):
    result = ranking(dealer_ids=kpi_dealer_ids(team.headquarters), metric="arrival_rate", **MAY)
    rows = [(r.dealer.code, r.value.numerator, r.rank, r.city_rank) for r in result.rows]
    assert rows == [
        (dealers["beijing"].dealer.code, 20, 1, 1),
        (dealers["other"].dealer.code, 16, 2, 1),
        (team.dealer.code, 4, 3, 2),
    ]
    # The brand average pools every dealer of the brand, the one not shown too.
    for row in result.rows:
        assert (row.brand_average.numerator, row.brand_average.denominator) == (60, 160)
        assert row.brand_average.value == pytest.approx(0.375)


def test_ties_share_a_rank_and_less_is_better_for_defeats_and_costs(team, dealers):
    result = ranking(dealer_ids=kpi_dealer_ids(team.headquarters), metric="lead_volume", **MAY)
    assert [r.rank for r in result.rows] == [1, 1, 1]  # 40 leads each
    average = result.rows[0].brand_average
    assert (average.numerator, average.denominator, average.value) == (160, 4, 40)
    costs = ranking(dealer_ids=[team.dealer.pk], metric="defeat_rate", **MAY)
    assert costs.rows[0].rank is None  # nothing closed: no value, no rank


def test_a_dealer_manager_sees_their_own_dealer_against_the_brand(team, dealers):
    result = ranking(dealer_ids=kpi_dealer_ids(team.gm), metric="arrival_rate", **MAY)
    assert [(r.dealer.pk, r.rank) for r in result.rows] == [(team.dealer.pk, 1)]
    assert result.rows[0].brand_average.numerator == 60


def test_the_heat_map_marks_rates_significantly_below_the_brand(team, dealers):
    result = heat_map(dealer_ids=kpi_dealer_ids(team.headquarters), **MAY)
    cells = {row.dealer.pk: row.cells for row in result.rows}
    assert cells[team.dealer.pk]["arrival_rate"].low  # 10 %, upper 23 % < 37.5 %
    assert not cells[dealers["other"].dealer.pk]["arrival_rate"].low
    assert not cells[dealers["beijing"].dealer.pk]["arrival_rate"].low
    assert cells[team.dealer.pk]["arrival_rate"].brand.numerator == 60
    assert not any(cell.low for key, cell in cells[team.dealer.pk].items() if key != "arrival_rate")


@pytest.mark.parametrize("how_many", [2, 5])
def test_the_ranking_takes_the_same_queries_for_any_number_of_dealers(
    team, how_many, django_assert_max_num_queries
):
    """One grouped query per measure: arrival rate is two measures, each grouped and in total;
    the dealers and their brands; the dealers' labels."""
    for _n in range(how_many - 1):
        grant(team.headquarters, DealerFactory(), Role.HEADQUARTERS)
    dealer_ids = kpi_dealer_ids(team.headquarters)
    assert len(dealer_ids) == how_many
    with django_assert_max_num_queries(6):
        ranking(dealer_ids=dealer_ids, metric="arrival_rate", **MAY)
    with CaptureQueriesContext(connection) as counted:
        heat_map(dealer_ids=dealer_ids, **MAY)
    assert len(counted) <= 2 + 2 * 7  # seven measures behind the seven funnel rates


# The API -------------------------------------------------------------------------------------


def test_headquarters_ranks_its_granted_dealers_only(team, dealers, api):
    answer = api(team.headquarters).get(
        "/api/v1/kpi/ranking", {**MAY_QUERY, "metric": "arrival_rate"}
    )
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["metric"] == {
        "key": "arrival_rate",
        "name": "Arrival rate",
        "unit": "rate",
        "lower_is_better": False,
    }
    assert (body["from"], body["to"], body["view"]) == ("2026-05-01", "2026-05-31", "period")
    assert [row["dealer"]["code"] for row in body["dealers"]] == [
        dealers["beijing"].dealer.code,
        dealers["other"].dealer.code,
        team.dealer.code,
    ]
    assert body["dealers"][0] == {
        "dealer": {
            "code": dealers["beijing"].dealer.code,
            "name": dealers["beijing"].dealer.name,
            "city": "北京",
            "brand": "brand",
        },
        "value": 0.5,
        "numerator": 20,
        "denominator": 40,
        "rank": 1,
        "city_rank": 1,
        "brand_average": {"value": 0.375, "numerator": 60, "denominator": 160},
    }


def test_a_dealer_manager_ranks_their_own_dealer_only(team, dealers, api):
    body = api(team.gm).get("/api/v1/kpi/ranking", {**MAY_QUERY, "metric": "arrival_rate"}).json()
    assert [row["dealer"]["code"] for row in body["dealers"]] == [team.dealer.code]


def test_the_heat_map_answer(team, dealers, api):
    answer = api(team.headquarters).get("/api/v1/kpi/heatmap", MAY_QUERY)
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert list(body["metrics"]) == [
        "valid_lead_rate",
        "first_response_on_time",
        "contact_rate",
        "invitation_rate",
        "arrival_rate",
        "arrival_to_order_rate",
        "lead_close_rate",
    ]
    rows = {row["dealer"]["code"]: row["cells"] for row in body["dealers"]}
    assert set(rows) == {d.dealer.code for d in (team, dealers["other"], dealers["beijing"])}
    cell = rows[team.dealer.code]["arrival_rate"]
    assert cell["low"] is True
    assert (cell["value"], cell["numerator"], cell["denominator"]) == (0.1, 4, 40)
    assert cell["brand_average"]["numerator"] == 60
    assert 0 <= cell["interval"]["low"] <= 0.1 <= cell["interval"]["high"] < 0.375


def test_the_bottlenecks_answer(team, dealers, api):
    answer = api(team.gm).get("/api/v1/kpi/bottlenecks", {**MAY_QUERY, "dealer": team.dealer.code})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["trailing"] == {"from": "2026-02-01", "to": "2026-04-30"}
    assert [(f["metric"], f["benchmark"]) for f in body["findings"]] == [("arrival_rate", "brand")]
    finding = body["findings"][0]
    assert finding["agent"] == {"id": team.dcc_agent.pk, "name": str(team.dcc_agent)}
    assert finding["sentence"].startswith("Arrival rate 10%, brand average 38%")
    assert len(body["stages"]) == 7


# Who may ask: at their own dealer / another dealer (bottlenecks); with any KPI right at all
# (ranking and heat map).
@pytest.mark.parametrize("role", list(Role))
def test_who_may_ask(team, other_team, api, role):
    person = team.by_role(role)
    sees = role not in (Role.DCC_AGENT, Role.CONSULTANT, Role.PLATFORM_SPECIALIST, Role.OWNER_OPS)
    path = "/api/v1/kpi/bottlenecks"
    own = api(person).get(path, {**MAY_QUERY, "dealer": team.dealer.code})
    other = api(person).get(path, {**MAY_QUERY, "dealer": other_team.dealer.code})
    assert (own.status_code, other.status_code) == ((200 if sees else 403), 404)
    for path, extra in (("/api/v1/kpi/ranking", {"metric": "orders"}), ("/api/v1/kpi/heatmap", {})):
        answer = api(person).get(path, {**MAY_QUERY, **extra})
        assert answer.status_code == (200 if sees else 403), path
        if sees:
            shown = {row["dealer"]["code"] for row in answer.json()["dealers"]}
            assert shown == {team.dealer.code}


@pytest.mark.parametrize(
    ("path", "extra", "field"),
    [
        ("/api/v1/kpi/ranking", {"metric": "happiness"}, "metric"),
        ("/api/v1/kpi/ranking", {"metric": "orders", "from": "2026-06-01"}, "to"),
        ("/api/v1/kpi/heatmap", {"view": "weekly"}, "view"),
        ("/api/v1/kpi/bottlenecks", {"dealer": "nowhere"}, "dealer"),
    ],
)
def test_bad_queries_say_what_is_wrong(team, api, path, extra, field):
    answer = api(team.headquarters).get(path, {**MAY_QUERY, **extra})
    assert answer.status_code in (404, 422)
    assert answer.json()["field"] == field


def test_costs_rank_the_cheapest_first_with_money_as_text(team, other_team, api):
    """Autohome spends 31,000 a month at both dealers; 10 leads at one, 20 at the other."""
    from decimal import Decimal

    from leads.models import Channel
    from tests.factories import channel

    for each, leads in ((team, 10), (other_team, 20)):
        Channel.objects.filter(dealer=each.dealer).update(monthly_spend=0)
        autohome = channel(each.dealer, "autohome")
        autohome.monthly_spend = Decimal("31000")
        autohome.save()
        funnel(each.dealer, by=each.gm, agent=each.dcc_agent, leads=leads, arrived=0)
    grant(team.headquarters, other_team.dealer, Role.HEADQUARTERS)
    body = (
        api(team.headquarters)
        .get("/api/v1/kpi/ranking", {**MAY_QUERY, "metric": "cost_per_lead"})
        .json()
    )
    assert body["metric"]["lower_is_better"] is True
    got = [(row["dealer"]["code"], row["value"], row["rank"]) for row in body["dealers"]]
    assert got == [(other_team.dealer.code, "1550.00", 1), (team.dealer.code, "3100.00", 2)]
    assert body["dealers"][0]["brand_average"] == {
        "value": "2066.67",
        "numerator": "62000.00",
        "denominator": 30,
    }


def test_the_new_endpoints_are_in_the_openapi_schema(team, api):
    paths = api(team.gm).get("/api/v1/openapi.json").json()["paths"]
    assert {"/api/v1/kpi/bottlenecks", "/api/v1/kpi/ranking", "/api/v1/kpi/heatmap"} <= set(paths)
