"""The dealer's phone settings pages: who may open and change them, each form's happy path
and its field errors, secrets that are never shown back, the push address, script versions."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import SettingsChange
from accounts.roles import Role
from calls import setup
from calls.models import BlockedNumber, Line, LineKind, PhoneAccount, PhoneSettings, Script, Seat
from calls.providers import PROVIDERS, BadCredentials
from dcc.errors import InvalidInput, NotPermitted
from tests.calls.reports import HOTLINE
from tests.conftest import Team
from tests.factories import channel
from tests.kit import login

pytestmark = pytest.mark.django_db

SECRET_KEY = "tccc-secret-key-4f9a1c7e"
PUSH_PASSWORD = "push-password-8b2d6e0a"
PUSH_TOKEN = "push-token-c3e5a9f1"


def page(response) -> str:
    return response.content.decode()


def tccc_data(**changes) -> dict:
    data = {
        "api_url": "",
        "sdk_app_id": "1400123456",
        "secret_id": "AKIDexample",
        "secret_key": SECRET_KEY,
        "region": "ap-shanghai",
        "caller": "008602161234567",
        "push_username": "dcc",
        "push_password": PUSH_PASSWORD,
        "push_token": PUSH_TOKEN,
        "recording_hosts": "rec.dealer.example, .bucket.example",
        "is_active": "on",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def line_data(team: Team, **changes) -> dict:
    data = {
        "number": "021-6123 4567",
        "kind": LineKind.DIRECT,
        "name": "Showroom",
        "channel": channel(team.dealer, "autohome").pk,
        "callback_minutes": "45",
        "is_active": "on",
    }
    data.update(changes)
    return data


def field_error(response, field: str) -> str:
    """The errors the form of the page shows on `field`."""
    form = response.context["form"]
    assert field in form.errors, f"no error on {field}: {form.errors.as_json()}"
    return " ".join(form.errors[field])


# ---------------------------------------------------------------- who may open and change


def pages(account: PhoneAccount) -> list[str]:
    line = Line.objects.get(dealer=account.dealer)
    return [
        reverse("settings_phone"),
        reverse("settings_phone_account_new", args=["tccc"]),
        reverse("settings_phone_account", args=[account.pk]),
        reverse("settings_phone_seats", args=[account.pk]),
        reverse("settings_phone_lines"),
        reverse("settings_phone_line_new"),
        reverse("settings_phone_line", args=[line.pk]),
        reverse("settings_phone_blocked"),
        reverse("settings_phone_scripts"),
        reverse("settings_phone_script", args=["first_call"]),
        reverse("settings_phone_retention"),
    ]


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.GM, 200),
        (Role.SALES_MANAGER, 200),
        (Role.DCC_SUPERVISOR, 200),
        (Role.SHOWROOM_MANAGER, 200),
        (Role.DCC_AGENT, 403),
        (Role.CONSULTANT, 403),
        (Role.MARKETING_MANAGER, 403),
        (Role.HEADQUARTERS, 403),
    ],
)
def test_phone_settings_are_for_those_who_change_settings(
    team: Team, account: PhoneAccount, role: Role, expected: int
):
    client = login(team.by_role(role))
    for path in pages(account):
        assert client.get(path).status_code == expected, path


def test_an_agent_changes_nothing(team: Team, account: PhoneAccount):
    client = login(team.dcc_agent)
    seat = account.seats.first()
    posts = [
        (reverse("settings_phone_account", args=[account.pk]), tccc_data()),
        (reverse("settings_phone_push_key", args=[account.pk]), {}),
        (reverse("settings_phone_generate", args=[account.pk, "push_token"]), {}),
        (reverse("settings_phone_seat_add", args=[account.pk]), {"seat-seat": "9"}),
        (reverse("settings_phone_seat_remove", args=[account.pk, seat.pk]), {}),
        (reverse("settings_phone_line_new"), line_data(team)),
        (reverse("settings_phone_blocked"), {"block-number": "13900001111"}),
        (reverse("settings_phone_retention"), {"recording_retention_days": "60"}),
    ]
    key = account.push_key
    for path, data in posts:
        assert client.post(path, data).status_code == 403, path
    account.refresh_from_db()
    assert account.push_key == key
    assert account.seats.count() == 2
    assert Line.objects.filter(dealer=team.dealer).count() == 1
    assert not BlockedNumber.objects.exists()
    with pytest.raises(NotPermitted):
        setup.set_retention_days(dealer=team.dealer, by=team.dcc_agent, days=60)


def test_anonymous_visitors_are_sent_to_log_in(db):
    response = Client().get(reverse("settings_phone"))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_another_dealers_gm_cannot_touch_this_dealers_phone(
    team: Team, other_team: Team, account: PhoneAccount
):
    client = login(other_team.gm)
    seat = account.seats.first()
    line = Line.objects.get(dealer=team.dealer)
    blocked = setup.block_number(dealer=team.dealer, by=team.gm, number="13900001111")
    gets = [
        reverse("settings_phone_account", args=[account.pk]),
        reverse("settings_phone_seats", args=[account.pk]),
        reverse("settings_phone_line", args=[line.pk]),
    ]
    for path in gets:
        assert client.get(path).status_code == 404, path
    posts = [
        (reverse("settings_phone_account", args=[account.pk]), tccc_data()),
        (reverse("settings_phone_push_key", args=[account.pk]), {}),
        (reverse("settings_phone_generate", args=[account.pk, "push_token"]), {}),
        (reverse("settings_phone_seat_add", args=[account.pk]), {"seat-seat": "9"}),
        (reverse("settings_phone_seat_remove", args=[account.pk, seat.pk]), {}),
        (reverse("settings_phone_line", args=[line.pk]), line_data(team)),
        (reverse("settings_phone_unblock", args=[blocked.pk]), {}),
    ]
    key = account.push_key
    for path, data in posts:
        assert client.post(path, data).status_code == 404, path
    account.refresh_from_db()
    assert account.push_key == key and account.credentials == {}
    assert account.seats.count() == 2
    assert BlockedNumber.objects.filter(pk=blocked.pk).exists()
    # Their own lists show none of it.
    assert HOTLINE not in page(client.get(reverse("settings_phone_lines")))


def test_the_settings_overview_and_menu_link_the_phone_settings(team: Team):
    client = login(team.dcc_supervisor)
    href = f'href="{reverse("settings_phone")}"'
    for name in ("dealer_settings", "settings_channels"):
        assert href in page(client.get(reverse(name))), name
    body = page(client.get(reverse("settings_phone_lines")))
    assert 'aria-current="true"' in body  # the menu marks the phone section as the current one


def test_the_pages_speak_chinese_by_default(team: Team, account: PhoneAccount, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    body = page(login(team.gm).get(reverse("settings_phone_account", args=[account.pk])))
    assert "推送地址" in body


# ---------------------------------------------------------------- accounts


def test_adding_an_account_stores_its_settings_and_never_shows_the_secrets(team: Team):
    client = login(team.gm)
    response = client.post(reverse("settings_phone_account_new", args=["tccc"]), tccc_data())
    assert response.status_code == 302
    account = PhoneAccount.objects.get(dealer=team.dealer, provider="tccc")
    assert response["Location"] == reverse("settings_phone_account", args=[account.pk])
    assert account.credentials == {
        "sdk_app_id": "1400123456",
        "secret_id": "AKIDexample",
        "secret_key": SECRET_KEY,
        "region": "ap-shanghai",
        "caller": "008602161234567",
        "push_username": "dcc",
        "push_password": PUSH_PASSWORD,
        "push_token": PUSH_TOKEN,
        "recording_hosts": "rec.dealer.example,.bucket.example",
    }
    assert account.is_active
    paths = [
        reverse("settings_phone"),
        reverse("settings_phone_account", args=[account.pk]),
        reverse("settings_phone_seats", args=[account.pk]),
        reverse("settings_phone_lines"),
        reverse("settings_phone_scripts"),
        reverse("dealer_settings"),
    ]
    for path in paths:
        body = page(client.get(path))
        for secret in (SECRET_KEY, PUSH_PASSWORD, PUSH_TOKEN):
            assert secret not in body, (path, secret)
    body = page(client.get(reverse("settings_phone_account", args=[account.pk])))
    assert "AKIDexample" in body  # what is not secret is shown
    assert "Set: leave empty to keep it." in body
    change = SettingsChange.objects.get(dealer=team.dealer, what="phone_account_created")
    assert "secret_key" in change.detail["settings"]
    for secret in (SECRET_KEY, PUSH_PASSWORD, PUSH_TOKEN):
        assert secret not in str(change.detail)


def test_a_secret_left_empty_keeps_its_value_and_a_ticked_one_is_removed(team: Team):
    client = login(team.gm)
    client.post(reverse("settings_phone_account_new", args=["tccc"]), tccc_data())
    account = PhoneAccount.objects.get(dealer=team.dealer, provider="tccc")
    path = reverse("settings_phone_account", args=[account.pk])
    response = client.post(
        path,
        tccc_data(secret_key="", push_password="", push_token="", clear_push_token="on", region=""),
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.credentials["secret_key"] == SECRET_KEY
    assert account.credentials["push_password"] == PUSH_PASSWORD
    assert "push_token" not in account.credentials
    assert "region" not in account.credentials  # a plain setting left empty is removed
    # A failed save shows no secret either, not even the one just typed.
    response = client.post(path, tccc_data(secret_key="typed-secret-77", sdk_app_id="app"))
    assert response.status_code == 422
    assert "SdkAppId" in field_error(response, "sdk_app_id")
    assert "typed-secret-77" not in page(response) and SECRET_KEY not in page(response)
    account.refresh_from_db()
    assert account.credentials["secret_key"] == SECRET_KEY  # nothing half-written


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"recording_hosts": "10.0.0.5"}, "recording_hosts"),
        ({"recording_hosts": "localhost"}, "recording_hosts"),
        ({"recording_hosts": "ok.example, bad host"}, "recording_hosts"),
        ({"api_url": "ftp://ccc.example"}, "api_url"),
        ({"sdk_app_id": "14001x"}, "sdk_app_id"),
        ({"push_password": ""}, "push_password"),
    ],
)
def test_bad_account_settings_are_field_errors(team: Team, changes: dict, field: str):
    response = login(team.gm).post(
        reverse("settings_phone_account_new", args=["tccc"]), tccc_data(**changes)
    )
    assert response.status_code == 422
    assert field_error(response, field)
    assert not PhoneAccount.objects.filter(dealer=team.dealer).exists()


def test_one_account_per_provider(team: Team, account: PhoneAccount):
    client = login(team.gm)
    body = page(client.get(reverse("settings_phone")))
    assert reverse("settings_phone_account_new", args=["tccc"]) in body
    assert reverse("settings_phone_account_new", args=["generic"]) not in body
    response = client.post(
        reverse("settings_phone_account_new", args=["generic"]),
        {"push_token": "t", "is_active": "on"},
    )
    assert response.status_code == 422
    assert "already has an account" in page(response)
    assert PhoneAccount.objects.filter(dealer=team.dealer).count() == 1
    assert client.get(reverse("settings_phone_account_new", args=["nokia"])).status_code == 404


def test_the_account_page_shows_the_full_push_address(team: Team, account: PhoneAccount):
    body = page(login(team.gm).get(reverse("settings_phone_account", args=[account.pk])))
    assert f"http://testserver/phone/push/{account.push_key}/" in body
    assert "every push is refused" in body  # no push authentication configured yet


def test_a_new_push_key_changes_the_address(team: Team, account: PhoneAccount):
    client = login(team.gm)
    old = account.push_key
    response = client.post(reverse("settings_phone_push_key", args=[account.pk]))
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.push_key != old
    body = page(client.get(reverse("settings_phone_account", args=[account.pk])))
    assert f"/phone/push/{account.push_key}/" in body
    assert f"/phone/push/{old}/" not in body
    assert (
        client.post(f"/phone/push/{old}/", b"{}", content_type="application/json").status_code
        == 404
    )


@pytest.mark.parametrize("key", ["push_token", "push_secret"])
def test_a_generated_push_secret_is_shown_once(team: Team, account: PhoneAccount, key: str):
    client = login(team.gm)
    response = client.post(reverse("settings_phone_generate", args=[account.pk, key]))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    account.refresh_from_db()
    value = account.credentials[key]
    assert len(value) >= 40
    assert value in page(response)
    body = page(client.get(reverse("settings_phone_account", args=[account.pk])))
    assert value not in body
    if key == "push_token":  # the provider's pushes now authenticate with it
        PROVIDERS["generic"].authenticate({}, b"{}", {"token": value}, account.credentials)
        with pytest.raises(BadCredentials):
            PROVIDERS["generic"].authenticate({}, b"{}", {"token": "x"}, account.credentials)


def test_tccc_has_no_signing_secret_to_generate(team: Team):
    tccc = setup.create_account(
        dealer=team.dealer, by=team.gm, provider="tccc", credentials={"push_token": "t"}
    )
    client = login(team.gm)
    assert (
        client.post(reverse("settings_phone_generate", args=[tccc.pk, "push_secret"])).status_code
        == 404
    )


# ---------------------------------------------------------------- lines


def test_adding_a_line_normalises_its_number(team: Team, account: PhoneAccount):
    response = login(team.gm).post(reverse("settings_phone_line_new"), line_data(team))
    assert response.status_code == 302
    line = Line.objects.get(dealer=team.dealer, number="02161234567")
    assert (line.kind, line.name, line.callback_minutes, line.is_active) == (
        LineKind.DIRECT,
        "Showroom",
        45,
        True,
    )
    assert line.channel == channel(team.dealer, "autohome")
    assert SettingsChange.objects.filter(what="phone_line_created", subject="02161234567").exists()


def test_editing_a_line(team: Team, account: PhoneAccount):
    line = Line.objects.get(dealer=team.dealer)
    client = login(team.dcc_supervisor)
    path = reverse("settings_phone_line", args=[line.pk])
    assert HOTLINE in page(client.get(path))
    response = client.post(
        path,
        line_data(team, number="400 800 1234", kind="400", callback_minutes="15", is_active=""),
    )
    assert response.status_code == 302
    line.refresh_from_db()
    assert (line.number, line.callback_minutes, line.is_active) == (HOTLINE, 15, False)


def test_a_duplicate_line_number_is_a_field_error(team: Team, account: PhoneAccount):
    response = login(team.gm).post(
        reverse("settings_phone_line_new"), line_data(team, number="+86 400-800-1234")
    )
    assert response.status_code == 422
    assert "already has the line 4008001234" in field_error(response, "number")
    assert Line.objects.filter(dealer=team.dealer).count() == 1


@pytest.mark.parametrize("number", ["1234", "12345678901234567890123", "400-800-CALL", "无"])
def test_a_bad_line_number_is_a_field_error(team: Team, number: str):
    response = login(team.gm).post(
        reverse("settings_phone_line_new"), line_data(team, number=number)
    )
    assert response.status_code == 422
    assert "5 to 20 digits" in field_error(response, "number")
    assert not Line.objects.exists()


def test_a_line_needs_an_active_channel_of_the_dealer_and_a_sane_callback_time(
    team: Team, other_team: Team
):
    client = login(team.gm)
    path = reverse("settings_phone_line_new")
    foreign = channel(other_team.dealer, "autohome").pk
    response = client.post(path, line_data(team, channel=foreign))
    assert response.status_code == 422 and field_error(response, "channel")
    response = client.post(path, line_data(team, callback_minutes="0"))
    assert response.status_code == 422 and field_error(response, "callback_minutes")
    response = client.post(path, line_data(team, callback_minutes="1441"))
    assert response.status_code == 422 and field_error(response, "callback_minutes")
    with pytest.raises(InvalidInput) as raised:
        setup.create_line(
            dealer=team.dealer,
            by=team.gm,
            number="4008009999",
            kind="400",
            channel=channel(other_team.dealer, "autohome"),
        )
    assert raised.value.field == "channel"
    assert not Line.objects.exists()


# ---------------------------------------------------------------- seats


def test_adding_and_removing_a_seat(team: Team, account: PhoneAccount):
    client = login(team.gm)
    response = client.post(
        reverse("settings_phone_seat_add", args=[account.pk]),
        {"seat-seat": " 8003 ", "seat-staff": team.dcc_supervisor.pk},
    )
    assert response.status_code == 302
    seat = Seat.objects.get(account=account, seat="8003")
    assert seat.staff == team.dcc_supervisor
    body = page(client.get(reverse("settings_phone_seats", args=[account.pk])))
    assert "8003" in body and str(team.dcc_supervisor) in body
    response = client.post(reverse("settings_phone_seat_remove", args=[account.pk, seat.pk]))
    assert response.status_code == 302
    assert not Seat.objects.filter(pk=seat.pk).exists()
    assert SettingsChange.objects.filter(what="phone_seat_removed").exists()


def test_a_seat_used_twice_in_an_account_is_a_field_error(team: Team, account: PhoneAccount):
    response = login(team.gm).post(
        reverse("settings_phone_seat_add", args=[account.pk]),
        {"seat-seat": "8001", "seat-staff": team.consultant.pk},
    )
    assert response.status_code == 422
    assert "already in this account" in field_error(response, "seat")
    assert Seat.objects.get(account=account, seat="8001").staff == team.dcc_agent


def test_only_people_who_take_calls_here_get_a_seat(
    team: Team, other_team: Team, account: PhoneAccount
):
    client = login(team.gm)
    path = reverse("settings_phone_seat_add", args=[account.pk])
    for person in (team.auditor, other_team.dcc_agent):
        response = client.post(path, {"seat-seat": "8009", "seat-staff": person.pk})
        assert response.status_code == 422
        assert field_error(response, "staff")
    choices = page(client.get(reverse("settings_phone_seats", args=[account.pk])))
    assert str(team.owner_ops) in choices and str(team.auditor) not in choices
    with pytest.raises(InvalidInput):
        setup.add_seat(account=account, by=team.gm, seat="8009", staff=team.gm)
    assert not Seat.objects.filter(seat="8009").exists()


# ---------------------------------------------------------------- blocked numbers


def test_blocking_and_unblocking_a_number(team: Team):
    client = login(team.gm)
    path = reverse("settings_phone_blocked")
    response = client.post(path, {"block-number": "+86 139-1111-2222", "block-reason": "Supplier"})
    assert response.status_code == 302
    blocked = BlockedNumber.objects.get(dealer=team.dealer)
    assert (blocked.number, blocked.reason, blocked.created_by) == (
        "13911112222",
        "Supplier",
        team.gm,
    )
    assert "13911112222" in page(client.get(path))
    response = client.post(path, {"block-number": "13911112222"})
    assert response.status_code == 422
    assert "already blocked" in field_error(response, "number")
    response = client.post(path, {"block-number": "call me"})
    assert response.status_code == 422 and field_error(response, "number")
    assert client.post(reverse("settings_phone_unblock", args=[blocked.pk])).status_code == 302
    assert not BlockedNumber.objects.exists()


# ---------------------------------------------------------------- call scripts


def test_the_scripts_page_shows_the_product_default(team: Team):
    body = page(login(team.gm).get(reverse("settings_phone_scripts")))
    assert "First call of a platform lead" in body
    assert "product default" in body


def test_a_script_edit_makes_a_new_version_and_keeps_the_old(team: Team):
    client = login(team.dcc_supervisor)
    path = reverse("settings_phone_script", args=["first_call"])
    first = {"title": "First call", "body": "Hello, {agent} of {dealer} here."}
    assert client.post(path, first).status_code == 302
    response = client.post(path, {**first, "body": "Hi, {agent} from {dealer}: about the {model}?"})
    assert response.status_code == 302
    versions = Script.objects.filter(dealer=team.dealer, purpose="first_call").order_by("version")
    assert [(s.version, s.is_current) for s in versions] == [(1, False), (2, True)]
    assert versions[0].body == "Hello, {agent} of {dealer} here."
    assert versions[1].created_by == team.dcc_supervisor
    body = page(client.get(path))
    assert 'id="version-1"' in body and 'id="version-2"' in body
    assert "In force: version 2" in body
    listing = page(client.get(reverse("settings_phone_scripts")))
    assert "version 2" in listing and "about the {model}?" in listing
    # The same text again makes no version 3.
    client.post(path, {**first, "body": "Hi, {agent} from {dealer}: about the {model}?"})
    assert Script.objects.filter(dealer=team.dealer, purpose="first_call").count() == 2


def test_a_script_for_one_stage_and_grade(team: Team):
    client = login(team.gm)
    path = reverse("settings_phone_script", args=["invitation"])
    data = {
        "title": "Hot leads",
        "body": "Come today, {model}!",
        "stage": "contacted",
        "grade": "H",
    }
    response = client.post(path, data)
    assert response.status_code == 302
    assert response["Location"] == f"{path}?stage=contacted&grade=H"
    script = Script.objects.get(dealer=team.dealer, purpose="invitation")
    assert (script.stage, script.grade, script.version) == ("contacted", "H", 1)
    assert "Hot leads" in page(client.get(reverse("settings_phone_scripts")))


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": "T", "body": "Hello {customer}"}, "body"),
        ({"title": "T", "body": "Hello {agent"}, "body"),
        ({"title": "T", "body": ""}, "body"),
        ({"title": "", "body": "Hello"}, "title"),
        ({"title": "T", "body": "Hello", "stage": "lost"}, "stage"),
    ],
)
def test_bad_scripts_are_field_errors(team: Team, data: dict, field: str):
    response = login(team.gm).post(reverse("settings_phone_script", args=["inbound"]), data)
    assert response.status_code == 422
    assert field_error(response, field)
    assert not Script.objects.exists()


# ---------------------------------------------------------------- retention


def test_retention_below_30_days_is_refused(team: Team):
    client = login(team.gm)
    path = reverse("settings_phone_retention")
    response = client.post(path, {"recording_retention_days": "29"})
    assert response.status_code == 422
    assert "at least 30 days" in field_error(response, "recording_retention_days")
    assert PhoneSettings.of(team.dealer).recording_retention_days == 180
    assert client.post(path, {"recording_retention_days": "30"}).status_code == 302
    assert PhoneSettings.of(team.dealer).recording_retention_days == 30
    assert 'value="30"' in page(client.get(path))
    change = SettingsChange.objects.get(what="recording_retention_set")
    assert change.detail == {"days": 30} and change.changed_by == team.gm
