"""Sign-in and token throttling (accounts.throttle): by account and by address, waits that
double, a clear message on the login form, a lockout record; an attacker cannot hold a real
user back for more than a minute."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.test import Client, RequestFactory
from django.utils import timezone, translation

from accounts import throttle
from accounts.models import ApiToken, Lockout
from tests.conftest import Team
from tests.kit import PASSWORD

pytestmark = pytest.mark.django_db


def browser(address: str = "10.0.0.1", lang: str = "en") -> Client:
    client = Client(REMOTE_ADDR=address)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = lang
    return client


def sign_in(client: Client, username: str, password: str):
    return client.post("/login/", {"username": username, "password": password})


def later(fixed_clock, seconds: float) -> None:
    fixed_clock.move_to(timezone.now() + timedelta(seconds=seconds))


def test_thirty_wrong_passwords_then_the_right_one_waits(team: Team, fixed_clock):
    client = browser()
    username = team.dcc_agent.username
    for _ in range(30):
        sign_in(client, username, "wrong")

    response = sign_in(client, username, PASSWORD)

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    html = response.content.decode()
    assert "Too many failed attempts. Try again in" in html
    assert "_auth_user_id" not in client.session

    later(fixed_clock, int(response["Retry-After"]) + 1)
    assert sign_in(client, username, PASSWORD).status_code == 302
    assert "_auth_user_id" in client.session


def test_the_first_few_mistakes_cost_nothing(team: Team):
    client = browser()
    for _ in range(throttle.ACCOUNT.free):
        response = sign_in(client, team.dcc_agent.username, "wrong")
        assert response.status_code == 200
        assert "Too many failed attempts" not in response.content.decode()

    assert sign_in(client, team.dcc_agent.username, PASSWORD).status_code == 302


def test_the_wait_doubles_and_the_accounts_wait_is_capped_at_a_minute(db):
    waits = [throttle.login_failed("chen.li", f"10.1.0.{i}") for i in range(14)]

    assert waits == [0, 0, 0, 0, 0, 2, 4, 8, 16, 32, 60, 60, 60, 60]


def test_an_address_that_keeps_failing_waits_longer_and_longer(db):
    waits = [throttle.login_failed(f"user{i}", "10.2.0.1") for i in range(22)]

    assert waits[:10] == [0] * 10
    assert waits[10:14] == [2, 4, 8, 16]
    assert waits[-2:] == [2048, 3600]  # the address's wait: no account failed twice


def test_an_attacker_holds_a_real_user_back_a_minute_at_most(team: Team, fixed_clock):
    username = team.dcc_agent.username
    attacker = browser("203.0.113.9")
    for _ in range(40):  # guessing again as soon as allowed, until the address waits long
        wait = int(sign_in(attacker, username, "guess").get("Retry-After", 0))
        if wait > 120:
            break
        later(fixed_clock, wait)
    assert wait > 120
    user = browser("10.3.0.7")

    refused = sign_in(user, username, PASSWORD)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) <= 60

    later(fixed_clock, 61)
    assert sign_in(user, username, PASSWORD).status_code == 302  # the real user is in
    assert sign_in(attacker, username, PASSWORD).status_code == 429  # the address still waits


def test_a_locked_account_is_not_even_checked(team: Team, fixed_clock):
    """While waiting, the right password is refused like a wrong one: guesses tell nothing."""
    client = browser()
    for _ in range(throttle.ACCOUNT.free + 1):
        sign_in(client, team.dcc_agent.username, "wrong")

    right = sign_in(client, team.dcc_agent.username, PASSWORD)
    wrong = sign_in(client, team.dcc_agent.username, "wrong")

    assert right.status_code == wrong.status_code == 429


def test_signing_in_starts_the_accounts_count_afresh(team: Team):
    client = browser()
    username = team.dcc_agent.username
    for _ in range(throttle.ACCOUNT.free):
        sign_in(client, username, "wrong")
    assert sign_in(client, username, PASSWORD).status_code == 302
    client.post("/logout/")

    assert sign_in(browser("10.4.0.1"), username, "wrong").status_code == 200  # no wait yet


def test_a_lockout_is_recorded_and_logged(team: Team, caplog):
    client = browser("198.51.100.4")
    with caplog.at_level(logging.WARNING, logger="dcc.security"):
        for _ in range(throttle.ACCOUNT.free + 1):
            sign_in(client, team.dcc_agent.username, "wrong")

    lockout = Lockout.objects.get()
    assert lockout.scope == Lockout.ACCOUNT
    assert lockout.username == team.dcc_agent.username
    assert lockout.address == "198.51.100.4"
    assert lockout.failures == throttle.ACCOUNT.free + 1
    assert lockout.until == pytest.approx(lockout.at + timedelta(seconds=2), abs=timedelta(1))
    assert any("lockout account" in r.getMessage() for r in caplog.records)


def test_the_wait_is_said_in_chinese(team: Team, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    client = browser(lang="zh-hans")
    for _ in range(throttle.ACCOUNT.free + 1):
        response = sign_in(client, team.dcc_agent.username, "wrong")

    with translation.override("zh-hans"):
        expected = translation.ngettext(
            "Too many failed attempts. Try again in %(seconds)d second (at %(time)s).",
            "Too many failed attempts. Try again in %(seconds)d seconds (at %(time)s).",
            2,
        )
    assert expected.startswith("登录失败次数过多")
    html = response.content.decode()
    at = (timezone.localtime() + timedelta(seconds=2)).strftime("%H:%M:%S")
    assert expected % {"seconds": 2, "time": at} in html


# ---------------------------------------------------------------- bearer tokens


def test_two_hundred_wrong_tokens_get_429_with_retry_after(team: Team, fixed_clock):
    statuses = []
    for i in range(200):
        client = Client(REMOTE_ADDR="192.0.2.8", headers={"Authorization": f"Bearer wrong{i}"})
        statuses.append(client.get("/api/v1/leads").status_code)

    assert statuses[: throttle.TOKEN.free] == [401] * throttle.TOKEN.free
    assert statuses[-1] == 429
    _row, raw = ApiToken.issue(staff=team.dcc_agent, name="integration")
    same_address = Client(REMOTE_ADDR="192.0.2.8", headers={"Authorization": f"Bearer {raw}"})
    refused = same_address.get("/api/v1/leads")
    assert refused.status_code == 429
    assert refused.json()["code"] == "too_many_attempts"
    assert int(refused["Retry-After"]) > 0
    assert Lockout.objects.filter(scope=Lockout.TOKEN, address="192.0.2.8").exists()

    elsewhere = Client(REMOTE_ADDR="192.0.2.9", headers={"Authorization": f"Bearer {raw}"})
    assert elsewhere.get("/api/v1/leads").status_code == 200
    later(fixed_clock, int(refused["Retry-After"]) + 1)
    assert same_address.get("/api/v1/leads").status_code == 200


def test_behind_the_proxy_the_address_is_the_one_it_appended(settings):
    request = RequestFactory().get(
        "/login/", REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7"
    )
    settings.DCC_BEHIND_PROXY = False
    assert throttle.client_address(request) == "10.9.9.9"
    settings.DCC_BEHIND_PROXY = True
    assert throttle.client_address(request) == "198.51.100.7"
