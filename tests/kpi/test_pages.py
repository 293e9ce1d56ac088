"""The measurement pages beside the dashboard: broken stages and the order target on
/dashboard/, headquarters' ranking and heat map (/dashboard/hq/), the daily report
(/dashboard/daily/) and the scorecards (/dashboard/scores/), each showing what its selector
gives for a small hand-made ledger, to those who may see it, and the XLSX downloads."""

from __future__ import annotations

import io
import json
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from html import unescape
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.roles import Role
from dcc.errors import InvalidInput
from kpi.bottlenecks import find_bottlenecks
from kpi.daily import generate_daily_report, generate_due_reports
from kpi.dashboard import Month, Period, month_window
from kpi.headquarters import kpi_dealer_ids, ranking
from kpi.models import DailyReport, OrderTarget
from kpi.pages import drill_dealer, read_hq_period
from kpi.pages import headquarters as pages_headquarters
from kpi.registry import View
from kpi.scorecards import scorecards
from kpi.targets import set_order_target, target_plan
from leads import actions
from leads.models import CallOutcome, Channel
from tests.conftest import build_team, grant
from tests.factories import DealerFactory, make_lead
from tests.kit import login
from tests.kpi.test_bottlenecks import funnel

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAY = Month(date(2026, 5, 1))


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=SHANGHAI)


def get(client, path: str, status: int = 200, **params) -> str:
    response = client.get(path, params)
    assert response.status_code == status, response.content[:500]
    return response.content.decode()


def section(html: str, element_id: str) -> str:
    """From the element with `element_id` to the end of its section."""
    return html.split(f'id="{element_id}"', 1)[1].split("</section>", 1)[0]


def cells(html: str, marker: str) -> list[str]:
    """The texts of the <td>s of the first table row containing `marker`, tags stripped."""
    for chunk in html.split("<tr")[1:]:
        chunk = chunk.split("</tr>", 1)[0]
        if marker in chunk:
            texts = re.findall(r"<td[^>]*>(.*?)</td>", chunk, flags=re.S)
            return [" ".join(unescape(re.sub(r"<[^>]+>", " ", t)).split()) for t in texts]
    raise AssertionError(f"no row with {marker}")


# ---------------------------------------------------------------- ledgers


@pytest.fixture
def dealers(team, other_team):
    """May 2026, four dealers of one brand, walk-in arrivals only (as in test_headquarters):
    team (Shanghai) 4 of 40 arrived, other_team (Shanghai) 16 of 40, beijing 20 of 40,
    hidden (Shanghai) 20 of 40, not granted. Brand: 60 of 160 = 37.5 %."""
    beijing = build_team(DealerFactory(city="北京"))
    hidden = build_team(DealerFactory())
    for each, arrived in ((team, 4), (other_team, 16), (beijing, 20), (hidden, 20)):
        funnel(each.dealer, by=each.gm, agent=each.dcc_agent, leads=40, arrived=arrived)
    for granted in (other_team, beijing):
        grant(team.headquarters, granted.dealer, Role.HEADQUARTERS)
    return {"team": team, "other": other_team, "beijing": beijing, "hidden": hidden}


@pytest.fixture
def small_may(team):
    """May 2026: agent 1 reaches L1 (2 minutes' talk) and books it; it arrives (agent 1's
    arrival) and consultant 1 takes the order. Agent 2 books L2. Autohome spends 31,000."""
    Channel.objects.filter(dealer=team.dealer).update(monthly_spend=0)
    Channel.objects.filter(dealer=team.dealer, code="autohome").update(
        monthly_spend=Decimal("31000")
    )
    one, two, con = team.dcc_agent, team.dcc_agent_2, team.consultant
    l1 = make_lead(team.dealer, by=team.gm, owner=one, at=at(5, 5, 9))
    actions.log_call(
        lead=l1, by=one, outcome=CallOutcome.REACHED, duration_seconds=120, at=at(5, 5)
    )
    actions.book_appointment(lead=l1, by=one, appointment_at=at(5, 8), at=at(5, 5, 11))
    actions.record_arrival(lead=l1, by=team.showroom_manager, at=at(5, 8))
    actions.hand_off(lead=l1, by=team.gm, to=con, at=at(5, 8, 12))
    actions.record_order(lead=l1, by=con, at=at(5, 10))
    l2 = make_lead(team.dealer, by=team.gm, owner=two, at=at(5, 6, 9), channel_code="douyin")
    actions.book_appointment(lead=l2, by=two, appointment_at=at(5, 9), at=at(5, 6))
    return {"L1": l1, "L2": l2}


