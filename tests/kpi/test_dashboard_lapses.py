"""The dealer dashboard's funnel against the brand average, and who is behind: first-response
SLA breaches of the month by the agent a lead was first assigned to, overdue tasks now."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from kpi.dashboard import Month, funnel, lapses, month_window
from kpi.registry import View
from leads import actions
from leads.models import CallOutcome, Task
from tests.factories import make_lead
from tests.kit import login

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
MARCH = Month(date(2026, 3, 1))


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=SHANGHAI)


def test_each_funnel_step_stands_beside_the_brand_pooled(team, other_team):
    """Ours: 2 leads, 1 reached. The other dealer of the brand: 3 leads, 3 reached. The brand
    pooled: 4 reached of 5 leads = 80%."""
    for dealer_team, leads, reached in ((team, 2, 1), (other_team, 3, 3)):
        for n in range(leads):
            lead = make_lead(dealer_team.dealer, by=dealer_team.gm, at=at(2 + n))
            if n < reached:
                actions.log_call(
                    lead=lead, by=dealer_team.gm, outcome=CallOutcome.REACHED, at=at(3 + n)
                )
    shown = funnel(dealer_ids=[team.dealer.pk], month=MARCH, view=View.PERIOD)
    steps = {step.measure: step for step in shown.steps}
    assert steps["contacted"].conversion.text == "50.0%"
    assert steps["contacted"].conversion_brand == "80.0%"
    assert steps["contacted"].brand_parts == "4 / 5"
    assert steps["leads"].conversion_brand == ""  # the first step has none


def test_lapses_name_who_answered_late_and_who_has_overdue_tasks(team):
    now = at(31, 12)
    one, two = team.dcc_agent, team.dcc_agent_2
    on_time = make_lead(team.dealer, by=team.gm, owner=one, at=at(5))
    actions.log_call(
        lead=on_time, by=one, outcome=CallOutcome.REACHED, at=at(5) + timedelta(minutes=5)
    )
    late = make_lead(team.dealer, by=team.gm, owner=one, at=at(6))
    actions.log_call(lead=late, by=one, outcome=CallOutcome.REACHED, at=at(8))
    never = make_lead(team.dealer, by=team.gm, owner=two, at=at(7))
    # Agent two's lead goes to agent one, late and unanswered: it stays two's breach.
    actions.hand_off(lead=never, by=team.gm, to=one, at=at(9))
    window = month_window(dealer_ids=[team.dealer.pk], month=MARCH, view=View.PERIOD)
    rows = {row.person: row for row in lapses(dealer=team.dealer, window=window, now=now)}
    overdue = Task.objects.filter(
        dealer=team.dealer, assignee=one, closed_at__isnull=True, due_at__lt=now
    ).count()
    assert (rows[str(one)].late, rows[str(one)].unanswered) == (1, 0)
    assert rows[str(one)].overdue == overdue > 0  # the follow-ups and the handed-off first call
    assert (rows[str(two)].late, rows[str(two)].unanswered) == (1, 1)
    total = rows["All"]
    assert (total.late, total.unanswered) == (2, 1)
    assert list(rows)[-1] == "All"


def test_the_dashboard_shows_them_and_links_supervisors_to_the_team_board(team, calendar_day):
    lead = make_lead(
        team.dealer, by=team.gm, owner=team.dcc_agent, at=timezone.now() - timedelta(days=1)
    )
    assert lead.sla_deadline < timezone.now()
    page = login(team.gm).get("/dashboard/").content.decode()
    assert 'id="lapses"' in page and str(team.dcc_agent) in page
    assert 'href="/team/"' in page
    page = login(team.marketing_manager).get("/dashboard/").content.decode()
    assert 'id="lapses"' in page and 'href="/team/"' not in page  # not their board
