"""The SMS pages as people use them: the lead page's panel, the bulk send with its preview,
templates and settings; input no form offers is refused in place (422) and stores nothing;
another dealer's things are not found; each page opens for exactly its people."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.utils import timezone

from accounts.roles import Role
from sms.models import Message, Provider, Reply, SmsSettings, Template
from tests.factories import make_lead
from tests.kit import login
from tests.sms.conftest import agree

pytestmark = pytest.mark.django_db


def local(text: str) -> datetime:
    return timezone.make_aware(datetime.fromisoformat(text))


def test_the_lead_panel_sends_a_message(team, lead, notice):
    agent = login(team.dcc_agent)
    panel = agent.get(f"/leads/{lead.pk}/sms/")
    assert panel.status_code == 200 and "试驾提醒" in panel.content.decode()
    answer = agent.post(f"/leads/{lead.pk}/sms/", {"template": notice.pk}, HTTP_HX_REQUEST="true")
    assert answer.status_code == 200
    assert "王先生您好" in answer.content.decode()
    assert Message.objects.filter(lead=lead).count() == 1
    assert 'data-testid="sms-panel"' in agent.get(f"/leads/{lead.pk}/").content.decode()


def test_the_lead_panel_says_why_a_message_does_not_go(team, lead, offer, fixed_clock):
    fixed_clock.move_to(local("2026-11-18 10:00"))
    answer = login(team.dcc_agent).post(f"/leads/{lead.pk}/sms/", {"template": offer.pk})
    assert answer.status_code == 422
    assert "no consent to marketing SMS" in answer.content.decode()
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    "data",
    [{}, {"template": "\x00"}, {"template": str(10**30)}, {"template": "abc"}],
    ids=["empty", "NUL", "huge id", "letters"],
)
def test_the_lead_panel_refuses_what_does_not_fit(team, lead, notice, data):
    assert login(team.dcc_agent).post(f"/leads/{lead.pk}/sms/", data).status_code == 422
    assert not Message.objects.exists()


def test_the_lead_panel_of_someone_elses_lead(team, other_team, lead, notice):
    assert login(team.consultant).get(f"/leads/{lead.pk}/sms/").status_code == 404
    assert login(other_team.gm).get(f"/leads/{lead.pk}/sms/").status_code == 404
    assert (
        login(team.headquarters).post(f"/leads/{lead.pk}/sms/", {"template": notice.pk}).status_code
        == 403
    )
    other_template = Template.objects.create(
        dealer=other_team.dealer, name="x", kind="notification", text="您好"
    )
    answer = login(team.dcc_agent).post(f"/leads/{lead.pk}/sms/", {"template": other_template.pk})
    assert answer.status_code == 422
    assert not Message.objects.exists()


def test_the_bulk_preview_counts_and_the_send_sends(team, offer, fixed_clock):
    fixed_clock.move_to(local("2026-11-18 10:00"))
    leads = [make_lead(team.dealer, by=team.dcc_agent, car_model="瑶光") for _ in range(3)]
    agree(leads[0])
    manager = login(team.marketing_manager)
    query = {"template": offer.pk, "car_model": "瑶光", "stages": ["new"]}
    preview = manager.get("/sms/bulk/", query)
    html = preview.content.decode()
    assert preview.status_code == 200
    assert 'data-testid="will-send">1<' in html
    assert 'data-testid="skipped-no_consent">2<' in html
    sent = manager.post("/sms/bulk/", query, follow=True)
    assert "1 sent, 0 failed, 2 skipped." in sent.content.decode()
    assert list(Message.objects.values_list("customer_id", flat=True)) == [leads[0].customer_id]


@pytest.mark.parametrize(
    "query",
    [
        {"template": "x"},
        {"template": "{t}", "stages": ["nope"]},
        {"template": "{t}", "grades": ["Z"]},
        {"template": "{t}", "channels": [str(10**20)]},
        {"template": "{t}", "tiers": ["-1"]},
        {"template": "{t}", "car_model": "\x00"},
        {"template": "{t}", "car_model": "x" * 101},
    ],
)
def test_the_bulk_page_refuses_what_does_not_fit(team, offer, query):
    query = {
        k: (v.replace("{t}", str(offer.pk)) if isinstance(v, str) else v) for k, v in query.items()
    }
    manager = login(team.marketing_manager)
    # A NUL in an address is refused before any page (400).
    nul = any("\x00" in str(value) for value in query.values())
    assert manager.get("/sms/bulk/", query).status_code == (400 if nul else 422)
    assert manager.post("/sms/bulk/", query).status_code == 422
    assert not Message.objects.exists()


def test_a_template_form_names_what_is_wrong(team, sms_settings):
    manager = login(team.marketing_manager)
    answer = manager.post(
        "/sms/templates/new/",
        {"name": "双十一", "kind": "marketing", "text": "${name}到店有礼", "is_active": "on"},
    )
    assert answer.status_code == 422
    assert "拒收请回复R" in answer.content.decode()
    answer = manager.post(
        "/sms/templates/new/",
        {
            "name": "双十一",
            "kind": "marketing",
            "text": "${name}到店有礼，拒收请回复R",
            "is_active": "on",
        },
    )
    assert answer.status_code == 302
    assert Template.objects.get().name == "双十一"
    for bad in (
        {"name": "\x00", "kind": "marketing", "text": "a"},
        {"name": "a", "kind": "spam", "text": "a"},
        {"name": "a", "kind": "notification", "text": "${x}"},
        {"name": "双十一", "kind": "notification", "text": "重名"},
    ):
        assert manager.post("/sms/templates/new/", bad).status_code == 422
    assert Template.objects.count() == 1
    assert login(team.dcc_agent).post("/sms/templates/new/", {}).status_code == 403


def test_the_settings_keep_the_secret_and_check_the_signature(team):
    gm = login(team.gm)
    fields = {
        "provider": "aliyun",
        "signature": "【星河4S店】",
        "access_key_id": "LTAI",
        "access_key_secret": "secret-1",
        "region_id": "cn-hangzhou",
        "quiet_from": "21:00",
        "quiet_until": "08:00",
        "marketing_per_day": "1",
        "messages_per_day": "10",
        "seconds_between": "60",
        "max_parts": "5",
    }
    assert gm.post("/settings/sms/", fields).status_code == 302
    settings = SmsSettings.objects.get(dealer=team.dealer)
    assert (settings.signature, settings.access_key_secret) == ("星河4S店", "secret-1")
    assert gm.post("/settings/sms/", {**fields, "access_key_secret": ""}).status_code == 302
    settings.refresh_from_db()
    assert settings.access_key_secret == "secret-1"
    page = gm.get("/settings/sms/").content.decode()
    assert "secret-1" not in page and settings.push_token in page
    for bad in (
        {"signature": "星"},
        {"max_parts": "9"},
        {"quiet_from": "25:00"},
        {"provider": "x"},
    ):
        assert gm.post("/settings/sms/", {**fields, **bad}).status_code == 422
    assert login(team.marketing_manager).get("/settings/sms/").status_code == 403


def test_staff_answer_as_the_customer_in_the_outbox(team, lead, notice):
    message = login(team.dcc_agent).post(f"/leads/{lead.pk}/sms/", {"template": notice.pk})
    assert message.status_code == 200
    sent = Message.objects.get()
    manager = login(team.marketing_manager)
    assert (
        manager.post("/sms/outbox/reply/", {"message": sent.pk, "content": "TD"}).status_code == 302
    )
    assert Reply.objects.get().opted_out
    assert "opted out of marketing SMS" in manager.get("/sms/").content.decode()
    settings = SmsSettings.objects.get(dealer=team.dealer)
    settings.provider = Provider.ALIYUN
    settings.save()
    assert (
        manager.post("/sms/outbox/reply/", {"message": sent.pk, "content": "R"}).status_code == 403
    )
    assert (
        login(team.auditor)
        .post("/sms/outbox/reply/", {"message": sent.pk, "content": "R"})
        .status_code
        == 403
    )


@pytest.mark.parametrize("role", list(Role), ids=[str(role) for role in Role])
def test_who_opens_the_sms_pages(team, role, sms_settings):
    client = login(team.by_role(role))
    readers = {Role.GM, Role.SALES_MANAGER, Role.MARKETING_MANAGER, Role.DCC_SUPERVISOR,
               Role.SHOWROOM_MANAGER, Role.AUDITOR}  # fmt: skip
    senders = readers - {Role.AUDITOR}
    assert client.get("/sms/").status_code == (200 if role in readers else 403)
    assert client.get("/sms/templates/").status_code == (200 if role in readers else 403)
    assert client.get("/sms/bulk/").status_code == (200 if role in senders else 403)
