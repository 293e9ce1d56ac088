"""The permission matrix (docs/permissions.md), checked through the API.

One table, MATRIX, says for every endpoint of the API and every role what happens on the
person's own lead, on a colleague's lead at the same dealer, and on another dealer's lead.
It is plain data, written from the docs and not from the code, and it drives every case.

The leads are built once for the module (one per stage setup and owner) and every case runs
in a savepoint that is rolled back, so a case costs one request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client, override_settings
from django.utils import timezone

from accounts.models import ApiToken, Membership, Staff
from accounts.roles import Role
from leads import actions
from leads.models import Event, EventKind, Lead
from tests.conftest import FAST_HASHERS, Team, build_team, grant
from tests.factories import DealerFactory, fresh_mobile, make_lead, member
from tests.kit import assert_recorded, login

pytestmark = pytest.mark.django_db

# Each cell is three letters: the person's own lead / a colleague's lead at the same dealer /
# a lead of another dealer (for POST /leads: the person's own dealer / - / another dealer).
#   A  allowed: 200 (201 for POST /leads); lists: the lead is listed; leads shown with the
#      customer's full phone number
#   M  allowed, but the lead is shown with the phone number masked
#   F  403 not_permitted: may see the lead, may not do this to it
#   N  404: may not see it (lists: not listed); another dealer's lead is always N
#   C  409: permitted, but the lead is not in the pool any more (already_claimed)
#   -  does not apply: the role never owns leads
# Stage: where the lead is, chosen so the action is valid there (pending: contacted, with a
# defeat request by another supervisor waiting). Columns: gm general manager, sm sales
# manager, mm marketing manager, ps platform specialist, sup DCC supervisor, agt DCC agent,
# srm showroom manager, con consultant, ops owner-operations specialist, aud auditor,
# hq headquarters.
MATRIX = """
method path                           stage     gm  sm  mm  ps  sup agt srm con ops aud hq
POST   /leads                         -         A-N A-N A-N A-N A-N A-N A-N A-N F-N F-N F-N
GET    /leads                         new       AAN AAN -AN -NN AAN AMN AAN ANN ANN -MN -MN
GET    /leads                         contacted AAN AAN -AN -NN AAN AMN AAN ANN ANN -MN -MN
GET    /leads                         appointed AAN AAN -AN -NN AAN AMN AAN ANN ANN -MN -MN
GET    /leads                         arrived   AAN AAN -AN -NN ANN ANN AAN ANN ANN -MN -MN
GET    /leads                         ordered   AAN AAN -AN -NN ANN ANN AAN ANN ANN -MN -MN
GET    /leads                         delivered AAN AAN -AN -NN ANN ANN AAN ANN AMN -MN -MN
GET    /leads                         invalid   AAN AAN -AN -NN AAN ANN AAN ANN ANN -MN -MN
GET    /leads                         defeated  AAN AAN -AN -NN AAN ANN AAN ANN ANN -MN -MN
GET    /leads/{id}                    contacted AAN AAN -AN -NN AAN AMN AAN ANN ANN -MN -MN
GET    /leads/{id}/events             contacted AAN AAN -AN -NN AAN AAN AAN ANN ANN -AN -AN
POST   /leads/{id}/calls              contacted AAN AAN -FN -NN AAN AFN AAN ANN ANN -FN -FN
POST   /leads/{id}/grade              contacted AAN AAN -FN -NN AAN AFN AAN ANN FNN -FN -FN
POST   /leads/{id}/appointment        contacted AAN AAN -FN -NN AAN AFN AAN ANN FNN -FN -FN
POST   /leads/{id}/appointment/cancel appointed AAN AAN -FN -NN AAN AFN AAN ANN FNN -FN -FN
POST   /leads/{id}/arrival            appointed AAN AAN -FN -NN AAN FFN AAN ANN FNN -FN -FN
POST   /leads/{id}/test-drive         arrived   AAN AAN -FN -NN FNN FNN AAN ANN FNN -FN -FN
POST   /leads/{id}/quote              arrived   AAN AAN -FN -NN FNN FNN AAN ANN FNN -FN -FN
POST   /leads/{id}/order              arrived   AAN AAN -FN -NN FNN FNN AAN ANN FNN -FN -FN
POST   /leads/{id}/delivery           ordered   AAN AAN -FN -NN FNN FNN AAN ANN FNN -FN -FN
POST   /leads/{id}/invalidate         new       AAN AAN -FN -NN AAN AFN AAN ANN FNN -FN -FN
POST   /leads/{id}/defeat-request     contacted AAN AAN -FN -NN AAN AFN AAN ANN FNN -FN -FN
POST   /leads/{id}/defeat-approval    pending   AAN AAN -FN -NN AAN FFN AAN FNN FNN -FN -FN
POST   /leads/{id}/defeat-rejection   pending   AAN AAN -FN -NN AAN FFN AAN FNN FNN -FN -FN
POST   /leads/{id}/reactivation       invalid   AAN AAN -FN -NN AAN FNN AAN FNN FNN -FN -FN
POST   /leads/{id}/handoff            contacted AAN AAN -FN -NN AAN AFN AAN ANN FNN -FN -FN
POST   /leads/{id}/claim              new       FFN FFN -FN -NN FFN CAN FFN FNN FNN -FN -FN
POST   /leads/{id}/return-visit       delivered AAN AAN -FN -NN ANN FNN AAN FNN AAN -FN -FN
POST   /leads/{id}/reveal-phone       contacted AAN AAN -AN -NN AAN AAN AAN ANN ANN -AN -FN
GET    /tasks                         new       AAN AAN -AN -NN AAN ANN AAN ANN ANN -AN -NN
"""

ROLES = {
    "gm": Role.GM,
    "sm": Role.SALES_MANAGER,
    "mm": Role.MARKETING_MANAGER,
    "ps": Role.PLATFORM_SPECIALIST,
    "sup": Role.DCC_SUPERVISOR,
    "agt": Role.DCC_AGENT,
    "srm": Role.SHOWROOM_MANAGER,
    "con": Role.CONSULTANT,
    "ops": Role.OWNER_OPS,
    "aud": Role.AUDITOR,
    "hq": Role.HEADQUARTERS,
}
SCOPES = ("own", "colleague", "other_dealer")
# Integrations and headquarters systems use bearer tokens; everybody else the UI's session.
TOKEN_ROLES = frozenset({"agt", "ps", "hq"})


def _parse(table: str) -> dict[tuple[str, str], dict[str, dict[str, str]]]:
    """{(endpoint, stage): {role: {scope: letter}}} from the text table."""
    lines = [line.split() for line in table.strip().splitlines()]
    columns = lines[0][3:]
    assert columns == list(ROLES), columns
    parsed = {}
    for method, path, stage, *cells in lines[1:]:
        assert len(cells) == len(columns), (method, path)
        parsed[(f"{method} {path}", stage)] = {
            role: dict(zip(SCOPES, cell, strict=True))
            for role, cell in zip(columns, cells, strict=True)
        }
    return parsed


EXPECTED = _parse(MATRIX)

# The known departures of the code from the matrix; each case runs as a strict xfail.
BUGS: dict[tuple[str, str, str], str] = {}

# What each action endpoint is sent; {to} is a colleague who may take the lead.
PAYLOADS = {
    "POST /leads/{id}/calls": {"outcome": "reached", "duration_seconds": 40},
    "POST /leads/{id}/return-visit": {"reached": True, "satisfaction": 5},
    "POST /leads/{id}/grade": {"grade": "A"},
    "POST /leads/{id}/appointment": {"appointment_at": "tomorrow"},
    "POST /leads/{id}/test-drive": {"car_model": "S7"},
    "POST /leads/{id}/quote": {"amount": "158000"},
    "POST /leads/{id}/order": {"amount": "158000"},
    "POST /leads/{id}/invalidate": {"reason": "no_intent"},
    "POST /leads/{id}/defeat-request": {"reason": "price"},
    "POST /leads/{id}/handoff": {"to": "colleague"},
}

# ---------------------------------------------------------------- the module's leads

# How a lead gets to each stage of the table, step by step, by the dealer's GM (who oversees
# everything) or by a second DCC supervisor (who asks for defeats and holds the pool).
SETUPS = {
    "new": (),
    "contacted": ("call",),
    "appointed": ("call", "appoint"),
    "arrived": ("call", "appoint", "arrive"),
    "ordered": ("call", "appoint", "arrive", "order"),
    "delivered": ("call", "appoint", "arrive", "order", "deliver"),
    "invalid": ("invalidate",),
    "pending": ("call", "request_defeat"),
    "defeated": ("call", "request_defeat", "approve_defeat"),
}
LIST_STAGE = {"pending": "contacted"}
OWNER_ROLES = ("gm", "sm", "sup", "agt", "srm", "con", "ops")


@dataclass
class World:
    team: Team
    other: Team
    holder: Staff  # a second DCC supervisor: holds the pool, requests defeats
    leads: dict[tuple[str, str], int]  # (setup, owner key) → lead id
    phones: dict[int, str]
    clients: dict[str, Client]

    def staff(self, role: str) -> Staff:
        return self.team.by_role(ROLES[role])

    def lead(self, endpoint: str, setup: str, role: str, scope: str) -> int:
        if scope == "own":
            return self.leads[(setup, role)]
        if scope == "other_dealer":
            return self.leads[(setup, "foreign")]
        # The claim's "someone else" is the pool: a new lead held by a supervisor.
        return self.leads[(setup, "holder" if endpoint.endswith("/claim") else "colleague")]


def _step(step: str, lead: Lead, *, boss: Staff, requester: Staff) -> Lead:
    if step == "call":
        return actions.log_call(lead=lead, by=boss, outcome="reached")
    if step == "appoint":
        when = timezone.now() + timedelta(days=1)
        return actions.book_appointment(lead=lead, by=boss, appointment_at=when)
    if step == "arrive":
        return actions.record_arrival(lead=lead, by=boss)
    if step == "order":
        return actions.record_order(lead=lead, by=boss)
    if step == "deliver":
        return actions.record_delivery(lead=lead, by=boss)
    if step == "invalidate":
        return actions.invalidate_lead(lead=lead, by=boss, reason="wrong_number")
    if step == "request_defeat":
        return actions.request_defeat(lead=lead, by=requester, reason="price")
    assert step == "approve_defeat", step
    return actions.approve_defeat(lead=lead, by=boss)


def _build_world() -> World:
    team, other = build_team(DealerFactory()), build_team(DealerFactory())
    holder = member(team.dealer, Role.DCC_SUPERVISOR)
    owners = {role: team.by_role(ROLES[role]) for role in OWNER_ROLES}
    owners["colleague"] = team.dcc_agent_2
    world = World(team, other, holder, leads={}, phones={}, clients={})

    def add(setup: str, key: str, owner: Staff, on: Team, requester: Staff) -> None:
        phone = fresh_mobile()
        lead = make_lead(on.dealer, owner=owner, phone=phone)
        for step in SETUPS[setup]:
            lead = _step(step, lead, boss=on.gm, requester=requester)
        world.leads[(setup, key)] = lead.pk
        world.phones[lead.pk] = phone

    for setup in SETUPS:
        for key, owner in owners.items():
            add(setup, key, owner, team, holder)
        add(setup, "foreign", other.dcc_agent_2, other, other.dcc_supervisor)
    add("new", "holder", holder, team, holder)

    for role in ROLES:
        world.clients[role] = login(world.staff(role), token=role in TOKEN_ROLES)
    return world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once in a transaction that is rolled back after the module; each test runs in
    its own savepoint inside it."""
    with django_db_blocker.unblock(), transaction.atomic():
        with override_settings(PASSWORD_HASHERS=FAST_HASHERS):
            built = _build_world()
        yield built
        transaction.set_rollback(True)


