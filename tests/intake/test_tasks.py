"""Imports as background tasks: queued in the database once the request commits, run by the
worker (here in batch mode: everything queued, then it stops), failures kept on the job."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from dcc_site.management.commands import serve
from intake import imports, uploads
from intake.models import STALL_AFTER, ImportJob, ImportStatus
from intake.tasks import run_import_task
from leads.models import Lead
from tests.conftest import FIXED_NOW
from tests.factories import channel, fresh_mobile
from tests.kit import login

ROOT = Path(__file__).resolve().parent.parent.parent

DATABASE_BACKEND = {"default": {"BACKEND": "django_tasks_db.backend.DatabaseBackend"}}


@pytest.fixture(autouse=True)
def _queue(settings, tmp_path: Path) -> None:
    settings.TASKS = DATABASE_BACKEND
    settings.DCC_IMPORT_DIR = tmp_path / "imports"


class FakeFile:
    """Enough of an UploadedFile for store_upload."""

    def __init__(self, name: str, content: bytes) -> None:
        self.name, self.content, self.size = name, content, len(content)

    def chunks(self):
        yield self.content


def stored(team, rows: int = 3) -> uploads.Upload:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["姓名", "手机号"])
    writer.writerows([f"客户{i}", fresh_mobile()] for i in range(rows))
    return uploads.store_upload(
        dealer=team.dealer,
        by=team.dcc_supervisor,
        file=FakeFile("leads.csv", out.getvalue().encode()),
        channel=channel(team.dealer),
    )


def batch_worker() -> Worker:
    return Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    )


@pytest.mark.django_db
def test_a_job_is_queued_only_when_its_transaction_commits(
    team, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        job = uploads.start_upload(
            upload=stored(team), dealer=team.dealer, by=team.dcc_supervisor, dry_run=False
        )
        assert not DBTaskResult.objects.exists()
    assert len(callbacks) == 1
    callbacks[0]()
    task = DBTaskResult.objects.get()
    assert task.task_path == "intake.tasks.run_import_task"
    assert task.args_kwargs["args"][0] == job.pk
    assert job.status == ImportStatus.QUEUED


def test_the_worker_runs_a_queued_import_to_done(team, transactional_ledger):
    job = uploads.start_upload(
        upload=stored(team, rows=5), dealer=team.dealer, by=team.dcc_supervisor, dry_run=False
    )  # no transaction around it here: queued at once, as after a request's commit
    assert DBTaskResult.objects.count() == 1
    batch_worker().run()
    job.refresh_from_db()
    assert (job.status, job.created, job.percent) == (ImportStatus.DONE, 5, 100)
    assert Lead.objects.filter(dealer=team.dealer).count() == 5
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


@pytest.mark.django_db
def test_a_job_whose_file_is_gone_fails_saying_so(team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        job = uploads.start_upload(
            upload=stored(team), dealer=team.dealer, by=team.dcc_supervisor, dry_run=False
        )
    imports.job_path(job).unlink()
    assert run_import_task.call(job.pk, "en") == ImportStatus.FAILED
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED and "Cannot read" in job.error


@pytest.mark.django_db
def test_a_finished_job_is_not_run_twice(team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        job = uploads.start_upload(
            upload=stored(team), dealer=team.dealer, by=team.dcc_supervisor, dry_run=False
        )
    assert run_import_task.call(job.pk, "en") == ImportStatus.DONE
    assert run_import_task.call(job.pk, "en") == ImportStatus.DONE
    assert Lead.objects.count() == 3
    assert ImportJob.objects.get().created == 3


def ended_process() -> str:
    """The runner of an import whose process (on this machine) has ended."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait(timeout=30)
    return imports.this_process().rpartition(":")[0] + f":{process.pid}"


