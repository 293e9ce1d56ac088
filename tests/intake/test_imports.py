"""intake.imports and `dcc import`: files of leads row by row; nothing imported twice, nothing
half-written after a crash, rejected rows back out as a CSV to fix and import again."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dcc.errors import Conflict, InvalidInput
from intake import history, imports
from intake.files import FileError
from intake.models import ImportJob, ImportRow, ImportStatus, RowOutcome
from intake.rows import safe_cell
from leads import ledger
from leads.models import Customer, Event, EventKind, Lead, Task
from leads.stages import Stage
from tests.factories import channel, fresh_mobile, make_lead

pytestmark = pytest.mark.django_db

HEADERS = [
    "name",
    "mobile",
    "channel",
    "created_at",
    "owner",
    "contacted_at",
    "appointed_at",
    "arrived_at",
    "ordered_at",
    "delivered_at",
    "defeated_at",
    "defeat_reason",
]
BASE = timezone.now().replace(second=0, microsecond=0) - timedelta(days=60)


def day(n: float) -> datetime:
    return BASE + timedelta(days=n)


def stamp(n: float) -> str:
    return timezone.localtime(day(n)).strftime("%Y-%m-%d %H:%M")


def line(**cells: str) -> list[str]:
    unknown = set(cells) - set(HEADERS)
    assert not unknown, unknown
    return [cells.get(header, "") for header in HEADERS]


def write_csv(path: Path, rows: list[list[str]], headers: list[str] = HEADERS) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


def plain_rows(count: int) -> list[list[str]]:
    return [
        line(
            name=f"客户{i}", mobile=fresh_mobile(), created_at=stamp(i), contacted_at=stamp(i + 0.5)
        )
        for i in range(count)
    ]


def do_import(team, path: Path, **options) -> ImportJob:
    options.setdefault("channel", channel(team.dealer, "autohome"))
    job = imports.start_import(
        dealer=team.dealer, by=options.pop("by", team.gm), path=path, **options
    )
    return imports.run_import(job, path=path)


def counts() -> tuple[int, int, int, int]:
    return (
        Customer.objects.count(),
        Lead.objects.count(),
        Event.objects.count(),
        Task.objects.count(),
    )


def outcomes(job: ImportJob) -> dict[int, str]:
    return dict(job.rows.order_by("row_number").values_list("row_number", "outcome"))


# ---------------------------------------------------------------- importing


def test_a_file_of_leads_with_their_history(team, tmp_path):
    path = write_csv(
        tmp_path / "leads.csv",
        [
            line(name="王小明", mobile=fresh_mobile(), created_at=stamp(0)),
            line(
                mobile=fresh_mobile(),
                channel="douyin",
                owner=team.consultant.username,
                created_at=stamp(1),
                contacted_at=stamp(1.1),
                appointed_at=stamp(2),
                arrived_at=stamp(4),
                ordered_at=stamp(4.1),
                delivered_at=stamp(30),
            ),
            line(name="\u200b"),  # empty but for a zero-width space pasted along
            line(
                mobile=fresh_mobile(),
                owner=team.dcc_agent.username,
                created_at=stamp(2),
                contacted_at=stamp(3),
                defeated_at=stamp(10),
                defeat_reason="price",
            ),
        ],
    )
    job = do_import(team, path)
    assert job.status == ImportStatus.DONE
    assert (job.created, job.touched, job.rejected, job.already_imported, job.skipped) == (
        3, 0, 0, 0, 1,
    )  # fmt: skip
    assert job.rows_done == 4
    assert job.bytes_done == job.bytes_total == path.stat().st_size
    assert job.percent == 100
    assert job.headers == HEADERS
    assert outcomes(job) == {2: "created", 3: "created", 5: "created"}
    delivered = job.rows.get(row_number=3).lead
    assert (delivered.stage, delivered.channel.code, delivered.owner_id) == (
        Stage.DELIVERED,
        "douyin",
        team.consultant.pk,
    )
    assert delivered.events.get(kind=EventKind.DELIVERED).occurred_at == day(30)
    assert job.rows.get(row_number=2).lead.channel.code == "autohome"
    assert job.rows.get(row_number=5).lead.stage == Stage.DEFEATED
    assert ledger.verify().ok


def test_importing_the_same_file_again_creates_nothing(
    team, tmp_path, django_assert_max_num_queries
):
    path = write_csv(tmp_path / "leads.csv", plain_rows(10))
    first = do_import(team, path)
    assert first.created == 10
    before = counts()
    job = imports.start_import(
        dealer=team.dealer, by=team.gm, path=path, channel=channel(team.dealer, "autohome")
    )
    # One look-up per batch of rows, however much each row once wrote.
    with django_assert_max_num_queries(12):
        imports.run_import(job, path=path)
    assert (job.created, job.touched, job.rejected, job.already_imported) == (0, 0, 0, 10)
    assert counts() == before
    assert not job.rows.exists()


def test_queries_do_not_grow_with_the_rows_of_a_batch(team, tmp_path):
    """Rows are replayed in memory and written per batch: 40 rows cost what 4 do."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    spent = []
    for size in (4, 40):
        path = write_csv(tmp_path / f"{size}.csv", plain_rows(size))
        job = imports.start_import(
            dealer=team.dealer, by=team.gm, path=path, channel=channel(team.dealer, "autohome")
        )
        with CaptureQueriesContext(connection) as queries:
            imports.run_import(job, path=path)
        assert job.created == size
        spent.append(len(queries))
    assert spent[0] == spent[1]
    assert ledger.verify().ok