# ---------------------------------------------------------------- the matrix


def _cases():
    for (endpoint, setup), by_role in EXPECTED.items():
        for role, by_scope in by_role.items():
            for scope, letter in by_scope.items():
                if letter == "-":
                    continue
                bug = BUGS.get((endpoint, role, scope))
                marks = [pytest.mark.xfail(reason=bug, strict=True)] if bug else []
                yield pytest.param(
                    endpoint,
                    setup,
                    role,
                    scope,
                    letter,
                    id=f"{endpoint}@{setup}-{ROLES[role]}-{scope}",
                    marks=marks,
                )


def _payload(endpoint: str, world: World) -> dict:
    payload = dict(PAYLOADS.get(endpoint, {}))
    if payload.get("appointment_at") == "tomorrow":
        payload["appointment_at"] = (timezone.now() + timedelta(days=1)).isoformat()
    if payload.get("to") == "colleague":
        payload["to"] = world.team.consultant_2.pk
    return payload


def _shown_as(world: World, lead_id: int, body: dict) -> str:
    """A when the lead comes with the full number, M when masked (and checks the mask)."""
    phone = world.phones[lead_id]
    if body["customer"]["phone_masked"]:
        assert body["customer"]["phone"] == phone[:3] + "****" + phone[-4:]
        return "M"
    assert body["customer"]["phone"] == phone
    return "A"