# ---------------------------------------------------------------- broken stages


def test_the_dashboard_lists_the_broken_stages_with_the_leads_behind_them(team, dealers):
    client = login(team.gm)
    html = get(client, "/dashboard/", month="2026-05")
    broken = section(html, "broken")
    window = month_window(dealer_ids=[team.dealer.pk], month=MAY, view=View.PERIOD)
    findings = find_bottlenecks(dealer=team.dealer, window=window).findings
    assert [f.metric for f in findings] == ["arrival_rate"]  # 10 % of 40 against 37.5 %
    finding = findings[0]
    assert unescape(broken).count(finding.sentence) == 1
    assert "Arrival rate 10%, brand average 38%" in finding.sentence
    link = re.search(r'href="(/dashboard/leads/\?[^"]+)">the 40 leads behind it</a>', broken)
    assert link, broken
    drilled = get(client, unescape(link.group(1)))
    assert "This number counts 40 leads." in drilled
    assert "No stage is significantly below" not in broken


def test_without_findings_the_panel_says_so(team, small_may):
    broken = section(get(login(team.gm), "/dashboard/", month="2026-05"), "broken")
    assert "No stage is significantly below the brand or its last three months." in broken


# ---------------------------------------------------------------- the order target


def test_the_target_panel_shows_the_plan_with_what_is_behind(team, spring):
    set_order_target(dealer=team.dealer, by=team.gm, month=date(2026, 6, 1), orders=5)
    html = get(login(team.gm), "/dashboard/", month="2026-06")
    panel = section(html, "target")
    plan = target_plan(dealer=team.dealer, month=date(2026, 6, 1))
    assert [(s.measure, s.needed, s.done) for s in plan.steps] == [
        ("ordered", 5, 0),
        ("arrived", 20, 1),
        ("appointed", 25, 0),
        ("leads", 50, 3),
    ]
    for step in plan.steps:
        shown = cells(panel, f'data-step="{step.measure}"')
        assert shown[0] == str(step.needed)
        assert shown[1].split()[0] == str(step.done)
        assert shown[2] == f"{step.due_by_now:.1f}"
        # June is over: everything short of the whole is behind, in red.
        assert step.behind == ("behind" in shown[1])
        tag = panel.split(f'data-step="{step.measure}"', 1)[1].split(">", 1)[0]
        assert ("dcc-behind" in tag) == step.behind
    assert 'value="5"' in panel  # the form holds the current target


def test_without_a_target_the_panel_says_so(team):
    panel = section(get(login(team.sales_manager), "/dashboard/", month="2026-06"), "target")
    assert "No order target is set for this month." in panel
    assert 'name="orders"' in panel


def test_the_gm_sets_the_months_target(team):
    client = login(team.gm)
    response = client.post("/dashboard/?month=2026-07", {"orders": "12"})
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/?month=2026-07"
    target = OrderTarget.objects.get(dealer=team.dealer)
    assert (target.month, target.orders, target.set_by) == (date(2026, 7, 1), 12, team.gm)
    assert 'value="12"' in section(get(client, "/dashboard/", month="2026-07"), "target")