def test_a_batch_the_database_refuses_is_imported_again_row_by_row(team, tmp_path, monkeypatch):
    """A live enquiry can race an import batch for the same customer (the open-lead
    constraint then refuses the batch): its rows are redone through the actions, nothing is
    lost or written twice."""
    from django.db import IntegrityError

    from leads import batch as replay

    taken = make_lead(team.dealer, by=team.dcc_agent)
    path = write_csv(
        tmp_path / "leads.csv",
        [*plain_rows(3), line(mobile=taken.customer.phone, created_at=stamp(9))],
    )
    real_write = replay.Batch.write
    refused = []

    def refuse_once(self):
        if not refused:
            refused.append(True)
            raise IntegrityError("lead_one_open_per_customer")
        return real_write(self)

    monkeypatch.setattr(replay.Batch, "write", refuse_once)
    before = counts()
    job = do_import(team, path)
    assert refused
    assert (job.created, job.touched, job.rejected) == (3, 1, 0)
    assert outcomes(job) == {2: "created", 3: "created", 4: "created", 5: "touched"}
    assert Lead.objects.count() == before[1] + 3
    taken.refresh_from_db()
    assert taken.touch_count == 1
    assert ledger.verify().ok


def test_the_same_customer_twice_in_a_file_is_a_lead_and_a_touch(team, tmp_path):
    mobile = fresh_mobile()
    path = write_csv(
        tmp_path / "leads.csv",
        [
            line(mobile=mobile, created_at=stamp(0)),
            line(mobile=f"+86 {mobile[:3]} {mobile[3:]}", channel="yiche", created_at=stamp(2)),
        ],
    )
    job = do_import(team, path)
    assert outcomes(job) == {2: "created", 3: "touched"}
    assert (job.created, job.touched) == (1, 1)
    lead = Lead.objects.get()
    assert lead.touch_count == 1
    touch = lead.events.get(kind=EventKind.TOUCHED)
    assert (touch.occurred_at, touch.data["channel"]) == (day(2), "yiche")
    assert set(job.rows.values_list("lead_id", flat=True)) == {lead.pk}


def test_history_for_a_customer_already_in_the_pipeline_is_rejected(team, tmp_path):
    mobile = fresh_mobile()
    make_lead(team.dealer, phone=mobile, at=day(0))
    path = write_csv(
        tmp_path / "leads.csv",
        [line(mobile=mobile, created_at=stamp(1), contacted_at=stamp(2))],
    )
    before = counts()
    job = do_import(team, path)
    row = job.rows.get()
    assert (row.outcome, row.field) == (RowOutcome.REJECTED, "mobile")
    assert "open lead" in row.message
    assert counts() == before