@pytest.mark.parametrize(("endpoint", "setup", "role", "scope", "expected"), list(_cases()))
def test_matrix(world: World, endpoint: str, setup: str, role: str, scope: str, expected: str):
    client = world.clients[role]
    method, path = endpoint.split(" ")

    if endpoint == "POST /leads":
        dealer = world.team.dealer if scope == "own" else world.other.dealer
        body = {"dealer": dealer.code, "mobile": fresh_mobile(), "channel": "autohome"}
        response = client.post("/api/v1/leads", body, content_type="application/json")
        got = {201: "A", 403: "F", 404: "N"}.get(response.status_code, response.status_code)
        assert got == expected, response.content
        if expected == "N":
            assert response.json()["field"] == "dealer"
        return

    lead_id = world.lead(endpoint, setup, role, scope)
    if endpoint == "GET /leads":
        response = client.get("/api/v1/leads", {"limit": 200})
        assert response.status_code == 200, response.content
        listed = {item["id"]: item for item in response.json()["items"]}
        got = _shown_as(world, lead_id, listed[lead_id]) if lead_id in listed else "N"
        assert got == expected
        return
    if endpoint == "GET /tasks":
        response = client.get("/api/v1/tasks", {"limit": 500})
        assert response.status_code == 200, response.content
        got = "A" if lead_id in {task["lead_id"] for task in response.json()} else "N"
        assert got == expected
        return

    url = "/api/v1" + path.replace("{id}", str(lead_id))
    events_before = Event.objects.filter(lead_id=lead_id).count()
    if method == "GET":
        response = client.get(url)
    else:
        response = client.post(url, _payload(endpoint, world), content_type="application/json")
    status = response.status_code
    body = response.json()

    if expected in "AM":
        assert status == 200, response.content
        if endpoint == "GET /leads/{id}":
            assert _shown_as(world, lead_id, body) == expected
        elif endpoint == "GET /leads/{id}/events":
            assert body[0]["kind"] == "created"
        elif endpoint == "POST /leads/{id}/reveal-phone":
            assert body == {"phone": world.phones[lead_id]}
            assert_recorded(Lead(pk=lead_id), EventKind.PHONE_REVEALED, by=world.staff(role))
        else:
            assert body["id"] == lead_id
        return

    wanted = {
        "F": (403, "not_permitted"),
        "N": (404, "lead_not_found"),
        "C": (409, "already_claimed"),
    }
    assert (status, body.get("code")) == wanted[expected], body
    if expected == "N":
        # The same answer as for an id that does not exist: nothing about the lead leaks.
        assert body == {"code": "lead_not_found", "message": f"Lead {lead_id} not found."}
    # A refused request writes nothing to the lead's ledger.
    assert Event.objects.filter(lead_id=lead_id).count() == events_before


