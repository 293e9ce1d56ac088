"""The import wizard in the browser's place: upload, check the columns, dry run or import,
watch it and read the report. Imports run at once here (the immediate task backend), once
the request's transaction commits, as the worker would run them a moment later."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.roles import Role
from intake import imports
from intake.models import ImportJob, ImportRow, ImportStatus, RowOutcome, SavedMapping
from leads.models import Lead
from tests.factories import channel, fresh_mobile
from tests.kit import login

pytestmark = pytest.mark.django_db

HEADERS = ["姓名", "手机号", "意向车型", "创建时间"]


@pytest.fixture(autouse=True)
def _wizard(settings, tmp_path: Path) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.DCC_IMPORT_DIR = tmp_path / "imports"


@pytest.fixture
def boss(team) -> Client:
    return login(team.dcc_supervisor)


def csv_bytes(rows: list[list[str]], headers: list[str] = HEADERS, encoding="utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def people(count: int) -> list[list[str]]:
    return [[f"客户{i}", fresh_mobile(), "S7", "2026-01-05 10:00"] for i in range(count)]


def upload(client: Client, content: bytes, name: str = "leads.csv", **fields) -> str:
    """Upload a file; the preview page's path."""
    response = client.post("/imports/", {"file": SimpleUploadedFile(name, content), **fields})
    assert response.status_code == 302, response.content.decode()[:2000]
    return response["Location"]


def detected(client: Client, preview: str) -> dict[str, str]:
    """The mapping selects as the preview sets them."""
    form = client.get(preview).context["form"]
    return {
        bound.html_name: "" if bound.value() is None else str(bound.value())
        for bound in form.column_fields()
    }


def run(client: Client, preview: str, *, dry_run: bool = False, **changes: str):
    data = {**detected(client, preview), "run": "dry_run" if dry_run else "import", **changes}
    return client.post(preview, data)


def import_file(client: Client, content: bytes, *, dry_run=False, **fields) -> ImportJob:
    preview = upload(client, content, **fields)
    response = run(client, preview, dry_run=dry_run)
    assert response.status_code == 302, response.content.decode()[:2000]
    job_id = int(re.search(r"/imports/(\d+)/", response["Location"]).group(1))
    return ImportJob.objects.get(pk=job_id)


@pytest.fixture
def imported(boss, django_capture_on_commit_callbacks):
    """`imported(content, …)`: upload and start an import, its task run on commit."""

    def make(content: bytes, **options) -> ImportJob:
        with django_capture_on_commit_callbacks(execute=True):
            job = import_file(boss, content, **options)
        job.refresh_from_db()
        return job

    return make


# ---------------------------------------------------------------- who may


@pytest.mark.parametrize("role", [Role.DCC_AGENT, Role.CONSULTANT, Role.MARKETING_MANAGER])
def test_others_are_told_only_supervisors_and_managers_import(team, role, settings):
    client = login(team.by_role(role))
    page = client.get("/imports/")
    assert page.status_code == 403
    assert "Only supervisors and managers import leads." in page.content.decode()
    posted = client.post("/imports/", {"file": SimpleUploadedFile("a.csv", csv_bytes(people(1)))})
    assert posted.status_code == 403
    assert not Path(settings.DCC_IMPORT_DIR).exists() or not any(
        Path(settings.DCC_IMPORT_DIR).rglob("*")
    )
    assert 'href="/imports/"' not in client.get("/leads/").content.decode()


@pytest.mark.parametrize("role", [Role.DCC_SUPERVISOR, Role.SALES_MANAGER, Role.GM])
def test_supervisors_and_managers_find_imports_in_the_menu(team, role):
    page = login(team.by_role(role)).get("/imports/")
    assert page.status_code == 200
    assert 'href="/imports/"' in page.content.decode()


# ---------------------------------------------------------------- preview