@pytest.mark.parametrize(
    ("cells", "field", "message"),
    [
        ({"owner": "ghost"}, "owner", "“ghost”"),
        ({"channel": "tiktok-global"}, "channel", "“tiktok-global” is not one of this dealer's"),
    ],
)
def test_an_unknown_owner_or_channel_is_rejected_with_its_column(
    team, tmp_path, cells, field, message
):
    path = write_csv(
        tmp_path / "leads.csv", [line(mobile=fresh_mobile(), created_at=stamp(0), **cells)]
    )
    job = do_import(team, path)
    row = job.rows.get()
    assert (row.outcome, row.field, row.lead) == (RowOutcome.REJECTED, field, None)
    assert message in row.message
    assert row.raw == line(mobile=row.raw[1], created_at=stamp(0), **cells)
    assert Lead.objects.count() == 0


def test_channels_are_named_by_code_or_name_and_rows_without_need_the_jobs(team, tmp_path):
    path = write_csv(
        tmp_path / "leads.csv",
        [
            line(mobile=fresh_mobile(), channel="Douyin", created_at=stamp(0)),
            line(mobile=fresh_mobile(), channel="hotline_400", created_at=stamp(0)),
            line(mobile=fresh_mobile(), created_at=stamp(0)),
        ],
    )
    job = do_import(team, path, channel=None)
    assert [
        row.lead.channel.code if row.lead else row.field for row in job.rows.order_by("row_number")
    ] == ["douyin", "hotline_400", "channel"]


def test_a_dry_run_writes_nothing_but_counts_like_a_real_run(team, tmp_path):
    mobile = fresh_mobile()
    path = write_csv(
        tmp_path / "leads.csv",
        [
            line(mobile=mobile, created_at=stamp(0)),
            line(mobile=mobile, channel="yiche", created_at=stamp(1)),
            line(mobile=fresh_mobile(), owner="ghost", created_at=stamp(1)),
        ],
    )
    before = counts()
    job = do_import(team, path, dry_run=True)
    assert (job.created, job.touched, job.rejected) == (1, 1, 1)
    assert counts() == before
    assert not ImportRow.objects.exclude(outcome=RowOutcome.REJECTED).exists()
    job.refresh_from_db()
    assert (job.status, job.dry_run, job.created, job.touched) == (ImportStatus.DONE, True, 1, 1)
    # Its rejected rows are kept for the report.
    assert outcomes(job) == {4: "rejected"}
    # The real run afterwards imports everything.
    real = do_import(team, path)
    assert (real.created, real.touched, real.rejected, real.already_imported) == (1, 1, 1, 0)


def test_a_dry_run_over_many_batches_counts_what_the_real_run_does(team, tmp_path, monkeypatch):
    """Each batch of a dry run is replayed and forgotten (no lead written, no lock held from
    one batch to the next), yet a repeat enquiry, the same row again and the same platform id
    in a later batch count as they will in the real run."""
    monkeypatch.setattr(imports, "BATCH_ROWS", 2)
    first, second, third = fresh_mobile(), fresh_mobile(), fresh_mobile()
    headers = ["external_id", "mobile", "created_at", "contacted_at", "delivered_at"]
    rows = [
        ["", first, stamp(0), "", ""],
        ["P-1", second, stamp(0), "", ""],
        ["", first, stamp(2), "", ""],  # batch 2: a repeat enquiry of row 2 (a touch)
        ["", first, stamp(0), "", ""],  # the same row as row 2: already imported
        ["P-1", third, stamp(3), "", ""],  # batch 3: the same platform lead as row 3
        ["", first, stamp(4), stamp(5), stamp(6)],  # history for an open lead: rejected
    ]
    path = write_csv(tmp_path / "leads.csv", rows, headers)
    before = counts()
    dry = do_import(team, path, dry_run=True)
    assert counts() == before
    real = do_import(team, path)
    summary = ("created", "touched", "rejected", "already_imported")
    assert [getattr(dry, name) for name in summary] == [2, 1, 1, 2]
    assert [getattr(real, name) for name in summary] == [2, 1, 1, 2]