def test_a_supervisor_sees_the_target_but_may_not_set_it(team):
    set_order_target(dealer=team.dealer, by=team.gm, month=date(2026, 7, 1), orders=12)
    client = login(team.dcc_supervisor)
    panel = section(get(client, "/dashboard/", month="2026-07"), "target")
    assert 'name="orders"' not in panel
    response = client.post("/dashboard/?month=2026-07", {"orders": "99"})
    assert response.status_code == 403
    assert "Only the general manager and the sales manager set targets." in unescape(
        response.content.decode()
    )
    assert OrderTarget.objects.get(dealer=team.dealer).orders == 12


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("a dozen", "An order target is a whole number."),
        ("-3", "An order target is a whole number from 0 to 100000."),
    ],
)
def test_a_bad_number_is_shown_in_place(team, typed, message):
    response = login(team.gm).post("/dashboard/?month=2026-07", {"orders": typed})
    assert response.status_code == 422
    panel = section(unescape(response.content.decode()), "target")
    assert f'value="{typed}"' in panel
    assert "is-invalid" in panel
    assert message in panel
    assert not OrderTarget.objects.exists()


# ---------------------------------------------------------------- headquarters


def test_headquarters_ranks_its_dealers_and_maps_their_stages(team, dealers):
    html = get(login(team.headquarters), "/dashboard/hq/", month="2026-05", metric="arrival_rate")
    result = ranking(
        dealer_ids=kpi_dealer_ids(team.headquarters),
        metric="arrival_rate",
        first=MAY.first,
        last=MAY.last,
    )
    table = section(html, "ranking")
    codes = re.findall(r'<tr data-dealer="([^"]+)">', table)
    assert codes == [row.dealer.code for row in result.rows]
    assert codes == [dealers[k].dealer.code for k in ("beijing", "other", "team")]
    assert dealers["hidden"].dealer.code not in html
    # rank, rank in city, value with numerator / denominator, brand average
    assert cells(table, f'data-dealer="{dealers["beijing"].dealer.code}"') == [
        "1", "1", "50.0% 20 / 40", "37.5%",
    ]  # fmt: skip
    assert cells(table, f'data-dealer="{dealers["other"].dealer.code}"') == [
        "2", "1", "40.0% 16 / 40", "37.5%",
    ]  # fmt: skip
    assert cells(table, f'data-dealer="{team.dealer.code}"') == [
        "3", "2", "10.0% 4 / 40", "37.5%",
    ]  # fmt: skip
    assert '<span class="dcc-city">北京</span>' in table

    heat = section(html, "heat")
    team_row = heat.split(f'data-dealer="{team.dealer.code}"', 1)[1].split("</tr>", 1)[0]
    assert team_row.count("dcc-flagged") == 1
    assert "10.0%" in team_row
    data = json.loads(re.search(r'id="dcc-heat-data"[^>]*>(.*?)</script>', html, re.S).group(1))
    assert len(data["dealers"]) == 3
    flagged = [c for c in data["cells"] if c["low"]]
    assert len(flagged) == 1
    assert data["metrics"][flagged[0]["x"]] == "Arrival rate"
    assert data["dealers"][flagged[0]["y"]].startswith(team.dealer.code)
    assert (flagged[0]["rate"], flagged[0]["brand"], flagged[0]["gap"]) == ("10.0%", "37.5%", -27.5)


def test_the_heat_maps_legend_is_in_the_readers_words(team, dealers, settings):
    """The colour scale's two ends are worded by the server, in the reader's language (no
    untranslated "pp")."""
    settings.LANGUAGE_CODE = "zh-hans"
    html = get(login(team.headquarters), "/dashboard/hq/", month="2026-05")
    data = json.loads(re.search(r'id="dcc-heat-data"[^>]*>(.*?)</script>', html, re.S).group(1))
    # Beijing's arrival rate is 12.5 points above the brand: the scale reaches 28 (-27.5).
    assert data["reach"] == 28
    assert data["labels"]["above"] == "高于品牌 28 个百分点"
    assert data["labels"]["below"] == "低于品牌 28 个百分点"
    script = (settings.BASE_DIR / "static/js/dashboard.js").read_text()
    assert '" pp"' not in script and "data.labels.above" in script


