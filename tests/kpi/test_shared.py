"""Figures shared between managers for DCC_FIGURES_SECONDS (kpi.shared): off by default, every
page counts afresh; on, the same question within that time is answered without counting
again, a different question is counted, and once the time is up a new lead shows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kpi import shared
from kpi.counting import count_measures
from kpi.selectors import day_window
from kpi.supervision import dcc_board
from tests.conftest import Team
from tests.factories import make_lead
from tests.kit import login

pytestmark = pytest.mark.django_db


def today(team: Team, *, days: int = 1):
    last = timezone.localdate()
    return day_window(dealer_ids=[team.dealer.pk], first=last - timedelta(days=days - 1), last=last)


def leads_today(team: Team, *, days: int = 1) -> int:
    return count_measures({"leads"}, today(team, days=days), None)["leads"][None]


def test_by_default_every_page_counts_afresh(team: Team):
    before = leads_today(team)
    make_lead(team.dealer, owner=team.dcc_agent)
    assert leads_today(team) == before + 1


@override_settings(DCC_FIGURES_SECONDS=30)
def test_the_same_question_is_answered_from_the_shared_figures_until_they_expire(
    team: Team, fixed_clock
):
    before = leads_today(team)
    make_lead(team.dealer, owner=team.dcc_agent)

    with CaptureQueriesContext(connection) as asked:
        shared = leads_today(team)
    assert (shared, len(asked)) == (before, 0)
    assert leads_today(team, days=2) == before + 1  # another window: counted now

    fixed_clock.shift(timedelta(seconds=31))
    assert leads_today(team) == before + 1


@override_settings(DCC_FIGURES_SECONDS=30)
def test_the_dcc_board_says_when_its_shared_figures_were_counted(team: Team, fixed_clock):
    counted = dcc_board(dealer=team.dealer)
    fixed_clock.shift(timedelta(seconds=20))

    again = dcc_board(dealer=team.dealer)
    page = login(team.dcc_supervisor).get("/dashboard/dcc/").content.decode()

    assert again.counted_at == counted.counted_at
    assert timezone.localtime(counted.counted_at).strftime("%H:%M:%S") in page


def test_the_dashboard_says_how_old_shared_figures_may_be(team: Team):
    assert 'data-testid="figures-shared"' not in login(team.gm).get("/dashboard/").content.decode()
    with override_settings(DCC_FIGURES_SECONDS=30):
        page = login(team.gm).get("/dashboard/")
    assert "The figures may be up to 30 seconds old." in page.content.decode()


@override_settings(DCC_FIGURES_SECONDS=30)
def test_while_one_asker_counts_again_the_others_get_the_kept_figures(
    team: Team, fixed_clock, monkeypatch
):
    before = leads_today(team)
    make_lead(team.dealer, owner=team.dcc_agent)
    fixed_clock.shift(timedelta(seconds=31))

    with monkeypatch.context() as meanwhile:
        # Someone else holds the mark that they are counting: the kept figures, no query.
        meanwhile.setattr(shared.cache, "add", lambda *args, **kwargs: False)
        with CaptureQueriesContext(connection) as asked:
            assert leads_today(team) == before
        assert len(asked) == 0

    assert leads_today(team) == before + 1  # nobody counting: this asker counts
    fixed_clock.shift(timedelta(seconds=61))  # nobody asked for twice the period: forgotten
    make_lead(team.dealer, owner=team.dcc_agent)
    assert leads_today(team) == before + 2


@override_settings(DCC_FIGURES_SECONDS=30)
def test_a_target_just_set_shows_at_once_beside_shared_figures(team: Team):
    client = login(team.gm)
    assert "No order target is set for this month." in client.get("/dashboard/").content.decode()

    client.post("/dashboard/", {"orders": "12"})

    page = client.get("/dashboard/").content.decode()
    assert "No order target is set for this month." not in page
    assert 'value="12"' in page
