"""The call panel (screen pop) as the agent's browser polls it."""

from __future__ import annotations

import pytest

from calls import actions
from calls.models import Seat
from leads.models import Lead
from tests.calls.reports import CALLER, answered, ringing
from tests.factories import make_lead
from tests.kit import login


@pytest.fixture
def agent(team, account):
    return login(team.dcc_agent)


def test_only_people_at_a_seat_get_the_panel_on_their_pages(team, account):
    assert b'id="call-panel"' in login(team.dcc_agent).get("/queue/").content
    assert b'id="call-panel"' not in login(team.consultant).get("/showroom/").content


def test_a_ringing_call_pops_the_customer_once_and_then_stays_put(team, account, agent):
    assert agent.get("/calls/panel/", {"shown": "none"}).status_code == 204
    lead = make_lead(team.dealer, phone=CALLER, name="王女士", car_model="瑶光")
    call = actions.receive(account, ringing("R1"))
    page = agent.get("/calls/panel/", {"shown": "none"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "王女士" in html and "瑶光" in html and f"/leads/{lead.pk}/" in html
    assert "Ringing" in html
    assert "Thank you for calling" in html  # the inbound script for a new lead
    assert agent.get("/calls/panel/", {"shown": str(call.pk)}).status_code == 204
    # Another agent's seat shows nothing of it.
    assert login(team.dcc_agent_2).get("/calls/panel/", {"shown": "none"}).status_code == 204


def test_the_status_follows_the_call_and_stops_polling_when_it_ends(team, account, agent):
    call = actions.receive(account, ringing("R2"))
    assert "hx-trigger" in agent.get(f"/calls/{call.pk}/status/").content.decode()
    actions.receive(account, answered("R2"))
    ended = agent.get(f"/calls/{call.pk}/status/").content.decode()
    assert "Ended" in ended and "hx-trigger" not in ended
    assert login(team.dcc_agent_2).get(f"/calls/{call.pk}/status/").status_code == 404


def test_an_unknown_caller_is_captured_from_the_panel(team, account, agent):
    call = actions.receive(account, ringing("U2"))
    html = agent.get("/calls/panel/", {"shown": "none"}).content.decode()
    assert "Unknown caller" in html and "Create the lead" in html
    refused = agent.post(f"/calls/{call.pk}/capture/", {"capture-name": ""})
    assert refused.status_code == 422
    assert not Lead.objects.exists()
    done = agent.post(
        f"/calls/{call.pk}/capture/", {"capture-name": "赵先生", "capture-grade": "H"}
    )
    assert done.status_code == 200
    lead = Lead.objects.get()
    assert (lead.customer.name, lead.grade, lead.owner_id) == ("赵先生", "H", team.dcc_agent.pk)
    assert "Details captured" in done.content.decode()


def test_a_dismissed_call_leaves_the_panel_until_the_next_one(team, account, agent):
    first = actions.receive(account, answered("D1"))
    agent.post(f"/calls/{first.pk}/dismiss/")
    assert agent.get("/calls/panel/", {"shown": "none"}).status_code == 204
    actions.receive(account, ringing("D2", start=first.ended_at))
    assert agent.get("/calls/panel/", {"shown": "none"}).status_code == 200


def test_a_seat_at_another_dealer_gives_no_panel_here(team, other_team, account):
    Seat.objects.filter(staff=team.dcc_agent).delete()
    assert b'id="call-panel"' not in login(team.dcc_agent).get("/queue/").content
