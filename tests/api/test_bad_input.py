"""Bad input answers 4xx with the API's error shape naming the field, never a 500, and writes
nothing: numbers too big for the database, dates outside the accepted window or without a
zone, cursors that do not decode to an id, NUL characters, and bodies that are not objects."""

from __future__ import annotations

import base64
import json

import pytest

from leads.models import Event, Lead
from tests.factories import make_lead
from tests.kit import login

pytestmark = pytest.mark.django_db

JSON = "application/json"
TOO_BIG = str(2**63)  # one more than the largest id a database column holds


def refused(response, field: str, status: int = 422) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["field"] == field, body
    assert body["code"] and body["message"]
    return body


def raw_cursor(text: bytes) -> str:
    return base64.urlsafe_b64encode(text).decode()


def cursor(value: object) -> str:
    return raw_cursor(json.dumps(value).encode())


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/v1/leads", {"owner": TOO_BIG}, "owner"),
        ("/api/v1/leads", {"owner": "-" + TOO_BIG + "0"}, "owner"),
        ("/api/v1/tasks", {"assignee": TOO_BIG}, "assignee"),
        ("/api/v1/leads", {"cursor": "eyJiZWZvcmUiOiAxZTk5OX0="}, "cursor"),  # {"before": 1e999}
        ("/api/v1/leads", {"cursor": cursor({"before": 10**30})}, "cursor"),
        ("/api/v1/leads", {"cursor": cursor({"before": True})}, "cursor"),
        ("/api/v1/leads", {"cursor": cursor({"before": 1.5})}, "cursor"),
        ("/api/v1/leads", {"cursor": cursor([[[]]])}, "cursor"),
        ("/api/v1/leads", {"cursor": raw_cursor(b'{"before": ' + b"9" * 5000 + b"}")}, "cursor"),
        ("/api/v1/leads", {"created_from": "0001-01-01T00:00:00"}, "created_from"),
        ("/api/v1/leads", {"created_from": "0001-01-01T00:00:00+08:00"}, "created_from"),
        ("/api/v1/leads", {"created_to": "9999-12-31T23:59:59"}, "created_to"),
        ("/api/v1/leads", {"created_from": "1999-12-31T23:00:00Z"}, "created_from"),
    ],
)
def test_query_values_the_database_cannot_take_are_422(team, path, params, field):
    make_lead(team.dealer, owner=team.dcc_agent)
    refused(login(team.gm).get(path, params), field)


def test_a_deeply_nested_cursor_is_422(team):
    deep = raw_cursor(b"[" * 1100 + b"]" * 1100)
    refused(login(team.gm).get("/api/v1/leads", {"cursor": deep}), "cursor")


def test_a_lead_id_too_big_for_the_database_is_422(team):
    refused(login(team.gm).get(f"/api/v1/leads/{TOO_BIG}"), "lead_id")


def test_dates_inside_the_window_still_filter(team):
    lead = make_lead(team.dealer, owner=team.dcc_agent)
    response = login(team.gm).get("/api/v1/leads", {"created_from": "2000-01-01T00:00:00"})
    assert response.status_code == 200, response.content
    assert [item["id"] for item in response.json()["items"]] == [lead.pk]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "0001-01-01", "to": "2026-11-18"}, "from"),
        ({"from": "2026-11-01", "to": "9999-12-31"}, "to"),
        ({"from": "1999-12-31", "to": "2026-11-18"}, "from"),
    ],
)
@pytest.mark.parametrize(
    "path", ["/api/v1/kpi", "/api/v1/kpi/bottlenecks", "/api/v1/kpi/heatmap", "/api/v1/kpi/ranking"]
)
def test_kpi_dates_outside_the_window_are_422_naming_the_field(team, path, params, field):
    query = {"dealer": team.dealer.code, "metric": "first_response_sla", **params}
    refused(login(team.gm).get(path, query), field)


def test_kpi_drill_down_with_year_one_is_422(team):
    query = {"dealer": team.dealer.code, "from": "0001-01-01", "to": "0001-12-31"}
    refused(login(team.gm).get("/api/v1/kpi/leads", {**query, "measure": "leads"}), "from")