def test_the_metric_picker_ranks_on_another_metric(team, dealers):
    html = get(login(team.headquarters), "/dashboard/hq/", month="2026-05", metric="lead_volume")
    table = section(html, "ranking")
    assert cells(table, f'data-dealer="{team.dealer.code}"')[0] == "1"  # 40 each: a tie
    assert cells(table, f'data-dealer="{team.dealer.code}"')[2] == "40"  # a count: no parts
    assert '<option value="lead_volume" selected>' in html


def test_headquarters_in_the_navigation_and_on_the_dashboard(team, dealers):
    html = get(login(team.headquarters), "/dashboard/")
    assert 'href="/dashboard/hq/"' in html
    assert 'href="/dashboard/hq/?month=' in html
    assert "/dashboard/hq/" not in get(login(team.gm), "/dashboard/")


def test_who_may_open_the_headquarters_page(team, other_team):
    assert get(login(team.gm), "/dashboard/hq/", 403)
    assert "headquarters page" in get(login(team.gm), "/dashboard/hq/", 403)
    assert get(login(team.dcc_agent), "/dashboard/hq/", 403)
    # A manager at two dealers reads both.
    grant(team.gm, other_team.dealer, Role.GM)
    html = get(login(team.gm), "/dashboard/hq/", month="2026-05")
    assert other_team.dealer.code in section(html, "ranking")
    assert team.headquarters.username  # headquarters granted one dealer still opens it
    assert get(login(team.headquarters), "/dashboard/hq/")


def test_the_headquarters_page_takes_as_many_queries_for_more_dealers(team, dealers):
    client = login(team.headquarters)
    client.get("/dashboard/hq/", {"month": "2026-05"})  # the session and such, once

    def counted(dealers_shown: int) -> int:
        with CaptureQueriesContext(connection) as queries:
            html = get(client, "/dashboard/hq/", month="2026-05")
        assert html.count("<tr data-dealer=") == 2 * dealers_shown  # ranking and heat map
        return len(queries)

    three = counted(3)
    for _n in range(4):
        extra = build_team(DealerFactory(city="广州"))
        funnel(extra.dealer, by=extra.gm, agent=extra.dcc_agent, leads=3, arrived=1)
        grant(team.headquarters, extra.dealer, Role.HEADQUARTERS)
    assert counted(7) == three
    # the session, the person and their roles; the ranking's 6; the heat map's 2 + 2 × 7
    assert three <= 30


# ---------------------------------------------------------------- the daily report


@pytest.fixture
def day_of_work(team):
    """May 12 2026: three leads; the first two are reached five minutes after."""
    for hour in (9, 10, 11):
        lead = make_lead(team.dealer, by=team.gm, owner=team.dcc_agent, at=at(5, 12, hour))
        if hour < 11:
            actions.log_call(
                lead=lead,
                by=team.dcc_agent,
                outcome=CallOutcome.REACHED,
                at=at(5, 12, hour).replace(minute=5),
            )


def test_a_day_without_a_kept_report_is_computed_and_nothing_is_written(team, day_of_work):
    """A read never writes: the figures are computed for the viewer and kept by nobody."""
    client = login(team.gm)
    html = get(client, "/dashboard/daily/", date="2026-05-12")
    assert "these figures are computed now" in html
    day = section(html, "day_kpis")
    assert cells(day, '<th scope="row">Lead volume') == ["3", "3"]  # the day, the month
    assert cells(day, '<th scope="row">Contact rate') == ["66.7%", "66.7%"]  # 2 of 3
    agents = section(html, "agents")
    assert cells(agents, str(team.dcc_agent))[0] == "3"
    assert "1 lead of the day missed its first-response SLA." in html
    for day_asked in ("2026-05-12", "2026-05-11", "2000-01-01"):
        get(client, "/dashboard/daily/", date=day_asked)
        assert client.get("/dashboard/daily/xlsx/", {"date": day_asked}).status_code == 200
    assert not DailyReport.objects.exists()
    # What the ledger says now, the next time too: a lead entered since counts.
    make_lead(team.dealer, by=team.gm, owner=team.dcc_agent, at=at(5, 12, 15))
    again = section(get(client, "/dashboard/daily/", date="2026-05-12"), "day_kpis")
    assert cells(again, '<th scope="row">Lead volume') == ["4", "4"]


