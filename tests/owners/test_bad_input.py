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


# ---------------------------------------------------------------- owner events


@pytest.fixture
def owner_event(team, visit):
    """An event tomorrow with the visit's owner invited."""
    from owners import events
    from tests.owners.test_events import fields

    event = events.create_event(dealer=team.dealer, by=team.owner_ops, fields=fields())
    events.invite(event=event, segment={}, by=team.owner_ops)
    return event


EVENT = {
    "title": "自驾游",
    "kind": "self_drive",
    "starts_at": "2026-11-21T14:00",
    "ends_at": "2026-11-21T17:00",
    "capacity": "10",
    "budget": "100",
    "cost": "0",
}


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"ends_at": "2026-11-21T13:00"}, "The event must end after it starts."),
        ({"capacity": "0"}, "Ensure this value is greater than or equal to 1."),
        ({"capacity": str(10**30)}, "Ensure this value is less than or equal to 100000."),
        ({"budget": "-1"}, "Ensure this value is greater than or equal to 0."),
        ({"cost": "NaN"}, "Enter a number."),
        ({"budget": "1e999"}, "no more than 12 digits"),
        ({"title": "\x00"}, "Null characters are not allowed."),
        ({"kind": "party"}, "Select a valid choice."),
        ({"starts_at": "2026-02-30T10:00"}, "Enter a valid date/time."),
    ],
    ids=[
        "ends first",
        "no places",
        "huge capacity",
        "negative",
        "NaN",
        "infinite",
        "NUL",
        "kind",
        "no such day",
    ],
)
def test_an_event_that_does_not_fit_is_refused_on_its_field(team, changes, says):
    from owners.models import OwnerEvent

    answer = login(team.owner_ops).post("/owner-events/new/", EVENT | changes)
    assert answer.status_code == 422
    assert says in answer.content.decode()
    assert not OwnerEvent.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"step": "invite", "invite-tiers": ["x"]},
        {"step": "invite", "invite-tiers": [str(10**30)]},
        {"step": "invite", "invite-models": ["not a model"]},
        {"step": "invite", "invite-delivered_from": "2026-13-01"},
        {
            "step": "invite",
            "invite-delivered_from": "2026-11-02",
            "invite-delivered_to": "2026-11-01",
        },
        {"step": "sign_up", "sign_up-code": "x", "sign_up-party_size": "1"},
        {"step": "sign_up", "sign_up-code": "\x00", "sign_up-party_size": str(10**30)},
        {"step": "decline", "decline-code": ""},
        {"step": "edit", "edit-title": "", "edit-capacity": "-1"},
    ],
    ids=[
        "tier letters",
        "huge tier",
        "model",
        "no such day",
        "days reversed",
        "unknown code",
        "huge party",
        "no code",
        "empty edit",
    ],
)
def test_an_event_page_post_that_does_not_fit_is_refused_in_place(team, owner_event, data):
    from owners.models import Invitation

    answer = login(team.owner_ops).post(f"/owner-events/{owner_event.pk}/", data)
    assert answer.status_code == 422
    assert 'role="alert"' in answer.content.decode()
    assert not Invitation.objects.filter(signed_up_at__isnull=False).exists()
    assert Invitation.objects.count() == 1


def test_an_unknown_step_is_not_found(team, owner_event):
    answer = login(team.owner_ops).post(f"/owner-events/{owner_event.pk}/", {"step": "\x00"})
    assert answer.status_code == 404


@pytest.mark.parametrize("code", ["", "\x00", "x" * 300, "NOPE2345NOPE2345", "/check-in/"])
def test_the_door_refuses_a_code_it_cannot_read_in_place(team, owner_event, code):
    answer = login(team.owner_ops).post(f"/owner-events/{owner_event.pk}/door/", {"code": code})
    assert answer.status_code == 422
    assert 'role="alert"' in answer.content.decode()


@pytest.mark.parametrize(
    ("phone", "says"),
    [("abc", "letters"), ("", "required"), ("\x00", "Null characters"), ("1" * 41, "at most")],
)
def test_a_guest_without_a_usable_number_is_refused_on_the_phone(
    team, owner_event, fixed_clock, phone, says
):
    from owners import events
    from owners.models import EventGuest, Invitation
    from tests.owners.test_events import AT_THE_DOOR

    invitation = Invitation.objects.get(event=owner_event)
    fixed_clock.move_to(AT_THE_DOOR)
    events.check_in(dealer=team.dealer, code=invitation.code, by=team.owner_ops)
    answer = login(team.owner_ops).post(
        f"/owner-events/check-in/{invitation.code}/",
        {"step": "guest", "guest-name": "x", "guest-phone": phone},
    )
    assert answer.status_code == 422
    assert says in answer.content.decode()
    assert not EventGuest.objects.exists()


@pytest.mark.parametrize("code", ["\x00", "x" * 300, "%00", "NOPE"])
def test_an_address_with_a_code_that_is_nobodys_is_not_found(team, code):
    # A NUL in an address is a bad request before any page sees it.
    for page in ("check-in", "invitations"):
        answer = login(team.owner_ops).get(f"/owner-events/{page}/{code}/")
        assert answer.status_code == (400 if code in ("\x00", "%00") else 404)