def test_counters_are_saved_and_progress_reported_after_each_batch(team, tmp_path, monkeypatch):
    monkeypatch.setattr(imports, "BATCH_ROWS", 3)
    path = write_csv(tmp_path / "leads.csv", plain_rows(7))
    job = imports.start_import(
        dealer=team.dealer, by=team.gm, path=path, channel=channel(team.dealer, "autohome")
    )
    seen: list[tuple[int, int, int]] = []

    def progress(job: ImportJob) -> None:
        stored = ImportJob.objects.get(pk=job.pk)
        seen.append((job.rows_done, stored.created, stored.status == ImportStatus.RUNNING))

    imports.run_import(job, path=path, progress=progress)
    assert seen == [(3, 3, True), (6, 6, True), (7, 7, True), (7, 7, False)]


def test_a_platform_export_takes_the_presets_channel_and_its_lead_ids(team, tmp_path):
    headers = ["线索ID", "客户姓名", "手机号码", "询价时间"]
    mobile = fresh_mobile()
    path = write_csv(tmp_path / "autohome.csv", [["AH-1", "李雷", mobile, stamp(0)]], headers)
    job = do_import(team, path, channel=None, preset="autohome")
    lead = job.rows.get().lead
    assert (lead.channel.code, lead.external_id, lead.customer.name) == ("autohome", "AH-1", "李雷")
    assert job.mapping == {"external_id": "线索ID", "name": "客户姓名", "mobile": "手机号码",
                           "created_at": "询价时间"}  # fmt: skip
    # The platform's lead again, written differently: already here, nothing written.
    before = counts()
    again = write_csv(tmp_path / "again.csv", [["AH-1", "李雷先生", mobile, stamp(0)]], headers)
    job = do_import(team, again, channel=None, preset="autohome")
    assert (job.created, job.touched, job.already_imported) == (0, 0, 1)
    assert counts() == before


def test_a_saved_mapping_reads_a_dealers_own_column_names(team, tmp_path):
    imports.save_mapping(
        dealer=team.dealer,
        by=team.gm,
        name="monthly",
        mapping={"mobile": "联系方式A", "owner": "跟进人X", "created_at": "日期"},
    )
    path = write_csv(
        tmp_path / "monthly.csv",
        [[fresh_mobile(), team.dcc_agent.username, stamp(0)]],
        headers=["联系方式A", "跟进人X", "日期"],
    )
    job = do_import(team, path, saved_mapping="monthly")
    assert job.rows.get().lead.owner == team.dcc_agent
    assert job.saved_mapping == "monthly"


@pytest.mark.parametrize(
    ("mapping", "message"),
    [({"name": "姓名"}, "must name the mobile column"), ({"mobile": "手机", "age": "年龄"}, "age")],
)
def test_a_saved_mapping_is_checked_when_saved(team, mapping, message):
    with pytest.raises(InvalidInput) as caught:
        imports.save_mapping(dealer=team.dealer, by=team.gm, name="m", mapping=mapping)
    assert message in caught.value.message


# ---------------------------------------------------------------- crashes


