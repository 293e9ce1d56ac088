"""Entering a lead by hand: the form says the limits of its fields before they bite, and a
value past a limit is refused naming the field, on the page and through the API."""

from __future__ import annotations

import re

import pytest

from leads.models import Lead
from tests.factories import channel
from tests.kit import login

pytestmark = pytest.mark.django_db

LONG_NAME = "王" * 2000


def test_the_name_field_says_its_limit(team):
    html = login(team.platform_specialist).get("/leads/new/").content.decode()
    field = html.split('for="id_name"', 1)[1].split('for="id_channel"', 1)[0]
    assert 'maxlength="100"' in field
    assert "Up to 100 characters." in field


def test_a_name_past_the_limit_is_refused_naming_the_field(team):
    response = login(team.platform_specialist).post(
        "/leads/new/",
        {"mobile": "13912345679", "name": LONG_NAME, "channel": channel(team.dealer).pk},
    )
    assert response.status_code == 422
    html = response.content.decode()
    errors = re.findall(r'class="invalid-feedback[^>]*>([^<]*)<', html)
    assert errors == ["The name is too long: at most 100 characters (it has 2000)."]
    assert not Lead.objects.exists()


def test_the_api_refuses_a_name_past_the_limit_naming_the_field(team):
    response = login(team.platform_specialist, token=True).post(
        "/api/v1/leads",
        {
            "dealer": team.dealer.code,
            "mobile": "13912345678",
            "name": LONG_NAME,
            "channel": "autohome",
        },
        content_type="application/json",
    )
    assert response.status_code == 422
    body = response.json()
    assert body["field"] == "name" and "100" in body["message"]
    assert not Lead.objects.exists()
