"""The lead page as the people on the line use it: the customer card, stage, grade, owner, SLA
clock, next task and full timeline; only the actions this person may take now, each of
which explains its errors in place and writes nothing when it fails; masked numbers and the
recorded reveal; global search; the lead list; manual entry; flat query counts."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from accounts.models import Staff
from accounts.roles import Role
from dcc.formats import format_money
from leads import actions
from leads.models import CallOutcome, Customer, Event, EventKind, Lead, Task, TaskKind
from leads.stages import Stage
from tests.conftest import Team, grant
from tests.factories import channel, make_lead, member
from tests.kit import login

pytestmark = pytest.mark.django_db

MOBILE = "13812345678"
MASKED = "138****5678"


def post(client: Client, path: str, data: dict | None = None, *, htmx: bool = False):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(path, data or {}, headers=headers)


def act(client: Client, lead: Lead, action: str, data: dict | None = None, *, htmx=False):
    """Submit one action form of the lead page, as the browser does (prefixed fields)."""
    fields = {f"{action}-{name}": value for name, value in (data or {}).items()}
    return post(client, f"/leads/{lead.pk}/act/{action}/", fields, htmx=htmx)


def offered(response) -> set[str]:
    return set(re.findall(r'<details[^>]*data-action="([a-z_]+)"', response.content.decode()))


def action_form(response, action: str):
    for item in response.context["action_forms"]:
        if item["action"] == action:
            return item["form"]
    raise AssertionError(f"{action} is not offered")


def texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def local_input(moment) -> str:
    """How a datetime-local input sends `moment`."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def assert_swapped_in_place(response, client: Client, lead: Lead) -> None:
    """An htmx error answer is the lead body with the errors, and htmx will swap it in place
    of the lead body: by an HX-Retarget header, or by the page's htmx config that swaps this
    status code."""
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="lead-body"')
    assert "<html" not in html
    if "HX-Retarget" in response:
        assert response["HX-Retarget"] == "#lead-body"
        assert response["HX-Reswap"] == "outerHTML"
        return
    full = client.get(f"/leads/{lead.pk}/").content.decode()
    config = re.search(r'<meta name="htmx-config" content=\'([^\']+)\'', full)
    assert config, "neither HX-Retarget nor an htmx-config that swaps error answers"
    status = str(response.status_code)
    swapping = [
        rule
        for rule in json.loads(config.group(1))["responseHandling"]
        if re.fullmatch(rule["code"], status)
    ]
    assert swapping and swapping[0]["swap"] is True, f"htmx does not swap a {status}"


def snapshot(lead: Lead) -> tuple:
    """What an action writes: the lead's row and its ledger."""
    fresh = Lead.objects.get(pk=lead.pk)
    return (
        fresh.stage,
        fresh.owner_id,
        fresh.version,
        fresh.grade,
        fresh.appointment_at,
        fresh.exit_reason,
        Event.objects.filter(lead=lead).count(),
        Task.objects.filter(lead=lead, closed_at__isnull=True).count(),
    )


def timeline(response) -> list[tuple[str, str]]:
    """(kind, rendered text) of each timeline entry, newest first."""
    html = response.content.decode()
    block = html.split('data-testid="timeline">', 1)[1].split("</ol>", 1)[0]
    entries = re.findall(r'<li data-kind="([a-z_]+)">(.*?)</li>', block, flags=re.S)
    return [(kind, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))) for kind, body in entries]


@pytest.fixture
def lead(team: Team) -> Lead:
    """A new lead entered by marketing, owned by the first agent."""
    return make_lead(
        team.dealer,
        by=team.marketing_manager,
        owner=team.dcc_agent,
        phone=MOBILE,
        name="王小明",
        car_model="汉 EV",
    )


def page(staff: Staff, lead: Lead):
    return login(staff).get(f"/leads/{lead.pk}/")


# ---------------------------------------------------------------- the lead page


def test_lead_page_shows_customer_stage_owner_sla_clock_and_next_task(team: Team, lead: Lead):
    response = page(team.dcc_agent, lead)

    assert response.status_code == 200
    html = response.content.decode()
    assert "王小明" in html
    assert f'href="tel:{MOBILE}"' in html
    assert '<span class="badge badge-stage" data-testid="stage">New</span>' in html
    assert f'data-testid="owner">{team.dcc_agent}</dd>' in html
    assert "not graded" in html
    assert "汉 EV" in html
    assert "Autohome" in html
    deadline = re.search(r'class="dcc-countdown" data-deadline="([^"]+)"', html).group(1)
    assert datetime.fromisoformat(deadline) == lead.sla_deadline  # the SLA clock
    assert f"First call · {team.dcc_agent}" in html


def test_lead_page_shows_grade_and_the_follow_up_task_after_a_call(team: Team, lead: Lead):
    actions.log_call(lead=lead, by=team.dcc_agent, outcome=CallOutcome.REACHED, grade="A")

    html = page(team.dcc_agent, lead).content.decode()

    assert 'data-testid="stage">Contacted<' in html
    assert '<span class="badge badge-grade-A">A</span>' in html
    assert "A · within 15 days" in html
    assert f"Follow-up · {team.dcc_agent}" in html
    assert "First call ·" not in html  # done
    assert "on time" in html  # first response within the SLA
    assert "dcc-countdown" not in html  # the SLA clock stopped


