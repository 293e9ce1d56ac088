"""The import wizard in a real browser, in Chinese: a DCC supervisor uploads a small CSV,
checks the columns and the first rows, imports it, watches it run in the background (a
worker thread, as `dcc serve` runs one) and reads the result. Screenshots of each step, on a
desktop and a phone, land in var/screenshots/."""

from __future__ import annotations

import csv
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connections
from django_tasks_db.management.commands.db_worker import Worker

from intake.models import ImportJob, ImportStatus
from leads.models import Lead
from tests.factories import fresh_mobile

pytestmark = pytest.mark.browser


@pytest.fixture
def worker(settings, tmp_path: Path) -> Iterator[Worker]:
    """The database task worker in a thread for the length of the test."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.backend.DatabaseBackend"}}
    settings.DCC_IMPORT_DIR = tmp_path / "imports"
    worker = Worker(
        queue_names=["default"],
        interval=0.2,
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="browser-test",
        excluded_queue_names=[],
    )

    def run() -> None:
        try:
            worker.run()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield worker
    worker.running = False
    thread.join(timeout=10)


def test_supervisor_imports_a_csv_through_the_wizard_in_chinese(
    open_session, team, worker, tmp_path
):
    good = [["王小明", fresh_mobile(), "S7"], ["李四", fresh_mobile(), "S5"]]
    good.append(["赵六", fresh_mobile(), "S7"])
    path = tmp_path / "三月线索.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["客户姓名", "手机号", "意向车型"])
        writer.writerows([*good, ["坏号码", "12345", "S7"]])

    boss = open_session(team.dcc_supervisor, language="zh-hans")
    page = boss.page
    boss.goto("/imports/")
    page.get_by_text("导入线索文件").wait_for()
    assert page.get_by_role("link", name="导入", exact=True).count() >= 1  # in the menu
    page.locator("input[type=file]").set_input_files(str(path))
    page.get_by_label("渠道", exact=True).select_option(label="汽车之家")
    boss.screenshot("import-upload-zh-hans-1440")
    page.get_by_role("button", name="上传并检查").click()

    page.get_by_role("heading", name="三月线索.csv").wait_for()
    assert page.get_by_label("手机号", exact=True).input_value() == "1"
    rows = page.get_by_test_id("preview-rows")
    assert "王小明" in rows.inner_text() and good[0][1] in rows.inner_text()
    assert "第 5 行将被拒" in rows.inner_text()
    boss.screenshot("import-preview-zh-hans-1440")
    page.set_viewport_size({"width": 375, "height": 800})
    boss.screenshot("import-preview-zh-hans-375")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.get_by_role("button", name="导入", exact=True).click()

    # The page polls while the worker runs the job, then reloads with the report.
    page.get_by_role("heading", name="逐行结果").wait_for(timeout=20_000)
    job = ImportJob.objects.get()
    assert (job.status, job.created, job.rejected) == (ImportStatus.DONE, 3, 1)
    assert Lead.objects.filter(dealer=team.dealer).count() == 3
    counts = page.get_by_test_id("counts").inner_text()
    assert "创建线索\n3" in counts and "被拒\n1" in counts
    report = page.get_by_test_id("report").inner_text()
    assert "手机号" in report
    assert page.get_by_role("link", name="下载被拒行").is_visible()
    boss.screenshot("import-result-zh-hans-1440")
    page.set_viewport_size({"width": 375, "height": 800})
    boss.screenshot("import-result-zh-hans-375")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    boss.goto("/imports/")
    assert "三月线索.csv" in page.get_by_test_id("imports").inner_text()
    boss.screenshot("import-list-zh-hans-375")


def test_a_file_without_channels_is_named_in_the_preview_and_not_imported(
    open_session, team, worker, tmp_path
):
    path = tmp_path / "无渠道.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["客户姓名", "手机号", "意向车型"])
        writer.writerows([["王小明", fresh_mobile(), "S7"], ["李四", fresh_mobile(), "S5"]])

    boss = open_session(team.dcc_supervisor, language="zh-hans")
    page = boss.page
    boss.goto("/imports/")
    page.locator("input[type=file]").set_input_files(str(path))
    page.get_by_role("button", name="上传并检查").click()  # no channel chosen

    page.get_by_role("heading", name="无渠道.csv").wait_for()
    assert "文件没有渠道列" in page.get_by_test_id("no-channel").inner_text()
    assert page.get_by_role("button", name="导入", exact=True).count() == 0
    boss.screenshot("import-preview-no-channel-zh-hans-1440")
    page.get_by_role("button", name="试运行").click()

    page.get_by_role("heading", name="逐行结果").wait_for(timeout=20_000)
    assert page.get_by_test_id("nothing-to-import").is_visible()
    assert page.get_by_role("button", name="正式导入").count() == 0
    boss.screenshot("import-dry-run-nothing-zh-hans-1440")
    assert not Lead.objects.exists()