def test_preview_shows_the_detected_columns_and_the_first_rows(boss):
    rows = people(12)
    preview = upload(boss, csv_bytes(rows))
    page = boss.get(preview)
    assert page.status_code == 200
    form = page.context["form"]
    assert form["column_mobile"].value() == "1"  # 手机号
    assert form["column_name"].value() == "0"
    assert form["column_model"].value() == "2"
    html = page.content.decode()
    shown = page.context["preview"].rows
    assert [row.row_number for row in shown] == list(range(2, 12))  # ten rows, header is row 1
    assert rows[0][1] in html and "客户9" in html and "客户10" not in html
    assert "2026-01-05 10:00" in html


def test_a_row_that_would_be_rejected_says_why_in_the_preview(boss):
    preview = upload(boss, csv_bytes([["张三", "12345", "S7", ""], *people(1)]))
    html = boss.get(preview).content.decode()
    assert "Row 2 would be rejected:" in html


def test_a_file_without_a_mobile_column_is_told_which_column_is_missing(boss):
    preview = upload(boss, csv_bytes([["张三", "S7"]], headers=["姓名", "车型"]))
    page = boss.get(preview)
    error = page.context["preview"].error
    assert "No column holds the mobile number" in error and "手机号" in error
    assert "No column holds the mobile number" in page.content.decode()
    refused = run(boss, preview)
    assert refused.status_code == 422
    assert not ImportJob.objects.exists()


def test_a_file_without_channels_is_told_so_and_not_offered_as_an_import(boss):
    preview = upload(boss, csv_bytes(people(3)))  # no channel column, none chosen
    page = boss.get(preview)
    html = page.content.decode()
    assert "The file has no channel column and no channel was chosen" in html
    assert all("No channel" in row.error for row in page.context["preview"].rows)
    assert 'value="dry_run"' in html and 'value="import"' not in html
    refused = run(boss, preview)  # posted anyway
    assert refused.status_code == 422
    assert "no channel was chosen" in refused.content.decode()
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize(
    ("headers", "row", "fields"),
    [
        ([*HEADERS, "渠道"], ["李四", "13900000001", "S7", "", "autohome"], {}),
        (HEADERS, ["李四", "13900000001", "S7", ""], {"preset": "autohome"}),
    ],
)
def test_a_channel_column_or_a_preset_channel_is_enough(boss, team, headers, row, fields):
    channel(team.dealer)
    html = boss.get(upload(boss, csv_bytes([row], headers=headers), **fields)).content.decode()
    assert "no channel was chosen" not in html
    assert 'value="import"' in html


def test_an_unreadable_file_is_explained_before_anything_starts(boss):
    preview = upload(boss, b"%PDF-1.7 binary", name="leads.csv")
    html = boss.get(preview).content.decode()
    assert "not a spreadsheet export" in html
    assert "Upload another file" in html


def test_a_changed_mapping_needs_a_name_and_is_saved_for_the_dealer(
    boss, team, django_capture_on_commit_callbacks
):
    preview = upload(boss, csv_bytes(people(2)), channel=channel(team.dealer).pk)
    unnamed = run(boss, preview, column_name="")
    assert unnamed.status_code == 422
    assert "give it a name" in unnamed.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        named = run(boss, preview, column_name="", name="平台月报")
    assert named.status_code == 302
    saved = SavedMapping.objects.get(dealer=team.dealer, name="平台月报")
    assert saved.mapping["mobile"] == "手机号" and saved.mapping["name"] == ""
    job = ImportJob.objects.get()
    assert (job.saved_mapping, job.status, job.created) == ("平台月报", ImportStatus.DONE, 2)
    assert set(Lead.objects.values_list("customer__name", flat=True)) == {""}


def test_a_stored_upload_is_not_found_by_another_dealer_or_a_made_up_name(boss, other_team):
    preview = upload(boss, csv_bytes(people(1)))
    assert login(other_team.dcc_supervisor).get(preview).status_code == 404
    assert boss.get("/imports/upload/..%2F..%2Fsecret_key/").status_code == 404
    assert boss.get("/imports/upload/" + "0" * 32 + "/").status_code == 404


def test_uploads_are_stored_under_fresh_names_never_their_own(boss, settings):
    upload(boss, csv_bytes(people(1)), name="../../evil.csv")
    upload(boss, csv_bytes(people(1)), name="../../evil.csv")
    stored = sorted(p for p in Path(settings.DCC_IMPORT_DIR).rglob("*") if p.is_file())
    assert len(stored) == 4  # two files, each with its note
    assert all(re.fullmatch(r"[0-9a-f]{32}(\.json)?", p.name) for p in stored)


