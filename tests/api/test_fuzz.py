"""The API fuzzed from its own OpenAPI schema (schemathesis): inputs valid and invalid, sent
with the valid tokens of a DCC agent and of a general manager, to leads that exist and to ids
that do not, and signed platform webhooks, must never make a server error. The examples are
derandomised and bounded so that CI gives the same answer every run; DCC_FUZZ_EXAMPLES=500
hunts with that many random examples per operation."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from accounts.models import ApiToken
from dcc_site.api import api
from intake.webhooks import SIGNATURE_HEADER, rotate_webhook_secret, sign
from leads import actions
from leads.models import CallOutcome
from tests.factories import channel, fresh_mobile, make_lead

pytestmark = pytest.mark.django_db

HUNTING = "DCC_FUZZ_EXAMPLES" in os.environ  # then random examples, not CI's fixed ones
EXAMPLES = int(os.environ.get("DCC_FUZZ_EXAMPLES", "12"))
WEBHOOK = "/api/v1/intake/{dealer_code}/{channel_code}"

# Dates and times from the whole calendar, and often the first and last days and the edges of
# the accepted window, with and without a zone: where the arithmetic overflows.
EDGE_DAYS = [date.min, date.max, date(1999, 12, 31), date(2000, 1, 1), date(2100, 1, 1)]
ZONES = [None, UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-23, minutes=-59))]
EDGE_TIMES = [
    datetime.combine(day, moment, tzinfo=zone)
    for day in EDGE_DAYS
    for moment in (time.min, time.max)
    for zone in ZONES
]
schemathesis.openapi.format("date", (st.sampled_from(EDGE_DAYS) | st.dates()).map(date.isoformat))
schemathesis.openapi.format(
    "date-time",
    (st.sampled_from(EDGE_TIMES) | st.datetimes(timezones=st.sampled_from(ZONES))).map(
        datetime.isoformat
    ),
)

schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
schema.app = get_wsgi_application()


@pytest.fixture(autouse=True)
def connection_kept():
    """The WSGI handler closes the database connection around each request, which would end
    the test's transaction; Django's own test client keeps it open the same way."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture(params=["dcc_agent", "gm"])
def world(request, team) -> dict:
    """A dealer with leads at several stages, a signed webhook channel, and the token of the
    role under test."""
    agent = team.dcc_agent
    new = make_lead(team.dealer, owner=agent)
    called = make_lead(team.dealer, owner=agent)
    actions.log_call(lead=called, by=agent, outcome=CallOutcome.REACHED)
    someone_elses = make_lead(team.dealer, owner=team.dcc_agent_2)
    autohome = channel(team.dealer)
    # Every example is let through the rate limit, so that the fuzzing reaches the parser.
    autohome.webhook_rate_per_minute = 1_000_000
    autohome.save(update_fields=["webhook_rate_per_minute"])
    _row, token = ApiToken.issue(staff=getattr(team, request.param), name="fuzz")
    return {
        "lead_ids": [new.pk, called.pk, someone_elses.pk],
        "dealer": team.dealer.code,
        "channel": autohome,
        "secret": rotate_webhook_secret(autohome),
        "token": token,
    }


def _raw(body: object) -> bytes:
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body, ensure_ascii=False).encode()


def _webhook(case, world: dict, data) -> int:
    """A platform's request, signed like a real one, mostly to the real dealer and channel."""
    path = dict(case.path_parameters or {})
    if data.draw(st.booleans(), label="real channel"):
        path = {"dealer_code": world["dealer"], "channel_code": world["channel"].code}
    body = case.body
    if isinstance(body, dict) and data.draw(st.booleans(), label="real mobile"):
        body = {**body, "mobile": fresh_mobile()}  # so that more enquiries become leads
    body = _raw(body) if body is not None else b""
    response = Client().generic(
        "POST",
        WEBHOOK.format(**path),
        body,
        content_type=case.media_type or "application/json",
        headers={SIGNATURE_HEADER: sign(world["secret"], body)},
    )
    return response.status_code


@schema.parametrize()
@schema.given(data=st.data())
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not HUNTING,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_input_makes_a_server_error(case, data, world):
    if case.operation.path == WEBHOOK:
        status = _webhook(case, world, data)
        assert status < 500, (case.path_parameters, case.media_type, case.body)
        return
    lead_in_path = "lead_id" in (case.path_parameters or {})
    if lead_in_path and data.draw(st.booleans(), label="existing lead"):
        case.path_parameters["lead_id"] = data.draw(st.sampled_from(world["lead_ids"]))
    case.call_and_validate(
        headers={"Authorization": f"Bearer {world['token']}"},
        checks=[not_a_server_error],
    )
