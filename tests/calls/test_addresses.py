"""Odd addresses on the call pages: ids beyond 64 bits, a NUL in a query are refused, never a
server error."""

from __future__ import annotations

from tests.kit import login


def test_odd_addresses_are_refused_not_server_errors(team, account):
    c = login(team.dcc_agent)
    for url in [
        "/calls/99999999999999999999999/status/",
        "/calls/recordings/99999999999999999999999/",
        "/leads/99999999999999999999999/recordings/",
        "/calls/panel/?shown=%00",
    ]:
        assert c.get(url).status_code in (204, 400, 404), (url, c.get(url).status_code)
    for url in [
        "/calls/99999999999999999999999/capture/",
        "/leads/99999999999999999999999/dial/",
        "/calls/99999999999999999999999/dismiss/",
    ]:
        assert c.post(url).status_code == 404, url
