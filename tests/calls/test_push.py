"""The push address: authenticated, parsed, merged, answered as the provider expects; bad
pushes get a 4xx naming what is wrong and store nothing."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from calls.models import Call, PhoneAccount
from calls.providers.generic import signature
from leads.models import Event, EventKind
from tests.calls.reports import CALLER, HOTLINE
from tests.factories import make_lead

SECRET = "s3cret-for-pushes-0123456789abcdef"


@pytest.fixture
def pushing(account: PhoneAccount) -> PhoneAccount:
    account.credentials = {"push_secret": SECRET}
    account.save()
    return account


def cdr(call_id: str = "P1", **more) -> dict:
    return {
        "call_id": call_id,
        "phase": "ended",
        "direction": "inbound",
        "line_number": HOTLINE,
        "customer_number": CALLER,
        "seat": "8001",
        "rang_at": "2026-11-18T10:00:00+08:00",
        "answered_at": "2026-11-18T10:00:09+08:00",
        "ended_at": "2026-11-18T10:02:09+08:00",
        "disposition": "answered",
        "hung_up_by": "customer",
        **more,
    }


def post(account: PhoneAccount, payload, *, secret: str = SECRET, raw: bytes | None = None):
    body = raw if raw is not None else json.dumps(payload).encode()
    return Client().post(
        f"/phone/push/{account.push_key}/",
        body,
        content_type="application/json",
        headers={"X-DCC-Signature": signature(secret, body)},
    )


def test_a_signed_push_lands_as_a_call_on_the_lead_once_however_often_sent(team, pushing):
    lead = make_lead(team.dealer, phone=CALLER)
    for _ in range(5):
        answer = post(pushing, cdr())
        assert answer.status_code == 200
        assert answer.json() == {"ok": True}
    call = Call.objects.get()
    assert (call.lead_id, call.agent_id, call.talk_seconds) == (lead.pk, team.dcc_agent.pk, 120)
    assert Event.objects.filter(lead=lead, kind=EventKind.CALLED).count() == 1


def test_a_wrong_signature_is_refused_and_nothing_is_stored(team, pushing):
    answer = post(pushing, cdr(), secret="not-the-secret-at-all-0123456789")
    assert answer.status_code == 401
    assert answer.json()["code"] == "bad_credentials"
    assert not Call.objects.exists()


def test_an_account_without_push_credentials_accepts_nothing(team, account):
    assert post(account, cdr()).status_code == 401
    assert not Call.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (cdr(call_id=""), "call_id"),
        (cdr(direction="sideways"), "direction"),
        (cdr(rang_at="yesterday-ish"), "rang_at"),
    ],
)
def test_an_unreadable_push_says_which_field_and_stores_nothing(team, pushing, payload, field):
    answer = post(pushing, payload)
    assert answer.status_code == 400
    assert answer.json()["field"] == field
    assert not Call.objects.exists()


def test_not_json_at_all_is_a_400_not_a_server_error(team, pushing):
    answer = post(pushing, None, raw=b"\xff{not json")
    assert answer.status_code == 400
    assert not Call.objects.exists()


def test_an_unknown_push_address_is_404_and_a_get_is_405(team, pushing):
    assert (
        Client().post("/phone/push/nope/", b"{}", content_type="application/json").status_code
        == 404
    )
    assert Client().get(f"/phone/push/{pushing.push_key}/").status_code == 405


def test_an_oversized_push_is_413(team, pushing):
    big = json.dumps(cdr(status="x" * 600_000)).encode()
    assert post(pushing, None, raw=big).status_code == 413
    assert not Call.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (cdr(call_id="x" * 128), ""),  # the longest id the format allows is stored
        (cdr(seat="80\x0001"), "seat"),
        (cdr(note="\x00"), ""),  # an unknown key is kept as sent, without the NUL
        (cdr(rang_at="0001-01-01T00:00:00+08:00"), "rang_at"),
        (cdr(talk_seconds=10**30), "talk_seconds"),
        (cdr(recording_urls={"a": 1}), "recording_urls"),
        ([cdr(), [cdr()]], ""),
    ],
)
def test_odd_input_is_stored_or_refused_on_its_field_never_a_server_error(
    team, pushing, payload, field
):
    answer = post(pushing, payload)
    assert answer.status_code in (200, 400), answer.content
    if answer.status_code == 400:
        assert answer.json()["field"].startswith(field) if field else True
    else:
        assert not field, f"{field} should have been refused"
