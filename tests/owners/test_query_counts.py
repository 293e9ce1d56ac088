"""The queries of owner operations' pages against their baselines in query_counts.json beside
this file: more queries than the baseline fail (tests/kit.py says how to regenerate)."""

from __future__ import annotations

from pathlib import Path

import pytest

from owners.complaints import raise_complaint
from owners.models import Member, ReturnVisit, Vehicle
from tests.kit import check_query_counts, count_queries, login
from tests.owners.conftest import deliver

pytestmark = pytest.mark.django_db

BASELINE = Path(__file__).with_name("query_counts.json")


def test_the_pages_make_no_more_queries_than_their_baseline(team, fixed_clock):
    for _ in range(4):
        lead = deliver(team)
        vehicle = Vehicle.objects.get(lead=lead)
        complaint = raise_complaint(
            customer=vehicle.owner,
            by=team.owner_ops,
            source="call",
            category="other",
            severity="low",
            description="Noise.",
            vehicle=vehicle,
        )
    visit = ReturnVisit.objects.filter(is_the_return_visit=True).first()
    fixed_clock.move_to(visit.due_at)
    pages = {
        "return visits (owner ops)": "/visits/",
        "return visit (owner ops)": f"/visits/{visit.pk}/",
        "complaints (owner ops)": "/complaints/",
        "complaint (owner ops)": f"/complaints/{complaint.pk}/",
        "owner page (owner ops)": f"/owners/{vehicle.owner_id}/",
        "return-visit settings (GM)": "/settings/return-visits/",
        "members (owner ops)": "/members/",
        "member card (owner ops)": f"/members/{Member.objects.first().pk}/",
        "lead's referrer panel (owner ops)": f"/leads/{lead.pk}/referral/",
        "member settings (GM)": "/settings/members/",
    }
    measured = {}
    for name, path in pages.items():
        client = login(team.gm if "GM" in name else team.owner_ops, language="zh-hans")
        measured[name] = count_queries(lambda: client.get(path))  # noqa: B023
    check_query_counts(BASELINE, measured)
