"""Scorecards: what each person did in a month and the dealer's points for it, ranked."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from accounts.roles import Role
from dcc.errors import InvalidInput, NotPermitted
from kpi.models import ScoreEvent
from kpi.scorecards import scorecards, set_point_rule
from leads import actions
from leads.models import CallOutcome
from tests.factories import make_lead

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
MAY = date(2026, 5, 1)


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 5, day, hour, tzinfo=SHANGHAI)


@pytest.fixture
def may(team):
    """Agent 1 calls L1 (reached, 2 minutes; its follow-up falls due May 7 and is never
    done), books it; the showroom manager checks the customer in (the arrival is agent 1's);
    L1 goes to consultant 1 with its open follow-up, who takes the order. Agent 2 books L2."""
    one, two, con = team.dcc_agent, team.dcc_agent_2, team.consultant
    l1 = make_lead(team.dealer, by=team.gm, owner=one, at=at(5, 9))
    actions.log_call(lead=l1, by=one, outcome=CallOutcome.REACHED, duration_seconds=120, at=at(5))
    actions.book_appointment(lead=l1, by=one, appointment_at=at(8), at=at(5, 11))
    actions.record_arrival(lead=l1, by=team.showroom_manager, at=at(8))
    actions.hand_off(lead=l1, by=team.gm, to=con, at=at(8, 12))
    actions.record_order(lead=l1, by=con, at=at(10))
    l2 = make_lead(team.dealer, by=team.gm, owner=two, at=at(6, 9))
    actions.book_appointment(lead=l2, by=two, appointment_at=at(9), at=at(6))


def cards(team) -> dict[str, tuple]:
    return {
        card.person.username: (card.role, card.points, card.rank)
        for card in scorecards(dealer=team.dealer, month=MAY)
    }


def test_the_default_rules_credit_who_did_it(team, may):
    found = {c.person.pk: c for c in scorecards(dealer=team.dealer, month=MAY)}
    one = found[team.dcc_agent.pk]
    assert (one.counts[ScoreEvent.APPOINTMENT], one.counts[ScoreEvent.ARRIVAL]) == (1, 1)
    assert (one.counts[ScoreEvent.CALL], one.counts[ScoreEvent.CONTACT]) == (1, 1)
    assert (one.talk_seconds, one.leads_handled, one.points, one.rank) == (120, 1, 7, 1)
    two = found[team.dcc_agent_2.pk]
    assert (two.points, two.rank) == (2, 2)
    consultant = found[team.consultant.pk]
    # The order (+5) and the follow-up that came with the lead, overdue since May 7 (−1).
    assert consultant.counts[ScoreEvent.OVERDUE_FOLLOW_UP] == 1
    assert (consultant.points, consultant.rank) == (4, 1)
    assert (found[team.consultant_2.pk].points, found[team.consultant_2.pk].rank) == (0, 2)
    assert team.gm.pk not in found  # no rule scores general managers


def test_a_dealers_own_rules_replace_the_defaults(team, may):
    set_point_rule(dealer=team.dealer, by=team.gm, role=Role.DCC_AGENT,
                   event=ScoreEvent.APPOINTMENT, points=3)  # fmt: skip
    assert cards(team) == {  # equal points, equal rank
        team.dcc_agent.username: (Role.DCC_AGENT, 3, 1),
        team.dcc_agent_2.username: (Role.DCC_AGENT, 3, 1),
    }


@pytest.mark.parametrize(
    ("who", "changes", "error"),
    [
        ("dcc_supervisor", {}, NotPermitted),
        ("gm", {"points": 500}, InvalidInput),
        ("gm", {"event": "smiling"}, InvalidInput),
        ("gm", {"role": "headquarters"}, InvalidInput),
    ],
)
def test_rules_are_set_by_the_gm_or_sales_manager_within_bounds(team, who, changes, error):
    values = {"role": Role.DCC_AGENT, "event": ScoreEvent.ARRIVAL, "points": 5, **changes}
    with pytest.raises(error):
        set_point_rule(dealer=team.dealer, by=getattr(team, who), **values)
