"""The public capture page as a visitor's phone sees it, and marketing's campaign pages."""

from __future__ import annotations

import re

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from campaigns import capture
from campaigns.models import Campaign, CampaignLead, CaptureCode
from leads.models import Lead
from privacy.models import ConsentRecord
from tests.campaigns.conftest import a_day
from tests.kit import login

pytestmark = pytest.mark.django_db

ANONYMOUS = {"REMOTE_ADDR": "203.0.113.5"}


def visitor(language: str | None = None) -> Client:
    client = Client(enforce_csrf_checks=True)
    if language:
        client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language
    return client


def shown_form(client: Client, code: CaptureCode) -> dict[str, str]:
    """The hidden fields of the page as shown (CSRF and the form token)."""
    html = client.get(f"/c/{code.code}/", **ANONYMOUS).content.decode()
    return dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', html))


def window_start():
    """The start of an hour: the rate limits' windows all begin then."""
    return timezone.now().replace(minute=0, second=1)


def send(client, code, fixed_clock, *, wait=True, **fields):
    data = shown_form(client, code) | {"name": "韩梅梅", "mobile": "13987654321"} | fields
    if wait:
        fixed_clock.shift(capture.MIN_FILL_SECONDS + 2)
    return client.post(f"/c/{code.code}/", data, **ANONYMOUS)


def test_the_page_is_public_and_chinese_by_default(team, show, own_code, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    response = visitor().get(f"/c/{own_code.code}/", HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in html
    assert "免费领取车展门票" in html and "我同意接收电话和短信。" in html
    assert "手机号" in html and "领取" in html


def test_a_visitor_claims_the_offer(team, show, staff_code, fixed_clock):
    client = visitor()
    response = send(client, staff_code, fixed_clock, consent="on")
    assert response.status_code == 302
    assert response["Location"] == f"/c/{staff_code.code}/done/"
    done = client.get(response["Location"])
    assert "Claimed" in done.content.decode() and "免费领取车展门票" in done.content.decode()
    lead = Lead.objects.get()
    assert CampaignLead.objects.get(lead=lead).capture_code == staff_code
    evidence = ConsentRecord.objects.filter(customer=lead.customer).first().evidence
    assert "203.0.113.5" in evidence and f"/c/{staff_code.code}/" in evidence


def test_consent_is_optional(team, show, own_code, fixed_clock):
    assert send(visitor(), own_code, fixed_clock).status_code == 302
    assert Lead.objects.count() == 1 and not ConsentRecord.objects.exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"name": "李" * 51}, "at most 50 characters"),
        ({"mobile": "12345"}, ""),
        ({"mobile": "not a phone"}, ""),
        ({"car_model": "x" * 201}, ""),
        ({"website": "http://spam.example"}, "send them again"),
    ],
)
def test_bad_input_is_shown_on_the_page_and_nothing_is_written(
    team, own_code, fixed_clock, fields, message
):
    response = send(visitor(), own_code, fixed_clock, **fields)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Lead.objects.exists()


def test_a_form_sent_too_fast_is_refused_and_can_be_sent_again(team, own_code, fixed_clock):
    client = visitor()
    response = send(client, own_code, fixed_clock, wait=False)
    assert response.status_code == 422
    assert "That was very quick" in response.content.decode()
    assert not Lead.objects.exists()
    # The page shown again carries a fresh token: sent after a moment, it goes through.
    html = response.content.decode()
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    fixed_clock.shift(capture.MIN_FILL_SECONDS + 1)
    again = client.post(
        f"/c/{own_code.code}/",
        {"csrfmiddlewaretoken": csrf, "token": token, "name": "韩梅梅", "mobile": "13987654321"},
        **ANONYMOUS,
    )
    assert again.status_code == 302


def test_a_form_without_csrf_is_refused(team, own_code, fixed_clock):
    fixed_clock.shift(10)
    response = visitor().post(
        f"/c/{own_code.code}/",
        {"token": capture.form_token(own_code.code), "name": "x", "mobile": "13987654321"},
    )
    assert response.status_code == 403 and not Lead.objects.exists()


def test_scripts_are_shown_escaped(team, show, own_code, fixed_clock):
    show.offer = "<script>alert(1)</script>"
    show.consent_wording = "<b>同意</b>"
    show.save()
    html = visitor().get(f"/c/{own_code.code}/").content.decode()
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>同意</b>" not in html and "&lt;b&gt;同意&lt;/b&gt;" in html
    response = send(visitor(), own_code, fixed_clock, name="<script>x</script>")
    assert response.status_code == 302
    assert Lead.objects.get().customer.name == "<script>x</script>"