def test_timeline_says_who_when_what_from_to_and_note(team: Team, lead: Lead):
    actions.log_call(
        lead=lead,
        by=team.dcc_agent,
        outcome=CallOutcome.REACHED,
        duration_seconds=95,
        note="想周末来看车",
        grade="A",
    )
    actions.hand_off(lead=lead, by=team.dcc_agent, to=team.dcc_agent_2, note="同事跟进")

    entries = timeline(page(team.gm, lead))

    assert [kind for kind, _text in entries] == ["handed_off", "graded", "called", "created"]
    handed, graded, called, created = (text for _kind, text in entries)
    assert "Handed off" in handed
    assert str(team.dcc_agent) in handed  # who
    assert f"{team.dcc_agent} → {team.dcc_agent_2}" in handed  # from → to
    assert "同事跟进" in handed  # note
    assert "— → A" in graded
    assert "Call" in called
    assert "New → Contacted" in called
    assert "Reached the customer, talk time 1:35" in called
    assert "想周末来看车" in called
    assert "Created" in created
    assert str(team.marketing_manager) in created
    assert f"to {team.dcc_agent}" in created
    assert "Autohome · 汉 EV" in created
    when = timezone.localtime(Event.objects.get(lead=lead, seq=1).occurred_at)
    assert when.strftime("%Y") in created  # when


def test_timeline_shows_every_event_including_system_and_reveals(team: Team):
    lead = make_lead(team.dealer, owner=team.dcc_agent)  # system intake: no actor
    actions.reveal_phone(lead=lead, by=team.auditor)

    entries = timeline(page(team.gm, lead))

    assert [kind for kind, _text in entries] == ["phone_revealed", "created"]
    assert str(team.auditor) in entries[0][1]
    assert "system" in entries[1][1]


def test_another_dealers_lead_is_not_found(team: Team, other_team: Team, lead: Lead):
    assert page(other_team.gm, lead).status_code == 404
    assert page(other_team.headquarters, lead).status_code == 404
    assert login(team.gm).get("/leads/999999/").status_code == 404


@pytest.mark.parametrize("role", ["consultant", "owner_ops", "platform_specialist"])
def test_people_outside_the_invite_team_do_not_see_a_new_lead(team: Team, lead, role):
    assert page(team.by_role(Role(role)), lead).status_code == 404


# ---------------------------------------------------------------- actions offered

AGENT_OWNER = {"log_call", "grade", "appoint", "invalidate", "hand_off"}
DCC_SUPERVISOR = {"log_call", "grade", "appoint", "arrive", "invalidate", "hand_off"}
CONSULTANT_OWNER_ARRIVED = {
    "log_call",
    "grade",
    "test_drive",
    "quote",
    "order",
    "request_defeat",
    "hand_off",
}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("dcc_agent", AGENT_OWNER),
        ("dcc_supervisor", DCC_SUPERVISOR),
        ("dcc_agent_2", set()),
        ("headquarters", set()),
        ("auditor", set()),
        ("marketing_manager", set()),
    ],
)
def test_actions_offered_on_a_new_lead(team: Team, lead: Lead, role: str, expected: set):
    response = page(getattr(team, role), lead)
    assert response.status_code == 200
    assert offered(response) == expected
    if not expected:
        assert "No actions are open to you on this lead." in response.content.decode()


def test_actions_offered_to_the_consultant_who_owns_an_arrived_lead(team: Team):
    lead = actions.check_in_visitor(dealer=team.dealer, phone=MOBILE, by=team.consultant)

    assert offered(page(team.consultant, lead)) == CONSULTANT_OWNER_ARRIVED
    assert offered(page(team.auditor, lead)) == set()
    assert offered(page(team.headquarters, lead)) == set()
    assert page(team.dcc_agent, lead).status_code == 404  # past the invite stages


def test_pending_defeat_offers_approval_to_a_supervisor_and_nothing_new_to_the_owner(
    team: Team, lead: Lead
):
    actions.log_call(lead=lead, by=team.dcc_agent, outcome=CallOutcome.REACHED)
    actions.request_defeat(lead=lead, by=team.dcc_agent, reason="price")

    assert offered(page(team.dcc_agent, lead)) == {"log_call", "hand_off"}
    assert {"approve_defeat", "reject_defeat"} <= offered(page(team.dcc_supervisor, lead))


def test_after_handing_a_lead_on_the_agent_can_read_it_but_not_act(team: Team, lead: Lead):
    actions.hand_off(lead=lead, by=team.dcc_agent, to=team.dcc_agent_2)

    response = page(team.dcc_agent, lead)
    assert response.status_code == 200
    assert offered(response) == set()
    assert offered(page(team.dcc_agent_2, lead)) == AGENT_OWNER


def valid_input(team: Team, action: str) -> dict:
    return {
        "log_call": {"outcome": "reached", "duration_seconds": 10},
        "grade": {"grade": "H"},
        "appoint": {"appointment_at": local_input(timezone.now() + timedelta(days=1))},
        "arrive": {},
        "invalidate": {"reason": "wrong_number"},
        "hand_off": {"to": team.dcc_agent_2.pk},
    }[action]


