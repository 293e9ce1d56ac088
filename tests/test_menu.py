"""The menu and the pages agree: each page's view and its menu entry ask the same rule of
leads.permissions, so that for every role the menu offers exactly the pages that open, and
every page it leaves out refuses (or, for "My scorecard", sends a KPI reader to everyone's)."""

from __future__ import annotations

import re

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from accounts.models import Staff
from accounts.roles import Role
from dcc_site.context_processors import NAVIGATION
from tests.conftest import Team, grant

pytestmark = pytest.mark.django_db

# The pages each role gets at its dealer (docs/permissions.md, "Pages"), by URL name.
MANAGERS_PAGES = {
    "team", "lead_list", "lead_new", "dashboard", "imports", "dealer_settings", "audit_workbench"
}  # fmt: skip
OWNER_PAGES = {"return_visits", "complaints"}
# Members and owner events: the owner workers' pages, read by auditors and headquarters (not
# consultants').
OWNER_WORK = OWNER_PAGES | {"members", "owner_events"}
READ = {"members", "owner_events"}
# Campaigns: run by marketing and the managers above it, read by headquarters.
CAMPAIGNS = {"campaigns"}
# Personal data: the do-not-call list's keepers (supervisors, marketing), requests (GM, SM).
PRIVACY = {"privacy"}
# SMS: sent in bulk by marketing and the supervisors, read by auditors (sms.permissions).
SMS = {"sms"}
# The stand screen: the people who work stands (consultants, marketing).
STAND = {"stand"}
PAGES: dict[Role, set[str]] = {
    Role.GM: MANAGERS_PAGES | OWNER_WORK | CAMPAIGNS | PRIVACY | SMS | {"platforms"},
    Role.SALES_MANAGER: MANAGERS_PAGES | OWNER_WORK | CAMPAIGNS | PRIVACY | SMS,
    Role.MARKETING_MANAGER: {"lead_list", "lead_new", "dashboard", "platforms"}
    | CAMPAIGNS
    | PRIVACY
    | SMS
    | STAND,
    Role.PLATFORM_SPECIALIST: {"lead_new", "platforms"} | STAND,
    Role.DCC_SUPERVISOR: MANAGERS_PAGES | PRIVACY | SMS | {"queue", "platforms"},
    Role.DCC_AGENT: {"queue", "lead_list", "lead_new", "dashboard_my_scores"},
    Role.SHOWROOM_MANAGER: MANAGERS_PAGES | OWNER_WORK | PRIVACY | SMS | {"showroom"},
    Role.CONSULTANT: {"queue", "showroom", "lead_new", "dashboard_my_scores"} | OWNER_PAGES | STAND,
    Role.OWNER_OPS: {"queue", "dashboard_my_scores"} | OWNER_WORK,
    Role.AUDITOR: {"lead_list", "dashboard", "complaints", "audit_workbench"} | READ | SMS,
    Role.HEADQUARTERS: {"lead_list", "dashboard", "dashboard_hq", "complaints", "audit_workbench"}
    | READ
    | CAMPAIGNS,
}
EVERY_PAGE = [name for name, _label, _may in NAVIGATION]
# A page left out of someone's menu answers one of these.
REFUSED = {302, 403}


def login(staff: Staff) -> Client:
    client = Client()
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(staff)
    return client


def menu_pages(client: Client) -> set[str]:
    """The URL names of the pages the menu of the search page links to."""
    html = client.get("/search/").content.decode()
    block = html.split('<ul class="navbar-nav me-auto">', 1)[1].split("</ul>", 1)[0]
    hrefs = set(re.findall(r'href="([^"]+)"', block))
    by_href = {reverse(name): name for name in EVERY_PAGE}
    assert hrefs <= set(by_href), f"the menu links to pages it does not know: {hrefs}"
    return {by_href[href] for href in hrefs}


def test_every_role_has_its_pages_written_down():
    assert set(PAGES) == set(Role)
    assert set().union(*PAGES.values()) == set(EVERY_PAGE)


@pytest.mark.parametrize("role", list(Role), ids=[str(role) for role in Role])
def test_the_menu_offers_exactly_the_pages_that_open(team: Team, role: Role):
    person = team.by_role(role)
    allowed = {name for name, _label, may in NAVIGATION if may(person, team.dealer.pk)}
    assert allowed == PAGES[role]
    client = login(person)
    assert menu_pages(client) == allowed
    for name in EVERY_PAGE:
        status = client.get(reverse(name)).status_code
        if name in allowed:
            assert status == 200, f"{name} is in {role}'s menu but answers {status}"
        else:
            assert status in REFUSED, f"{name} is not in {role}'s menu but answers {status}"


def test_consultants_have_their_queue_in_the_menu(team: Team):
    """Their follow-ups by grade are tasks, and the queue is where tasks are."""
    client = login(team.consultant)
    assert "queue" in menu_pages(client)
    assert client.get("/queue/").status_code == 200


def test_a_reader_of_two_dealers_kpis_has_headquarters_in_the_menu(team: Team, other_team: Team):
    grant(team.gm, other_team.dealer, Role.GM)
    client = login(team.gm)
    assert "dashboard_hq" in menu_pages(client)
    assert client.get("/dashboard/hq/").status_code == 200


def test_headquarters_elsewhere_is_not_in_the_menu_where_one_reads_no_kpis(
    team: Team, other_team: Team
):
    """Headquarters for another dealer, a consultant here: the page is refused here, so the
    menu does not offer it; at the other dealer it does."""
    grant(team.consultant, other_team.dealer, Role.HEADQUARTERS)
    client = login(team.consultant)
    assert "dashboard_hq" not in menu_pages(client)
    assert client.get("/dashboard/hq/").status_code == 403
    client.post("/dealer/", {"dealer": other_team.dealer.pk})
    assert "dashboard_hq" in menu_pages(client)
    assert client.get("/dashboard/hq/").status_code == 200