@pytest.mark.parametrize(
    ("path", "field", "value"),
    [
        ("calls", "next_follow_up_at", "0001-01-01T00:00:00"),
        ("calls", "next_follow_up_at", "9999-12-31T23:59:59+08:00"),
        ("appointment", "appointment_at", "0001-01-01T00:00:00"),
        ("appointment", "appointment_at", "9999-12-31T23:59:59"),
    ],
)
def test_action_dates_outside_the_window_are_422_and_change_nothing(team, path, field, value):
    payload = {"outcome": "reached", field: value} if path == "calls" else {field: value}
    lead = make_lead(team.dealer, owner=team.dcc_agent)
    response = login(team.dcc_agent).post(
        f"/api/v1/leads/{lead.pk}/{path}", payload, content_type=JSON
    )
    refused(response, field)
    assert list(Event.objects.filter(lead=lead).values_list("kind", flat=True)) == ["created"]


@pytest.mark.parametrize("body", ["false", "[]", "123", '"note"', "null", "[{}]"])
@pytest.mark.parametrize("path", ["order", "delivery", "arrival", "claim", "calls"])
def test_a_stage_action_body_that_is_not_a_json_object_is_422(team, body, path):
    lead = make_lead(team.dealer, owner=team.dcc_agent)
    response = login(team.gm).post(f"/api/v1/leads/{lead.pk}/{path}", body, content_type=JSON)
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "validation_error"
    assert "object" in response.json()["message"]
    assert list(Event.objects.filter(lead=lead).values_list("kind", flat=True)) == ["created"]


def test_an_empty_object_still_records_the_action(team):
    lead = make_lead(team.dealer, owner=team.dcc_agent)
    response = login(team.gm).post(f"/api/v1/leads/{lead.pk}/arrival", "{}", content_type=JSON)
    assert response.status_code == 200, response.content
    assert list(Event.objects.filter(lead=lead).values_list("kind", flat=True))[-1] == "arrived"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("[" * 1100 + "]" * 1100, id="nested-1100-deep"),
        pytest.param('{"note": ' + "9" * 5000 + "}", id="integer-of-5000-digits"),
    ],
)
def test_bodies_json_cannot_read_are_422(team, body):
    lead = make_lead(team.dealer, owner=team.dcc_agent)
    response = login(team.gm).post(f"/api/v1/leads/{lead.pk}/order", body, content_type=JSON)
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "validation_error"


@pytest.mark.parametrize(
    ("field", "value"), [("name", "李\x00雷"), ("mobile", "139\x0012345678"), ("note", "\x00")]
)
def test_a_nul_character_in_a_body_is_422_naming_the_field(team, field, value):
    body = {"dealer": team.dealer.code, "mobile": "13912345678", "channel": "autohome"}
    response = login(team.dcc_agent).post(
        "/api/v1/leads", {**body, field: value}, content_type=JSON
    )
    refused(response, field)
    assert not Lead.objects.exists()


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/api/v1/leads", "dealer"),
        ("/api/v1/leads", "channel"),
        ("/api/v1/tasks", "dealer"),
        ("/api/v1/kpi", "dealer"),
        ("/api/v1/kpi/ranking", "metric"),
    ],
)
def test_a_nul_character_in_a_query_parameter_is_422_naming_it(team, path, param):
    query = {"dealer": team.dealer.code, "from": "2026-11-01", "to": "2026-11-18", "metric": "x"}
    refused(login(team.gm).get(path, {**query, param: "a\x00b"}), param)


def test_a_nul_character_in_a_header_is_422(team):
    body = {"dealer": team.dealer.code, "mobile": "13912345678", "channel": "autohome"}
    response = login(team.dcc_agent).post(
        "/api/v1/leads", body, content_type=JSON, headers={"Idempotency-Key": "k\x00"}
    )
    refused(response, "Idempotency-Key")
    assert not Lead.objects.exists()
