"""The queries of the platform pages against their baselines in query_counts.json beside this
file: more queries than the baseline fail (tests/kit.py says how to regenerate). Three accounts
with ticks and scores of every kind, so that a query per account or per row shows."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from platforms import actions
from platforms.models import Platform, PlatformScore, ScoreKind, ScoreSource
from tests.conftest import build_team, grant
from tests.factories import DealerFactory
from tests.kit import check_query_counts, count_queries, login
from tests.platforms.conftest import open_account

pytestmark = pytest.mark.django_db

BASELINE = Path(__file__).with_name("query_counts.json")


def test_the_pages_make_no_more_queries_than_their_baseline(team, fixed_clock):
    from accounts.roles import Role

    second = build_team(DealerFactory(region=team.dealer.region))
    grant(team.headquarters, second.dealer, Role.HEADQUARTERS)
    accounts = []
    for owner in (team, second):
        for platform, name in (
            (Platform.AUTOHOME, "车商汇"),
            (Platform.YICHE, "车易通"),
            (Platform.DONGCHEDI, "懂车帝"),
        ):
            account = open_account(owner, platform=platform, name=name)
            accounts.append(account)
            for item in account.checklist_items.all()[:3]:
                actions.tick(item=item, by=owner.platform_specialist)
            for kind in ScoreKind.values:
                PlatformScore.objects.create(
                    dealer=owner.dealer,
                    account=account,
                    kind=kind,
                    day=date(2026, 11, 18) - timedelta(days=1),
                    score=Decimal("80"),
                    source=ScoreSource.ENTERED,
                    recorded_by=owner.platform_specialist,
                )
    first = accounts[0]
    pages = {
        "platforms (specialist)": (team.platform_specialist, "/platforms/"),
        "platforms (GM)": (team.gm, "/platforms/"),
        "account (specialist)": (team.platform_specialist, f"/platforms/{first.pk}/"),
        "account (marketing manager)": (team.marketing_manager, f"/platforms/{first.pk}/"),
        "account form (marketing manager)": (
            team.marketing_manager,
            f"/platforms/{first.pk}/edit/",
        ),
        "import (specialist)": (team.platform_specialist, "/platforms/import/"),
        "dashboard alerts (DCC supervisor)": (team.dcc_supervisor, "/platforms/alerts/"),
        "headquarters": (team.headquarters, "/platforms/hq/"),
    }
    measured = {}
    for name, (person, path) in pages.items():
        client = login(person, language="zh-hans")
        measured[name] = count_queries(lambda: client.get(path))  # noqa: B023
    check_query_counts(BASELINE, measured)
