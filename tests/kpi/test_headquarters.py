"""Headquarters views: dealers ranked on a metric, the dealers × stages heat map, and the API
endpoints (with the bottleneck finder's) for those who may see them; the page's period or
cohort view, its month or any days, and every number's leads at the dealers granted."""

from __future__ import annotations

import json
import re
from datetime import date
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.roles import Role
from kpi.headquarters import heat_map, kpi_dealer_ids, ranking
from leads.models import EventKind, Lead
from tests.conftest import build_team, grant
from tests.factories import DealerFactory
from tests.kit import login
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


def test_headquarters_ranks_its_granted_dealers_only(team, dealers):
    answer = login(team.headquarters).get(
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


def test_a_dealer_manager_ranks_their_own_dealer_only(team, dealers):
    body = login(team.gm).get("/api/v1/kpi/ranking", {**MAY_QUERY, "metric": "arrival_rate"}).json()
    assert [row["dealer"]["code"] for row in body["dealers"]] == [team.dealer.code]


def test_the_heat_map_answer(team, dealers):
    answer = login(team.headquarters).get("/api/v1/kpi/heatmap", MAY_QUERY)
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


def test_the_bottlenecks_answer(team, dealers):
    answer = login(team.gm).get(
        "/api/v1/kpi/bottlenecks", {**MAY_QUERY, "dealer": team.dealer.code}
    )
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
def test_who_may_ask(team, other_team, role):
    person = team.by_role(role)
    sees = role not in (Role.DCC_AGENT, Role.CONSULTANT, Role.PLATFORM_SPECIALIST, Role.OWNER_OPS)
    path = "/api/v1/kpi/bottlenecks"
    own = login(person).get(path, {**MAY_QUERY, "dealer": team.dealer.code})
    other = login(person).get(path, {**MAY_QUERY, "dealer": other_team.dealer.code})
    assert (own.status_code, other.status_code) == ((200 if sees else 403), 404)
    for path, extra in (("/api/v1/kpi/ranking", {"metric": "orders"}), ("/api/v1/kpi/heatmap", {})):
        answer = login(person).get(path, {**MAY_QUERY, **extra})
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
def test_bad_queries_say_what_is_wrong(team, path, extra, field):
    answer = login(team.headquarters).get(path, {**MAY_QUERY, **extra})
    assert answer.status_code in (404, 422)
    assert answer.json()["field"] == field


def test_costs_rank_the_cheapest_first_with_money_as_text(team, other_team):
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
        login(team.headquarters)
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


def test_the_new_endpoints_are_in_the_openapi_schema(team):
    paths = login(team.gm).get("/api/v1/openapi.json").json()["paths"]
    assert {"/api/v1/kpi/bottlenecks", "/api/v1/kpi/ranking", "/api/v1/kpi/heatmap"} <= set(paths)


# The page: period or cohort, a month or any days, every number to its leads ----------------

NUMBER = re.compile(r'<a class="dcc-num" href="([^"]+)">([^<]+)</a>')
LEAD_LINK = re.compile(r'href="/leads/(\d+)/"')


def hq_page(client, status: int = 200, **params) -> str:
    response = client.get("/dashboard/hq/", params)
    assert response.status_code == status, response.content[:500]
    return unescape(response.content.decode())


def dealer_row(html: str, table: str, code: str) -> str:
    body = html.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    return body.split(f'data-dealer="{code}"', 1)[1].split("</tr>", 1)[0]


def listed(client, href: str) -> set[int]:
    response = client.get(href)
    assert response.status_code == 200, response.content[:500]
    return {int(pk) for pk in LEAD_LINK.findall(response.content.decode())}


def leads_of(each, arrived_only: bool = False) -> set[int]:
    leads = Lead.objects.filter(dealer=each.dealer)
    if arrived_only:
        leads = leads.filter(events__kind=EventKind.ARRIVED)
    return set(leads.values_list("pk", flat=True))


def test_the_page_says_which_view_it_shows_and_switches(team, dealers):
    client = login(team.headquarters)
    period = hq_page(client, month="2026-05", metric="arrival_rate")
    assert "Shown: Period: what happened in the period." in period
    cohort = hq_page(client, month="2026-05", metric="arrival_rate", view="cohort")
    assert "Shown: Cohort: leads created in the period, followed to today." in cohort
    switch = period.split("Cohort view", 1)[0].rsplit("href=", 1)[1]
    assert "view=cohort" in switch and "month=2026-05" in switch and "metric=arrival_rate" in switch
    # Every link to leads keeps the view.
    links = [href for href, _text in NUMBER.findall(cohort)]
    assert links and all("view=cohort" in href for href in links)


def test_ranking_values_drill_down_to_the_leads_at_their_dealer(team, dealers):
    """Beijing: 20 of 40 arrived. Its value opens the 20, its parts the 20 and the 40."""
    client = login(team.headquarters)
    html = hq_page(client, month="2026-05", metric="arrival_rate")
    beijing = dealers["beijing"]
    row = dealer_row(html, "ranking", beijing.dealer.code)
    ((href, text),) = NUMBER.findall(row)
    assert text == "50.0%"
    assert listed(client, unescape(href)) == leads_of(beijing, arrived_only=True)
    assert len(leads_of(beijing, arrived_only=True)) == 20
    numerator, denominator = re.findall(r'href="([^"]+)">(?:20|40)</a>', row)
    assert listed(client, unescape(numerator)) == leads_of(beijing, arrived_only=True)
    assert listed(client, unescape(denominator)) == leads_of(beijing)
    drilled = unescape(client.get(unescape(denominator)).content.decode())
    assert "This number counts 40 leads." in drilled
    assert f"{beijing.dealer.code} {beijing.dealer.name}" in drilled
    assert "Back to headquarters" in drilled


def test_heat_map_cells_drill_down_to_numerator_and_denominator(team, dealers):
    client = login(team.headquarters)
    html = hq_page(client, month="2026-05")
    other = dealers["other"]
    row = dealer_row(html, "heat", other.dealer.code)
    cell = row.split('data-metric="arrival_rate"', 1)[1].split("</td>", 1)[0]
    ((href, text),) = NUMBER.findall(cell)
    assert text == "40.0%"  # 16 of 40
    assert listed(client, unescape(href)) == leads_of(other, arrived_only=True)
    parts = re.findall(r'href="([^"]+)">(\d+)</a>', cell)
    assert [text for _href, text in parts] == ["16", "40"]
    assert listed(client, unescape(parts[1][0])) == leads_of(other)
    # The chart's cells carry the same drill-downs.
    data = json.loads(re.search(r'id="dcc-heat-data"[^>]*>(.*?)</script>', html, re.S).group(1))
    y = next(i for i, name in enumerate(data["dealers"]) if name.startswith(other.dealer.code))
    x = data["metrics"].index("Arrival rate")
    drawn = next(c for c in data["cells"] if (c["x"], c["y"]) == (x, y))
    assert "/dashboard/leads/?" + drawn["drill"] == unescape(href)


def test_headquarters_cannot_drill_into_a_dealer_it_is_not_granted(team, dealers):
    client = login(team.headquarters)
    hidden = dealers["hidden"]
    assert hidden.dealer.code not in hq_page(client, month="2026-05")
    for code in (hidden.dealer.code, "NOWHERE"):
        response = client.get(
            "/dashboard/leads/",
            {"measure": "leads", "from": "2026-05-01", "to": "2026-05-31", "dealer": code},
        )
        assert response.status_code == 403
        html = unescape(response.content.decode())
        assert "You are not granted this dealer's figures" in html
        assert not LEAD_LINK.findall(html)
    # A dealer's manager cannot read another dealer's leads through it either.
    response = login(team.gm).get(
        "/dashboard/leads/",
        {"measure": "leads", "from": "2026-05-01", "to": "2026-05-31",
         "dealer": dealers["other"].dealer.code},
    )  # fmt: skip
    assert response.status_code == 403


def test_headquarters_picks_any_days(team, dealers):
    """May 2 alone: the 40 leads of each dealer, none arrived yet (walk-ins came on the 3rd)."""
    client = login(team.headquarters)
    html = hq_page(client, range="days", **{"from": "2026-05-02", "to": "2026-05-02"},
                   metric="arrival_rate")  # fmt: skip
    assert "Dealers ranked on Arrival rate, 2026-05-02" in html
    assert 'name="from" value="2026-05-02"' in html
    row = dealer_row(html, "ranking", dealers["beijing"].dealer.code)
    assert [text for _href, text in NUMBER.findall(row)] == ["0.0%"]
    assert (
        "0.0%"
        in dealer_row(html, "ranking", dealers["beijing"].dealer.code).split(
            'class="text-end dcc-average"', 1
        )[1]
    )  # the brand: 0 of 160
    denominator = re.findall(r'href="([^"]+)">40</a>', row)[0]
    assert "from=2026-05-02&to=2026-05-02" in unescape(denominator)
    assert listed(client, unescape(denominator)) == leads_of(dealers["beijing"])
    # May 3 to 31: no leads created, the arrivals all there.
    html = hq_page(client, range="days", **{"from": "2026-05-03", "to": "2026-05-31"},
                   metric="arrivals")  # fmt: skip
    codes = re.findall(r'<tr data-dealer="([^"]+)">', html.split('id="ranking"', 1)[1])[:3]
    assert codes == [dealers[k].dealer.code for k in ("beijing", "other", "team")]
    # Switching to days starts from the month shown.
    html = hq_page(client, range="days", month="2026-04")
    assert 'name="from" value="2026-04-01"' in html and 'name="to" value="2026-04-30"' in html


@pytest.mark.parametrize(
    ("dates", "field", "message"),
    [
        ({"from": "2026-05-xx", "to": "2026-05-31"}, "from",
         "“From” is not a date: write it as YYYY-MM-DD."),
        ({"from": "2026-05-31", "to": "2026-05-01"}, "to", "“To” is before “From”."),
        ({"from": "2026-05-01", "to": ""}, "to", "“To” is missing."),
        ({"from": "2024-01-01", "to": "2026-05-31"}, "to", "choose at most 366"),
    ],
)  # fmt: skip
def test_bad_days_are_answered_on_the_page_naming_the_field(team, dealers, dates, field,
                                                            message):  # fmt: skip
    html = hq_page(login(team.headquarters), 422, range="days", **dates)
    assert message in html
    assert f'id="f-{field}-error"' in html
    assert 'id="ranking"' not in html


def test_the_month_pill_goes_back_to_months(team, dealers):
    html = hq_page(
        login(team.headquarters), range="days", **{"from": "2026-05-02", "to": "2026-05-09"}
    )
    pill = html.split(">Month</a>", 1)[0].rsplit("href=", 1)[1]
    assert "range=" not in pill and "from=" not in pill and "month=2026-05" in pill
