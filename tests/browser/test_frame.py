"""The frame in a real browser under its Content-Security-Policy: the behaviours that were
inline script (switching dealer by choosing it, ticking every lead) work from static files,
and a refused page shows the menu; any CSP violation is a console error and fails the test."""

from __future__ import annotations

import pytest

from accounts.roles import Role
from tests.conftest import grant
from tests.factories import make_lead
from tests.kit import PASSWORD

pytestmark = pytest.mark.browser


def test_signing_in_through_the_form_opens_the_workbench(open_session, team):
    session = open_session(None)
    session.goto("/queue/")
    session.page.wait_for_url("**/login/**")
    session.page.get_by_label("Username").fill(team.dcc_agent.username)
    session.page.get_by_label("Password").fill(PASSWORD)
    session.page.get_by_role("button", name="Log in").click()
    session.page.wait_for_url("**/queue/")
    assert session.page.get_by_role("navigation", name="Main").is_visible()


def test_choosing_a_dealer_switches_to_it(open_session, team, other_team):
    grant(team.sales_manager, other_team.dealer, Role.SALES_MANAGER)
    session = open_session(team.sales_manager)
    session.goto("/leads/")

    with session.page.expect_navigation():
        session.page.locator("#nav-dealer").select_option(str(other_team.dealer.pk))

    assert session.page.locator("#nav-dealer").input_value() == str(other_team.dealer.pk)


def test_ticking_the_header_box_ticks_every_lead(open_session, team):
    for name in ("钱多多", "孙悟空", "周芷若"):
        make_lead(team.dealer, by=team.platform_specialist, owner=team.dcc_agent, name=name)
    session = open_session(team.sales_manager)
    session.goto("/team/reassign/")
    boxes = session.page.locator('input[name="leads"]')
    assert boxes.count() == 3

    session.page.locator("#pick-all").check()
    assert all(boxes.nth(i).is_checked() for i in range(3))
    session.page.locator("#pick-all").uncheck()
    assert not any(boxes.nth(i).is_checked() for i in range(3))


def test_a_refused_page_has_the_menu(open_session, team):
    session = open_session(team.auditor)
    response = session.page.goto(session.base_url + "/queue/")

    assert response.status == 403
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert session.page.get_by_role("navigation", name="Main").is_visible()
    assert session.page.get_by_role("link", name="Back to my workbench").is_visible()
