"""The frame every person works in: signing in and out, Chinese by default with English on
request, switching between one's own dealers, the home page that sends each role to its
workbench, and navigation that only offers pages the person may open."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import translation

from accounts.models import Staff
from accounts.roles import Role
from leads.models import Lead
from tests.conftest import Team, grant
from tests.factories import DealerFactory, make_lead, member
from tests.kit import PASSWORD, login

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


def html_lang(response) -> str:
    match = re.search(r'<html lang="([^"]+)"', response.content.decode())
    assert match, "the page has no <html lang>"
    return match.group(1)


def nav_links(response) -> dict[str, str]:
    """The main navigation: label → href."""
    html = response.content.decode()
    block = html.split('<ul class="navbar-nav me-auto">', 1)[1].split("</ul>", 1)[0]
    return {
        label.strip(): href
        for href, label in re.findall(r'href="([^"]+)">([^<]+)</a>', block, flags=re.S)
    }


def zh(text: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(text)


# ---------------------------------------------------------------- signing in and out


def test_login_page_is_public_and_signs_in(team: Team):
    client = Client()
    assert client.get("/login/").status_code == 200

    response = client.post("/login/", {"username": team.dcc_agent.username, "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").headers["Location"] == "/queue/"
    assert client.get("/queue/").status_code == 200


def test_wrong_password_is_refused_with_a_message(team: Team):
    client = Client()
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"

    response = client.post("/login/", {"username": team.dcc_agent.username, "password": "nope"})

    assert response.status_code == 200
    assert response.context["form"].errors
    assert "_auth_user_id" not in client.session
    assert client.get("/queue/").status_code == 302


@pytest.mark.parametrize("path", ["/", "/queue/", "/showroom/", "/leads/", "/search/?q=1234"])
def test_anonymous_visitors_are_sent_to_the_login_page(db, path):
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_logout_ends_the_session(team: Team):
    client = login(team.dcc_agent)
    assert client.get("/queue/").status_code == 200

    response = client.post("/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert client.get("/queue/")["Location"].startswith("/login/")


def test_logout_button_is_in_the_frame(team: Team):
    html = login(team.dcc_agent).get("/queue/").content.decode()
    assert 'action="/logout/"' in html
    assert "Log out" in html


# ---------------------------------------------------------------- language


def test_chinese_by_default_even_for_an_english_browser(team: Team, settings):
    settings.LANGUAGE_CODE = "zh-hans"  # the product's default (tests otherwise read English)
    client = login(team.dcc_agent)

    response = client.get("/queue/", headers={"Accept-Language": "en-US,en;q=0.9"})

    assert response.status_code == 200
    assert html_lang(response) == "zh-hans"
    # The switch offers English, i.e. the page is not already English.
    assert 'name="language" value="en"' in response.content.decode()
    if zh("My queue") != "My queue":  # once the Chinese catalogue exists
        assert zh("My queue") in nav_links(response)


def test_language_switch_to_english_and_back(team: Team):
    client = login(team.dcc_agent)

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/queue/"})

    assert response.status_code == 302
    assert response["Location"] == "/queue/"
    page = client.get("/queue/", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert html_lang(page) == "en"
    assert "My queue" in nav_links(page)
    assert 'name="language" value="zh-hans"' in page.content.decode()

    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/queue/"})
    assert html_lang(client.get("/queue/")) == "zh-hans"


def test_english_choice_survives_signing_in_again(team: Team):
    client = Client()
    client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    client.post("/login/", {"username": team.consultant.username, "password": PASSWORD})

    assert html_lang(client.get("/showroom/")) == "en"


# ---------------------------------------------------------------- home: each role's workbench

WORKBENCH = {
    "dcc_agent": "/queue/",
    "dcc_supervisor": "/team/",
    "consultant": "/showroom/",
    "gm": "/team/",
    "sales_manager": "/team/",
    "showroom_manager": "/showroom/",
    "marketing_manager": "/campaigns/",
    "platform_specialist": "/platforms/",
    "auditor": "/leads/",
    "headquarters": "/leads/",
    "owner_ops": "/queue/",  # their return visits are tasks in the queue
}


def _role_params():
    for role, target in WORKBENCH.items():
        yield pytest.param(role, target, id=role)


@pytest.mark.parametrize(("role", "target"), list(_role_params()))
def test_home_sends_each_role_to_its_workbench(team: Team, role: str, target: str):
    response = login(team.by_role(Role(role))).get("/")
    assert response.status_code == 302
    assert response["Location"] == target


@pytest.mark.parametrize(("role", "target"), list(_role_params()))
def test_the_workbench_home_sends_to_opens(team: Team, role: str, target: str):
    response = login(team.by_role(Role(role))).get("/", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == target


def test_a_person_without_any_role_is_told_so(db):
    staff = Staff.objects.create_user(username="nobody", password=PASSWORD)
    response = login(staff).get("/")
    assert response.status_code == 403


def test_a_person_whose_only_membership_is_inactive_has_no_workbench(team: Team):
    team.dcc_agent.memberships.update(is_active=False)
    client = login(team.dcc_agent)
    assert client.get("/").status_code == 403
    assert client.get("/queue/").status_code == 403


# ---------------------------------------------------------------- navigation by role

OWNERS = {"Return visits", "Complaints"}
READ = {"Members", "Owner events"}  # the owner workers' pages, not consultants'
OWNER_WORK = OWNERS | READ
NAV = {
    "dcc_agent": {"My queue", "Leads", "New lead", "My scorecard"},
    "dcc_supervisor": {
        "My queue", "Team board", "Leads", "New lead", "Platforms", "Dashboard", "Imports",
        "Settings", "Audit", "Personal data", "SMS"
    },
    "consultant": {"My queue", "Showroom", "New lead", "My scorecard", "At the stand"} | OWNERS,
    "owner_ops": {"My queue", "My scorecard"} | OWNER_WORK,
    "showroom_manager": {
        "Showroom", "Team board", "Leads", "New lead", "Dashboard", "Imports", "Settings", "Audit",
        "Personal data", "SMS"
    } | OWNER_WORK,
    "gm": {
        "Team board", "Leads", "New lead", "Platforms", "Dashboard", "Imports", "Settings",
        "Audit", "Campaigns", "Personal data", "SMS"
    } | OWNER_WORK,
    "sales_manager": {
        "Team board", "Leads", "New lead", "Dashboard", "Imports", "Settings", "Audit", "Campaigns",
        "Personal data", "SMS"
    } | OWNER_WORK,
    "marketing_manager": {
        "Leads", "New lead", "Platforms", "Dashboard", "Campaigns", "Personal data", "SMS",
        "At the stand"
    },
    "platform_specialist": {"New lead", "Platforms", "At the stand"},
    "auditor": {"Leads", "Dashboard", "Complaints", "Audit", "SMS"} | READ,
    "headquarters": {
        "Leads", "Dashboard", "Headquarters", "Complaints", "Audit", "Campaigns"
    } | READ,
}  # fmt: skip


@pytest.mark.parametrize(("role", "labels"), NAV.items(), ids=list(NAV))
def test_navigation_by_role(team: Team, role: str, labels: set[str]):
    response = login(team.by_role(Role(role))).get("/search/")
    assert set(nav_links(response)) == labels


@pytest.mark.parametrize("role", [str(role) for role in Role])
def test_every_navigation_link_opens_for_its_person(team: Team, role: str):
    client = login(team.by_role(Role(role)))
    for label, href in nav_links(client.get("/search/")).items():
        assert client.get(href).status_code == 200, f"{label} ({href}) does not open for {role}"


def test_consultants_get_no_link_to_the_lead_list(team: Team):
    """Consultants cannot export customer lists: no link, and the page is refused."""
    client = login(team.consultant)
    html = client.get("/showroom/").content.decode()
    assert 'href="/leads/"' not in html
    assert client.get("/leads/").status_code == 403


def test_the_frame_shows_who_is_signed_in_and_where(team: Team):
    html = login(team.dcc_agent).get("/queue/").content.decode()
    assert str(team.dcc_agent) in html
    assert team.dealer.name in html
    assert 'action="/search/"' in html


# ---------------------------------------------------------------- dealer switch


@pytest.fixture
def two_dealer_person(team: Team, other_team: Team) -> Staff:
    """A consultant at the first dealer who is sales manager at the second."""
    person = member(team.dealer, Role.CONSULTANT)
    grant(person, other_team.dealer, Role.SALES_MANAGER)
    return person


def test_dealer_switch_is_offered_to_a_person_with_two_dealers(
    team: Team, other_team: Team, two_dealer_person: Staff
):
    html = login(two_dealer_person).get("/showroom/").content.decode()
    assert 'action="/dealer/"' in html
    assert f'<option value="{team.dealer.pk}" selected>' in html
    assert f'<option value="{other_team.dealer.pk}">' in html


def test_a_person_with_one_dealer_gets_no_switch(team: Team):
    html = login(team.dcc_agent).get("/queue/").content.decode()
    assert 'action="/dealer/"' not in html


def test_switching_dealer_changes_roles_and_data(
    team: Team, other_team: Team, two_dealer_person: Staff
):
    here = make_lead(team.dealer, name="本店客户")
    there = make_lead(other_team.dealer, name="别店客户")
    client = login(two_dealer_person)
    assert client.get("/")["Location"] == "/showroom/"
    assert client.get("/leads/").status_code == 403  # a consultant here

    response = client.post("/dealer/", {"dealer": other_team.dealer.pk})

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/")["Location"] == "/team/"  # a sales manager there
    listing = client.get("/leads/")
    assert listing.status_code == 200
    html = listing.content.decode()
    assert f"/leads/{there.pk}/" in html
    assert f"/leads/{here.pk}/" not in html
    assert f'<option value="{other_team.dealer.pk}" selected>' in html

    client.post("/dealer/", {"dealer": team.dealer.pk})
    assert client.get("/")["Location"] == "/showroom/"


@pytest.mark.parametrize("value", ["foreign", "", "abc", "-1", "999999"])
def test_switching_to_a_dealer_that_is_not_ones_own_is_ignored(
    team: Team, other_team: Team, two_dealer_person: Staff, value: str
):
    foreign = DealerFactory()
    client = login(two_dealer_person)
    client.post("/dealer/", {"dealer": other_team.dealer.pk})

    response = client.post("/dealer/", {"dealer": foreign.pk if value == "foreign" else value})

    assert response.status_code == 302
    page = client.get("/", follow=True)
    assert page.wsgi_request.dealer == other_team.dealer
    assert foreign.name not in page.content.decode()


def test_dealer_switch_is_post_only(two_dealer_person: Staff, other_team: Team):
    client = login(two_dealer_person)
    assert client.get(f"/dealer/?dealer={other_team.dealer.pk}").status_code == 405


def test_an_inactive_membership_is_not_a_dealer_one_can_switch_to(
    team: Team, other_team: Team, two_dealer_person: Staff
):
    two_dealer_person.memberships.filter(dealer=other_team.dealer).update(is_active=False)
    client = login(two_dealer_person)
    client.post("/dealer/", {"dealer": other_team.dealer.pk})
    assert client.get("/", follow=True).wsgi_request.dealer == team.dealer


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (Role.MARKETING_MANAGER, "/queue/"),
        (Role.AUDITOR, "/showroom/"),
        (Role.CONSULTANT, "/settings/"),
    ],
)
def test_a_refused_page_is_in_chinese_with_the_menu_and_a_way_back(team, settings, role, path):
    settings.LANGUAGE_CODE = "zh-hans"
    client = login(team.by_role(role))

    response = client.get(path, headers={"Referer": "http://testserver/leads/"})

    assert response.status_code == 403
    assert html_lang(response) == "zh-hans"
    html = response.content.decode()
    assert "Forbidden" not in html
    assert zh("You may not open this page.") in html
    assert zh("You may not open this page.") != "You may not open this page."
    assert nav_links(response)  # the menu
    assert 'href="/"' in html  # back to the workbench
    assert 'href="http://testserver/leads/"' in html  # back to where the person came from


def test_a_refused_page_follows_the_chosen_english(team: Team):
    response = login(team.auditor).get("/queue/")

    assert response.status_code == 403
    assert html_lang(response) == "en"
    assert "You may not open this page." in response.content.decode()
    assert nav_links(response)


def test_another_dealers_lead_is_a_not_found_page_with_the_menu(team: Team, other_team: Team):
    there = make_lead(other_team.dealer, name="别店客户")

    response = login(team.sales_manager).get(f"/leads/{there.pk}/")

    assert response.status_code == 404
    html = response.content.decode()
    assert "This page does not exist, or it belongs to another dealer." in html
    assert "别店客户" not in html
    assert nav_links(response)
    assert "Back to my workbench" in html


def test_an_unknown_address_is_a_not_found_page(team: Team):
    response = login(team.dcc_agent).get("/no-such-page/")

    assert response.status_code == 404
    assert "This page does not exist" in response.content.decode()
    assert nav_links(response)


def test_a_page_opened_the_wrong_way_is_a_refusal_page(team: Team):
    response = login(team.dcc_agent).get("/dealer/")  # the dealer switch only takes POST

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert "This page cannot be opened this way." in response.content.decode()
    assert nav_links(response)


def test_a_refusal_inside_the_page_is_a_notice_not_a_second_page(team: Team):
    response = login(team.auditor).get("/queue/", headers={"HX-Request": "true"})

    assert response.status_code == 403
    html = response.content.decode()
    assert "You may not open this page." in html
    assert "<html" not in html


@pytest.mark.parametrize(("path", "status", "code"), [("/api/v1/no-such-thing", 404, "not_found")])
def test_api_refusals_stay_json(team: Team, path, status, code):
    response = login(team.dcc_agent).get(path)

    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == code


def test_a_refusal_is_one_line_in_the_log(team: Team, caplog):
    client = login(team.auditor)
    with caplog.at_level("WARNING", logger="django.request"):
        assert client.get("/queue/").status_code == 403
        assert client.get("/no-such-page/").status_code == 404

    refusals = [r for r in caplog.records if r.name == "django.request"]
    assert [r.status_code for r in refusals] == [403, 404]
    handler = logging.getLogger().handlers[0]  # the console handler of dcc.settings.LOGGING
    for record in refusals:
        assert handler.filter(record)
        assert "Traceback" not in handler.format(record), handler.format(record)
        assert len(handler.format(record).splitlines()) == 1


# ---------------------------------------------------------------- Content-Security-Policy

TEMPLATE_DIRS = [ROOT / "templates", *ROOT.glob("*/templates")]


def csp(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


@pytest.mark.parametrize("path", ["/login/", "/queue/", "/api/v1/leads", "/no-such-page/"])
def test_every_answer_carries_a_strict_content_security_policy(team: Team, path):
    response = login(team.dcc_agent).get(path)

    policy = csp(response)
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"  # no inline script, no eval
    assert policy["style-src"] == "'self'"  # no <style> elements
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"


def test_no_template_has_inline_script_or_event_handlers():
    """What the policy forbids would silently stop working in the browser: scripts live in
    static/js and are wired by data- attributes."""
    offences = []
    for folder in TEMPLATE_DIRS:
        for path in folder.rglob("*.html"):
            html = path.read_text()
            for script in re.findall(r"<script\b[^>]*>", html):
                if "src=" not in script and 'type="application/json"' not in script:
                    offences.append(f"{path}: {script}")
            for handler in re.findall(r"\s(on[a-z]+|hx-on[:\w-]*)=", html):
                offences.append(f"{path}: {handler}=")
            if "javascript:" in html or "<style" in html:
                offences.append(f"{path}: javascript: URL or <style>")
    assert not offences, "\n".join(offences)


def test_no_template_comment_runs_over_a_line():
    """Django's {# … #} ends with its line: a comment over several lines is printed on every
    page that uses the template ({% comment %} is for those)."""
    offences = []
    for folder in TEMPLATE_DIRS:
        for path in folder.rglob("*.html"):
            for number, line in enumerate(path.read_text().splitlines(), start=1):
                for opened in line.split("{#")[1:]:
                    if "#}" not in opened:
                        offences.append(f"{path}:{number}")
    assert not offences, "\n".join(offences)


def test_no_page_shows_template_syntax(team: Team):
    html = login(team.dcc_agent).get("/queue/").content.decode()
    assert "{#" not in html and "#}" not in html


@pytest.mark.parametrize(
    "path", ["/search/?q=a%00b", "/leads/?created_from=%00", "/dashboard/daily/?date=%00"]
)
def test_a_nul_character_in_a_pages_query_is_a_refusal_not_a_server_error(team: Team, path):
    response = login(team.gm).get(path)
    assert response.status_code == 400
    assert "The request holds a NUL character." in response.content.decode()


def test_a_nul_character_in_a_form_is_refused_and_nothing_is_written(team: Team):
    before = Lead.objects.count()
    client = login(team.marketing_manager)
    form = urlencode({"name": "王\x00明", "mobile": "13800138000"})
    response = client.post("/leads/new/", form, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    # Sent as multipart (as a file upload form would be), the form itself refuses it.
    response = client.post("/leads/new/", {"name": "王\x00明", "mobile": "13800138000"})
    assert response.status_code < 500
    assert Lead.objects.count() == before