@pytest.mark.parametrize("role", ["dcc_agent", "dcc_supervisor"])
def test_every_offered_action_can_be_done_by_the_person_offered_it(team: Team, role: str):
    """What the page offers is what the person may do: each offered action, submitted with
    valid input on a fresh lead, succeeds."""
    staff = getattr(team, role)
    client = login(staff)
    sample = make_lead(team.dealer, owner=team.dcc_agent)
    for action in sorted(offered(client.get(f"/leads/{sample.pk}/"))):
        fresh = make_lead(team.dealer, owner=team.dcc_agent)
        data = {**valid_input(team, action), "version": fresh.version}
        response = act(client, fresh, action, data)
        assert response.status_code == 302, (action, response.status_code)
        assert Event.objects.filter(lead=fresh).count() > 1, action


# ---------------------------------------------------------------- action errors in place


def test_invalid_without_reason_explains_on_the_reason_field_and_writes_nothing(
    team: Team, lead: Lead
):
    before = snapshot(lead)

    client = login(team.dcc_agent)
    response = act(client, lead, "invalidate", {"reason": ""}, htmx=True)

    assert response.status_code == 422
    html = response.content.decode()
    assert action_form(response, "invalidate").errors["reason"] == ["This field is required."]
    assert re.search(r'<details open data-action="invalidate">', html)
    assert "This field is required." in html
    assert snapshot(lead) == before
    assert_swapped_in_place(response, client, lead)


def test_invalid_with_a_reason_that_is_not_the_dealers_is_refused(team: Team, lead: Lead):
    before = snapshot(lead)
    response = act(login(team.dcc_agent), lead, "invalidate", {"reason": "made_up"})
    assert response.status_code == 422
    assert action_form(response, "invalidate").errors["reason"]
    assert snapshot(lead) == before


def test_invalid_with_a_reason_closes_the_lead(team: Team, lead: Lead):
    client = login(team.dcc_agent)
    response = act(client, lead, "invalidate", {"reason": "wrong_number", "note": "空号"})

    assert response.status_code == 302
    assert response["Location"] == f"/leads/{lead.pk}/"
    lead.refresh_from_db()
    assert lead.stage == Stage.INVALID
    event = Event.objects.get(lead=lead, kind=EventKind.INVALIDATED)
    assert (event.actor, event.reason, event.note) == (team.dcc_agent, "wrong_number", "空号")
    assert "Mark invalid: done." in texts(response)


def test_appointment_without_time_is_explained_on_its_field(team: Team, lead: Lead):
    before = snapshot(lead)

    response = act(login(team.dcc_agent), lead, "appoint", {"appointment_at": ""}, htmx=True)

    assert response.status_code == 422
    assert action_form(response, "appoint").errors["appointment_at"] == ["This field is required."]
    assert snapshot(lead) == before


def test_appointment_in_the_past_is_explained_on_its_field(team: Team, lead: Lead):
    before = snapshot(lead)
    yesterday = local_input(timezone.now() - timedelta(days=1))

    response = act(login(team.dcc_agent), lead, "appoint", {"appointment_at": yesterday})

    assert response.status_code == 422
    assert action_form(response, "appoint").errors["appointment_at"] == [
        "The appointment time is in the past."
    ]
    assert "<html" in response.content.decode()  # a full page without htmx
    assert snapshot(lead) == before


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("appointment_at", "9999-12-31T10:00", "The appointment is more than 180 days ahead"),
        ("next_follow_up_at", "2019-05-01T10:00", "The next follow-up is in the past."),
        ("next_follow_up_at", "9999-12-31T10:00", "The next follow-up is more than 180 days"),
    ],
)
def test_a_call_with_a_date_out_of_limits_is_refused_whole(
    team: Team, lead: Lead, field, value, message
):
    before = snapshot(lead)

    response = act(
        login(team.dcc_agent),
        lead,
        "log_call",
        {"outcome": "reached", "duration_seconds": "60", field: value},
        htmx=True,
    )

    assert response.status_code == 422
    [error] = action_form(response, "log_call").errors[field]
    assert error.startswith(message)
    assert snapshot(lead) == before  # not even the call


def test_appointment_booked(team: Team, lead: Lead):
    when = timezone.now() + timedelta(days=2)

    response = act(
        login(team.dcc_agent), lead, "appoint", {"appointment_at": local_input(when)}, htmx=True
    )

    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<div id="lead-body"')
    lead.refresh_from_db()
    assert lead.stage == Stage.APPOINTED
    assert local_input(lead.appointment_at) == local_input(when)
    assert 'data-testid="stage">Appointed<' in response.content.decode()


def test_stale_version_on_hand_off_is_explained_and_nothing_moves(team: Team, lead: Lead):
    seen = lead.version
    client = login(team.dcc_agent)
    actions.set_grade(lead=lead, by=team.dcc_supervisor, grade="B")  # someone else, meanwhile
    before = snapshot(lead)

    response = act(
        client, lead, "hand_off", {"to": team.dcc_agent_2.pk, "version": seen}, htmx=True
    )

    assert response.status_code == 409
    assert_swapped_in_place(response, client, lead)
    form = action_form(response, "hand_off")
    assert form.non_field_errors() == [
        "Someone else changed this lead a moment ago; reload and try again."
    ]
    assert "Someone else changed this lead a moment ago" in response.content.decode()
    assert snapshot(lead) == before


def test_hand_off_with_current_version_moves_the_lead_and_its_tasks(team: Team, lead: Lead):
    response = act(
        login(team.dcc_agent),
        lead,
        "hand_off",
        {"to": team.dcc_agent_2.pk, "version": lead.version, "note": "请跟进"},
    )

    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.owner == team.dcc_agent_2
    event = Event.objects.get(lead=lead, kind=EventKind.HANDED_OFF)
    assert (event.actor, event.from_owner, event.to_owner, event.note) == (
        team.dcc_agent,
        team.dcc_agent,
        team.dcc_agent_2,
        "请跟进",
    )
    assert Task.objects.get(lead=lead, kind=TaskKind.FIRST_CALL).assignee == team.dcc_agent_2


