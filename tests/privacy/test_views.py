"""The consent and personal-data pages: the lead page's consent panel (record a statement, put
the number on the do-not-call list), finding a customer, the export download, the erasure's
confirmation page, the do-not-call list and the retention setting; who may open what; bad
input answered 4xx on its field, never 500."""

from __future__ import annotations

import json

import pytest

from accounts.models import SettingsChange
from leads.models import Customer, Lead
from privacy import consent
from privacy.models import ConsentRecord, DataRequest, DoNotCall, PrivacySettings, Purpose
from tests.factories import make_lead
from tests.kit import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(team, fixed_clock) -> Lead:
    return make_lead(team.dealer, owner=team.dcc_agent, name="赵六")


def test_the_agent_records_consent_from_the_lead_page(team, lead):
    client = login(team.dcc_agent, language="zh-hans")
    url = f"/leads/{lead.pk}/consent/"
    page = client.get(url).content.decode()
    assert "同意" in page or "未询问" in page
    response = client.post(
        url, {"purpose": Purpose.SMS, "given": "1", "how": "call", "evidence": "电话中同意"}
    )
    assert response.status_code == 200
    record = ConsentRecord.objects.get(customer=lead.customer)
    assert (record.purpose, record.given, record.by) == (Purpose.SMS, True, team.dcc_agent)
    assert consent.current(lead.customer, Purpose.SMS) is True


def test_a_bad_statement_is_refused_on_its_field(team, lead):
    client = login(team.dcc_agent)
    response = client.post(
        f"/leads/{lead.pk}/consent/", {"purpose": "spam", "given": "1", "how": "capture_page"}
    )
    assert response.status_code == 422
    assert not ConsentRecord.objects.exists()


def test_readers_see_the_panel_but_record_nothing(team, lead):
    client = login(team.auditor)
    page = client.get(f"/leads/{lead.pk}/consent/").content.decode()
    assert "hx-post" not in page
    assert (
        client.post(
            f"/leads/{lead.pk}/consent/", {"purpose": "sms", "given": "1", "how": "call"}
        ).status_code
        == 403
    )
    assert client.post(f"/leads/{lead.pk}/consent/do-not-call/").status_code == 403


def test_another_dealers_lead_is_not_found(other_team, lead):
    assert login(other_team.gm).get(f"/leads/{lead.pk}/consent/").status_code == 404


def test_the_customer_asks_not_to_be_called(team, lead):
    client = login(team.dcc_agent)
    response = client.post(f"/leads/{lead.pk}/consent/do-not-call/")
    assert response.status_code == 200 and 'data-testid="do-not-call"' in response.content.decode()
    assert consent.is_do_not_call(team.dealer, lead.customer.phone)


def test_the_gm_finds_the_customer_by_full_number_and_exports(team, lead):
    client = login(team.gm, language="zh-hans")
    page = client.get("/privacy/", {"q": lead.customer.phone}).content.decode()
    assert f"/privacy/customers/{lead.customer_id}/" in page
    # Digits alone do not find anyone: a request names the customer.
    page = client.get("/privacy/", {"q": lead.customer.phone[-4:]}).content.decode()
    assert f"/privacy/customers/{lead.customer_id}/" not in page
    response = client.post(f"/privacy/customers/{lead.customer_id}/export.json")
    assert response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    body = json.loads(response.content)
    assert body["sections"]["customer"][0]["name"] == "赵六"
    response = client.post(f"/privacy/customers/{lead.customer_id}/export.xlsx")
    assert response.content[:2] == b"PK"
    assert DataRequest.objects.filter(customer=lead.customer).count() == 2
    assert client.get(f"/privacy/customers/{lead.customer_id}/export.json").status_code == 405
    assert client.post(f"/privacy/customers/{lead.customer_id}/export.pdf").status_code == 404


def test_only_the_gm_and_the_sales_manager_answer_requests(team, lead):
    for who in (team.dcc_agent, team.dcc_supervisor, team.auditor):
        client = login(who)
        assert client.get(f"/privacy/customers/{lead.customer_id}/").status_code == 403
        assert client.post(f"/privacy/customers/{lead.customer_id}/export.json").status_code == 403
    assert (
        login(team.sales_manager).get(f"/privacy/customers/{lead.customer_id}/").status_code == 200
    )
    assert not DataRequest.objects.exists()


def test_the_erasure_page_asks_for_confirmation_of_an_open_lead(team, lead):
    client = login(team.gm, language="zh-hans")
    url = f"/privacy/customers/{lead.customer_id}/erase/"
    page = client.get(url).content.decode()
    assert 'data-testid="open-lead-warning"' in page and 'data-testid="remains"' in page
    assert client.post(url, {"reason": ""}).status_code == 422  # a reason is required
    refused = client.post(url, {"reason": "客户来电要求删除"})
    assert refused.status_code == 422
    assert Customer.objects.get(pk=lead.customer_id).erased_at is None
    done = client.post(url, {"reason": "客户来电要求删除", "confirmed": "on"})
    assert done.status_code == 302
    customer = Customer.objects.get(pk=lead.customer_id)
    assert customer.erased_at is not None and customer.name == ""
    page = client.get(f"/privacy/customers/{customer.pk}/").content.decode()
    assert 'data-testid="erased"' in page and "赵六" not in page
    # The lead page no longer shows a name or a number, nor offers to record consent.
    lead_page = client.get(f"/leads/{lead.pk}/").content.decode()
    assert "赵六" not in lead_page and lead.customer.phone not in lead_page
    assert "hx-post" not in client.get(f"/leads/{lead.pk}/consent/").content.decode()
    assert client.get(url).status_code == 302  # erased once


def test_the_do_not_call_list(team):
    client = login(team.marketing_manager, language="zh-hans")
    bad = client.post("/privacy/do-not-call/", {"phone": "12", "reason": ""})
    assert bad.status_code == 422
    assert (
        client.post(
            "/privacy/do-not-call/", {"phone": "138 0013 8000", "reason": "投诉"}
        ).status_code
        == 302
    )
    entry = DoNotCall.objects.get()
    assert entry.phone == "13800138000"
    page = client.get("/privacy/do-not-call/", {"q": "8000"}).content.decode()
    assert "13800138000" in page
    assert (
        client.get("/privacy/do-not-call/", {"page": "10" * 15, "q": "x" * 100}).status_code == 200
    )
    client.post(f"/privacy/do-not-call/{entry.pk}/remove/")
    assert not DoNotCall.objects.exists()
    lifted = SettingsChange.objects.get(what="do_not_call_removed")  # who lifted it: traceable
    assert lifted.changed_by == team.marketing_manager and "13800138000" not in lifted.subject
    assert login(team.dcc_agent).get("/privacy/do-not-call/").status_code == 403


def test_the_retention_period_is_a_setting(team):
    client = login(team.gm)
    assert client.post("/settings/privacy/", {"retention_days": "5"}).status_code == 422
    assert client.post("/settings/privacy/", {"retention_days": "10" * 20}).status_code == 422
    assert client.post("/settings/privacy/", {"retention_days": "1095"}).status_code == 302
    assert PrivacySettings.objects.get(dealer=team.dealer).retention_days == 1095
    change = SettingsChange.objects.get(dealer=team.dealer, what="retention")
    assert (change.changed_by, change.detail) == (team.gm, {"days": 1095})
    assert (
        login(team.dcc_agent).post("/settings/privacy/", {"retention_days": "60"}).status_code
        == 403
    )
    assert client.post("/settings/privacy/", {"retention_days": ""}).status_code == 302
    assert PrivacySettings.objects.get(dealer=team.dealer).retention_days is None
