"""Working a return visit: answers checked against the version the visit started with,
retries until unreachable, a low score opens a complaint, and the plan's return visit is
also the one leads and the KPIs count."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dcc.errors import Conflict, InvalidInput, NotPermitted
from leads.models import EventKind, Task, TaskKind, TaskOutcome
from owners import questionnaires
from owners.models import Complaint, ComplaintSource, ReturnVisit, VisitStatus
from owners.plans import plan_of
from owners.questionnaires import DEFAULT_QUESTIONS, default_questionnaire, edit_questionnaire
from owners.upkeep import run as tick
from owners.visits import attempt_visit

pytestmark = pytest.mark.django_db

HAPPY = {
    **{q["key"]: 5 for q in DEFAULT_QUESTIONS if q["kind"] == "score"},
    "nps": 10,
    "referral": "yes",
}


@pytest.fixture
def visit(vehicle) -> ReturnVisit:
    return ReturnVisit.objects.get(vehicle=vehicle, is_the_return_visit=True)


def test_a_reached_visit_is_done_with_its_scores_and_closes_the_return_visit_task(team, visit):
    done = attempt_visit(visit=visit, by=team.owner_ops, reached=True, answers=HAPPY)
    assert done.status == VisitStatus.DONE and done.score == 5 and done.nps == 10
    assert done.completed_by_id == team.owner_ops.pk and len(done.attempts) == 1
    task = Task.objects.get(lead=visit.lead, kind=TaskKind.RETURN_VISIT)
    assert task.outcome == "done"
    event = visit.lead.events.filter(kind=EventKind.RETURN_VISIT).get()
    assert event.data == {"reached": True, "satisfaction": 5}
    assert not Complaint.objects.exists()


def test_answers_are_checked_and_the_question_named(team, visit):
    missing = {k: v for k, v in HAPPY.items() if k != "salesperson"}
    with pytest.raises(InvalidInput) as error:
        attempt_visit(visit=visit, by=team.owner_ops, reached=True, answers=missing)
    assert error.value.field == "salesperson" and "Salesperson" in error.value.message
    with pytest.raises(InvalidInput) as error:
        attempt_visit(visit=visit, by=team.owner_ops, reached=True, answers=HAPPY | {"nps": 11})
    assert error.value.field == "nps" and "0 to 10" in error.value.message
    with pytest.raises(InvalidInput) as error:
        attempt_visit(
            visit=visit, by=team.owner_ops, reached=True, answers=HAPPY | {"referral": "maybe"}
        )
    assert error.value.field == "referral"
    assert ReturnVisit.objects.get(pk=visit.pk).status == VisitStatus.DUE


def test_a_questionnaire_edited_while_a_visit_is_open_keeps_the_old_version(team, visit):
    questionnaire = default_questionnaire(team.dealer)
    extra = {"key": "wash", "label": "Was the car clean?", "kind": "yes_no", "complaint_if": "no"}
    edit_questionnaire(
        questionnaire=questionnaire, by=team.gm, questions=[*DEFAULT_QUESTIONS, extra]
    )
    assert questionnaires.current_version(questionnaire).number == 2
    assert ReturnVisit.objects.get(pk=visit.pk).version.number == 1
    done = attempt_visit(visit=visit, by=team.owner_ops, reached=True, answers=HAPPY)
    assert "wash" not in done.answers
    # A delivery after the edit asks the new question.
    from tests.owners.conftest import deliver

    later = ReturnVisit.objects.get(lead=deliver(team), is_the_return_visit=True)
    assert later.version.number == 2
    with pytest.raises(InvalidInput) as error:
        attempt_visit(visit=later, by=team.owner_ops, reached=True, answers=HAPPY)
    assert error.value.field == "wash"


def test_not_reached_retries_then_unreachable(team, visit, fixed_clock):
    plan = plan_of(team.dealer)
    due = visit.due_at
    for attempt in range(1, plan.attempts + 1):
        visit = attempt_visit(visit=visit, by=team.owner_ops, reached=False, note="no answer")
        if attempt < plan.attempts:
            assert visit.status == VisitStatus.DUE
            assert visit.due_at != due  # a retry a few business hours later
            due = visit.due_at
    assert visit.status == VisitStatus.UNREACHABLE and len(visit.attempts) == plan.attempts
    with pytest.raises(Conflict):
        attempt_visit(visit=visit, by=team.owner_ops, reached=True, answers=HAPPY)
    # Each attempt is in the ledger; the return-visit task, open while retrying, is given up
    # (cancelled, not done) with the last attempt: it does not wait in a queue for ever.
    assert visit.lead.events.filter(kind=EventKind.RETURN_VISIT).count() == plan.attempts
    task = Task.objects.get(lead=visit.lead, kind=TaskKind.RETURN_VISIT)
    assert task.outcome == TaskOutcome.CANCELLED and task.closed_at == visit.completed_at


def test_the_tick_closes_visits_whose_attempts_ran_out(team, visit):
    attempt_visit(visit=visit, by=team.owner_ops, reached=False)
    plan = plan_of(team.dealer)
    plan.attempts = 1
    plan.save()
    assert tick() == (0, 1)
    assert ReturnVisit.objects.get(pk=visit.pk).status == VisitStatus.UNREACHABLE
    assert tick() == (0, 0)


def test_a_low_score_opens_a_complaint_with_its_ledger_fact(team, visit):
    attempt_visit(visit=visit, by=team.owner_ops, reached=True, answers=HAPPY | {"salesperson": 1})
    complaint = Complaint.objects.get()
    assert (complaint.source, complaint.category, complaint.severity) == (
        ComplaintSource.VISIT,
        "salesperson",
        "high",
    )
    assert complaint.about_id == team.consultant.pk and complaint.visit_id == visit.pk
    assert complaint.handler_id == team.owner_ops.pk
    fact = visit.lead.events.filter(kind=EventKind.COMPLAINT).get()
    assert fact.data["complaint"] == complaint.pk and fact.data["step"] == "opened"
    assert fact.actor_id is None


def test_a_consultant_works_their_own_step_only(team, vehicle):
    own = ReturnVisit.objects.get(vehicle=vehicle, assignee=team.consultant)
    done = attempt_visit(visit=own, by=team.consultant, reached=True)
    assert done.status == VisitStatus.DONE
    other = ReturnVisit.objects.get(vehicle=vehicle, is_the_return_visit=True)
    with pytest.raises(NotPermitted):
        attempt_visit(visit=other, by=team.consultant_2, reached=False)
    with pytest.raises(NotPermitted):
        attempt_visit(visit=other, by=team.headquarters, reached=False)


def test_a_visit_done_late_is_not_on_time_for_the_kpis(team, visit, fixed_clock):
    fixed_clock.move_to(visit.due_at + timedelta(days=1))
    attempt_visit(visit=visit, by=team.owner_ops, reached=True, answers=HAPPY)
    task = Task.objects.get(lead=visit.lead, kind=TaskKind.RETURN_VISIT)
    assert task.closed_at > task.due_at
