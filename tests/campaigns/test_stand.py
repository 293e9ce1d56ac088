"""Direct sales at the stand: a consultant's entry is a lead credited to the campaign and their
own code, with consent evidence naming them; the same entry sent again (its key seen) is the
first answer again, never a second lead; what is wrong is refused, named, and not kept."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns import stand
from campaigns.models import CampaignLead, CampaignTouch
from dcc.errors import InvalidInput
from leads.models import IdempotencyKey, Lead
from privacy.models import ConsentRecord
from tests.kit import login

pytestmark = pytest.mark.django_db

KEY = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


def entry(code, **changes):
    values = {
        "key": KEY,
        "code": code.code,
        "name": "李雷",
        "mobile": "13912345678",
        "car_model": "",
        "consent": True,
    }
    return values | changes


def send(team, code, **changes):
    values = entry(code, **changes)
    return stand.send(
        staff=team.consultant,
        dealer_id=team.dealer.pk,
        key=values["key"],
        code=values["code"],
        name=values["name"],
        mobile=values["mobile"],
        car_model=values["car_model"],
        consent_given=values["consent"],
        entered=values.get("entered_at", ""),
    )


def test_an_entry_is_a_lead_credited_to_the_campaign_and_the_persons_code(team, show, staff_code):
    sent = send(team, staff_code)
    assert (sent.outcome, sent.again) == ("created", False)
    credited = CampaignLead.objects.get(lead=sent.lead)
    assert (credited.campaign, credited.capture_code) == (show, staff_code)
    assert sent.lead.created_by is None  # in the DCC queue by the dealer's rules
    record = ConsentRecord.objects.filter(customer=sent.lead.customer).first()
    assert (record.how, record.by) == ("form", team.consultant)
    assert f"Entered at the stand by {team.consultant}" in record.evidence


def test_the_same_entry_sent_again_is_the_first_answer_not_a_second_lead(team, staff_code):
    first = send(team, staff_code)
    again = send(team, staff_code)
    assert (again.lead, again.outcome, again.again) == (first.lead, "created", True)
    assert Lead.objects.count() == 1 and not CampaignTouch.objects.exists()
    # Another entry for the same visitor (a new key) is a repeat enquiry, as on the page.
    other = send(team, staff_code, key="1" * 32)
    assert (other.lead, other.outcome) == (first.lead, "touched")


def test_a_key_used_for_another_entry_is_refused(team, staff_code):
    send(team, staff_code)
    with pytest.raises(InvalidInput) as refused:
        send(team, staff_code, name="韩梅梅")
    assert refused.value.field == "key"


def test_only_the_persons_own_code_is_taken(team, own_code, staff_code):
    with pytest.raises(InvalidInput) as refused:
        send(team, own_code)
    assert refused.value.field == "code"
    assert not IdempotencyKey.objects.exists()


def test_an_entry_made_offline_keeps_its_time_within_two_days(team, staff_code):
    now = timezone.now()
    earlier = now - timedelta(hours=3)
    lead = send(team, staff_code, entered_at=earlier.isoformat()).lead
    assert abs(lead.created_at - earlier) < timedelta(seconds=1)
    assert stand.entered_at((now + timedelta(hours=2)).isoformat(), now=now) == now
    assert stand.entered_at((now - timedelta(days=9)).isoformat(), now=now) == now - timedelta(
        hours=48
    )
    assert stand.entered_at("yesterday", now=now) == now


def post(client, body):
    return client.post(
        "/campaigns/stand/send/", data=json.dumps(body), content_type="application/json"
    )


def test_the_send_endpoint_answers_what_became_of_each_entry(team, staff_code):
    client = login(team.consultant)
    created = post(client, entry(staff_code))
    assert created.status_code == 201 and created.json()["state"] == "sent"
    again = post(client, entry(staff_code))
    assert again.status_code == 200 and again.json()["again"] is True
    wrong = post(client, entry(staff_code, key="2" * 32, mobile="12345"))
    assert wrong.status_code == 422
    assert wrong.json() == {
        "state": "refused",
        "message": "This is not a valid Chinese phone number. Check the digits; a landline "
        "needs its area code.",
        "field": "mobile",
    }
    assert post(client, ["not", "an", "entry"]).status_code == 400
    assert Lead.objects.count() == 1


def test_the_stand_screen_offers_the_persons_running_codes(team, show, staff_code):
    page = login(team.consultant).get("/campaigns/stand/")
    assert page.status_code == 200
    assert page.context["offered"][0]["code"] == staff_code.code
    assert page.context["offered"][0]["campaign"] == show.name


def test_without_a_code_the_stand_screen_says_whom_to_ask(team, show):
    page = login(team.consultant_2).get("/campaigns/stand/")
    assert page.status_code == 200
    assert b'data-testid="no-code"' in page.content
    assert login(team.dcc_agent).get("/campaigns/stand/").status_code == 403