@pytest.mark.django_db(transaction=True)
def test_a_crash_mid_file_leaves_finished_rows_whole_and_a_rerun_finishes(
    transactional_ledger, team, tmp_path, monkeypatch
):
    rows = plain_rows(8)
    path = write_csv(tmp_path / "leads.csv", rows)
    replay = history.replay
    monkeypatch.setattr(imports, "BATCH_ROWS", 2)  # a transaction each: rows 2–3, 4–5, 6–7 …

    def crash_on_row_6(*, row, **kwargs):
        if row.row_number == 6:  # the fifth lead: the first of the third batch
            raise RuntimeError("power cut")
        return replay(row=row, **kwargs)

    monkeypatch.setattr(history, "replay", crash_on_row_6)
    job = imports.start_import(
        dealer=team.dealer, by=team.gm, path=path, channel=channel(team.dealer, "autohome")
    )
    with pytest.raises(RuntimeError):
        imports.run_import(job, path=path)
    job.refresh_from_db()
    assert (job.status, job.created) == (ImportStatus.FAILED, 4)
    assert "power cut" in job.error
    assert outcomes(job) == {2: "created", 3: "created", 4: "created", 5: "created"}
    # Every finished batch is whole (created and called); the crashed one left nothing.
    assert Lead.objects.count() == 4
    assert Customer.objects.count() == 4
    for lead in Lead.objects.all():
        assert [e.kind for e in lead.events.order_by("seq")] == ["created", "called"]
        assert lead.stage == Stage.CONTACTED
    assert ledger.verify().ok

    monkeypatch.setattr(history, "replay", replay)
    imports.run_import(job, path=path)
    job.refresh_from_db()
    assert (job.status, job.created, job.already_imported, job.error) == (
        ImportStatus.DONE,
        8,
        0,
        "",
    )
    assert Lead.objects.count() == 8
    assert sorted(outcomes(job)) == list(range(2, 10))
    assert ledger.verify().ok
    # A new import of the same file finds all of it done.
    again = do_import(team, path)
    assert (again.created, again.already_imported) == (0, 8)


def test_a_finished_job_does_not_run_again(team, tmp_path):
    path = write_csv(tmp_path / "leads.csv", plain_rows(1))
    job = do_import(team, path)
    with pytest.raises(Conflict):
        imports.run_import(job, path=path)


def test_a_job_runs_only_on_its_own_file(team, tmp_path):
    path = write_csv(tmp_path / "leads.csv", plain_rows(1))
    job = imports.start_import(dealer=team.dealer, by=team.gm, path=path)
    write_csv(path, plain_rows(2))
    with pytest.raises(FileError):
        imports.run_import(job, path=path)
    assert Lead.objects.count() == 0


def test_a_saved_mapping_must_exist(team, tmp_path):
    path = write_csv(tmp_path / "leads.csv", plain_rows(1))
    with pytest.raises(InvalidInput) as caught:
        imports.start_import(dealer=team.dealer, by=team.gm, path=path, saved_mapping="monthly")
    assert caught.value.field == "mapping"


# ---------------------------------------------------------------- rejected rows


def read_rejected(job: ImportJob) -> tuple[str, list[list[str]]]:
    out = io.StringIO()
    imports.rejected_rows_csv(job, out)
    text = out.getvalue()
    return text, list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def test_rejected_rows_go_out_as_csv_and_come_back_fixed(team, tmp_path):
    good, bad = fresh_mobile(), fresh_mobile()
    path = write_csv(
        tmp_path / "leads.csv",
        [
            line(mobile=good, created_at=stamp(0)),
            line(name='=HYPERLINK("http://x")', mobile=bad, channel="myspace", created_at=stamp(1)),
        ],
    )
    job = do_import(team, path)
    assert (job.created, job.rejected) == (1, 1)
    text, table = read_rejected(job)
    assert text.startswith("\ufeff")
    header, row = table
    assert header == [*HEADERS, "row", "reason"]
    assert row[1] == bad
    assert row[0] == safe_cell('=HYPERLINK("http://x")')
    assert row[-2] == "3"
    assert "myspace" in row[-1] and row[-1].startswith("channel")

    # Fix the channel, import the rejected rows' file: the row is created.
    fixed = tmp_path / "leads.rejected.csv"
    row[HEADERS.index("channel")] = "douyin"
    with fixed.open("w", encoding="utf-8-sig", newline="") as out:
        csv.writer(out).writerows([header, row])
    again = do_import(team, fixed)
    assert (again.created, again.rejected, again.already_imported) == (1, 0, 0)
    lead = again.rows.get().lead
    assert (lead.customer.phone, lead.channel.code) == (bad, "douyin")


# ---------------------------------------------------------------- the command