def test_todays_report_is_the_days_final_one_kept_in_the_evening(team, fixed_clock):
    """Opened in the morning, today's report shows the figures so far and is not kept; the
    evening job keeps the day's final figures, leads of the afternoon included."""
    fixed_clock.move_to(at(5, 12, 9))
    make_lead(team.dealer, by=team.gm, owner=team.dcc_agent, at=at(5, 12, 8))
    client = login(team.gm)
    morning = get(client, "/dashboard/daily/", date="2026-05-12")
    assert "The day is not over: these are its figures so far, as of 09:00." in morning
    assert cells(section(morning, "day_kpis"), '<th scope="row">Lead volume')[0] == "1"
    assert not DailyReport.objects.exists()
    with pytest.raises(InvalidInput):  # nor can anything else keep it before the evening
        generate_daily_report(dealer=team.dealer, day=date(2026, 5, 12))
    make_lead(team.dealer, by=team.gm, owner=team.dcc_agent, at=at(5, 12, 15))
    fixed_clock.move_to(at(5, 12, 21).replace(minute=5))
    assert generate_due_reports() == 1
    kept = DailyReport.objects.get(dealer=team.dealer, day=date(2026, 5, 12))
    assert kept.content["day_kpis"]["total"]["metrics"]["lead_volume"]["value"] == 2
    evening = get(client, "/dashboard/daily/", date="2026-05-12")
    assert "As generated on 2026-05-12 21:05." in evening
    assert cells(section(evening, "day_kpis"), '<th scope="row">Lead volume')[0] == "2"


def test_the_daily_report_shows_what_was_kept(team, day_of_work, fixed_clock):
    """Kept as sent: a lead entered afterwards does not change it."""
    fixed_clock.move_to(at(5, 12, 22))
    assert generate_due_reports() == 1
    fixed_clock.move_to(at(5, 13, 9))
    client = login(team.gm)
    make_lead(team.dealer, by=team.gm, owner=team.dcc_agent, at=at(5, 12, 15))
    day = section(get(client, "/dashboard/daily/", date="2026-05-12"), "day_kpis")
    assert cells(day, '<th scope="row">Lead volume') == ["3", "3"]
    assert DailyReport.objects.count() == 1


def test_the_daily_report_defaults_to_yesterday(team, calendar_day):
    html = get(login(team.gm), "/dashboard/daily/")
    yesterday = timezone.localdate() - timedelta(days=1)
    assert f"Daily report {yesterday.isoformat()}" in html


@pytest.mark.parametrize("when", ["yesterday-ish", "2999-01-01"])
def test_a_day_it_cannot_show_says_so(team, when):
    assert get(login(team.gm), "/dashboard/daily/", 400, date=when)


def test_the_daily_report_downloads_as_xlsx(team, day_of_work):
    client = login(team.gm)
    html = get(client, "/dashboard/daily/", date="2026-05-12")
    link = re.search(r'href="(/dashboard/daily/xlsx/\?[^"]+)"', html).group(1)
    response = client.get(unescape(link))
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert f"{team.dealer.code}-daily-2026-05-12.xlsx" in response["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Day", "Month so far", "Channels", "Agents", "Overdue tasks"]
    day = [[c.value for c in row] for row in book["Day"].iter_rows()]
    assert day[0][1:4] == ["Lead volume", "Repeat enquiries", "First response on time"]
    assert day[-1][1] == 3


def test_each_dealer_reads_its_own_daily_report(team, other_team, day_of_work):
    html = get(login(other_team.gm), "/dashboard/daily/", date="2026-05-12")
    assert cells(section(html, "day_kpis"), '<th scope="row">Lead volume') == ["0", "0"]
    assert str(team.dcc_agent) not in html
    generate_daily_report(dealer=team.dealer, day=date(2026, 5, 12))
    html = get(login(other_team.gm), "/dashboard/daily/", date="2026-05-12")
    assert cells(section(html, "day_kpis"), '<th scope="row">Lead volume') == ["0", "0"]
    assert "As generated on" not in html  # the other dealer's kept report is not theirs