def test_hand_off_without_person_or_team_is_explained(team: Team, lead: Lead):
    before = snapshot(lead)
    response = act(login(team.dcc_agent), lead, "hand_off", {"version": lead.version})
    assert response.status_code == 422
    assert action_form(response, "hand_off").non_field_errors() == ["Choose a person or a team."]
    assert snapshot(lead) == before


@pytest.mark.parametrize("role", ["auditor", "headquarters", "marketing_manager"])
def test_hand_off_to_someone_who_cannot_take_leads_is_explained(team: Team, lead: Lead, role):
    before = snapshot(lead)
    target = team.by_role(Role(role))
    response = act(
        login(team.dcc_agent), lead, "hand_off", {"to": target.pk, "version": lead.version}
    )
    assert response.status_code == 422
    assert action_form(response, "hand_off").errors["to"]
    assert snapshot(lead) == before


CAN_TAKE_LEADS = [
    "dcc_agent_2",
    "dcc_supervisor",
    "consultant",
    "consultant_2",
    "showroom_manager",
    "owner_ops",
    "sales_manager",
    "gm",
]


def test_the_hand_off_list_offers_only_people_who_can_take_leads_with_their_roles(
    team: Team, lead: Lead
):
    member(team.dealer, Role.CONSULTANT, is_active=False)  # left the dealer
    response = login(team.dcc_agent).get(f"/leads/{lead.pk}/")
    field = action_form(response, "hand_off").fields["to"]

    assert set(field.queryset) == {getattr(team, name) for name in CAN_TAKE_LEADS}
    labels = dict((choice.value, label) for choice, label in field.choices if choice)
    assert labels[team.consultant.pk] == f"{team.consultant} · Sales consultant"
    assert labels[team.owner_ops.pk] == f"{team.owner_ops} · Owner-operations specialist"
    html = response.content.decode()
    for refused in ("auditor", "headquarters", "marketing_manager", "platform_specialist"):
        assert f'value="{getattr(team, refused).pk}"' not in html.split('data-action="hand_off"')[1]
    # And everyone offered is accepted.
    client = login(team.dcc_supervisor)
    for name in CAN_TAKE_LEADS:
        lead.refresh_from_db()
        if lead.owner == getattr(team, name):
            continue
        response = act(
            client, lead, "hand_off", {"to": getattr(team, name).pk, "version": lead.version}
        )
        assert response.status_code == 302, name


@pytest.mark.parametrize("role", ["dcc_agent_2", "auditor", "headquarters"])
def test_permission_refusal_writes_nothing(team: Team, lead: Lead, role: str):
    before = snapshot(lead)
    response = act(
        login(getattr(team, role)),
        lead,
        "log_call",
        {"outcome": "reached", "duration_seconds": 30},
        htmx=True,
    )
    assert response.status_code in (403, 409)
    assert snapshot(lead) == before


@pytest.mark.parametrize("role", ["dcc_agent_2", "auditor", "headquarters"])
def test_permission_refusal_is_explained_in_place(team: Team, lead: Lead, role: str):
    client = login(getattr(team, role))
    response = act(
        client, lead, "log_call", {"outcome": "reached", "duration_seconds": 30}, htmx=True
    )
    assert response.status_code in (403, 409)
    assert "You may not “Log call” on this lead." in response.content.decode()
    assert_swapped_in_place(response, client, lead)


def test_acting_on_a_lead_handed_on_meanwhile_is_explained(team: Team, lead: Lead):
    """The agent's page still offers grading; meanwhile the supervisor moved the lead."""
    client = login(team.dcc_agent)
    assert "grade" in offered(client.get(f"/leads/{lead.pk}/"))
    actions.hand_off(lead=lead, by=team.dcc_supervisor, to=team.dcc_agent_2)
    before = snapshot(lead)

    response = act(client, lead, "grade", {"grade": "H"}, htmx=True)

    assert response.status_code in (403, 409)
    assert snapshot(lead) == before
    assert "You may not “Grade” on this lead." in response.content.decode()


def test_an_action_not_possible_in_this_stage_writes_nothing(team: Team, lead: Lead):
    before = snapshot(lead)
    response = act(login(team.dcc_agent), lead, "request_defeat", {"reason": "price"})
    assert response.status_code == 409
    assert snapshot(lead) == before


def test_an_action_not_possible_in_this_stage_is_explained(team: Team, lead: Lead):
    response = act(login(team.dcc_agent), lead, "request_defeat", {"reason": "price"})
    assert response.status_code == 409
    assert "“Request defeat” is not possible while the lead is New." in (response.content.decode())


def test_log_call_with_negative_talk_time_is_refused_on_its_field(team: Team, lead: Lead):
    before = snapshot(lead)
    response = act(
        login(team.dcc_agent), lead, "log_call", {"outcome": "reached", "duration_seconds": -5}
    )
    assert response.status_code == 422
    assert action_form(response, "log_call").errors["duration_seconds"]
    assert snapshot(lead) == before


