"""What load balancers, process managers and Prometheus ask: /healthz, /readyz, /metrics; and the
request id in the answer and in every log line written while serving it."""

from __future__ import annotations

import json
import logging
import logging.config

import pytest
from django.conf import settings
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.test import Client

from dcc.metrics import push_received
from dcc_site import probes
from dcc_site.logs import RequestIdFilter
from intake.models import ImportJob, ImportStatus
from intake.tasks import run_import_task
from tests.kit import login

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------- liveness and readiness


def test_liveness_answers_without_asking_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "alive"}


def test_probes_answer_by_address_over_plain_http_in_production(client, settings):
    """A balancer asks http://10.0.0.5:8000/readyz: no HTTPS redirect, no host refusal."""
    settings.ALLOWED_HOSTS = ["dcc.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    for path in ("/healthz", "/readyz", "/metrics"):
        assert client.get(path, HTTP_HOST="10.0.0.5:8000").status_code == 200, path
    # Pages still get both.
    browser = Client(raise_request_exception=False)
    assert browser.get("/login/", HTTP_HOST="10.0.0.5:8000").status_code >= 400
    assert browser.get("/login/", HTTP_HOST="dcc.example.com").status_code == 301


def test_ready_when_the_database_is_migrated_and_the_cache_answers(client, monkeypatch):
    monkeypatch.setattr(probes, "_migrated", False)
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "cache": "ok"},
    }


def test_not_ready_while_a_migration_of_this_code_is_not_applied(client, monkeypatch):
    monkeypatch.setattr(probes, "_migrated", False)
    # The newest migration of leads, as a deployment that has not migrated yet would lack it.
    (_app, newest), *_ = MigrationLoader(None).graph.leaf_nodes("leads")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = 'leads' AND name = %s", [newest])
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "not ready"
    assert f"leads.{newest}" in response.json()["checks"]["migrations"]
    assert response.json()["checks"]["database"] == "ok"


def test_not_ready_when_the_cache_keeps_nothing(client, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "cache" in response.json()["checks"]["cache"]


def test_not_ready_when_the_database_does_not_answer(client, monkeypatch):
    def refused() -> None:
        raise ConnectionRefusedError("connection refused")

    monkeypatch.setitem(probes.CHECKS, "database", refused)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": "ConnectionRefusedError: connection refused",
        "migrations": "not checked",
    }


def test_probes_only_answer_reads(client):
    response = client.post("/readyz")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


# ---------------------------------------------------------------- request ids and logs


class Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.addFilter(RequestIdFilter())
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def request_log():
    kept = Kept()
    logger = logging.getLogger("django.request")
    logger.addHandler(kept)
    yield kept
    logger.removeHandler(kept)


def test_the_request_id_sent_by_the_proxy_is_answered_and_logged(team, request_log):
    sent = "4f1c0e7a9b2d4c6e8f0a1b2c3d4e5f60"  # nginx's $request_id: 32 hex digits
    response = login(team.dcc_agent).get("/leads/999999/", HTTP_X_REQUEST_ID=sent)
    assert response.status_code == 404
    assert response["X-Request-ID"] == sent
    assert [r.request_id for r in request_log.records] == [sent]  # "Not Found: /leads/999999/"


def test_a_request_without_an_id_gets_a_new_one_each_time(client):
    first = client.get("/login/")["X-Request-ID"]
    second = client.get("/login/")["X-Request-ID"]
    assert len(first) == 32 and len(second) == 32
    assert first != second


def test_an_id_that_is_not_one_is_replaced(client):
    answered = client.get("/login/", HTTP_X_REQUEST_ID="x; rm -rf /")["X-Request-ID"]
    assert answered != "x; rm -rf /"
    assert len(answered) == 32


def test_json_log_lines_carry_level_logger_message_and_request_id(team, capsys):
    config = {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "dcc_site.logs.RequestIdFilter"}},
        "formatters": {"json": settings.LOG_FORMATTERS["json"]},
        "handlers": {
            "out": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "filters": ["request_id"],
                "formatter": "json",
            }
        },
        "loggers": {"dcc.test_json": {"handlers": ["out"], "level": "INFO", "propagate": False}},
    }
    logging.config.dictConfig(config)
    logging.getLogger("dcc.test_json").warning("stock of %s low", "汉兰达")
    line = json.loads(capsys.readouterr().out.strip())
    assert line["level"] == "WARNING"
    assert line["logger"] == "dcc.test_json"
    assert line["message"] == "stock of 汉兰达 low"
    assert line["request_id"] == "-"  # written outside any request
    assert "time" in line


# ---------------------------------------------------------------- metrics


def test_metrics_give_latency_by_view_and_the_work_waiting(team, client):
    agent = login(team.dcc_agent)
    assert agent.get("/queue/").status_code == 200
    ImportJob.objects.create(
        dealer=team.dealer,
        created_by=team.dcc_agent,
        file_name="leads.xlsx",
        file_sha256="0" * 64,
        status=ImportStatus.RUNNING,
        rows_done=1200,
        bytes_done=250,
        bytes_total=1000,
    )
    run_import_task.enqueue(0, "zh-hans")
    run_import_task.enqueue(0, "zh-hans")
    push_received("webhook")

    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    text = response.content.decode()
    assert (
        'django_http_requests_latency_seconds_by_view_method_count{method="GET",view="queue"}'
        in text
    )
    assert 'dcc_tasks_waiting{queue="default"} 2.0' in text
    assert "dcc_imports_running 1.0" in text
    job = ImportJob.objects.get()
    assert f'dcc_import_rows_done{{dealer="{team.dealer.code}",job="{job.pk}"}} 1200.0' in text
    assert f'dcc_import_progress_ratio{{dealer="{team.dealer.code}",job="{job.pk}"}} 0.25' in text
    assert 'dcc_push_last_received_timestamp_seconds{kind="webhook"}' in text
    assert "dcc_database_up 1.0" in text


@pytest.mark.parametrize(
    ("remote", "headers", "allowed"),
    [
        ("127.0.0.1", {}, True),
        ("::1", {}, True),
        ("10.0.0.9", {}, False),
        # Through the proxy on the same machine: the caller is whoever the proxy forwarded.
        ("127.0.0.1", {"HTTP_X_FORWARDED_FOR": "203.0.113.7"}, False),
        ("10.0.0.9", {"HTTP_AUTHORIZATION": "Bearer s3cret-metrics-token"}, True),
        ("10.0.0.9", {"HTTP_AUTHORIZATION": "Bearer wrong"}, False),
    ],
)
def test_metrics_are_for_loopback_or_the_token(settings, remote, headers, allowed):
    settings.DCC_METRICS_TOKEN = "s3cret-metrics-token"
    response = Client(REMOTE_ADDR=remote).get("/metrics", **headers)
    assert response.status_code == (200 if allowed else 403)


def test_without_a_token_set_no_bearer_reads_metrics(settings):
    settings.DCC_METRICS_TOKEN = ""
    response = Client(REMOTE_ADDR="10.0.0.9").get("/metrics", HTTP_AUTHORIZATION="Bearer ")
    assert response.status_code == 403