@pytest.mark.parametrize("role", list(ROLES), ids=[str(role) for role in ROLES.values()])
def test_list_shows_exactly_the_leads_of_the_matrix(world: World, role: str):
    """Every lead of the module at once: the list holds exactly those the matrix allows."""
    expected = set()
    for (setup, key), lead_id in world.leads.items():
        if key == "foreign":
            continue
        scope = "own" if key == role else "colleague"
        cell = EXPECTED[("GET /leads", LIST_STAGE.get(setup, setup))][role][scope]
        if cell in "AM":
            expected.add(lead_id)
    response = world.clients[role].get("/api/v1/leads", {"limit": 200})
    assert {item["id"] for item in response.json()["items"]} == expected


def test_the_matrix_covers_every_endpoint_of_the_api(world: World):
    """Every endpoint people use on leads; platform webhooks (signed, no user) and the
    dealer-wide KPIs (tests/kpi/test_api.py) have their own tables."""
    schema = Client().get("/api/v1/openapi.json").json()
    served = {
        f"{method.upper()} {path.removeprefix('/api/v1').replace('{lead_id}', '{id}')}"
        for path, operations in schema["paths"].items()
        for method in operations
        if not path.startswith(("/api/v1/intake/", "/api/v1/kpi"))
    }
    assert served == {endpoint for endpoint, _stage in EXPECTED}


