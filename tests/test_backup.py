"""`dcc backup` → `dcc restore` into a fresh database (a SQLite file; on PostgreSQL a new
database, dropped afterwards) → `dcc ledger verify` and `dcc ledger tallies` pass, every
table holds the rows it held, and the files beside the database come back byte for byte."""

from __future__ import annotations

import io
import json
import sqlite3
import tarfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from dcc_site import backup
from leads import actions
from leads.models import Event, Lead
from tests.databases import dcc, fresh_postgres_database, url_of
from tests.factories import make_lead

pytestmark = pytest.mark.usefixtures("transactional_ledger")


@pytest.fixture
def stores(tmp_path: Path, settings) -> dict[str, Path]:
    """The file stores under a folder of this test, each holding one file."""
    live = tmp_path / "live"
    settings.VAR_DIR = live
    settings.DCC_RECORDING_DIR = live / "recordings"
    settings.DCC_IMPORT_DIR = live / "imports"
    files = {
        "recordings": live / "recordings" / "1" / "call-7.wav",
        "imports": live / "imports" / "1" / "upload.csv",
        "stickers": live / "stickers" / "2026" / "11" / "sticker.jpg",
    }
    for store, path in files.items():
        path.parent.mkdir(parents=True)
        path.write_bytes(f"{store} 录音 \x00\xff".encode())
    return files


def a_week_of_work(team) -> list[Lead]:
    """Leads with history: calls, grades, an appointment, a handoff, an invalid one."""
    leads = [make_lead(team.dealer, by=team.dcc_agent, owner=team.dcc_agent) for _ in range(6)]
    for lead in leads[:4]:
        actions.log_call(lead=lead, by=team.dcc_agent, outcome="reached", grade="A", note="想试驾")
    actions.book_appointment(
        lead=leads[0], by=team.dcc_agent, appointment_at=timezone.now() + timedelta(days=2)
    )
    actions.invalidate_lead(lead=leads[5], by=team.dcc_agent, reason="wrong_number")
    return leads


def rows_of(database_url: str, name: str) -> dict[str, int]:
    if database_url.startswith("sqlite"):
        with sqlite3.connect(name) as restored:
            return backup.count_rows(restored.cursor(), "sqlite")
    import psycopg

    with psycopg.connect(database_url.replace("postgres://", "postgresql://")) as restored:
        return backup.count_rows(restored.cursor(), "postgresql")


def live_rows() -> dict[str, int]:
    with connection.cursor() as cursor:
        return backup.count_rows(cursor, connection.vendor)


def restore_and_check(archive: Path, database_url: str, var_dir: Path) -> None:
    done = dcc("restore", str(archive), database_url=database_url, var_dir=var_dir)
    assert done.returncode == 0, done.stderr
    assert "Restored" in done.stdout or "恢复" in done.stdout
    for check in (("ledger", "verify"), ("ledger", "tallies")):
        result = dcc(*check, database_url=database_url, var_dir=var_dir)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "OK" in result.stdout


def test_backup_restores_into_a_fresh_database_that_verifies(team, stores, tmp_path):
    leads = a_week_of_work(team)
    archive = tmp_path / "dcc.tar.gz"
    out = io.StringIO()
    call_command("backup", str(archive), stdout=out)
    assert str(archive) in out.getvalue()

    manifest = backup.read_manifest(archive)
    assert manifest.vendor == connection.vendor
    assert manifest.counts == live_rows()
    assert manifest.counts["leads_lead"] == len(leads)
    assert manifest.counts["leads_event"] == Event.objects.count() > len(leads)
    assert manifest.migrations["leads"].startswith("00")
    assert manifest.files == {"recordings": 1, "imports": 1, "stickers": 1}

    restored = tmp_path / "restored"
    if connection.vendor == "sqlite":
        name = str(restored / "fresh.sqlite3")
        database_url = url_of(connection.settings_dict, name)
        restore_and_check(archive, database_url, restored)
        assert rows_of(database_url, name) == manifest.counts
    else:
        name = f"{connection.settings_dict['NAME']}_backup_restore"
        with fresh_postgres_database(name) as database_url:
            restore_and_check(archive, database_url, restored)
            assert rows_of(database_url, name) == manifest.counts
    for store, original in stores.items():
        relative = original.relative_to(tmp_path / "live" / store)
        assert (restored / store / relative).read_bytes() == original.read_bytes()


def test_restore_refuses_a_database_that_is_not_empty(team, stores, tmp_path):
    make_lead(team.dealer, by=team.dcc_agent)
    archive = tmp_path / "dcc.tar.gz"
    call_command("backup", str(archive), stdout=io.StringIO())
    make_lead(team.dealer, by=team.dcc_agent)  # work done since the backup
    before = live_rows()

    with pytest.raises(CommandError, match=r"not empty.*--force"):
        call_command("restore", str(archive), stdout=io.StringIO())
    assert live_rows() == before


def test_restore_refuses_a_backup_of_a_newer_dcc_before_touching_anything(team, tmp_path):
    archive = tmp_path / "dcc.tar.gz"
    call_command("backup", str(archive), stdout=io.StringIO())
    newer = tmp_path / "newer.tar.gz"
    with tarfile.open(archive) as old, tarfile.open(newer, "w:gz") as new:
        for member in old.getmembers():
            data = old.extractfile(member)
            if member.name == backup.MANIFEST:
                manifest = json.loads(data.read())
                manifest["migrations"]["leads"] = "9999_from_the_future"
                body = json.dumps(manifest).encode()
                member.size = len(body)
                data = io.BytesIO(body)
            new.addfile(member, data)
    before = live_rows()

    with pytest.raises(CommandError, match=r"newer DCC.*leads\.9999_from_the_future"):
        call_command("restore", str(newer), "--force", stdout=io.StringIO())
    assert live_rows() == before


def test_restore_refuses_what_is_not_a_backup(db, tmp_path):
    junk = tmp_path / "notes.tar.gz"
    with tarfile.open(junk, "w:gz") as tar:
        tar.add(__file__, arcname="notes.py")
    with pytest.raises(CommandError, match="not a DCC backup"):
        call_command("restore", str(junk), stdout=io.StringIO())
