"""Owner operations' return visits are audited like the rest: a done visit of the week is
drawn as the work of who completed it, and its page shows the answers given."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from audit import sources
from audit.actions import draw_sample, set_plan
from audit.models import AuditTask
from leads import actions
from owners.models import ReturnVisit
from owners.visits import attempt_visit
from tests.audit.conftest import WEEK, during
from tests.kit import login

pytestmark = pytest.mark.django_db
ANSWERS = {
    "delivery_process": 5, "salesperson": 4, "deal_terms": 5, "delivery_timing": 5,
    "advertising": 4, "insurance_accessories": 5, "facilities": 5, "paperwork": 5,
    "nps": 9, "referral": "yes", "comment": "很满意",
}  # fmt: skip


def visited(team, at):
    """A car delivered three days before `at`, its 3DC visit done by owner operations at `at`."""
    sold = at - timedelta(days=3)
    lead = actions.check_in_visitor(
        dealer=team.dealer, phone="13966665555", by=team.consultant, at=sold
    )
    lead = actions.record_order(lead=lead, by=team.consultant, at=sold + timedelta(minutes=5))
    lead = actions.record_delivery(lead=lead, by=team.consultant, at=sold + timedelta(minutes=9))
    visit = ReturnVisit.objects.get(lead=lead, is_the_return_visit=True)
    return attempt_visit(visit=visit, by=team.owner_ops, reached=True, answers=ANSWERS, at=at)


def test_a_done_visit_is_drawn_as_its_performers_work_and_shown_with_its_answers(team):
    visit = visited(team, during(WEEK, 3))
    set_plan(dealer=team.dealer, by=team.auditor, source=sources.RETURN_VISIT, share_percent=100,
             min_per_person=1)  # fmt: skip
    draw_sample(dealer=team.dealer, week=WEEK, by=team.auditor, seed=7)
    task = AuditTask.objects.get(source=sources.RETURN_VISIT)
    assert (task.item_id, task.person_id, task.lead_id) == (
        visit.pk,
        team.owner_ops.pk,
        visit.lead_id,
    )

    page = login(team.auditor).get(reverse("audit_task", args=[task.pk])).content.decode()
    assert "139****5555" in page and "13966665555" not in page
    assert "很满意" in page and "Salesperson" in page