# ---------------------------------------------------------------- authentication


ENDPOINTS = sorted({endpoint for endpoint, _stage in EXPECTED})


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer dcc_not-a-token"}, {"Authorization": "Basic abc"}],
    ids=["anonymous", "unknown-token", "not-bearer"],
)
def test_unauthenticated_is_401(world: World, endpoint: str, headers: dict):
    method, path = endpoint.split(" ")
    url = "/api/v1" + path.replace("{id}", str(world.leads[("contacted", "agt")]))
    client = Client(headers=headers)
    if method == "GET":
        response = client.get(url)
    else:
        response = client.post(url, _payload(endpoint, world), content_type="application/json")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_revoked_token_and_inactive_staff_are_locked_out(world: World):
    lead_url = f"/api/v1/leads/{world.leads[('contacted', 'agt')]}"
    row, raw = ApiToken.issue(staff=world.team.dcc_agent, name="revoked")
    token_client = Client(headers={"Authorization": f"Bearer {raw}"})
    assert token_client.get(lead_url).status_code == 200
    ApiToken.objects.filter(pk=row.pk).update(revoked_at=timezone.now())
    assert token_client.get(lead_url).status_code == 401

    # The session (sup) and the token (agt) of people who left stop working at once.
    Staff.objects.filter(pk__in=[world.team.dcc_supervisor.pk, world.team.dcc_agent.pk]).update(
        is_active=False
    )
    for role in ("sup", "agt"):
        response = world.clients[role].get(lead_url)
        assert response.status_code == 401, role
        assert response.json()["code"] == "unauthenticated"


def test_inactive_membership_gives_no_rights(world: World):
    Membership.objects.filter(staff=world.team.gm).update(is_active=False)
    gm = world.clients["gm"]
    assert gm.get("/api/v1/leads").json()["items"] == []
    lead_id = world.leads[("contacted", "colleague")]
    assert gm.get(f"/api/v1/leads/{lead_id}").status_code == 404