def test_an_oversized_upload_is_refused_with_the_limit(boss, settings):
    settings.DCC_IMPORT_MAX_MB = 1
    big = csv_bytes(people(1)) + b"x" * (1024**2 + 10)
    response = boss.post("/imports/", {"file": SimpleUploadedFile("big.csv", big)})
    assert response.status_code == 422
    assert "at most 1 MB can be uploaded" in response.content.decode()
    assert not any(p.is_file() for p in Path(settings.DCC_IMPORT_DIR).rglob("*"))


# ---------------------------------------------------------------- running


def test_a_dry_run_writes_no_lead_but_reports_the_counts(imported, boss, team):
    rows = [*people(3), ["坏号码", "12345", "S7", ""]]
    job = imported(csv_bytes(rows), dry_run=True, channel=channel(team.dealer).pk)
    assert job.status == ImportStatus.DONE and job.dry_run
    assert (job.created, job.rejected) == (3, 1)
    assert not Lead.objects.exists()
    html = boss.get(f"/imports/{job.pk}/").content.decode()
    assert "Dry run: nothing was written." in html
    assert "Import for real" in html


def test_a_dry_run_that_would_write_nothing_offers_no_import(imported, boss):
    job = imported(csv_bytes(people(2)), dry_run=True)  # every row has no channel
    assert (job.status, job.created, job.rejected) == (ImportStatus.DONE, 0, 2)
    html = boss.get(f"/imports/{job.pk}/").content.decode()
    assert "An import would write no lead" in html
    assert "Import for real" not in html
    refused = boss.post(f"/imports/{job.pk}/import/", follow=True)
    assert "there is nothing to import" in refused.content.decode()
    assert ImportJob.objects.count() == 1


def test_a_dry_run_imports_for_real_from_the_same_file(
    imported, boss, team, django_capture_on_commit_callbacks
):
    dry = imported(csv_bytes(people(2)), dry_run=True, channel=channel(team.dealer).pk)
    with django_capture_on_commit_callbacks(execute=True):
        response = boss.post(f"/imports/{dry.pk}/import/")
    real = ImportJob.objects.exclude(pk=dry.pk).get()
    assert response["Location"] == f"/imports/{real.pk}/"
    assert not real.dry_run and real.status == ImportStatus.DONE
    assert (real.upload, real.file_name, real.channel_id) == (
        dry.upload,
        dry.file_name,
        dry.channel_id,
    )
    assert Lead.objects.count() == 2


def test_an_import_creates_leads_and_reports_rejected_rows_with_their_reason(imported, boss, team):
    rows = [*people(2), ["坏号码", "12345", "S7", ""], ["日期错", fresh_mobile(), "S7", "昨天"]]
    job = imported(csv_bytes(rows), channel=channel(team.dealer).pk)
    assert (job.status, job.created, job.rejected) == (ImportStatus.DONE, 2, 2)
    assert Lead.objects.filter(dealer=team.dealer).count() == 2
    page = boss.get(f"/imports/{job.pk}/")
    html = page.content.decode()
    assert "hx-trigger" not in html  # finished: no more polling
    rejected = {row.row_number: row for row in page.context["report"] if row.field}
    assert set(rejected) == {4, 5}
    assert rejected[4].column_label == "手机号"
    assert rejected[5].column_label == "创建时间" and "昨天" in rejected[5].message
    assert rejected[5].message in html.replace("&ldquo;", "“").replace("&rdquo;", "”")
    lead = ImportRow.objects.filter(job=job, outcome=RowOutcome.CREATED).first().lead
    assert f'href="/leads/{lead.pk}/"' in html
    only = boss.get(f"/imports/{job.pk}/?outcome=rejected").context["report"]
    assert [row.row_number for row in only] == [4, 5]


