"""The queries of the dashboards and reports against their baselines in query_counts.json
beside this file (one figure per database vendor). More queries than the baseline fail; when
they are meant, regenerate every app's file with `make query-counts` (tests/kit.py says how)."""

from __future__ import annotations

from pathlib import Path

import pytest

from accounts.roles import Role
from calls.models import Line, LineKind
from tests.conftest import Team, build_team, grant
from tests.factories import DealerFactory, channel
from tests.kit import check_query_counts, count_queries, login
from tests.kpi.test_bottlenecks import funnel

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("office_hours")]

BASELINE = Path(__file__).with_name("query_counts.json")
MAY = {"month": "2026-05"}
MAY_DAYS = {"from": "2026-05-01", "to": "2026-05-31"}


def test_the_pages_make_no_more_queries_than_their_baseline(team: Team, spring):
    """The spring of leads (tests/kpi/conftest.py) at the team's dealer, and a second dealer
    of the brand granted to headquarters."""
    other = build_team(DealerFactory())
    funnel(other.dealer, by=other.gm, agent=other.dcc_agent, leads=6, arrived=2)
    grant(team.headquarters, other.dealer, Role.HEADQUARTERS)
    # A phone line: the DCC board shows the phones (calls, callbacks, the answer score).
    Line.objects.create(
        dealer=team.dealer, number="4008001234", kind=LineKind.HOTLINE_400,
        channel=channel(team.dealer, "hotline_400"),
    )  # fmt: skip
    drill = {"measure": "leads", **MAY_DAYS}
    compare = {"mode": "compare", "month": "2026-05", "other": "2026-04"}
    pages = {
        "dashboard (GM)": (team.gm, "/dashboard/", MAY),
        "dashboard compared (GM)": (team.gm, "/dashboard/", compare),
        "dashboard drill-down (GM)": (team.gm, "/dashboard/leads/", drill),
        "daily report (GM)": (team.gm, "/dashboard/daily/", {"date": "2026-05-12"}),
        "headquarters (headquarters)": (team.headquarters, "/dashboard/hq/", MAY),
        "scorecards (GM)": (team.gm, "/dashboard/scores/", MAY),
        "my scorecard (DCC agent)": (team.dcc_agent, "/dashboard/scores/mine/", MAY),
        "DCC board (DCC supervisor)": (team.dcc_supervisor, "/dashboard/dcc/", {}),
    }
    measured = {}
    for name, (person, path, params) in pages.items():
        client = login(person)
        measured[name] = count_queries(lambda: client.get(path, params))  # noqa: B023
    check_query_counts(BASELINE, measured)