def test_log_call_from_the_page_records_the_call(team: Team, lead: Lead):
    response = act(
        login(team.dcc_agent),
        lead,
        "log_call",
        {"outcome": "reached", "duration_seconds": 61, "grade": "H", "note": "很急"},
        htmx=True,
    )
    assert response.status_code == 200
    lead.refresh_from_db()
    assert (lead.stage, lead.grade) == (Stage.CONTACTED, "H")
    call = Event.objects.get(lead=lead, kind=EventKind.CALLED)
    assert call.data["duration_seconds"] == 61
    assert call.note == "很急"


def test_unknown_action_is_not_found_and_get_is_not_allowed(team: Team, lead: Lead):
    client = login(team.dcc_agent)
    assert post(client, f"/leads/{lead.pk}/act/explode/").status_code == 404
    assert client.get(f"/leads/{lead.pk}/act/grade/").status_code == 405


def test_another_dealers_person_cannot_act(team: Team, other_team: Team, lead: Lead):
    before = snapshot(lead)
    response = act(login(other_team.dcc_supervisor), lead, "grade", {"grade": "H"})
    assert response.status_code == 404
    assert snapshot(lead) == before


# ---------------------------------------------------------------- phone numbers

FULL_NUMBER_ROLES = [
    "dcc_agent",  # the owner
    "gm",
    "sales_manager",
    "marketing_manager",
    "showroom_manager",
    "dcc_supervisor",
]
MASKED_ROLES = ["dcc_agent_2", "auditor", "headquarters"]


@pytest.mark.parametrize("role", FULL_NUMBER_ROLES)
def test_owner_and_managers_see_the_whole_number(team: Team, lead: Lead, role: str):
    html = page(getattr(team, role), lead).content.decode()
    assert f'href="tel:{MOBILE}"' in html
    assert "/reveal-phone/" not in html


@pytest.mark.parametrize("role", MASKED_ROLES)
def test_everyone_else_sees_the_number_masked(team: Team, lead: Lead, role: str):
    html = page(getattr(team, role), lead).content.decode()
    assert MASKED in html
    assert MOBILE not in html
    # Headquarters reads; it does not call customers, so it gets no reveal button.
    assert (f'hx-post="/leads/{lead.pk}/reveal-phone/"' in html) is (role != "headquarters")


def test_the_previous_owner_sees_the_number_masked(team: Team, lead: Lead):
    actions.hand_off(lead=lead, by=team.dcc_agent, to=team.dcc_agent_2)
    html = page(team.dcc_agent, lead).content.decode()
    assert MASKED in html
    assert MOBILE not in html


def test_revealing_is_an_explicit_recorded_post(team: Team, lead: Lead):
    client = login(team.dcc_agent_2)
    assert client.get(f"/leads/{lead.pk}/reveal-phone/").status_code == 405
    assert not Event.objects.filter(lead=lead, kind=EventKind.PHONE_REVEALED).exists()

    response = post(client, f"/leads/{lead.pk}/reveal-phone/", htmx=True)

    assert response.status_code == 200
    assert f'href="tel:{MOBILE}"' in response.content.decode()
    reveal = Event.objects.get(lead=lead, kind=EventKind.PHONE_REVEALED)
    assert reveal.actor == team.dcc_agent_2
    # A single look: the page is still masked afterwards.
    html = client.get(f"/leads/{lead.pk}/").content.decode()
    assert MOBILE not in html.split('data-testid="timeline"')[0]


def test_reveal_without_htmx_shows_the_number_once_and_records_it(team: Team, lead: Lead):
    client = login(team.auditor)
    response = post(client, f"/leads/{lead.pk}/reveal-phone/")
    assert response.status_code == 302
    assert f"Full number: {MOBILE}" in texts(response)
    assert Event.objects.filter(lead=lead, kind=EventKind.PHONE_REVEALED, actor=team.auditor)


def test_headquarters_reveal_is_either_recorded_or_cleanly_refused(team: Team, lead: Lead):
    """docs/permissions.md lets headquarters reveal (recorded); if the rule becomes a refusal,
    the answer is a 403 with nothing recorded and the page offers no Reveal button."""
    client = login(team.headquarters)
    response = post(client, f"/leads/{lead.pk}/reveal-phone/", htmx=True)
    revealed = Event.objects.filter(lead=lead, kind=EventKind.PHONE_REVEALED)
    if response.status_code == 200:
        assert MOBILE in response.content.decode()
        assert revealed.get().actor == team.headquarters
    else:
        assert response.status_code == 403
        assert not revealed.exists()
        assert "/reveal-phone/" not in client.get(f"/leads/{lead.pk}/").content.decode()


def test_reveal_of_another_dealers_lead_is_not_found(team, other_team: Team, lead: Lead):
    response = post(login(other_team.gm), f"/leads/{lead.pk}/reveal-phone/")
    assert response.status_code == 404
    assert not Event.objects.filter(lead=lead, kind=EventKind.PHONE_REVEALED).exists()


def test_lead_list_masks_others_numbers(team: Team, lead: Lead):
    make_lead(team.dealer, owner=team.dcc_agent_2, phone="13900001111")

    html = login(team.dcc_agent_2).get("/leads/").content.decode()
    assert MASKED in html and MOBILE not in html
    assert "13900001111" in html  # their own

    gm = login(team.gm).get("/leads/").content.decode()
    assert MOBILE in gm and "13900001111" in gm

    auditor = login(team.auditor).get("/leads/").content.decode()
    assert MOBILE not in auditor and "139****1111" in auditor