def test_the_rejected_rows_download_has_the_reason_column(imported, boss, team):
    job = imported(
        csv_bytes([*people(1), ["坏号码", "12345", "S7", ""]]),
        name="三月线索.csv",
        channel=channel(team.dealer).pk,
    )
    response = boss.get(f"/imports/{job.pk}/rejected.csv")
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and "-rejected.csv" in disposition
    text = response.content.decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0] == [*HEADERS, "row", "reason"]
    assert table[1][:2] == ["坏号码", "12345"] and table[1][4] == "3"
    assert table[1][5].startswith("手机号: ")


def test_a_gbk_csv_imports(imported, team):
    job = imported(csv_bytes(people(3), encoding="gbk"), channel=channel(team.dealer).pk)
    assert (job.status, job.created, job.rejected) == (ImportStatus.DONE, 3, 0)
    assert set(Lead.objects.values_list("customer__name", flat=True)) == {"客户0", "客户1", "客户2"}


def test_a_failed_import_shows_why_and_runs_again_to_the_end(
    imported, boss, team, django_capture_on_commit_callbacks
):
    job = imported(csv_bytes(people(3)), channel=channel(team.dealer).pk)
    # As if the worker had died after the last row: the rows it did are not done twice.
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.FAILED, error="Killed")
    html = boss.get(f"/imports/{job.pk}/").content.decode()
    assert "Killed" in html and "Run again" in html
    with django_capture_on_commit_callbacks(execute=True):
        response = boss.post(f"/imports/{job.pk}/again/")
    assert response["Location"] == f"/imports/{job.pk}/"
    job.refresh_from_db()
    assert (job.status, job.error, job.created) == (ImportStatus.DONE, "", 3)
    assert Lead.objects.count() == 3


def test_another_dealers_import_is_not_found(imported, team, other_team):
    job = imported(csv_bytes(people(1)), channel=channel(team.dealer).pk)
    stranger = login(other_team.dcc_supervisor)
    for path in ("", "progress/", "rejected.csv"):
        assert stranger.get(f"/imports/{job.pk}/{path}").status_code == 404
    assert stranger.post(f"/imports/{job.pk}/again/").status_code == 404
    assert stranger.post(f"/imports/{job.pk}/import/").status_code == 404
    assert job.file_name not in stranger.get("/imports/").content.decode()


def test_the_progress_fragment_shows_the_percent_and_polls_until_done(boss, team, tmp_path):
    path = tmp_path / "leads.csv"
    path.write_bytes(csv_bytes(people(2)))
    job = imports.start_import(dealer=team.dealer, by=team.dcc_supervisor, path=path)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.RUNNING, bytes_total=200, bytes_done=84, rows_done=1
    )
    fragment = boss.get(f"/imports/{job.pk}/progress/", headers={"HX-Request": "true"})
    html = fragment.content.decode()
    assert 'aria-valuenow="42"' in html and "42% of the file read" in html
    assert 'hx-trigger="every 1s"' in html
    assert "HX-Refresh" not in fragment
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.DONE, bytes_done=200)
    done = boss.get(f"/imports/{job.pk}/progress/", headers={"HX-Request": "true"})
    assert "100% of the file read" in done.content.decode()
    assert "hx-trigger" not in done.content.decode()
    assert done["HX-Refresh"] == "true"  # the page reloads once to show the report


def test_the_list_shows_past_imports_with_who_status_and_counts(imported, boss, team):
    job = imported(csv_bytes(people(2)), name="四月.csv", channel=channel(team.dealer).pk)
    html = boss.get("/imports/").content.decode()
    assert "四月.csv" in html and f'href="/imports/{job.pk}/"' in html
    assert str(team.dcc_supervisor) in html and "Done" in html and "100%" in html


def test_the_upload_still_needs_the_csrf_token(team):
    client = login(team.dcc_supervisor, csrf=True)
    content = csv_bytes(people(1))
    refused = client.post("/imports/", {"file": SimpleUploadedFile("a.csv", content)})
    assert refused.status_code == 403
    token = client.get("/imports/").context["csrf_token"]
    accepted = client.post(
        "/imports/",
        {"csrfmiddlewaretoken": token, "file": SimpleUploadedFile("a.csv", content)},
    )
    assert accepted.status_code == 302
