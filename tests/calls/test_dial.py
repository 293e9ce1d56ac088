"""Click-to-call: the call button asks the provider (a fake Clink on 127.0.0.1) to ring the
agent's seat, then the customer; the call's pushes come back matched to the lead by our
reference."""

from __future__ import annotations

import json
import threading
import urllib.parse
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client

from calls.models import Call, PhoneAccount, Seat
from leads.models import Event, EventKind
from tests.calls.reports import CALLER, HOTLINE
from tests.factories import make_lead
from tests.kit import login


@contextmanager
def serving_fake_clink():
    """Clink's callout API on 127.0.0.1: answers every callout, or refuses when told."""
    seen: list[dict] = []
    state = {"refuse": False}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            seen.append(
                {
                    "path": self.path,
                    "query": dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query)),
                    "body": json.loads(self.rfile.read(length) or b"{}"),
                }
            )
            if state["refuse"]:
                status, answer = 400, {"error": {"code": "InvalidCno", "message": "座席不存在"}}
            else:
                status, answer = 200, {"requestId": "r-1", "result": {}}
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen, state
    finally:
        server.shutdown()


@pytest.fixture
def fake_clink():
    with serving_fake_clink() as served:
        yield served


@pytest.fixture
def clink(team, fake_clink) -> PhoneAccount:
    base, _seen, _state = fake_clink
    account = PhoneAccount.objects.create(
        dealer=team.dealer,
        provider="clink",
        api_url=base,
        credentials={
            "access_key_id": "AK-test",
            "access_key_secret": "secret-for-signing",
            "push_token": "push-token-0123456789",
        },
    )
    Seat.objects.create(account=account, seat="0001", staff=team.dcc_agent)
    return account


def test_the_call_button_rings_the_seat_then_the_customer_and_comes_back_matched(
    team, clink, fake_clink
):
    _base, seen, _state = fake_clink
    lead = make_lead(team.dealer, phone=CALLER, owner=team.dcc_agent)
    agent = login(team.dcc_agent)
    assert 'data-testid="dial"' in agent.get(f"/leads/{lead.pk}/").content.decode()
    answer = agent.post(f"/leads/{lead.pk}/dial/", {"next": "/queue/"})
    assert answer.status_code == 302 and answer["Location"] == "/queue/"
    (request,) = seen
    assert request["path"].startswith("/cc/callout?")
    assert request["query"]["AccessKeyId"] == "AK-test" and request["query"]["Signature"]
    assert (request["body"]["cno"], request["body"]["customerNumber"]) == ("0001", CALLER)
    reference = request["body"]["requestUniqueId"]
    call = Call.objects.get()
    assert (call.reference, call.lead_id, call.agent_id) == (reference, lead.pk, team.dcc_agent.pk)
    # The panel shows the call at once.
    assert agent.get("/calls/panel/", {"shown": "none"}).status_code == 200
    # Clink's call record comes back with our reference and its own id.
    push = {
        "mainUniqueId": "medias_1-1763431200.1",
        "cdrType": "cdr_ob_agent",
        "cno": "0001",
        "customerNumber": CALLER,
        "clid": HOTLINE,
        "startTime": "1763431200",
        "answerTime": "1763431215",
        "endTime": "1763431335",
        "bridgeDuration": "120",
        "status": "33",
        "requestUniqueId": reference,
    }
    pushed = Client().post(
        f"/phone/push/{clink.push_key}/?token=push-token-0123456789",
        json.dumps(push),
        content_type="application/json",
    )
    assert pushed.status_code == 200, pushed.content
    call = Call.objects.get()
    assert (call.call_id, call.lead_id, call.disposition) == (
        "medias_1-1763431200.1",
        lead.pk,
        "answered",
    )
    event = Event.objects.filter(lead=lead, kind=EventKind.CALLED).get()
    assert event.data["call_id"] == "medias_1-1763431200.1"
    assert event.actor_id == team.dcc_agent.pk


def test_a_refused_call_says_why_and_leaves_no_call(team, clink, fake_clink):
    _base, _seen, state = fake_clink
    state["refuse"] = True
    lead = make_lead(team.dealer, phone=CALLER, owner=team.dcc_agent)
    agent = login(team.dcc_agent)
    page = agent.post(f"/leads/{lead.pk}/dial/", follow=True).content.decode()
    assert "did not place the call" in page and "InvalidCno" in page
    assert not Call.objects.exists()


def test_no_seat_no_call_button(team, clink):
    lead = make_lead(team.dealer, phone=CALLER, owner=team.dcc_agent_2)
    colleague = login(team.dcc_agent_2)
    assert 'data-testid="dial"' not in colleague.get(f"/leads/{lead.pk}/").content.decode()
    page = colleague.post(f"/leads/{lead.pk}/dial/", follow=True).content.decode()
    assert "no phone seat" in page
    assert not Call.objects.exists()