# ---------------------------------------------------------------- dates out of range


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("/dashboard/daily/", {"date": "0001-01-01"}, "“Day”: 0001-01-01 is outside"),
        ("/dashboard/daily/", {"date": "9999-12-31"}, "“Day”: 9999-12-31 is outside"),
        ("/dashboard/daily/xlsx/", {"date": "0001-01-01"}, "“Day”: 0001-01-01 is outside"),
        ("/dashboard/", {"month": "0001-01"}, "“Month”: 0001-01-01 is outside"),
        ("/dashboard/", {"month": "9999-12"}, "“Month”: 9999-12-01 is outside"),
        ("/dashboard/", {"mode": "compare", "other": "0001-01"}, "“Month”: 0001-01-01 is"),
        ("/dashboard/", {"mode": "compare", "month": "9999-12"}, "“Month”: 9999-12-01 is"),
        ("/dashboard/export/", {"table": "agents", "month": "0001-01"}, "“Month”: 0001-01-01"),
        ("/dashboard/scores/", {"month": "9999-12"}, "“Month”: 9999-12-01 is outside"),
        ("/dashboard/leads/", {"measure": "leads", "from": "0001-01-01", "to": "0001-01-02"},
         "“From”: 0001-01-01 is outside"),
        ("/dashboard/leads/", {"measure": "leads", "from": "2026-05-01", "to": "9999-12-31"},
         "“To”: 9999-12-31 is outside"),
    ],
)  # fmt: skip
def test_dates_out_of_range_are_named_on_the_page(team, path, params, message):
    response = login(team.gm).get(path, params)
    assert response.status_code == 400
    html = unescape(response.content.decode())
    assert message in html
    assert "the dates accepted (2000-01-01 to" in html
    assert not DailyReport.objects.exists()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"month": "0001-01"}, "“Month”: 0001-01-01 is outside"),
        ({"month": "9999-12"}, "“Month”: 9999-12-01 is outside"),
        ({"range": "days", "from": "0001-01-01", "to": "0001-01-31"},
         "“From”: 0001-01-01 is outside"),
        ({"range": "days", "from": "2026-05-01", "to": "9999-12-31"},
         "“To”: 9999-12-31 is outside"),
    ],
)  # fmt: skip
def test_headquarters_names_a_date_out_of_range(team, dealers, params, message):
    response = login(team.headquarters).get("/dashboard/hq/", params)
    assert response.status_code == 422
    assert message in unescape(response.content.decode())


@pytest.mark.parametrize("group", ["0001-01-01", "9999-12-31"])
def test_a_drill_down_group_out_of_range_is_no_group(team, group):
    query = {"measure": "leads", "from": "2026-05-01", "to": "2026-05-31", "by": "day"}
    response = login(team.gm).get("/dashboard/leads/", {**query, "group": group})
    assert response.status_code == 400
    assert "Not a group of this dimension." in response.content.decode()
    huge = {**query, "by": "agent", "group": "9223372036854775808"}
    assert login(team.gm).get("/dashboard/leads/", huge).status_code == 400


# ---------------------------------------------------------------- the dashboard's tables as XLSX


