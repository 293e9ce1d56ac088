"""`make prod-up` brings the production topology up on loopback until /readyz answers 200 (web
processes behind gunicorn, task workers, the tick), and `make prod-down` stops every process it
started and nothing else. On PostgreSQL, in a database of its own; about half a minute."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request

import pytest
from django.db import connection

from tests.databases import ROOT, fresh_postgres_database
from tools import prod


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(action: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "tools/prod.py", action],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the topology runs on PostgreSQL")
def test_prod_up_is_ready_and_prod_down_stops_exactly_what_it_started(tmp_path):
    port = free_port()
    with fresh_postgres_database(f"test_dcc_prod_up_{os.getpid()}") as url:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env |= {
            "PROD_DIR": str(tmp_path),
            "PROD_PORT": str(port),
            "PROD_DATABASE_URL": url,
            "PROD_WEB": "2",
            "PROD_WORKERS": "1",
        }
        bystander = subprocess.Popen(["sleep", "300"], start_new_session=True)
        groups: dict[str, int] = {}
        try:
            started = run("up", env)
            groups = {f.stem: int(f.read_text()) for f in tmp_path.glob("*.pid")}
            assert started.returncode == 0, started.stdout + started.stderr
            assert set(groups) == {"web", "worker-1", "tick"}
            # gunicorn's master and its two workers in one group.
            assert len(prod.members(groups["web"])) == 3

            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=10) as answer:
                assert answer.status == 200
                assert json.load(answer)["checks"]["migrations"] == "ok"
                assert len(answer.headers["X-Request-ID"]) == 32
            # The figures of both web processes, added up, and the database's.
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
                assert b"dcc_database_up 1.0" in answer.read()
        finally:
            stopped = run("down", env)
            still = {name: prod.members(group) for name, group in groups.items()}
            alive = bystander.poll() is None
            bystander.kill()
            bystander.wait()
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        assert still == {name: [] for name in groups}
        assert list(tmp_path.glob("*.pid")) == []
        assert alive, "prod-down stopped a process it had not started"