def test_search_results_mask_others_numbers(team: Team, lead: Lead):
    make_lead(team.dealer, owner=team.dcc_agent_2, phone="13900005678", name="王小明")

    response = login(team.dcc_agent_2).get("/search/", {"q": "王小明"})

    html = response.content.decode()
    assert response.status_code == 200
    assert MASKED in html and MOBILE not in html
    assert "13900005678" in html


# ---------------------------------------------------------------- the lead list


@pytest.mark.parametrize("role", ["consultant", "owner_ops", "platform_specialist"])
def test_lead_list_is_refused_to_people_who_may_not_export_customers(team: Team, role: str):
    assert login(team.by_role(Role(role))).get("/leads/").status_code == 403


@pytest.mark.parametrize(
    "role", ["gm", "sales_manager", "marketing_manager", "auditor", "headquarters", "dcc_agent"]
)
def test_lead_list_opens_for_managers_hq_and_the_dcc_team(team: Team, role: str):
    assert login(team.by_role(Role(role))).get("/leads/").status_code == 200


def test_lead_list_shows_only_what_the_person_may_see_at_this_dealer(
    team: Team, other_team: Team, lead: Lead
):
    arrived = actions.check_in_visitor(dealer=team.dealer, phone="13900002222", by=team.consultant)
    foreign = make_lead(other_team.dealer)

    agent = login(team.dcc_agent).get("/leads/").content.decode()
    gm = login(team.gm).get("/leads/").content.decode()

    assert f"/leads/{lead.pk}/" in agent and f"/leads/{arrived.pk}/" not in agent
    assert f"/leads/{lead.pk}/" in gm and f"/leads/{arrived.pk}/" in gm
    assert f"/leads/{foreign.pk}/" not in agent + gm


def test_lead_list_filters_by_stage_and_grade(team: Team, lead: Lead):
    graded = make_lead(team.dealer, owner=team.dcc_agent)
    actions.set_grade(lead=graded, by=team.dcc_agent, grade="H")
    actions.log_call(lead=graded, by=team.dcc_agent, outcome=CallOutcome.REACHED)
    client = login(team.gm)

    contacted = client.get("/leads/", {"stage": "contacted"}).content.decode()
    hot = client.get("/leads/", {"grade": "H"}).content.decode()
    new = client.get("/leads/", {"stage": "new"}).content.decode()

    assert f"/leads/{graded.pk}/" in contacted and f"/leads/{lead.pk}/" not in contacted
    assert f"/leads/{graded.pk}/" in hot and f"/leads/{lead.pk}/" not in hot
    assert f"/leads/{lead.pk}/" in new and f"/leads/{graded.pk}/" not in new
    assert client.get("/leads/", {"stage": "nonsense", "page": "x"}).status_code == 422


# ---------------------------------------------------------------- search


@pytest.mark.parametrize(
    "query",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "+8613812345678",
        "0086 138 1234 5678",
        "１３８１２３４５６７８",
        " 13812345678 ",
        "(+86) 138-1234-5678",
        "138.1234.5678",
    ],
)
def test_search_by_the_whole_number_in_any_spelling(team: Team, lead: Lead, query: str):
    response = login(team.dcc_agent).get("/search/", {"q": query})
    assert response.status_code == 302
    assert response["Location"] == f"/leads/{lead.pk}/"


@pytest.mark.parametrize("query", ["5678", "王小明", "小明", "wxm", "WXM", "wx"])
def test_search_by_last_four_digits_name_or_pinyin_initials(team: Team, lead: Lead, query):
    make_lead(team.dealer, owner=team.dcc_agent, phone="13900001111", name="李雷")
    response = login(team.dcc_agent).get("/search/", {"q": query})
    assert response.status_code == 302
    assert response["Location"] == f"/leads/{lead.pk}/"


def test_search_lists_several_matches(team: Team, lead: Lead):
    other = make_lead(team.dealer, owner=team.dcc_agent, phone="13900005678", name="吴晓梅")

    response = login(team.dcc_agent).get("/search/", {"q": "5678"})

    assert response.status_code == 200
    html = response.content.decode()
    assert f"/leads/{lead.pk}/" in html and f"/leads/{other.pk}/" in html
    # Pinyin initials match both 王小明 and 吴晓梅 (wxm).
    both = login(team.dcc_agent).get("/search/", {"q": "wxm"}).content.decode()
    assert f"/leads/{lead.pk}/" in both and f"/leads/{other.pk}/" in both


@pytest.mark.parametrize("query", ["", "   ", "0000", "赵"])
def test_search_without_matches_says_so(team: Team, lead: Lead, query: str):
    response = login(team.dcc_agent).get("/search/", {"q": query})
    assert response.status_code == 200
    assert "No leads found." in response.content.decode()


def test_search_only_finds_what_the_person_may_see(team: Team):
    arrived = actions.check_in_visitor(
        dealer=team.dealer, phone=MOBILE, by=team.consultant, name="王小明"
    )
    agents = make_lead(team.dealer, owner=team.dcc_agent, phone="13900001111", name="李雷")

    for query in (MOBILE, "5678", "王小明", "wxm"):
        response = login(team.dcc_agent).get("/search/", {"q": query})
        assert response.status_code == 200, query
        assert f"/leads/{arrived.pk}/" not in response.content.decode()
    response = login(team.consultant_2).get("/search/", {"q": "13900001111"})
    assert response.status_code == 200
    assert f"/leads/{agents.pk}/" not in response.content.decode()
    assert login(team.consultant).get("/search/", {"q": "5678"})["Location"] == (
        f"/leads/{arrived.pk}/"
    )