def test_the_channel_and_agent_tables_download_as_xlsx(team, small_may):
    client = login(team.gm)
    html = get(client, "/dashboard/", month="2026-05")
    link = re.search(r'href="(/dashboard/export/\?table=channels[^"]+)"', html).group(1)
    response = client.get(unescape(link))
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = {row[0]: row[1:] for row in sheet.iter_rows(min_row=2, values_only=True)}
    # leads, arrivals, orders, lead close rate, cost per lead, per arrival, per order
    assert rows["Autohome"] == (1, 1, 1, 1.0, 31000.0, 31000.0, 31000.0)
    assert rows["All"][:3] == (2, 1, 1)

    link = re.search(r'href="(/dashboard/export/\?table=agents[^"]+)"', html).group(1)
    sheet = openpyxl.load_workbook(io.BytesIO(client.get(unescape(link)).content)).active
    rows = {row[0]: row[1:] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows[str(team.dcc_agent)] == (1, 1.0, 1.0, 1.0)
    assert get(client, "/dashboard/export/", 400, table="everything")


# ---------------------------------------------------------------- scorecards


def test_the_scorecards_rank_each_role_by_points(team, small_may):
    html = get(login(team.gm), "/dashboard/scores/", month="2026-05")
    cards = {c.person.username: c for c in scorecards(dealer=team.dealer, month=MAY.first)}
    agents = section(html, "scores-dcc_agent")
    one = cells(agents, f'data-person="{team.dcc_agent.username}"')
    # rank, points, appointments (+2), arrivals (+5), overdue follow-ups (−1), talk, handled,
    # audit score (none audited)
    card = cards[team.dcc_agent.username]
    assert one[:2] == ["1", str(card.points)]
    assert card.points == 2 + 5 - card.counts["overdue_follow_up"]
    assert one[2:4] == ["1", "1"]
    assert one[-3:] == ["0:02:00", str(card.leads_handled), "—"]
    two = cells(agents, f'data-person="{team.dcc_agent_2.username}"')
    assert two[:4] == ["2", str(cards[team.dcc_agent_2.username].points), "1", "0"]
    consultants = section(html, "scores-consultant")
    con = cells(consultants, f'data-person="{team.consultant.username}"')
    # One order (+5), and L1's follow-up handed over to them still open (−1).
    assert con[:3] == ["1", "4", "1"] == ["1", str(cards[team.consultant.username].points), "1"]
    assert agents.index(team.dcc_agent.username) < agents.index(team.dcc_agent_2.username)


@pytest.mark.parametrize(
    ("who", "colleague", "role"),
    [
        ("dcc_agent", "dcc_agent_2", "dcc_agent"),
        ("dcc_agent_2", "dcc_agent", "dcc_agent"),
        ("consultant", "consultant_2", "consultant"),
    ],
)
def test_people_on_the_line_see_their_own_scorecard_only(team, small_may, who, colleague,
                                                         role):  # fmt: skip
    person, other = getattr(team, who), getattr(team, colleague)
    client = login(person)
    home = client.get("/", follow=True).content.decode()
    assert 'href="/dashboard/scores/mine/">My scorecard</a>' in home  # from the menu
    html = get(client, "/dashboard/scores/mine/", month="2026-05")
    assert "My scorecard 2026-05" in html
    card = next(
        c for c in scorecards(dealer=team.dealer, month=MAY.first) if c.person.pk == person.pk
    )
    mine = cells(section(html, f"scores-{role}"), f'data-person="{person.username}"')
    assert mine[:2] == [str(card.rank), str(card.points)]
    assert f'data-person="{other.username}"' not in html and str(other) not in html
    assert html.count("data-person=") == 1
    assert 'href="/dashboard/"' not in html  # the dashboard is not theirs
    # Everyone's scorecards stay refused.
    assert client.get("/dashboard/scores/", {"month": "2026-05"}).status_code == 403


def test_owner_operations_see_their_own_scorecard(team):
    html = get(login(team.owner_ops), "/dashboard/scores/mine/")
    assert f'data-person="{team.owner_ops.username}"' in html
    assert html.count("data-person=") == 1


def test_managers_have_everyones_scorecards_not_a_menu_entry_of_their_own(team):
    client = login(team.gm)
    response = client.get("/dashboard/scores/mine/", {"month": "2026-05"})
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/scores/?month=2026-05"
    assert "My scorecard" not in client.get("/", follow=True).content.decode()
    refused = login(team.platform_specialist).get("/dashboard/scores/mine/")
    assert refused.status_code == 403
    assert "there is no scorecard of yours" in refused.content.decode()


# ---------------------------------------------------------------- who sees the pages


PAGES = [
    "/dashboard/daily/?date=2026-05-12",
    "/dashboard/daily/xlsx/?date=2026-05-12",
    "/dashboard/scores/?month=2026-05",
    "/dashboard/export/?table=channels&month=2026-05",
    "/dashboard/hq/",
]


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("role", [Role.DCC_AGENT, Role.CONSULTANT])
def test_people_on_the_line_are_refused(team, path, role):
    assert login(team.by_role(role)).get(path).status_code == 403


@pytest.mark.parametrize("path", PAGES[:-1])
def test_supervisors_open_them(team, path):
    assert login(team.dcc_supervisor).get(path).status_code == 200


def test_another_dealers_people_are_not_shown(team, other_team, small_may):
    html = get(login(other_team.gm), "/dashboard/scores/", month="2026-05")
    assert team.dcc_agent.username not in html
    assert other_team.dcc_agent.username in html


# ---------------------------------------------------------------- headquarters: days and leads


def test_headquarters_reads_a_month_or_any_days():
    today = date(2026, 5, 20)
    month = read_hq_period({"month": "2026-04"}, today=today)
    assert (month.period, month.custom, month.errors) == (
        Period.of_month(Month(date(2026, 4, 1))),
        False,
        {},
    )
    assert read_hq_period({}, today=today).period == Period(date(2026, 5, 1), date(2026, 5, 31))
    days = read_hq_period({"range": "days", "from": "2026-05-02", "to": "2026-05-09"}, today=today)
    assert (days.period, days.custom, str(days.period)) == (
        Period(date(2026, 5, 2), date(2026, 5, 9)),
        True,
        "2026-05-02 – 2026-05-09",
    )
    assert days.month == Month(date(2026, 5, 1))
    # Just switched to days: the month's, to edit.
    fresh = read_hq_period({"range": "days", "month": "2026-02"}, today=today)
    assert fresh.values == {"from": "2026-02-01", "to": "2026-02-28"} and not fresh.errors
    bad = read_hq_period({"range": "days", "from": "2026-05-09", "to": "2026-05-02"}, today=today)
    assert bad.errors == {"to": "“To” is before “From”."}
    assert bad.values == {"from": "2026-05-09", "to": "2026-05-02"}  # shown back as typed


def test_headquarters_numbers_link_to_their_dealers_leads(team, dealers):
    hq = pages_headquarters(staff=team.headquarters, metric="arrival_rate",
                            period=MAY, view=View.COHORT)  # fmt: skip
    line = next(line for line in hq.lines if line.row.dealer == dealers["beijing"].dealer)
    assert line.value.text == "50.0%"
    assert [part.text for part in line.value.parts] == ["20", "40"]
    query = dict(parse_qsl(line.value.drill))
    assert query == {"measure": "arrived", "from": "2026-05-01", "to": "2026-05-31",
                     "view": "cohort", "dealer": dealers["beijing"].dealer.code}  # fmt: skip
    assert dict(parse_qsl(line.value.parts[1].drill))["measure"] == "leads"
    heat = next(line for line in hq.heat_lines if line.row.dealer == team.dealer)
    flagged = [cell.metric.key for heat_cell, cell in heat.cells if heat_cell.low]
    assert flagged == ["arrival_rate"]
    assert {dict(parse_qsl(cell.drill))["dealer"] for _heat, cell in heat.cells} == {
        team.dealer.code
    }
    assert len(hq.chart["cells"]) == 3 * 7 and all(c["drill"] for c in hq.chart["cells"])


def test_a_drill_down_is_at_a_dealer_the_viewer_reads(team, dealers):
    person = team.headquarters
    assert drill_dealer(staff=person, current=team.dealer, code=None) == team.dealer
    beijing = dealers["beijing"].dealer
    assert drill_dealer(staff=person, current=team.dealer, code=beijing.code) == beijing
    assert (
        drill_dealer(staff=person, current=team.dealer, code=dealers["hidden"].dealer.code) is None
    )
    assert drill_dealer(staff=person, current=team.dealer, code="NOWHERE") is None
    assert drill_dealer(staff=team.gm, current=team.dealer, code=beijing.code) is None
