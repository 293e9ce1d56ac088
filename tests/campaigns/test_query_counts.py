"""The queries of the campaign pages against their baselines in query_counts.json beside this
file (tests/kit.py says how to regenerate), and the same number for any number of campaigns
and codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from campaigns import campaigns, capture
from leads import actions
from tests.campaigns.conftest import fields
from tests.factories import fresh_mobile
from tests.kit import check_query_counts, count_queries, login

pytestmark = pytest.mark.django_db

BASELINE = Path(__file__).with_name("query_counts.json")


def run_campaign(team, name: str, *, codes: int, leads_per_code: int):
    made = campaigns.create_campaign(
        dealer=team.dealer, by=team.marketing_manager, fields=fields(team.dealer, name=name)
    )
    people = [team.consultant, team.consultant_2, team.dcc_agent, team.owner_ops][: codes - 1]
    all_codes = [made.codes.get()] + [
        campaigns.issue_code(campaign=made, staff=person, by=team.gm) for person in people
    ]
    for code in all_codes:
        for _ in range(leads_per_code):
            lead = capture.capture(code=code.code, name="访客", mobile=fresh_mobile()).lead
            actions.record_arrival(lead=lead, by=team.showroom_manager)
    return made


def measure(team, paths: dict[str, str]) -> dict[str, int]:
    client = login(team.marketing_manager, language="zh-hans")
    return {name: count_queries(lambda: client.get(path)) for name, path in paths.items()}  # noqa: B023


def test_the_pages_make_no_more_queries_than_their_baseline(team):
    small = run_campaign(team, "小型巡展", codes=1, leads_per_code=1)
    before = measure(team, {"list": "/campaigns/", "detail": f"/campaigns/{small.pk}/"})
    big = run_campaign(team, "上海车展", codes=4, leads_per_code=2)
    run_campaign(team, "店头日", codes=2, leads_per_code=1)
    after = measure(team, {"list": "/campaigns/", "detail": f"/campaigns/{big.pk}/"})
    assert after == before, "a query per campaign or per code"

    code = big.codes.filter(staff__isnull=False).first()
    visitor = Client()
    measured = {
        "campaigns (marketing manager)": after["list"],
        "campaign with its codes (marketing manager)": after["detail"],
        "new campaign (marketing manager)": measure(team, {"new": "/campaigns/new/"})["new"],
        "capture page (visitor)": count_queries(lambda: visitor.get(f"/c/{code.code}/")),
    }
    check_query_counts(BASELINE, measured)