def test_search_never_finds_another_dealers_customer(team: Team, other_team: Team, lead: Lead):
    theirs = make_lead(other_team.dealer, phone=MOBILE, name="王小明")
    only_theirs = make_lead(other_team.dealer, phone="13700009999", name="张三")

    for query in (MOBILE, "5678", "王小明", "wxm"):
        response = login(team.gm).get("/search/", {"q": query})
        assert response["Location"] == f"/leads/{lead.pk}/", query
    for query in ("13700009999", "9999", "张三", "zs"):
        html = login(team.gm).get("/search/", {"q": query}).content.decode()
        assert f"/leads/{only_theirs.pk}/" not in html, query
        assert f"/leads/{theirs.pk}/" not in html, query


def test_search_is_scoped_to_the_current_dealer_for_a_person_with_two(
    team: Team, other_team: Team, lead: Lead
):
    grant(team.headquarters, other_team.dealer, Role.HEADQUARTERS)
    theirs = make_lead(other_team.dealer, phone="13700009999", name="张三")
    client = login(team.headquarters)
    client.post("/dealer/", {"dealer": team.dealer.pk})

    html = client.get("/search/", {"q": "13700009999"}).content.decode()
    assert f"/leads/{theirs.pk}/" not in html

    client.post("/dealer/", {"dealer": other_team.dealer.pk})
    assert client.get("/search/", {"q": "13700009999"})["Location"] == f"/leads/{theirs.pk}/"
    assert f"/leads/{lead.pk}/" not in client.get("/search/", {"q": MOBILE}).content.decode()


# ---------------------------------------------------------------- manual entry


def entry(team: Team, **fields) -> dict:
    data = {"mobile": "13955556666", "name": "陈静", "channel": channel(team.dealer).pk}
    data.update(fields)
    return data


def test_new_number_creates_a_lead_and_names_its_owner(team: Team):
    client = login(team.marketing_manager)
    assert client.get("/leads/new/").status_code == 200

    response = client.post("/leads/new/", entry(team, car_model="宋 PLUS"))

    created = Lead.objects.get(customer__phone="13955556666")
    assert response.status_code == 302
    assert response["Location"] == f"/leads/{created.pk}/"
    assert created.created_by == team.marketing_manager
    assert created.car_model == "宋 PLUS"
    assert created.owner in (team.dcc_agent, team.dcc_agent_2)
    assert texts(response) == [f"Lead created and assigned to {created.owner}."]


def test_platform_specialist_is_taken_to_the_lead_they_entered(team: Team):
    response = login(team.platform_specialist).post("/leads/new/", entry(team))
    created = Lead.objects.get(customer__phone="13955556666")
    assert response["Location"] == f"/leads/{created.pk}/"
    assert login(team.platform_specialist).get(response["Location"]).status_code == 200


@pytest.mark.parametrize(
    "spelling", ["13812345678", "+86 138-1234-5678", "１３８ １２３４ ５６７８"]
)
def test_number_with_an_open_lead_is_a_touch_not_a_new_lead(team: Team, lead, spelling):
    leads_before = Lead.objects.count()

    response = login(team.marketing_manager).post("/leads/new/", entry(team, mobile=spelling))

    assert response.status_code == 302
    assert Lead.objects.count() == leads_before
    lead.refresh_from_db()
    assert lead.touch_count == 1
    assert Event.objects.filter(lead=lead, kind=EventKind.TOUCHED).count() == 1
    assert texts(response) == [
        "This number already has an open lead: recorded as a touch on the lead owned by "
        f"{team.dcc_agent}."
    ]


def test_a_touch_by_someone_who_cannot_see_the_lead_stays_on_the_entry_page(team, lead):
    response = login(team.consultant).post("/leads/new/", entry(team, mobile=MOBILE))
    assert response.status_code == 302
    assert response["Location"] == "/leads/new/"
    assert "recorded as a touch on the lead owned by" in texts(response)[0]
    assert Lead.objects.count() == 1


@pytest.mark.parametrize(
    ("mobile", "message"),
    [
        ("1381234", "A mobile number has 11 digits, but 7 digits were given."),
        ("138abc45678", "A phone number can't contain letters, but this one has “a”."),
        ("", "This field is required."),
    ],
)
def test_bad_number_is_explained_on_the_mobile_field(team: Team, mobile: str, message: str):
    response = login(team.marketing_manager).post("/leads/new/", entry(team, mobile=mobile))

    assert response.status_code == 422
    assert response.context["form"].errors["mobile"] == [message]
    assert Lead.objects.count() == 0
    assert Customer.objects.count() == 0


def test_entry_without_channel_is_explained(team: Team):
    response = login(team.marketing_manager).post("/leads/new/", entry(team, channel=""))
    assert response.status_code == 422
    assert response.context["form"].errors["channel"]
    assert Lead.objects.count() == 0


def test_entry_with_another_dealers_channel_is_refused(team: Team, other_team: Team):
    foreign = channel(other_team.dealer).pk
    response = login(team.marketing_manager).post("/leads/new/", entry(team, channel=foreign))
    assert response.status_code == 422
    assert Lead.objects.count() == 0