def test_session_writes_need_the_csrf_token_bearer_writes_do_not(world: World):
    lead_id = world.leads[("contacted", "agt")]
    url = f"/api/v1/leads/{lead_id}/grade"
    browser = login(world.team.dcc_agent, csrf=True)
    assert browser.post(url, {"grade": "B"}, content_type="application/json").status_code == 403
    assert Lead.objects.get(pk=lead_id).grade != "B"

    integration = login(world.team.dcc_agent, token=True, csrf=True)
    response = integration.post(url, {"grade": "B"}, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["grade"] == "B"


def test_bad_token_on_a_write_is_401_not_a_csrf_error(world: World):
    client = Client(enforce_csrf_checks=True, headers={"Authorization": "Bearer dcc_revoked"})
    lead_id = world.leads[("contacted", "agt")]
    response = client.post(
        f"/api/v1/leads/{lead_id}/grade", {"grade": "B"}, content_type="application/json"
    )
    assert (response.status_code, response.json().get("code")) == (401, "unauthenticated")


# ---------------------------------------------------------------- beyond the three scopes


def test_another_dealers_lead_answers_like_a_lead_that_does_not_exist(world: World):
    gm = world.clients["gm"]
    foreign = world.leads[("contacted", "foreign")]
    missing = max(world.leads.values()) + 1000
    for suffix in ("", "/events"):
        seen = gm.get(f"/api/v1/leads/{foreign}{suffix}")
        unseen = gm.get(f"/api/v1/leads/{missing}{suffix}")
        assert seen.status_code == unseen.status_code == 404
        assert seen.json()["message"].replace(str(foreign), "#") == unseen.json()[
            "message"
        ].replace(str(missing), "#")
        assert seen.json()["code"] == unseen.json()["code"] == "lead_not_found"


def test_headquarters_reads_every_granted_dealer_and_changes_none(world: World):
    hq = world.clients["hq"]
    grant(world.team.headquarters, world.other.dealer, Role.HEADQUARTERS)
    foreign = world.leads[("contacted", "foreign")]

    listed = {item["id"] for item in hq.get("/api/v1/leads", {"limit": 200}).json()["items"]}
    assert {foreign, world.leads[("contacted", "colleague")]} <= listed
    assert {world.leads[("delivered", "foreign")], world.leads[("invalid", "foreign")]} <= listed
    lead = hq.get(f"/api/v1/leads/{foreign}").json()
    assert lead["customer"]["phone_masked"] is True
    assert hq.get(f"/api/v1/leads/{foreign}/events").status_code == 200

    for path, payload in [("calls", {"outcome": "reached"}), ("grade", {"grade": "H"})]:
        response = hq.post(
            f"/api/v1/leads/{foreign}/{path}", payload, content_type="application/json"
        )
        assert response.status_code == 403, path
    create = {"dealer": world.other.dealer.code, "mobile": fresh_mobile(), "channel": "autohome"}
    assert hq.post("/api/v1/leads", create, content_type="application/json").status_code == 403


def test_roles_count_only_at_the_dealer_that_gave_them(world: World):
    """A consultant here who is GM at the other dealer: GM there, consultant here."""
    consultant = world.clients["con"]
    grant(world.team.consultant, world.other.dealer, Role.GM)
    foreign = world.leads[("contacted", "foreign")]
    response = consultant.post(
        f"/api/v1/leads/{foreign}/grade", {"grade": "H"}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["customer"]["phone_masked"] is False
    colleague = world.leads[("contacted", "colleague")]
    assert consultant.get(f"/api/v1/leads/{colleague}").status_code == 404


def test_a_former_owner_keeps_seeing_the_lead_but_may_no_longer_act(world: World):
    lead_id = world.leads[("arrived", "con")]
    moved = actions.hand_off(
        lead=Lead.objects.get(pk=lead_id), by=world.team.gm, to=world.team.consultant_2
    )
    assert moved.owner_id == world.team.consultant_2.pk
    consultant = world.clients["con"]
    lead = consultant.get(f"/api/v1/leads/{lead_id}").json()
    assert lead["customer"]["phone_masked"] is True
    refused = consultant.post(
        f"/api/v1/leads/{lead_id}/test-drive", {}, content_type="application/json"
    )
    assert refused.status_code == 403
    listed = consultant.get("/api/v1/leads", {"limit": 200}).json()["items"]
    assert lead_id in {item["id"] for item in listed}


def test_a_platform_specialist_sees_the_leads_they_entered(world: World):
    specialist = world.clients["ps"]
    body = {"dealer": world.team.dealer.code, "mobile": fresh_mobile(), "channel": "douyin"}
    created = specialist.post("/api/v1/leads", body, content_type="application/json")
    assert created.status_code == 201, created.content
    lead_id = created.json()["lead"]["id"]
    assert created.json()["lead"]["customer"]["phone_masked"] is True
    assert specialist.get(f"/api/v1/leads/{lead_id}").status_code == 200
    listed = specialist.get("/api/v1/leads", {"limit": 200}).json()["items"]
    assert [item["id"] for item in listed] == [lead_id]
    refused = specialist.post(
        f"/api/v1/leads/{lead_id}/calls", {"outcome": "reached"}, content_type="application/json"
    )
    assert refused.status_code == 403


def test_a_repeat_enquiry_does_not_disclose_a_lead_the_caller_may_not_see(world: World):
    lead_id = world.leads[("arrived", "colleague")]
    lead = Lead.objects.select_related("customer", "owner").get(pk=lead_id)
    body = {"dealer": world.team.dealer.code, "mobile": world.phones[lead_id], "channel": "baidu"}
    consultant = world.clients["con"]
    assert consultant.get(f"/api/v1/leads/{lead_id}").status_code == 404
    response = consultant.post("/api/v1/leads", body, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "touched"
    assert_recorded(lead, EventKind.TOUCHED, by=world.team.consultant, stage="arrived")
    answer = json.dumps(response.json(), ensure_ascii=False)
    assert str(lead.owner) not in answer
    assert '"arrived"' not in answer


def test_the_same_number_at_another_dealer_is_a_new_lead_there(world: World):
    foreign = world.leads[("contacted", "foreign")]
    body = {"dealer": world.team.dealer.code, "mobile": world.phones[foreign], "channel": "baidu"}
    response = world.clients["agt"].post("/api/v1/leads", body, content_type="application/json")
    assert (response.status_code, response.json()["outcome"]) == (201, "created")
    assert response.json()["lead"]["id"] != foreign
    assert response.json()["lead"]["dealer"] == world.team.dealer.code
    assert Lead.objects.get(pk=foreign).touch_count == 0
