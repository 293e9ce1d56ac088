"""Weeks and seeds no one audits (year 1, year 9999, a 31-digit seed, a NUL) are answered
with the reason or the nearest week, never a server error, and nothing is drawn."""

from __future__ import annotations

import pytest

from audit.actions import EARLIEST_WEEK
from audit.models import AuditSample
from tests.kit import login

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("week", ["0001-01-01", "9999-12-31", "1" * 40, "2026-11-09\x00", ""])
@pytest.mark.parametrize("seed", ["", str(10**30), "-1", "\x00"])
def test_a_draw_of_a_week_or_seed_out_of_reach_is_refused(team, week, seed):
    answer = login(team.auditor).post(
        "/audit/draw/", {"week": week, "seed": seed, "note": "a\x00b"}, follow=True
    )
    assert answer.status_code == 200
    assert answer.redirect_chain[0][1] == 302
    assert not AuditSample.objects.exists()


def test_the_oldest_week_drawn_says_why(team):
    answer = login(team.auditor).post("/audit/draw/", {"week": "1999-12-27"}, follow=True)
    assert "There is no work to audit that long ago." in answer.content.decode()


@pytest.mark.parametrize("week", ["0001-01-01", "9999-12-31", "x", "2026-13-01"])
def test_the_workbench_shows_the_nearest_week_it_can(team, week):
    answer = login(team.auditor).get("/audit/", {"week": week})
    assert answer.status_code == 200
    assert answer.context["week"] >= EARLIEST_WEEK


def test_a_nul_in_the_address_is_a_bad_request(team):
    assert login(team.auditor).get("/audit/", {"week": "\x00"}).status_code == 400