@pytest.mark.parametrize("role", ["auditor", "owner_ops", "headquarters"])
def test_people_who_may_not_enter_leads_are_refused(team: Team, role: str):
    client = login(team.by_role(Role(role)))
    assert client.get("/leads/new/").status_code == 403
    assert client.post("/leads/new/", entry(team)).status_code == 403
    assert Lead.objects.count() == 0


# ---------------------------------------------------------------- a DCC supervisor's actions


def test_a_dcc_supervisor_who_checks_in_an_arrival_is_not_sent_to_a_404(team: Team, lead: Lead):
    """The supervisor may record the arrival; afterwards the lead is past the invite stages
    and out of their sight, yet the action succeeded and should say so."""
    response = login(team.dcc_supervisor).post(
        f"/leads/{lead.pk}/act/arrive/", {"arrive-note": ""}, follow=True
    )
    assert Lead.objects.get(pk=lead.pk).stage == Stage.ARRIVED
    assert response.status_code == 200
    assert "Check in arrival: done." in texts(response)


# ---------------------------------------------------------------- query counts


def count_queries(client: Client, path: str, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, params)
    assert response.status_code in (200, 302)
    return len(queries)


def test_lead_page_queries_do_not_grow_with_the_timeline(team: Team, lead: Lead):
    actions.log_call(lead=lead, by=team.dcc_agent, outcome=CallOutcome.NO_ANSWER)
    actions.hand_off(lead=lead, by=team.dcc_agent, to=team.dcc_agent_2)
    assert Event.objects.filter(lead=lead).count() == 3
    client = login(team.gm)
    client.get(f"/leads/{lead.pk}/")
    small = count_queries(client, f"/leads/{lead.pk}/")

    owner = team.dcc_agent_2
    for turn in range(6):
        actions.log_call(lead=lead, by=owner, outcome=CallOutcome.BUSY, note=f"#{turn}")
        actions.reveal_phone(lead=lead, by=team.auditor)
    actions.set_grade(lead=lead, by=owner, grade="B")
    assert Event.objects.filter(lead=lead).count() == 16
    large = count_queries(client, f"/leads/{lead.pk}/")

    assert large == small


def test_lead_list_queries_do_not_grow_with_the_leads(team: Team):
    client = login(team.dcc_agent)
    owners = [team.dcc_agent, team.dcc_agent_2, team.dcc_supervisor]
    for i in range(3):
        make_lead(team.dealer, owner=owners[i % 3], name="张伟")
    client.get("/leads/")
    small = count_queries(client, "/leads/")
    for i in range(27):
        make_lead(team.dealer, owner=owners[i % 3], name="张伟")
    large = count_queries(client, "/leads/")
    assert large == small


def test_search_queries_do_not_grow_with_the_matches(team: Team):
    client = login(team.dcc_agent)
    owners = [team.dcc_agent, team.dcc_agent_2, team.dcc_supervisor]
    for i in range(3):
        make_lead(team.dealer, owner=owners[i % 3], name="张伟")
    client.get("/search/", {"q": "zw"})
    small = count_queries(client, "/search/", q="zw")
    for i in range(27):
        make_lead(team.dealer, owner=owners[i % 3], name="张伟")
    large = count_queries(client, "/search/", q="zw")
    assert large == small


# ---------------------------------------------------------------- the card: appointment, money


def test_the_appointment_shows_on_the_card_only_until_the_customer_arrives(team: Team, lead: Lead):
    visit = timezone.now() + timedelta(days=2)
    lead = actions.log_call(lead=lead, by=team.dcc_agent, outcome="reached")
    lead = actions.book_appointment(lead=lead, by=team.dcc_agent, appointment_at=visit)
    manager = login(team.showroom_manager)
    card = manager.get(f"/leads/{lead.pk}/").content.decode()
    assert 'data-testid="appointment"' in card

    lead = actions.record_arrival(lead=lead, by=team.showroom_manager)
    assert 'data-testid="appointment"' not in manager.get(f"/leads/{lead.pk}/").content.decode()
    lead = actions.record_order(lead=lead, by=team.showroom_manager)
    lead = actions.record_delivery(lead=lead, by=team.showroom_manager)
    page = manager.get(f"/leads/{lead.pk}/").content.decode()
    assert 'data-testid="appointment"' not in page
    assert "visit at" in page  # still in the timeline


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_prices_read_the_same_way_everywhere(team: Team, lead: Lead, language: str):
    lead = actions.log_call(lead=lead, by=team.dcc_agent, outcome="reached")
    lead = actions.record_arrival(lead=lead, by=team.showroom_manager)
    lead = actions.record_quote(lead=lead, by=team.showroom_manager, amount=Decimal("185000"))
    lead = actions.record_order(lead=lead, by=team.showroom_manager, amount=Decimal("1000.5"))
    client = login(team.gm)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language

    timeline = client.get(f"/leads/{lead.pk}/").content.decode()
    channels = client.get("/settings/channels/").content.decode()

    assert re.search(r"¥185,000\b(?![.,]\d)", timeline)
    assert "¥1,000.50" in timeline
    assert "¥185000" not in timeline and "185,000.00" not in timeline
    assert "¥30,000<" in channels  # autohome's monthly spend


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("185000"), "¥185,000"),
        (Decimal("1000.00"), "¥1,000"),
        (Decimal("23.805"), "¥23.81"),
        (1234567.5, "¥1,234,567.50"),
        (0, "¥0"),
        (None, "—"),
    ],
)
def test_one_money_format(value, shown, language):
    with translation.override(language):
        assert format_money(value) == shown
