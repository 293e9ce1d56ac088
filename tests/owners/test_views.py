"""The pages: the visits to make, a visit's form, complaints, the owner page, the settings;
who opens what (another dealer's: not found), in Chinese, and click-to-call from a visit."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client

from calls.models import Call, PhoneAccount, Seat
from leads.models import Event, EventKind
from owners.complaints import raise_complaint
from owners.models import Complaint, ComplaintPolicy, ReturnVisit, VisitStatus
from owners.questionnaires import default_questionnaire
from tests.calls.test_dial import serving_fake_clink
from tests.kit import login
from tests.owners.conftest import deliver
from tests.owners.test_visits import HAPPY

pytestmark = pytest.mark.django_db


@pytest.fixture
def visit(vehicle) -> ReturnVisit:
    return ReturnVisit.objects.get(vehicle=vehicle, is_the_return_visit=True)


@pytest.fixture
def complaint(team, vehicle) -> Complaint:
    return raise_complaint(
        customer=vehicle.owner,
        by=team.owner_ops,
        source="call",
        category="delivery",
        severity="medium",
        description="Late delivery.",
        vehicle=vehicle,
        about=team.consultant,
    )


def test_the_visit_list_and_form_record_a_visit(team, visit, fixed_clock):
    fixed_clock.move_to(visit.due_at)
    client = login(team.owner_ops)
    page = client.get("/visits/").content.decode()
    assert "3-day visit (3DC)" in page and visit.vehicle.owner.phone not in page
    answer = client.post(f"/visits/{visit.pk}/", {"reached": "yes", **HAPPY, "salesperson": ""})
    assert answer.status_code == 422 and "Salesperson" in answer.content.decode()
    answer = client.post(f"/visits/{visit.pk}/", {"reached": "yes", **HAPPY})
    assert answer.status_code == 302
    assert ReturnVisit.objects.get(pk=visit.pk).status == VisitStatus.DONE


def test_the_pages_speak_chinese(team, visit, complaint):
    client = login(team.owner_ops, language="zh-hans")
    assert "回访" in client.get("/visits/").content.decode()
    assert "投诉" in client.get("/complaints/").content.decode()
    assert "车辆" in client.get(f"/owners/{visit.vehicle.owner_id}/").content.decode()


def test_a_complaint_is_resolved_and_confirmed_on_its_page(team, complaint):
    client = login(team.owner_ops)
    assert f"/complaints/{complaint.pk}/" in client.get("/complaints/").content.decode()
    client.post(f"/complaints/{complaint.pk}/", {"step": "resolve", "resolve-resolution": "Sorry."})
    client.post(f"/complaints/{complaint.pk}/", {"step": "confirm", "confirm-satisfied": "yes"})
    assert Complaint.objects.get(pk=complaint.pk).status == "confirmed"
    page = client.get(f"/complaints/{complaint.pk}/").content.decode()
    assert "Opened" in page and "Resolved" in page and "Confirmed by the customer" in page


def test_raise_a_complaint_from_the_owner_page(team, vehicle):
    client = login(team.headquarters)
    answer = client.post(
        f"/owners/{vehicle.owner_id}/",
        {
            "source": "headquarters",
            "category": "price",
            "severity": "high",
            "description": "Called the brand hotline.",
        },
    )
    assert answer.status_code == 302
    complaint = Complaint.objects.get()
    assert complaint.opened_by_id == team.headquarters.pk
    assert vehicle.lead.events.filter(kind=EventKind.COMPLAINT).exists()
    # Headquarters reads, it does not handle.
    assert (
        client.post(
            f"/complaints/{complaint.pk}/", {"step": "resolve", "resolve-resolution": "x"}
        ).status_code
        == 403
    )


@pytest.mark.parametrize(
    "role, visits, complaints, owner",
    [
        ("owner_ops", 200, 200, 200),
        ("gm", 200, 200, 200),
        ("sales_manager", 200, 200, 200),
        ("consultant", 200, 200, 200),  # the thank-you call is theirs, the complaint about them
        ("consultant_2", 404, 404, 404),
        ("auditor", 403, 200, 200),
        ("headquarters", 403, 200, 200),
        ("dcc_agent", 403, 403, 403),
    ],
)
def test_who_sees_what(team, visit, complaint, role, visits, complaints, owner):
    client = login(getattr(team, role))
    own_step = ReturnVisit.objects.get(vehicle=visit.vehicle, assignee=team.consultant)
    shown = own_step if role.startswith("consultant") else visit
    assert client.get(f"/visits/{shown.pk}/").status_code == visits
    assert client.get(f"/complaints/{complaint.pk}/").status_code == complaints
    assert client.get(f"/owners/{visit.vehicle.owner_id}/").status_code == owner


def test_another_dealers_visits_and_complaints_are_not_found(team, other_team, visit, complaint):
    client = login(other_team.owner_ops)
    assert client.get(f"/visits/{visit.pk}/").status_code == 404
    assert client.post(f"/visits/{visit.pk}/", {"reached": "no"}).status_code == 404
    assert client.post(f"/visits/{visit.pk}/dial/").status_code == 404
    assert client.get(f"/complaints/{complaint.pk}/").status_code == 404
    assert client.get(f"/owners/{visit.vehicle.owner_id}/").status_code == 404


def test_the_settings_edit_the_plan_and_make_a_new_questionnaire_version(team, visit):
    client = login(team.gm)
    assert "3-day visit (3DC)" in client.get("/settings/return-visits/").content.decode()
    questionnaire = default_questionnaire(team.dealer)
    form = client.get(f"/settings/questionnaires/{questionnaire.pk}/").content.decode()
    assert "delivery_process | score" in form
    text = "delivery_process | score | Delivery | | 2 | delivery\nwash | yes_no | Clean? | | no |"
    answer = client.post(
        f"/settings/questionnaires/{questionnaire.pk}/", {"name": "x", "questions": text}
    )
    assert answer.status_code == 302
    assert questionnaire.versions.count() == 2
    assert ReturnVisit.objects.get(pk=visit.pk).version.number == 1
    step = visit.step
    answer = client.post(
        f"/settings/return-visits/steps/{step.pk}/",
        {
            "name": "3DC",
            "offset_hours": 48,
            "performer": "owner_ops",
            "questionnaire": questionnaire.pk,
            "sample_percent": 100,
            "is_active": "on",
        },
    )
    assert answer.status_code == 302
    later = ReturnVisit.objects.get(lead=deliver(team), step=step)
    assert later.version.number == 2 and later.name == "3DC"
    assert login(team.owner_ops).get("/settings/return-visits/").status_code == 403


def test_a_long_overdue_section_shows_its_first_rows_and_counts_them_all(
    team, fixed_clock, monkeypatch
):
    from owners import views

    monkeypatch.setattr(views, "SECTION_ROWS", 2)
    for _ in range(3):
        deliver(team)
    overdue = ReturnVisit.objects.filter(status=VisitStatus.DUE).order_by("due_at")
    fixed_clock.move_to(overdue.last().due_at + timedelta(days=1))
    page = login(team.owner_ops).get("/visits/").content.decode()
    total = overdue.count()
    assert total > 2
    assert f"The first 2 of {total}" in page
    assert page.count('class="row-overdue"') == 2


def test_complaint_deadlines_are_set_in_the_settings_most_severe_shortest(team, vehicle):
    client = login(team.gm)
    hours = {"critical_hours": 2, "high_hours": 12, "medium_hours": 48, "low_hours": 96}
    wrong = client.post(
        "/settings/return-visits/", {"form": "deadlines", **hours, "medium_hours": 6}
    )
    assert wrong.status_code == 422 and "less time" in wrong.content.decode()
    assert not ComplaintPolicy.objects.exists()
    assert (
        client.post("/settings/return-visits/", {"form": "deadlines", "low_hours": "x"}).status_code
        == 422
    )
    assert (
        client.post("/settings/return-visits/", {"form": "deadlines", **hours}).status_code == 302
    )
    policy = ComplaintPolicy.objects.get(dealer=team.dealer)
    assert (policy.critical_hours, policy.low_hours) == (2, 96)
    complaint = raise_complaint(
        customer=vehicle.owner,
        by=team.owner_ops,
        source="call",
        category="other",
        severity="low",
        description="Noise.",
        vehicle=vehicle,
    )
    assert complaint.deadline - complaint.opened_at == timedelta(hours=96)
    # The plan's own form still saves alone.
    saved = client.post(
        "/settings/return-visits/", {"form": "plan", "attempts": 4, "retry_hours": 2}
    )
    assert saved.status_code == 302


def test_dial_from_a_visit_rings_the_seat_and_the_call_comes_back_to_the_lead(team, visit):
    with serving_fake_clink() as (base, seen, _state):
        account = PhoneAccount.objects.create(
            dealer=team.dealer,
            provider="clink",
            api_url=base,
            credentials={
                "access_key_id": "AK",
                "access_key_secret": "s",
                "push_token": "push-token-0123456789",
            },
        )
        Seat.objects.create(account=account, seat="0009", staff=team.owner_ops)
        client = login(team.owner_ops)
        assert 'data-testid="dial"' in client.get(f"/visits/{visit.pk}/").content.decode()
        assert client.post(f"/visits/{visit.pk}/dial/").status_code == 302
        (request,) = seen
        assert request["body"]["cno"] == "0009"
        reference = request["body"]["requestUniqueId"]
        call = Call.objects.get()
        assert (call.lead_id, call.agent_id) == (visit.lead_id, team.owner_ops.pk)
        push = {
            "mainUniqueId": "m-1",
            "cdrType": "cdr_ob_agent",
            "cno": "0009",
            "customerNumber": visit.vehicle.owner.phone,
            "startTime": "1763431200",
            "answerTime": "1763431215",
            "endTime": "1763431335",
            "bridgeDuration": "120",
            "status": "33",
            "requestUniqueId": reference,
        }
        pushed = Client().post(
            f"/phone/push/{account.push_key}/?token=push-token-0123456789",
            json.dumps(push),
            content_type="application/json",
        )
        assert pushed.status_code == 200
        assert Event.objects.filter(lead=visit.lead, kind=EventKind.CALLED).exists()
        # A consultant may not dial for a visit that is not theirs.
        Seat.objects.create(account=account, seat="0010", staff=team.consultant_2)
        assert login(team.consultant_2).post(f"/visits/{visit.pk}/dial/").status_code == 404