def test_the_command_imports_and_reports(team, tmp_path, capsys):
    path = write_csv(
        tmp_path / "march.csv",
        [*plain_rows(2), line(mobile=fresh_mobile(), owner="ghost", created_at=stamp(1))],
    )
    call_command("import", str(path), "--dealer", team.dealer.code, "--channel", "autohome")
    out, err = capsys.readouterr()
    assert "Created 2, touched 0, rejected 1, already imported 0, empty rows 0." in out
    rejected = tmp_path / "march.rejected.csv"
    assert str(rejected) in out
    assert rejected.read_bytes().startswith(b"\xef\xbb\xbf")
    assert "100%" in err and "rows/s" in err
    job = ImportJob.objects.get()
    assert (job.created_by, job.file_name) == (team.gm, "march.csv")

    call_command("import", str(path), "--dealer", team.dealer.code, "--channel", "autohome")
    assert "Created 0, touched 0, rejected 1, already imported 2" in capsys.readouterr().out


def test_the_command_dry_run_writes_no_lead(team, tmp_path, capsys):
    path = write_csv(tmp_path / "march.csv", plain_rows(3))
    call_command(
        "import",
        str(path),
        "--dealer",
        team.dealer.code,
        "--channel",
        "autohome",
        "--dry-run",
        "--as",
        team.sales_manager.username,
    )
    out = capsys.readouterr().out
    assert "Dry run" in out and "Created 3," in out
    assert Lead.objects.count() == 0
    assert ImportJob.objects.get().created_by == team.sales_manager


def refused(*argv: str) -> str:
    """The message `dcc import …` exits with; the exit status is the error's return code."""
    with pytest.raises(CommandError) as caught:
        call_command("import", *argv)
    assert caught.value.returncode != 0
    return str(caught.value)


def test_the_command_fails_on_an_empty_file(team, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    assert refused(str(path), "--dealer", team.dealer.code) == "empty.csv: The file is empty."
    assert Lead.objects.count() == 0
    assert ImportJob.objects.get().status == ImportStatus.FAILED


def test_the_command_fails_on_a_file_without_mobile_column(team, tmp_path):
    path = write_csv(tmp_path / "names.csv", [["王小明", "上海"]], headers=["name", "city"])
    message = refused(str(path), "--dealer", team.dealer.code)
    assert message.startswith("names.csv: No column holds the mobile number.")
    assert Lead.objects.count() == 0
    job = ImportJob.objects.get()
    assert (job.status, job.error) == (ImportStatus.FAILED, message.removeprefix("names.csv: "))


def test_the_command_refuses_an_importer_who_is_not_a_manager(team, tmp_path):
    path = write_csv(tmp_path / "march.csv", plain_rows(1))
    message = refused(str(path), "--dealer", team.dealer.code, "--as", team.dcc_agent.username)
    assert "supervisors and managers" in message
    assert Lead.objects.count() == 0
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--dealer", "nowhere", "Unknown dealer nowhere."),
        ("--channel", "myspace", "no channel myspace"),
        ("--as", "nobody", "Unknown user nobody."),
        ("--mapping", "weekly", "no saved mapping “weekly”"),
    ],
)
def test_the_command_names_what_it_does_not_know(team, tmp_path, option, value, expected):
    path = write_csv(tmp_path / "march.csv", plain_rows(1))
    argv = {"--dealer": team.dealer.code, option: value}
    assert expected in refused(str(path), *[item for pair in argv.items() for item in pair])


def test_the_command_fails_on_a_missing_file(team, tmp_path):
    message = refused(str(tmp_path / "gone.csv"), "--dealer", team.dealer.code)
    assert message.startswith("gone.csv: Cannot read gone.csv")


def test_an_import_marks_the_round_robin_before_it_adds_to_the_tallies(team, tmp_path):
    """The order a webhook's lead takes its locks in (assignment, then the day's tallies): an
    import taking them the other way round deadlocked with enquiries arriving meanwhile."""
    path = write_csv(tmp_path / "enquiries.csv", plain_rows(3))

    with CaptureQueriesContext(connection) as done:
        do_import(team, path)

    statements = [query["sql"] for query in done.captured_queries]
    marks = [
        i for i, sql in enumerate(statements) if sql.startswith('UPDATE "accounts_membership"')
    ]
    tallied = [i for i, sql in enumerate(statements) if '"leads_dailytally"' in sql]
    assert marks and tallied
    assert max(marks) < min(tallied)
