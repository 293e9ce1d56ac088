"""The API's contract beyond permissions: intake (idempotency, touches, duplicates), the one
error shape, pagination and filters, phone masking and reveal, OpenAPI, and query counts."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leads import actions
from leads.models import Event, EventKind, Lead, TaskKind
from tests.factories import fresh_mobile, make_lead
from tests.kit import assert_recorded, login

pytestmark = pytest.mark.django_db

JSON = "application/json"


def enquiry(team, **fields) -> dict:
    return {"dealer": team.dealer.code, "mobile": fresh_mobile(), "channel": "autohome", **fields}


def kinds(lead_id: int) -> list[str]:
    return list(
        Event.objects.filter(lead_id=lead_id).order_by("seq").values_list("kind", flat=True)
    )


# ---------------------------------------------------------------- intake


def test_same_idempotency_key_twice_gives_one_lead_and_the_same_answer(team):
    client = login(team.platform_specialist, token=True)
    body = enquiry(team, name="李雷", car_model="S7")
    first = client.post("/api/v1/leads", body, content_type=JSON, headers={"Idempotency-Key": "k1"})
    again = client.post("/api/v1/leads", body, content_type=JSON, headers={"Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 201, again.content
    assert first.json()["outcome"] == "created"
    assert again.json() == first.json()
    assert Lead.objects.filter(dealer=team.dealer).count() == 1
    assert kinds(first.json()["lead"]["id"]) == ["created"]  # the replay touched nothing


def test_same_idempotency_key_with_another_body_is_refused(team):
    client = login(team.platform_specialist, token=True)
    headers = {"Idempotency-Key": "k2"}
    assert (
        client.post("/api/v1/leads", enquiry(team), content_type=JSON, headers=headers).status_code
        == 201
    )
    response = client.post("/api/v1/leads", enquiry(team), content_type=JSON, headers=headers)
    assert response.status_code == 422
    body = response.json()
    assert (body["code"], body["field"]) == ("idempotency_key_reused", "Idempotency-Key")
    assert "different request" in body["message"]
    assert Lead.objects.filter(dealer=team.dealer).count() == 1


def test_replaying_a_touch_repeats_the_answer_without_touching_again(team):
    client = login(team.dcc_agent)
    body = enquiry(team)
    assert client.post("/api/v1/leads", body, content_type=JSON).status_code == 201
    headers = {"Idempotency-Key": "touch-1"}
    touched = client.post("/api/v1/leads", body, content_type=JSON, headers=headers)
    replayed = client.post("/api/v1/leads", body, content_type=JSON, headers=headers)
    assert touched.status_code == replayed.status_code == 200
    assert replayed.json() == touched.json()
    assert replayed.json()["outcome"] == "touched"
    assert replayed.json()["lead"]["touch_count"] == 1


def test_replaying_a_duplicate_says_duplicate(team):
    client = login(team.platform_specialist, token=True)
    body = enquiry(team, external_id="AH-77")
    assert client.post("/api/v1/leads", body, content_type=JSON).status_code == 201
    headers = {"Idempotency-Key": "dup-1"}
    first = client.post("/api/v1/leads", body, content_type=JSON, headers=headers)
    assert first.json()["outcome"] == "duplicate"
    replayed = client.post("/api/v1/leads", body, content_type=JSON, headers=headers)
    assert replayed.json() == first.json()


def test_repeat_enquiry_from_the_same_number_touches_the_open_lead(team):
    client = login(team.platform_specialist, token=True)
    first = client.post(
        "/api/v1/leads", enquiry(team, mobile="+86 139-1234-5678"), content_type=JSON
    )
    assert first.status_code == 201
    lead_id = first.json()["lead"]["id"]
    again = client.post(
        "/api/v1/leads",
        enquiry(team, mobile="13912345678", channel="wechat", note="asked again"),
        content_type=JSON,
    )
    assert again.status_code == 200, again.content
    assert again.json()["outcome"] == "touched"
    assert again.json()["lead"]["id"] == lead_id
    assert again.json()["lead"]["touch_count"] == 1
    assert again.json()["lead"]["channel"] == "autohome"  # the lead keeps its first channel
    assert Lead.objects.filter(dealer=team.dealer).count() == 1
    assert kinds(lead_id) == ["created", "touched"]
    touch = assert_recorded(
        Lead(pk=lead_id), EventKind.TOUCHED, by=team.platform_specialist, note="asked again"
    )
    assert touch.data["channel"] == "wechat"


def test_repeated_external_id_is_a_duplicate_and_writes_nothing(team):
    client = login(team.platform_specialist, token=True)
    first = client.post("/api/v1/leads", enquiry(team, external_id="AH-1"), content_type=JSON)
    lead_id = first.json()["lead"]["id"]
    again = client.post("/api/v1/leads", enquiry(team, external_id="AH-1"), content_type=JSON)
    assert again.status_code == 200
    assert (again.json()["outcome"], again.json()["lead"]["id"]) == ("duplicate", lead_id)
    assert again.json()["lead"]["touch_count"] == 0
    assert Lead.objects.filter(dealer=team.dealer).count() == 1
    assert kinds(lead_id) == ["created"]
    # The same platform id from another channel is another lead.
    other = client.post(
        "/api/v1/leads", enquiry(team, external_id="AH-1", channel="yiche"), content_type=JSON
    )
    assert (other.status_code, other.json()["outcome"]) == (201, "created")


@pytest.mark.parametrize(
    ("mobile", "code", "says"),
    [
        ("", "phone_empty", "Enter a phone number"),
        ("139 1234 567", "phone_length", "11 digits"),
        ("139-1234-567890", "phone_length", "11 digits"),
        ("139abc45678", "phone_letters", "letters"),
        ("139#1234#5678", "phone_characters", "#"),
        ("+1 202 555 0143", "phone_not_chinese", "+86"),
        ("400 810 8888", "phone_service_number", "400"),
    ],
)
def test_bad_phone_is_422_on_mobile_saying_why(team, mobile, code, says):
    response = login(team.dcc_agent).post(
        "/api/v1/leads", enquiry(team, mobile=mobile), content_type=JSON
    )
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"].startswith("phone_")
    assert (body["code"], body["field"]) == (code, "mobile")
    assert says in body["message"]
    assert not Lead.objects.exists()


def test_unknown_channel_is_422_on_channel(team):
    response = login(team.dcc_agent).post(
        "/api/v1/leads", enquiry(team, channel="tiktok"), content_type=JSON
    )
    assert response.status_code == 422
    body = response.json()
    assert body["field"] == "channel"
    assert "tiktok" in body["message"]


def test_unknown_dealer_is_404_on_dealer(team):
    response = login(team.dcc_agent).post(
        "/api/v1/leads", enquiry(team, dealer="NOPE"), content_type=JSON
    )
    assert response.status_code == 404
    assert response.json()["field"] == "dealer"


# ---------------------------------------------------------------- errors


def test_forbidden_transition_is_409_naming_the_current_stage(team):
    lead = make_lead(team.dealer, owner=team.consultant)
    lead = actions.log_call(lead=lead, by=team.consultant, outcome="reached")
    client = login(team.gm)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = client.post(f"/api/v1/leads/{lead.pk}/delivery", {}, content_type=JSON)
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == "transition_not_allowed"
    assert "contacted" in body["message"].lower()
    assert Lead.objects.get(pk=lead.pk).stage == "contacted"

    # Stages never go back: an ordered customer cannot "arrive" again.
    for step in (actions.record_arrival, actions.record_order):
        lead = step(lead=lead, by=team.consultant)
    back = client.post(f"/api/v1/leads/{lead.pk}/arrival", {}, content_type=JSON)
    assert (back.status_code, back.json()["code"]) == (409, "transition_not_allowed")
    assert "ordered" in back.json()["message"].lower()


@pytest.mark.parametrize(
    ("path", "payload", "field"),
    [
        ("/leads", {"dealer": "X", "channel": "autohome"}, "mobile"),
        ("/leads/{id}/grade", {"grade": "Z"}, "grade"),
        ("/leads/{id}/calls", {"outcome": "reached", "duration_seconds": -5}, "duration_seconds"),
        ("/leads/{id}/calls", {}, "outcome"),
        ("/leads/{id}/appointment", {"appointment_at": "next tuesday"}, "appointment_at"),
        ("/leads/{id}/quote", {"amount": "0"}, "amount"),
        ("/leads/{id}/invalidate", {"reason": ""}, "reason"),
    ],
)
def test_invalid_body_is_422_validation_error_naming_the_field(team, path, payload, field):
    lead = make_lead(team.dealer, owner=team.dcc_agent)
    url = "/api/v1" + path.replace("{id}", str(lead.pk))
    response = login(team.dcc_agent).post(url, payload, content_type=JSON)
    assert response.status_code == 422, response.content
    body = response.json()
    assert (body["code"], body["field"]) == ("validation_error", field)
    assert field in body["message"]


def test_body_that_is_not_json_is_422_validation_error(team):
    response = login(team.dcc_agent).post("/api/v1/leads", "{not json", content_type=JSON)
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "validation_error"
    assert response.json()["message"]


def test_invalid_query_parameters_are_422(team):
    client = login(team.gm)
    for params, field in [({"stage": "won"}, "stage"), ({"cursor": "!!"}, "cursor")]:
        response = client.get("/api/v1/leads", params)
        assert response.status_code == 422, params
        assert response.json()["field"] == field


# ---------------------------------------------------------------- lists


@pytest.mark.parametrize("count", [6, 7])
def test_cursor_pagination_returns_every_lead_once_newest_first(team, count):
    created = [make_lead(team.dealer).pk for _ in range(count)]
    client = login(team.gm)
    seen, pages, cursor = [], 0, None
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = client.get("/api/v1/leads", params).json()
        pages += 1
        assert len(page["items"]) <= 3
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert pages < 10, "pagination does not end"
    assert pages == -(-count // 3)
    assert [item["id"] for item in seen] == sorted(created, reverse=True)
    stamps = [item["created_at"] for item in seen]
    assert stamps == sorted(stamps, reverse=True)


def test_filters(team):
    now = timezone.now()
    hot = make_lead(team.dealer, owner=team.dcc_agent)
    hot = actions.log_call(lead=hot, by=team.dcc_agent, outcome="reached", grade="H")
    late = make_lead(
        team.dealer, owner=team.dcc_agent_2, channel_code="wechat", at=now - timedelta(days=2)
    )
    fresh = make_lead(team.dealer, owner=team.dcc_agent_2)
    answered = make_lead(team.dealer, owner=team.dcc_agent, at=now - timedelta(days=2))
    actions.log_call(lead=answered, by=team.dcc_agent, outcome="no_answer", at=answered.created_at)
    pending = make_lead(team.dealer, owner=team.consultant)
    pending = actions.log_call(lead=pending, by=team.consultant, outcome="reached")
    actions.request_defeat(lead=pending, by=team.consultant, reason="price")

    client = login(team.gm)

    def ids(**params) -> set[int]:
        response = client.get("/api/v1/leads", params)
        assert response.status_code == 200, response.content
        return {item["id"] for item in response.json()["items"]}

    assert ids() == {hot.pk, late.pk, fresh.pk, answered.pk, pending.pk}
    assert ids(stage="contacted") == {hot.pk, pending.pk}
    assert ids(stage="new") == {late.pk, fresh.pk, answered.pk}
    assert ids(grade="H") == {hot.pk}
    assert ids(owner=team.dcc_agent.pk) == {hot.pk, answered.pk}
    assert ids(channel="wechat") == {late.pk}
    assert ids(sla_breached="true") == {late.pk}
    assert ids(sla_breached="false") == {hot.pk, fresh.pk, answered.pk, pending.pk}
    assert ids(defeat_pending="true") == {pending.pk}
    assert ids(stage="new", channel="autohome") == {fresh.pk, answered.pk}
    assert ids(created_to=(now - timedelta(days=1)).isoformat()) == {late.pk, answered.pk}
    assert ids(dealer=team.dealer.code) == ids()
    assert ids(dealer="NOPE") == set()
    breached = client.get("/api/v1/leads", {"sla_breached": "true"}).json()["items"]
    assert [item["sla_breached"] for item in breached] == [True]


# ---------------------------------------------------------------- phone numbers


@pytest.fixture
def called_lead(team):
    lead = make_lead(team.dealer, owner=team.dcc_agent, phone="139-5555-1234")
    return actions.log_call(lead=lead, by=team.dcc_agent, outcome="reached")


def test_phone_is_masked_for_a_dcc_agent_who_does_not_own_the_lead(team, called_lead):
    client = login(team.dcc_agent_2)
    shown = client.get(f"/api/v1/leads/{called_lead.pk}").json()["customer"]
    assert (shown["phone"], shown["phone_masked"]) == ("139****1234", True)
    listed = client.get("/api/v1/leads").json()["items"]
    assert [item["customer"]["phone"] for item in listed] == ["139****1234"]


@pytest.mark.parametrize(
    "role", ["dcc_agent", "gm", "sales_manager", "dcc_supervisor", "showroom_manager"]
)
def test_phone_is_full_for_the_owner_and_managers(team, called_lead, role):
    shown = login(getattr(team, role)).get(f"/api/v1/leads/{called_lead.pk}").json()["customer"]
    assert (shown["phone"], shown["phone_masked"]) == ("13955551234", False)


def test_reveal_phone_returns_the_number_and_records_who_saw_it(team, called_lead):
    client = login(team.dcc_agent_2)
    response = client.post(f"/api/v1/leads/{called_lead.pk}/reveal-phone")
    assert response.status_code == 200
    assert response.json() == {"phone": "13955551234"}
    last = client.get(f"/api/v1/leads/{called_lead.pk}/events").json()[-1]
    assert (last["kind"], last["actor"]["id"]) == ("phone_revealed", team.dcc_agent_2.pk)
    assert_recorded(
        called_lead,
        EventKind.PHONE_REVEALED,
        by=team.dcc_agent_2,
        stage="contacted",
        open_tasks={TaskKind.FOLLOW_UP: team.dcc_agent},
    )
    # Revealing is one look, not a new right: the lead is still shown masked.
    again = client.get(f"/api/v1/leads/{called_lead.pk}").json()["customer"]
    assert again["phone_masked"] is True


# ---------------------------------------------------------------- OpenAPI


def test_openapi_schema_lists_the_lead_endpoints(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "DCC API"
    paths = schema["paths"]
    for path, method in [
        ("/api/v1/leads", "post"),
        ("/api/v1/leads", "get"),
        ("/api/v1/leads/{lead_id}", "get"),
        ("/api/v1/leads/{lead_id}/events", "get"),
        ("/api/v1/leads/{lead_id}/calls", "post"),
        ("/api/v1/leads/{lead_id}/handoff", "post"),
        ("/api/v1/leads/{lead_id}/reveal-phone", "post"),
        ("/api/v1/tasks", "get"),
    ]:
        assert method in paths[path], (path, method)
    create = paths["/api/v1/leads"]["post"]
    assert {"Idempotency-Key"} <= {p["name"] for p in create.get("parameters", [])}


def test_api_docs_render(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"openapi.json" in response.content


# ---------------------------------------------------------------- query counts


def _queries(client, url: str, **params) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200, response.content
    return len(captured)


@pytest.mark.parametrize(("role", "token"), [("gm", False), ("dcc_agent", True)])
def test_lead_list_queries_do_not_grow_with_the_leads(team, role, token):
    owners = [team.dcc_agent, team.dcc_agent_2, team.consultant, team.dcc_supervisor]

    def add(count: int) -> None:
        for i in range(count):
            make_lead(team.dealer, owner=owners[i % len(owners)])

    client = login(getattr(team, role), token=token)
    add(5)
    client.get("/api/v1/leads")  # a token's use is noted once every few minutes
    few = _queries(client, "/api/v1/leads")
    add(20)
    response = client.get("/api/v1/leads")
    assert len(response.json()["items"]) == 25
    many = _queries(client, "/api/v1/leads")
    assert many == few


def test_task_list_and_event_queries_do_not_grow(team):
    client = login(team.gm)
    lead = make_lead(team.dealer, owner=team.dcc_agent)
    few_tasks = _queries(client, "/api/v1/tasks")
    few_events = _queries(client, f"/api/v1/leads/{lead.pk}/events")
    for grade in "HABCHABC":
        lead = actions.set_grade(lead=lead, by=team.dcc_agent, grade=grade)
    for owner in (team.dcc_agent_2, team.consultant, team.consultant_2):
        make_lead(team.dealer, owner=owner)
    assert _queries(client, "/api/v1/tasks") == few_tasks
    assert _queries(client, f"/api/v1/leads/{lead.pk}/events") == few_events


def test_api_docs_page_loads_nothing_from_the_internet(client):
    """Dealers' networks are closed: the docs page uses the vendored Swagger UI."""
    html = client.get("/api/v1/docs").content.decode()
    assert "swagger-ui-bundle.js" in html
    assert not re.search(r"""(src|href)=["']https?://""", html)
