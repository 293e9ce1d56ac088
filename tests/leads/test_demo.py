"""The demo world: what `demo` (and `serve --demo`) says it loaded is what the screens then
show, and the agents' queue has leads waiting in the pool to claim."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Dealer, Membership, Staff
from accounts.roles import Role
from leads.demo import load_demo
from leads.models import Lead, Team, TeamKind
from leads.stages import Stage
from leads.teams import members_at
from owners.models import EventGuest
from tests.kit import login

pytestmark = pytest.mark.django_db


def demo(leads: int) -> str:
    out = io.StringIO()
    call_command("demo", leads=leads, stdout=out)
    return out.getvalue()


def test_the_demo_says_truthfully_what_it_loaded():
    said = demo(30).splitlines()[0]
    # The first line tells of the leads loaded; guests of the owner events played after them
    # become leads of their own.
    loaded = Lead.objects.exclude(pk__in=EventGuest.objects.values("lead_id"))
    new = loaded.filter(stage=Stage.NEW).count()
    assert 0 < new < 60
    assert said.startswith("Demo: SH001, SZ001; 60 leads loaded (60 in all), ")
    assert f"{new} still new" in said
    again = demo(30).splitlines()[0]
    assert f"; 0 leads loaded ({Lead.objects.count()} in all), " in again


def test_the_demo_leaves_leads_in_the_pool_for_agents_to_claim():
    said = demo(30)
    pooled = int(re.search(r"(\d+) of them in the pool", said).group(1))
    assert pooled == 6  # three at each dealer
    agent = login(Staff.objects.get(username="agent1"))
    html = agent.get("/queue/").content.decode()
    pool = html.split('data-testid="pool"', 1)[1].split("</ul>", 1)[0]
    assert len(re.findall(r'href="/leads/(\d+)/"', pool)) == 3
    assert "Claim" in pool


def test_the_demo_people_are_in_their_teams():
    """Teams are set up once the demo's people exist: the DCC group holds its agents and is
    led by the DCC supervisor; the showroom group its consultants."""
    load_demo(leads_per_dealer=3)
    dealer = Dealer.objects.get(code="SH001")
    dcc = Team.objects.get(dealer=dealer, kind=TeamKind.DCC)
    agents = set(
        Membership.objects.filter(dealer=dealer, role=Role.DCC_AGENT).values_list(
            "staff_id", flat=True
        )
    )
    assert agents and agents <= set(members_at(dcc, timezone.now()).values_list("pk", flat=True))
    assert Membership.objects.filter(
        dealer=dealer, staff_id=dcc.leader_id, role=Role.DCC_SUPERVISOR
    ).exists()
    showroom = Team.objects.get(dealer=dealer, kind=TeamKind.SHOWROOM)
    assert (
        members_at(showroom, timezone.now())
        .filter(memberships__dealer=dealer, memberships__role=Role.CONSULTANT)
        .exists()
    )
