"""A request for a host that is not ours is refused with 400 and the refusal page, never a
server error (the page offers no way back: there is no host to go back to)."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/login/", "/leads/", "/api/v1/leads"])
def test_a_host_not_ours_is_refused_with_400(settings, path):
    settings.ALLOWED_HOSTS = ["dcc.example"]
    response = Client().get(path, HTTP_HOST="evil.example", HTTP_REFERER="http://evil.example/x")
    assert response.status_code == 400
    assert b"evil.example/x" not in response.content
