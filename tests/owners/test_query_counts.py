"""The queries of owner operations' pages against their baselines in query_counts.json beside
this file: more queries than the baseline fail (tests/kit.py says how to regenerate)."""

from __future__ import annotations

from pathlib import Path

import pytest

from owners import events
from owners.complaints import raise_complaint
from owners.models import Invitation, Member, ReturnVisit, Vehicle
from tests.factories import fresh_mobile
from tests.kit import check_query_counts, count_queries, login
from tests.owners.conftest import deliver
from tests.owners.test_events import AT_THE_DOOR, fields

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
    # Two events (so that the list's figures cost the same for any number), every owner
    # invited, three checked in with a guest each: no query per row.
    party = [
        events.create_event(dealer=team.dealer, by=team.owner_ops, fields=fields(title=title))
        for title in ("自驾游", "发布会")
    ]
    for event in party:
        events.invite(event=event, segment={}, by=team.owner_ops)
    event = party[0]
    invitations = list(Invitation.objects.filter(event=event).order_by("pk"))
    fixed_clock.move_to(AT_THE_DOOR)
    for invitation in invitations[:3]:
        events.check_in(dealer=team.dealer, code=invitation.code, by=team.owner_ops)
        events.add_guest(
            invitation=invitation, name="宾客", phone=fresh_mobile(), by=team.owner_ops
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
        "owner events (owner ops)": "/owner-events/",
        "owner event (owner ops)": f"/owner-events/{event.pk}/",
        "owner event (GM)": f"/owner-events/{event.pk}/",
        "invitation (owner ops)": f"/owner-events/invitations/{invitations[0].code}/",
        "door (owner ops)": f"/owner-events/{event.pk}/door/",
        "check-in with guests (owner ops)": f"/owner-events/check-in/{invitations[0].code}/",
        "owner page with events (owner ops)": f"/owners/{invitations[0].customer_id}/",
    }
    measured = {}
    for name, path in pages.items():
        client = login(team.gm if "GM" in name else team.owner_ops, language="zh-hans")
        measured[name] = count_queries(lambda: client.get(path))  # noqa: B023
    check_query_counts(BASELINE, measured)