@pytest.mark.django_db
def test_imports_cut_off_by_a_stopped_server_can_be_run_again(team):
    job = ImportJob.objects.create(
        dealer=team.dealer,
        created_by=team.dcc_supervisor,
        status=ImportStatus.RUNNING,
        runner=ended_process(),
    )
    # An earlier server that had this one's process id (in a container, often 1).
    same_id = ImportJob.objects.create(
        dealer=team.dealer,
        created_by=team.dcc_supervisor,
        status=ImportStatus.RUNNING,
        runner=imports.this_process(),
    )
    assert uploads.fail_interrupted() == 2
    for cut_off in (job, same_id):
        cut_off.refresh_from_db()
        assert cut_off.status == ImportStatus.FAILED and "Run it again" in cut_off.error


def database_url() -> str:
    """The test database, for another process."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


# `dcc import ...` in a process of its own, at the suite's fixed time.
COMMAND_LINE = """
import sys
from datetime import datetime

import time_machine

with time_machine.travel(datetime.fromisoformat(sys.argv[1]), tick=True):
    from dcc_site.cli import main

    main(["dcc", *sys.argv[2:]])
"""


@pytest.mark.usefixtures("transactional_ledger")
def test_an_import_killed_on_the_command_line_is_failed_by_the_next_tick(team, tmp_path):
    """`dcc import` killed half-way: the next `dcc tick` fails its job (its process is
    gone), not ten minutes later; while it runs, neither the upkeep nor a server starting
    up touches it."""
    path = tmp_path / "leads.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["姓名", "手机号"])
        writer.writerows([f"客户{i}", fresh_mobile()] for i in range(30_000))
    env = os.environ | {
        "DATABASE_URL": database_url(),
        "DCC_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "dcc.settings",
    }
    command = [sys.executable, "-c", COMMAND_LINE, FIXED_NOW.isoformat(), "import", str(path)]
    command += ["--dealer", team.dealer.code, "--channel", channel(team.dealer).code]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 90
        while not ImportJob.objects.filter(rows_done__gt=0).exists():
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "the import did not get going"
            time.sleep(0.2)
        job = ImportJob.objects.get()
        assert job.status == ImportStatus.RUNNING and not job.is_stalled
        assert uploads.fail_interrupted() == 0  # a server starting: not its import
        assert uploads.fail_stalled() == 0
        assert ImportJob.objects.get().status == ImportStatus.RUNNING
    finally:
        process.kill()
        process.wait(timeout=30)
        process.stderr.close()
    job.refresh_from_db()
    assert job.status == ImportStatus.RUNNING
    out = io.StringIO()
    call_command("tick", stdout=out)
    assert "1 stalled import(s) failed" in out.getvalue()
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED and "Run it again" in job.error


class Threads:
    def __init__(self) -> None:
        self.started: list[dict] = []

    def __call__(self, **kwargs):
        started = self.started

        class Thread:
            def start(self) -> None:
                started.append(kwargs)

        return Thread()


@pytest.mark.django_db
def test_serve_runs_the_worker_and_upkeep_in_daemon_threads_unless_told_external(
    settings, monkeypatch
):
    threads = Threads()
    monkeypatch.setattr(serve.threading, "Thread", threads)
    command = serve.Command()
    settings.DCC_TASK_WORKER = "embedded"
    command._start_task_worker(verbosity=0)
    assert [t["name"] for t in threads.started] == ["dcc-task-worker", "dcc-tick"]
    assert all(t["daemon"] for t in threads.started)
    worker = threads.started[0]["target"].__self__
    assert isinstance(worker, Worker) and not worker.batch
    assert threads.started[1]["target"] is serve._tick_forever
    settings.DCC_TASK_WORKER = "external"
    command._start_task_worker(verbosity=0)
    assert len(threads.started) == 2
    settings.DCC_TASK_WORKER = "sometimes"
    with pytest.raises(CommandError):
        command._start_task_worker(verbosity=0)


@pytest.mark.django_db
def test_an_import_whose_worker_was_killed_is_failed_by_tick_and_runs_again(
    team, django_capture_on_commit_callbacks
):
    """A worker killed mid-import (not the embedded one, which cleans up when it starts)
    leaves a job running with no heartbeat: `dcc tick` fails it, and its page offers to run
    it again, which finishes it."""
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    with django_capture_on_commit_callbacks():
        killed = uploads.start_upload(
            upload=stored(team), dealer=team.dealer, by=team.dcc_supervisor, dry_run=False
        )
        alive = uploads.start_upload(
            upload=stored(team), dealer=team.dealer, by=team.dcc_supervisor, dry_run=False
        )
    long_ago = timezone.now() - STALL_AFTER - timedelta(minutes=1)
    ImportJob.objects.filter(pk=killed.pk).update(status="running", heartbeat_at=long_ago)
    ImportJob.objects.filter(pk=alive.pk).update(status="running", heartbeat_at=timezone.now())
    killed.refresh_from_db()
    assert killed.is_stalled
    page = login(team.dcc_supervisor).get(f"/imports/{killed.pk}/")
    assert "No progress for over ten minutes" in page.content.decode()
    assert "Run again" in page.content.decode()

    out = io.StringIO()
    call_command("tick", stdout=out)
    assert "1 stalled import(s) failed" in out.getvalue()
    killed.refresh_from_db()
    assert killed.status == ImportStatus.FAILED and "Run it again" in killed.error
    assert ImportJob.objects.get(pk=alive.pk).status == ImportStatus.RUNNING

    with django_capture_on_commit_callbacks(execute=True):
        login(team.dcc_supervisor).post(f"/imports/{killed.pk}/again/")
    assert ImportJob.objects.get(pk=killed.pk).status == ImportStatus.QUEUED
    assert run_import_task.call(killed.pk, "en") == ImportStatus.DONE
    killed.refresh_from_db()
    assert killed.created == 3


@pytest.mark.django_db
def test_tick_deletes_uploads_older_than_a_month_unless_an_import_still_needs_them(
    team, django_capture_on_commit_callbacks
):
    import os
    import time

    old, recent, queued = stored(team), stored(team), stored(team)
    with django_capture_on_commit_callbacks():
        uploads.start_upload(upload=queued, dealer=team.dealer, by=team.gm, dry_run=False)
    month_ago = time.time() - uploads.KEEP_UPLOADS.total_seconds() - 60
    for upload in (old, queued):
        os.utime(upload.path, (month_ago, month_ago))
    assert uploads.remove_old_uploads() == 1
    assert not old.path.exists()
    assert uploads.find_upload(dealer=team.dealer, token=old.token) is None
    assert recent.path.exists() and queued.path.exists()


@pytest.mark.django_db
def test_the_upkeep_thread_runs_tick_and_survives_its_failures(monkeypatch):
    calls: list[str] = []

    class Stop(Exception):
        pass

    def sleep(_seconds: float) -> None:
        if len(calls) == 2:
            raise Stop

    def tick(name: str, **_kwargs) -> None:
        calls.append(name)
        if len(calls) == 1:
            raise RuntimeError("database briefly away")

    monkeypatch.setattr("time.sleep", sleep)
    monkeypatch.setattr(serve, "call_command", tick)
    with pytest.raises(Stop):
        serve._tick_forever()
    assert calls == ["tick", "tick"]


@pytest.mark.django_db
def test_running_again_an_import_from_the_command_line_says_to_import_its_file_again(
    team, tmp_path
):
    """Its file was read where it lay and is not kept: the job fails saying what to do, not
    that a folder cannot be read."""
    path = tmp_path / "leads.csv"
    path.write_text(f"姓名,手机号\n客户,{fresh_mobile()}\n", encoding="utf-8")
    job = imports.start_import(
        dealer=team.dealer, by=team.gm, path=path, channel=channel(team.dealer)
    )
    job.status = ImportStatus.QUEUED  # as "Run again" on its page leaves it
    job.save()
    assert run_import_task.call(job.pk, "en") == ImportStatus.FAILED
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED and "import it again with dcc import" in job.error
    assert not Lead.objects.exists()
