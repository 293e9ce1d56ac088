"""The weekly draw: a reproducible random share of each person's work, at least the plan's
minimum, recorded with its seed; a week drawn once unless a supervisor draws it again."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from accounts.models import SettingsChange
from audit import actions, selectors, sources
from audit.actions import Plan, draw_sample, pick
from audit.models import AuditSample, AuditTask, TaskStatus
from dcc.errors import Conflict, InvalidInput, NotPermitted
from tests.audit.conftest import WEEK, defeated, during

pytestmark = pytest.mark.django_db


def test_the_same_seed_draws_the_same_items_and_another_seed_others(team, week_of_work):
    first = draw_sample(dealer=team.dealer, week=WEEK, by=team.auditor, seed=1234)
    drawn = selectors.drawn_ids(team.dealer, WEEK)
    redrawn = draw_sample(
        dealer=team.dealer, week=WEEK, by=team.dcc_supervisor, seed=1234, redraw=True
    )
    assert selectors.drawn_ids(team.dealer, WEEK) == drawn
    assert (first.tasks, redrawn.tasks) == (sum(map(len, drawn.values())),) * 2
    draw_sample(dealer=team.dealer, week=WEEK, by=team.dcc_supervisor, seed=99, redraw=True)
    assert selectors.drawn_ids(team.dealer, WEEK) != drawn


def test_pick_is_reproducible_and_depends_on_the_seed():
    plan = Plan("call", 30, 1)
    ids = list(range(100, 140))
    once = pick(ids, seed=7, source="call", person_id=3, plan=plan)
    assert once == pick(reversed(ids), seed=7, source="call", person_id=3, plan=plan)
    assert len(once) == 12 and once == sorted(once) and set(once) <= set(ids)
    others = {
        tuple(pick(ids, seed=seed, source="call", person_id=3, plan=plan)) for seed in range(8)
    }
    assert len(others) > 1


def test_each_person_gets_the_share_and_at_least_the_minimum(team, week_of_work):
    actions.set_plan(
        dealer=team.dealer, by=team.auditor, source=sources.CALL, share_percent=30, min_per_person=2
    )
    draw_sample(dealer=team.dealer, week=WEEK, by=team.auditor, seed=5)
    tasks = AuditTask.objects.filter(dealer=team.dealer)
    calls = tasks.filter(source=sources.CALL)
    # Agent 1: 10 recorded calls in the week → 30 % = 3; agent 2: 3 → 1, raised to the minimum 2.
    assert calls.filter(person=team.dcc_agent).count() == 3
    assert calls.filter(person=team.dcc_agent_2).count() == 2
    # Defeats (20 %, at least 1): consultant 1 had 3 → 1; consultant 2 had 1 → 1.
    defeats = tasks.filter(source=sources.DEFEAT)
    assert defeats.filter(person=team.consultant).count() == 1
    assert defeats.filter(person=team.consultant_2).count() == 1
    # Invalid marks (10 %, at least 1): agent 1 marked 2 → 1.
    assert tasks.filter(source=sources.INVALID, person=team.dcc_agent).count() == 1
    sample = AuditSample.objects.get(source=sources.CALL)
    assert sample.population == {str(team.dcc_agent.pk): 10, str(team.dcc_agent_2.pk): 3}
    assert set(tasks.values_list("assignee", flat=True)) == {team.auditor.pk}


def test_a_plan_switched_off_draws_nothing_of_its_source(team, week_of_work):
    actions.set_plan(
        dealer=team.dealer, by=team.gm, source=sources.CALL, share_percent=10,
        min_per_person=1, is_active=False,
    )  # fmt: skip
    draw_sample(dealer=team.dealer, week=WEEK, by=team.auditor)
    assert not AuditTask.objects.filter(source=sources.CALL).exists()
    assert AuditTask.objects.filter(source=sources.DEFEAT).exists()


def test_the_draw_is_recorded_with_its_seed_and_counts(team, week_of_work):
    draw = draw_sample(dealer=team.dealer, week=WEEK, by=team.auditor)
    change = SettingsChange.objects.get(dealer=team.dealer, what="audit_sample_drawn")
    assert change.changed_by == team.auditor and change.subject == WEEK.isoformat()
    assert change.detail["seed"] == draw.seed and change.detail["redraw"] is False
    assert change.detail["counts"][sources.CALL]["work"] == 13
    assert change.detail["counts"][sources.DEFEAT] == {"work": 4, "drawn": 2}
    # Anyone may draw again from the recorded seed and get the same items.
    assert AuditSample.objects.get(source=sources.DEFEAT).seed == draw.seed


def test_an_empty_week_says_so(team):
    draw = draw_sample(dealer=team.dealer, week=WEEK, by=team.auditor)
    assert draw.tasks == 0 and "Nothing to sample" in draw.message
    assert not AuditSample.objects.exists()
    assert not SettingsChange.objects.filter(what="audit_sample_drawn").exists()


def test_a_week_is_drawn_once_unless_a_supervisor_draws_it_again(team, week_of_work):
    draw_sample(dealer=team.dealer, week=WEEK, by=team.auditor, seed=1)
    with pytest.raises(Conflict, match="drawn already"):
        draw_sample(dealer=team.dealer, week=WEEK, by=team.auditor, seed=2)
    with pytest.raises(NotPermitted):
        draw_sample(dealer=team.dealer, week=WEEK, by=team.auditor, seed=2, redraw=True)
    done = AuditTask.objects.filter(source=sources.DEFEAT).first()
    form = actions.ensure_form(team.dealer, sources.DEFEAT)
    actions.submit_audit(
        task=done, by=team.auditor, form=form,
        scores={item.pk: item.points for item in form.items.all()}, result="pass",
    )  # fmt: skip
    draw_sample(
        dealer=team.dealer, week=WEEK, by=team.dcc_supervisor, seed=2, redraw=True, note="plan"
    )
    old = AuditSample.objects.filter(superseded_at__isnull=False)
    assert old.count() == 3
    # The first draw's open tasks are cancelled; what was audited stays audited.
    first = AuditTask.objects.filter(sample__in=old)
    assert set(first.values_list("status", flat=True)) == {TaskStatus.CANCELLED, TaskStatus.DONE}
    assert first.get(status=TaskStatus.DONE).pk == done.pk
    changes = SettingsChange.objects.filter(what="audit_sample_drawn").order_by("pk")
    assert [c.detail["redraw"] for c in changes] == [False, True]
    assert changes.last().changed_by == team.dcc_supervisor


def test_only_the_audit_group_and_supervisors_draw_and_only_whole_weeks(team, week_of_work):
    for person in (team.dcc_agent, team.consultant, team.headquarters, team.marketing_manager):
        with pytest.raises(NotPermitted):
            draw_sample(dealer=team.dealer, week=WEEK, by=person)
    with pytest.raises(InvalidInput, match="Monday"):
        draw_sample(dealer=team.dealer, week=WEEK + timedelta(days=1), by=team.auditor)
    with pytest.raises(InvalidInput, match="not started"):
        draw_sample(dealer=team.dealer, week=date(2026, 11, 23), by=team.auditor)


@pytest.mark.parametrize(
    "now, week",
    [
        ("2026-12-02T10:00:00+08:00", date(2026, 11, 30)),  # Mon 30 Nov – Sun 6 Dec
        ("2027-01-05T10:00:00+08:00", date(2026, 12, 28)),  # Mon 28 Dec – Sun 3 Jan
    ],
)
def test_a_week_across_a_month_or_year_end_takes_all_its_days(team, fixed_clock, now, week):
    fixed_clock.move_to(now)
    inside = [defeated(team, team.consultant, during(week, day, 23)) for day in (0, 3, 6)]
    defeated(team, team.consultant, during(week, 7, 0))  # the next Monday, just after midnight
    defeated(team, team.consultant, during(week, -1, 23))  # the Sunday before, late
    actions.set_plan(
        dealer=team.dealer, by=team.auditor, source=sources.DEFEAT, share_percent=100,
        min_per_person=0,
    )  # fmt: skip
    draw_sample(dealer=team.dealer, week=week, by=team.auditor)
    drawn = AuditTask.objects.filter(source=sources.DEFEAT).values_list("lead_id", flat=True)
    assert sorted(drawn) == sorted(lead.pk for lead in inside)