def test_an_address_sending_too_many_forms_gets_a_429_page(team, own_code, fixed_clock):
    fixed_clock.move_to(window_start())
    client = visitor()
    fields = shown_form(client, own_code)
    for _ in range(capture.ADDRESS_LIMIT.count):  # every form counts, refused or not
        assert client.post(f"/c/{own_code.code}/", fields, **ANONYMOUS).status_code == 422
    response = client.post(f"/c/{own_code.code}/", fields | {"name": ""}, **ANONYMOUS)
    assert response.status_code == 429
    assert "Too many tries. Please try again in" in response.content.decode()
    assert int(response["Retry-After"]) > 0


def test_one_number_too_often_gets_a_429_page(team, own_code, fixed_clock):
    fixed_clock.move_to(window_start())
    for _ in range(capture.MOBILE_LIMIT.count):
        assert send(visitor(), own_code, fixed_clock).status_code == 302
    response = send(visitor(), own_code, fixed_clock)
    assert response.status_code == 429 and "Too many tries" in response.content.decode()


def test_an_ended_campaign_says_so_with_410(team, show, own_code, settings):
    show.starts_on, show.ends_on = a_day(-10), a_day(-1)
    show.save()
    response = visitor().get(f"/c/{own_code.code}/")
    assert response.status_code == 410
    assert "ended on" in response.content.decode() and "<form" not in response.content.decode()
    settings.LANGUAGE_CODE = "zh-hans"
    ended_on = a_day(-1).isoformat()
    assert f"已于 {ended_on} 结束" in visitor().get(f"/c/{own_code.code}/").content.decode()


def test_an_unknown_code_is_404(team, show):
    response = visitor().get("/c/nosuchcode23/")
    assert response.status_code == 404 and "unknown" in response.content.decode()


# ---------------------------------------------------------------- the staff pages


@pytest.mark.parametrize("role", ["marketing_manager", "gm", "sales_manager", "headquarters"])
def test_the_campaign_pages_open_for_their_readers(team, show, role):
    client = login(getattr(team, role))
    assert client.get("/campaigns/").status_code == 200
    assert client.get(f"/campaigns/{show.pk}/").status_code == 200


@pytest.mark.parametrize("role", ["dcc_agent", "consultant", "platform_specialist", "auditor"])
def test_the_campaign_pages_refuse_the_others(team, show, role):
    client = login(getattr(team, role))
    for path in ("/campaigns/", "/campaigns/new/", f"/campaigns/{show.pk}/"):
        assert client.get(path).status_code == 403


def test_headquarters_reads_but_changes_nothing(team, show):
    client = login(team.headquarters)
    assert client.get("/campaigns/new/").status_code == 403
    assert client.get(f"/campaigns/{show.pk}/edit/").status_code == 403
    response = client.post(f"/campaigns/{show.pk}/", {"staff": team.consultant.pk})
    assert response.status_code == 403
    assert not CaptureCode.objects.filter(staff=team.consultant).exists()


def test_another_dealers_campaign_is_not_found(team, other_team, show):
    assert login(other_team.gm).get(f"/campaigns/{show.pk}/").status_code == 404


def test_marketing_creates_a_campaign_by_the_form(team):
    client = login(team.marketing_manager)
    car_show = team.dealer.channels.get(code="car_show")
    form = {
        "name": "春季车展",
        "kind": "car_show",
        "starts_on": a_day(0).isoformat(),
        "ends_on": a_day(3).isoformat(),
        "channel": car_show.pk,
        "budget": "1000",
        "cost": "800",
        "offer": "门票",
        "consent_wording": "",
        "car_models": "瑶光\n揽月",
    }
    bad = client.post("/campaigns/new/", form | {"ends_on": a_day(-1).isoformat()})
    assert (
        bad.status_code == 422
        and "The last day cannot be before the first." in bad.content.decode()
    )
    response = client.post("/campaigns/new/", form)
    made = Campaign.objects.get()
    assert response["Location"] == f"/campaigns/{made.pk}/"
    assert made.model_choices == ["瑶光", "揽月"] and made.channel == car_show


def test_the_detail_shows_each_codes_qr_and_figures_and_issues_codes(team, show, fixed_clock):
    client = login(team.marketing_manager)
    response = client.post(f"/campaigns/{show.pk}/", {"staff": team.consultant.pk})
    assert response.status_code == 302
    code = CaptureCode.objects.get(campaign=show, staff=team.consultant)
    send(visitor(), code, fixed_clock)
    html = client.get(f"/campaigns/{show.pk}/").content.decode()
    assert html.count('class="dcc-qr"') == 2
    assert f"http://testserver/c/{code.code}/" in html
    card = html.split(f'data-code="{code.code}"', 1)[1].split("</article>", 1)[0]
    assert str(team.consultant) in card
    assert '<dd data-figure="leads">1</dd>' in card
