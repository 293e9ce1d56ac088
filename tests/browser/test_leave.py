"""Leave with a named cover, in a real browser: the DCC supervisor records that agent A is away
from now with agent B covering; A's open leads and their tasks move to B at once, each move
a handoff on the lead's timeline by the supervisor; B's queue shows the work; the team board
shows A away with B as cover."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from accounts.models import Absence
from leads import actions
from leads.models import CallOutcome, Event, EventKind, HandoffReason, Task
from tests.factories import make_lead

pytestmark = pytest.mark.browser


def _open_leads(row) -> int:
    """The board's open-leads count of a person's row (the link also says "reassign")."""
    return int(row.locator("td").nth(1).inner_text().split()[0])


def test_supervisor_records_absence_and_cover_takes_the_work(open_session, team):
    away, cover, supervisor = team.dcc_agent, team.dcc_agent_2, team.dcc_supervisor
    new = make_lead(team.dealer, by=team.platform_specialist, owner=away, name="钱多多")
    overdue = make_lead(
        team.dealer,
        by=team.platform_specialist,
        owner=away,
        name="孙悟空",
        at=timezone.now() - timedelta(hours=4),
    )
    overdue = actions.log_call(
        lead=overdue,
        by=away,
        outcome=CallOutcome.REACHED,
        next_follow_up_at=timezone.now() - timedelta(hours=2),
        at=timezone.now() - timedelta(hours=3),  # set before it fell due
    )
    closed = make_lead(team.dealer, by=team.platform_specialist, owner=away, name="周芷若")
    closed = actions.invalidate_lead(lead=closed, by=away, reason="wrong_number")
    others = make_lead(team.dealer, by=team.platform_specialist, owner=cover, name="李逍遥")
    moving = [new, overdue]
    assert Task.objects.filter(assignee=away, closed_at__isnull=True).count() == 2

    boss = open_session(supervisor)
    boss.goto("/team/absences/")
    boss.page.get_by_text("Nobody is away now or later.").wait_for()
    starts = boss.page.get_by_label("From").input_value()
    assert starts, "From should default to now"
    until = timezone.localtime() + timedelta(days=3)
    boss.page.get_by_label("Person").select_option(label=str(away))
    boss.page.get_by_label("Cover").select_option(label=str(cover))
    boss.page.get_by_label("Until").fill(until.strftime("%Y-%m-%dT%H:%M"))
    boss.page.get_by_label("Reason").fill("年假")
    boss.screenshot("absence-form")
    boss.page.get_by_role("button", name="Record absence").click()
    boss.page.get_by_text(
        f"Absence recorded: {away}'s open leads and tasks went to {cover}."
    ).wait_for()
    row = boss.page.get_by_test_id("absences").locator("tbody tr").first
    cells = [row.locator("th").inner_text(), *row.locator("td").all_inner_texts()]
    assert str(away) in cells[0] and "Away now" in cells[0]
    assert cells[1].strip() == str(cover)
    assert cells[2].strip() and cells[3].strip()
    assert cells[4].strip() == "年假"
    assert cells[5].strip() == str(supervisor)
    boss.screenshot("absences")
    absence = Absence.objects.get(staff=away)
    assert absence.cover == cover
    assert absence.starts_at <= timezone.now() < absence.ends_at

    # The open work moved; the closed lead and the cover's own lead did not.
    for lead in moving:
        lead.refresh_from_db()
        assert lead.owner == cover
    closed.refresh_from_db()
    others.refresh_from_db()
    assert (closed.owner, others.owner) == (away, cover)
    assert not Event.objects.filter(lead=closed, kind=EventKind.HANDED_OFF).exists()
    assert not Task.objects.filter(assignee=away, closed_at__isnull=True).exists()
    assert Task.objects.filter(assignee=cover, closed_at__isnull=True).count() == 3

    # Each moved lead says so on its timeline: from A to B, by the supervisor, and when.
    with translation.override("en"):
        reason = str(HandoffReason.ABSENCE.label)
    for lead in moving:
        boss.goto(f"/leads/{lead.pk}/")
        boss.page.get_by_test_id("owner").get_by_text(str(cover)).wait_for()
        entry = boss.page.get_by_test_id("timeline").locator("li").first
        assert entry.get_attribute("data-kind") == "handed_off"
        text = entry.inner_text()
        assert "Handed off" in text
        assert f"{away} → {cover}" in text
        assert str(supervisor) in text
        assert f"Reason: {reason}" in text
        assert "年假" in text
        assert entry.locator(".when").inner_text().strip()
        tasks = boss.page.locator("section[aria-labelledby='tasks-h'] li").all_inner_texts()
        assert tasks and all(str(cover) in task for task in tasks), tasks
    boss.screenshot("lead-after-absence")

    # The cover's queue has the new lead to call and the overdue follow-up.
    covering = open_session(cover)
    covering.goto("/queue/")
    covering.page.get_by_test_id("new-leads").get_by_role("link", name="钱多多").wait_for()
    covering.page.get_by_test_id("new-leads").get_by_role("link", name="李逍遥").wait_for()
    covering.page.get_by_test_id("overdue").get_by_role("link", name="孙悟空").wait_for()
    assert covering.page.get_by_test_id("new-count").inner_text() == "2"
    assert covering.page.get_by_test_id("overdue-count").inner_text() == "1"
    covering.screenshot("queue-of-cover")

    # The absent agent's own queue is empty.
    absent = open_session(away, width=375)
    absent.goto("/queue/")
    absent.page.get_by_text("No new leads waiting.").wait_for()
    absent.page.get_by_text("Nothing overdue.").wait_for()

    # The board: A away, with B as cover; B holds the open leads now.
    boss.goto("/team/")
    board = boss.page.get_by_test_id("board")
    away_row = board.locator(f"tr[data-staff='{away.pk}']")
    status = away_row.locator("td").last.inner_text()
    assert "Away" in status
    assert f"cover: {cover}" in status
    assert _open_leads(away_row) == 0
    cover_row = board.locator(f"tr[data-staff='{cover.pk}']")
    assert "Present" in cover_row.locator("td").last.inner_text()
    assert _open_leads(cover_row) == 3
    boss.screenshot("team-board-absence")
