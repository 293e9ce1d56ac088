"""A worker killed with SIGKILL in the middle of its writes loses nothing it acknowledged: a
child process records enquiries through the real action (leads.actions.create_lead) and
prints each lead's id after the commit; once it has acknowledged enough it is killed wherever
it is, and every acknowledged lead is there with its ledger whole and its tallies counted.
SQLite in WAL mode (synchronous=NORMAL: a commit survives the process, not a power cut) and
PostgreSQL alike."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time

import pytest
from django.db import connection

from leads import ledger, tallies
from leads.models import Event, Lead
from tests.databases import ROOT, database_url
from tests.factories import channel

pytestmark = pytest.mark.usefixtures("transactional_ledger")

ACKNOWLEDGED = 40
DEADLINE_SECONDS = 15


def acknowledged_until_killed(team) -> list[int]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {"DJANGO_SETTINGS_MODULE": "dcc.settings", "DATABASE_URL": database_url()}
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.writer",
            str(team.dealer.pk),
            str(channel(team.dealer).pk),
            str(team.dcc_agent.pk),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    acks: list[int] = []
    pending = b""
    deadline = time.monotonic() + DEADLINE_SECONDS
    watch = selectors.DefaultSelector()
    watch.register(worker.stdout, selectors.EVENT_READ)
    try:
        while len(acks) < ACKNOWLEDGED and time.monotonic() < deadline:
            if not watch.select(timeout=0.5):
                continue
            chunk = os.read(worker.stdout.fileno(), 4096)
            if not chunk:
                break  # the worker died by itself: its stderr says why
            pending += chunk
            *lines, pending = pending.split(b"\n")
            acks += [int(line) for line in lines]
    finally:
        # Wherever it is (most of a worker's time is spent inside create_lead's transaction).
        worker.send_signal(signal.SIGKILL)
        rest, errors = worker.communicate(timeout=10)
    # What it printed before the signal landed was acknowledged too.
    acks += [int(line) for line in (pending + rest).split(b"\n")[:-1]]
    assert worker.returncode == -signal.SIGKILL, errors.decode()[-2000:]
    assert len(acks) >= ACKNOWLEDGED, errors.decode()[-2000:]
    return acks


def test_killed_worker_loses_nothing_it_acknowledged(team):
    acks = acknowledged_until_killed(team)
    connection.close()  # read what a fresh connection finds on disk

    leads = Lead.objects.filter(dealer=team.dealer)
    assert set(acks) <= set(leads.values_list("pk", flat=True))
    # The lead being written when the signal came is there whole or not at all.
    assert leads.count() - len(acks) in (0, 1)
    assert Event.objects.filter(lead__in=leads).values("lead").distinct().count() == leads.count()
    report = ledger.verify(dealer_id=team.dealer.pk)
    assert report.ok, report.broken
    assert report.leads == leads.count()
    assert tallies.drift([team.dealer.pk]) == []
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            assert cursor.execute("PRAGMA integrity_check").fetchone() == ("ok",)
