"""The lead list's filter bar, total and export: each filter narrows the list and its
spreadsheet alike, pages keep the filter, bad filters are told (never a server error), the
file masks numbers as the page does, and the queries do not grow with the leads."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leads import actions
from leads.models import CallOutcome, Lead
from tests.conftest import Team
from tests.factories import channel, make_lead
from tests.kit import login

pytestmark = pytest.mark.django_db


def listed(response) -> set[int]:
    assert response.status_code == 200, response.content.decode()[:2000]
    html = response.content.decode()
    table = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return {int(pk) for pk in re.findall(r'href="/leads/(\d+)/"', table)}


def total(response) -> str:
    """The total line, as text."""
    html = response.content.decode()
    line = html.split('data-testid="total">', 1)[1].split("</p>", 1)[0]
    return " ".join(re.sub(r"<[^>]+>", " ", line).split())


def workbook(response) -> list[tuple]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    content = b"".join(response.streaming_content)
    sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True).active
    return list(sheet.iter_rows(values_only=True))


@pytest.fixture
def leads(team: Team) -> dict[str, Lead]:
    """Leads that differ in one thing each: owner, channel, stage and grade, age, SLA."""
    now = timezone.now()
    made = {
        "mine": make_lead(team.dealer, owner=team.dcc_agent, phone="13800000001"),
        "theirs": make_lead(team.dealer, owner=team.dcc_agent_2, phone="13800000002"),
        "hotline": make_lead(
            team.dealer, owner=team.dcc_agent, channel_code="hotline_400", phone="13800000003"
        ),
        "old": make_lead(
            team.dealer, owner=team.dcc_agent, at=now - timedelta(days=40), phone="13800000004"
        ),
    }
    hot = make_lead(team.dealer, owner=team.dcc_agent, phone="13800000005")
    made["hot"] = actions.log_call(
        lead=hot, by=team.dcc_agent, outcome=CallOutcome.REACHED, grade="H"
    )
    return made


def pks(leads: dict[str, Lead], *names: str) -> set[int]:
    return {leads[name].pk for name in names}


def test_every_filter_narrows_the_list_and_the_total_says_how_many(team: Team, leads):
    client = login(team.gm)
    everything = client.get("/leads/")
    assert listed(everything) == pks(leads, "mine", "theirs", "hotline", "old", "hot")
    assert total(everything) == "5 leads"

    by_owner = client.get("/leads/", {"owner": team.dcc_agent_2.pk})
    assert listed(by_owner) == pks(leads, "theirs")
    assert total(by_owner) == "1 lead match the filter"
    hotline = channel(team.dealer, "hotline_400").pk
    assert listed(client.get("/leads/", {"channel": hotline})) == pks(leads, "hotline")
    assert listed(client.get("/leads/", {"stage": "contacted"})) == pks(leads, "hot")
    assert listed(client.get("/leads/", {"grade": "H"})) == pks(leads, "hot")
    today = timezone.localdate()
    recent = {"created_from": (today - timedelta(days=7)).isoformat()}
    assert leads["old"].pk not in listed(client.get("/leads/", recent))
    early = {"created_to": (today - timedelta(days=30)).isoformat()}
    assert listed(client.get("/leads/", early)) == pks(leads, "old")
    # The old lead was never called: its SLA is long breached; the others are not yet due.
    assert listed(client.get("/leads/", {"sla": "breached"})) == pks(leads, "old")
    both = {"owner": team.dcc_agent.pk, "stage": "new"}
    assert listed(client.get("/leads/", both)) == pks(leads, "mine", "hotline", "old")


def test_pages_keep_the_filter(team: Team):
    for _ in range(51):
        make_lead(team.dealer, owner=team.dcc_agent)
    make_lead(team.dealer, owner=team.dcc_agent_2)
    html = login(team.gm).get("/leads/", {"owner": team.dcc_agent.pk}).content.decode()
    assert "51 leads" in html
    next_page = re.search(r'href="\?([^"]*page=2)"', html).group(1).replace("&amp;", "&")
    assert next_page == f"owner={team.dcc_agent.pk}&page=2"
    second = login(team.gm).get("/leads/?" + next_page)
    assert len(listed(second)) == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"owner": "9223372036854775808"}, "owner"),
        ({"channel": "x"}, "channel"),
        ({"stage": "nonsense"}, "stage"),
        ({"created_from": "0001-01-01"}, "created_from"),
        ({"created_to": "9999-12-31"}, "created_to"),
        ({"created_from": "2026-11-10", "created_to": "2026-11-01"}, "created_to"),
    ],
)
def test_a_bad_filter_is_told_on_its_field(team: Team, leads, params, field):
    for path in ("/leads/", "/leads/export/"):
        response = login(team.gm).get(path, params)
        assert response.status_code == 422
        html = response.content.decode()
        control = re.search(rf'<[^>]*id="id_{field}"[^>]*>', html).group(0)
        assert "is-invalid" in control
        assert 'class="invalid-feedback d-block"' in html


def test_another_dealers_owner_is_not_a_choice(team: Team, other_team: Team, leads):
    response = login(team.gm).get("/leads/", {"owner": other_team.dcc_agent.pk})
    assert response.status_code == 422


def test_the_export_holds_what_the_filter_selects(team: Team, leads):
    rows = workbook(login(team.gm).get("/leads/export/", {"owner": team.dcc_agent.pk}))
    header, body = rows[0], rows[1:]
    assert header[:4] == ("Lead", "Created", "Customer", "Mobile")
    assert {row[0] for row in body} == pks(leads, "mine", "hotline", "old", "hot")
    by_id = {row[0]: row for row in body}
    assert by_id[leads["hotline"].pk][4] == "400 hotline"
    assert by_id[leads["hot"].pk][6:8] == ("Contacted", "H")
    assert by_id[leads["old"].pk][11] == "yes" and by_id[leads["mine"].pk][11] == "no"
    assert by_id[leads["mine"].pk][3] == "13800000001"  # a manager sees numbers in full


def test_the_export_masks_numbers_as_the_list_does(team: Team, leads):
    agent_rows = workbook(login(team.dcc_agent_2).get("/leads/export/"))[1:]
    agent_html = login(team.dcc_agent_2).get("/leads/").content.decode()
    phones = {row[0]: row[3] for row in agent_rows}
    assert phones[leads["theirs"].pk] == "13800000002"  # their own lead
    for lead_id, phone in phones.items():
        assert phone in agent_html
        if lead_id != leads["theirs"].pk:
            assert "****" in phone
    auditor = {row[0]: row[3] for row in workbook(login(team.auditor).get("/leads/export/"))[1:]}
    assert all("****" in phone for phone in auditor.values())


def test_the_export_is_offered_with_the_filter(team: Team, leads):
    html = login(team.gm).get("/leads/", {"grade": "H"}).content.decode()
    link = re.search(r'href="(/leads/export/[^"]*)"', html).group(1)
    assert link == "/leads/export/?grade=H"


@pytest.mark.parametrize("role", ["consultant", "owner_ops", "platform_specialist"])
def test_the_export_is_refused_to_those_without_the_list(team: Team, role: str):
    assert login(team.by_role(role)).get("/leads/export/").status_code == 403


@pytest.mark.parametrize("path", ["/leads/", "/leads/export/"])
def test_queries_do_not_grow_with_the_leads(team: Team, path: str):
    filters = {"owner": team.dcc_agent.pk, "sla": "breached", "created_from": "2026-01-01"}

    def count() -> int:
        client = login(team.gm)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path, filters)
            if path.endswith("export/"):
                b"".join(response.streaming_content)
        assert response.status_code == 200
        return len(queries)

    past = timezone.now() - timedelta(days=2)
    for _ in range(3):
        make_lead(team.dealer, owner=team.dcc_agent, at=past)
    few = count()
    for _ in range(30):
        make_lead(team.dealer, owner=team.dcc_agent, at=past)
    assert count() == few
