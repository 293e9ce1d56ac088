"""Bodies over the limit (DATA_UPLOAD_MAX_MEMORY_SIZE): the API and webhooks answer JSON 413
stating the limit, pages a translated 413 page; import files stream to disk and keep their own
limit (DCC_IMPORT_MAX_MB)."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.roles import Role
from tests.conftest import Team
from tests.factories import fresh_mobile
from tests.kit import login

pytestmark = pytest.mark.django_db

FIFTY_MB = 50 * 1024 * 1024


def test_a_50_mb_api_body_is_json_413_with_the_limit(team: Team):
    client = login(team.dcc_agent, token=True)

    response = client.post(
        "/api/v1/leads", b'{"name": "' + b"x" * FIFTY_MB + b'"}', content_type="application/json"
    )

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == "too_large"
    assert body["max_bytes"] == django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert "2.5 MB" in body["message"]


def test_a_too_large_webhook_is_json_413(team: Team):
    response = Client().post(
        f"/api/v1/intake/{team.dealer.code}/autohome",
        b"[" + b"1," * (3 * 1024 * 1024) + b"1]",
        content_type="application/json",
    )

    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


def test_a_too_large_form_is_a_translated_413_page(team: Team, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    client = login(team.dcc_agent)

    response = client.post(
        "/leads/new/", {"name": "x" * (3 * 1024 * 1024), "phone": fresh_mobile()}
    )

    assert response.status_code == 413
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "提交的数据超过了 2.5 MB 的上限。" in html
    assert 'class="navbar-nav me-auto"' in html  # the menu


def test_an_import_file_larger_than_the_body_limit_still_uploads(team: Team):
    client = login(team.by_role(Role.DCC_SUPERVISOR))
    rows = "".join(f"客户{i},{fresh_mobile()},S7\n" for i in range(2))
    content = ("name,mobile,model\n" + rows + "," * (3 * 1024 * 1024)).encode()

    response = client.post("/imports/", {"file": SimpleUploadedFile("big.csv", content)})

    assert response.status_code == 302, response.content.decode()[:500]
