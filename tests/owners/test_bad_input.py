"""What owner operations' pages answer to input no form offers (a 31-digit score, a NUL, an
empty post, a question line that says nothing): the reason, in place, and nothing stored."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from leads import actions
from owners.models import Complaint, Questionnaire, ReturnVisit, ReturnVisitStep
from tests.kit import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def visit(team) -> ReturnVisit:
    at = timezone.now() - timedelta(days=4)
    lead = actions.check_in_visitor(
        dealer=team.dealer, phone="13912121212", by=team.consultant, at=at
    )
    lead = actions.record_order(lead=lead, by=team.consultant, at=at + timedelta(minutes=1))
    lead = actions.record_delivery(lead=lead, by=team.consultant, at=at + timedelta(minutes=2))
    return ReturnVisit.objects.get(lead=lead, is_the_return_visit=True)


@pytest.mark.parametrize(
    "data",
    [
        {"reached": "yes", "salesperson": str(10**30)},
        {"reached": "\x00"},
        {"reached": "yes", "comment": "x\x00"},
        {},
    ],
    ids=["huge score", "NUL reached", "NUL comment", "empty"],
)
def test_a_visit_attempt_out_of_reach_is_refused_in_place(team, visit, data):
    answer = login(team.owner_ops).post(f"/visits/{visit.pk}/", data)
    assert answer.status_code == 422
    visit.refresh_from_db()
    assert (visit.attempt_count, visit.status) == (0, "due")


@pytest.mark.parametrize("path", ["/visits/", "/owners/", "/complaints/"])
def test_an_id_past_any_database_is_not_found(team, path):
    assert login(team.gm).get(f"{path}{10**20}/").status_code == 404


def test_settings_and_complaints_refuse_what_does_not_fit(team, visit):
    gm = login(team.gm)
    complaint = {"source": "x", "category": "\x00", "severity": str(10**30), "description": "a"}
    assert gm.post(f"/owners/{visit.vehicle.owner_id}/", complaint).status_code == 422
    for step in (
        {"name": "x", "offset_hours": str(10**30), "performer": "owner_ops", "sample_percent": "0"},
        {"name": "\x00", "offset_hours": "-1", "performer": "zz", "sample_percent": "101"},
    ):
        assert gm.post("/settings/return-visits/steps/new/", step).status_code == 422
    for line in ("x | nope | y", "\x00", "k | choice | K | onlyone", "k|nps|K||99"):
        form = {"name": "Q", "questions": line}
        assert gm.post("/settings/questionnaires/new/", form).status_code == 422
    plan = {"attempts": str(10**30), "retry_hours": "0"}
    assert gm.post("/settings/return-visits/", plan).status_code == 422
    assert not Complaint.objects.exists()
    assert not Questionnaire.objects.filter(name="Q").exists()
    assert ReturnVisitStep.objects.filter(name="x").count() == 0
