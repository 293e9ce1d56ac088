"""Importing call history: a PBX's or call center's export of past calls (CSV or XLSX, Asterisk
columns or Chinese headings) into the dealer's calls, on the settings page and by `dcc phone
import`: idempotent, row by row, a dry run that stores nothing, a whole-file refusal when a
column every call needs is missing."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from accounts.models import SettingsChange
from calls.history import PAGE_MAX_ROWS, RejectedRow, import_call_history
from calls.models import Call, Callback, PhoneAccount
from calls.report import Direction, Disposition
from dcc.errors import NotPermitted
from intake.files import FileError
from leads.models import Event, EventKind
from leads.stages import Stage
from tests.calls.reports import CALLER, HOTLINE
from tests.conftest import FIXED_NOW, Team
from tests.factories import make_lead
from tests.kit import assert_recorded, login

pytestmark = pytest.mark.django_db

# The calls happened the day before the tests' fixed day, at 10:00 China time.
DAY = (FIXED_NOW - timedelta(days=1)).astimezone(FIXED_NOW.tzinfo)
STARTED = DAY.replace(hour=10, minute=0, second=0, microsecond=0)
OTHER = "13722223333"
ASTERISK = [
    "uniqueid", "src", "dst", "start", "answer", "end", "duration", "billsec", "disposition",
    "channel", "dstchannel", "accountcode", "did",
]  # fmt: skip


def clock(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def cdr(uniqueid: str, *, src: str = CALLER, minutes: int = 0, answered: bool = True, **more):
    """An inbound call to the 400 line, picked up at seat 8001 after 9 s and talked for 120 s
    (or not answered: 30 s of ringing)."""
    start = STARTED + timedelta(minutes=minutes)
    row = {
        "uniqueid": uniqueid,
        "src": src,
        "dst": "8001",
        "start": clock(start),
        "answer": clock(start + timedelta(seconds=9)) if answered else "",
        "end": clock(start + timedelta(seconds=129 if answered else 30)),
        "duration": "129" if answered else "30",
        "billsec": "120" if answered else "0",
        "disposition": "ANSWERED" if answered else "NO ANSWER",
        "channel": "SIP/trunk-0000001a",
        "dstchannel": "SIP/8001-0000001b",
        "accountcode": "",
        "did": HOTLINE,
    }
    row.update(more)
    return row


def write_csv(path: Path, rows: list[dict], *, headers=ASTERISK, encoding="utf-8") -> Path:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([row.get(header, "") for header in headers])
    path.write_bytes(text.getvalue().encode(encoding))
    return path


def run(account: PhoneAccount, by, path: Path, **options):
    return import_call_history(account=account, by=by, path=path, **options)


def test_a_csv_export_stores_each_call_and_writes_the_leads_ledger(
    team: Team, account, tmp_path, caplog
):
    lead = make_lead(team.dealer, phone=CALLER, at=STARTED - timedelta(days=1))
    path = write_csv(
        tmp_path / "Master.csv",
        [cdr("1.1"), cdr("1.2", src=OTHER, minutes=5), cdr("1.3", src=OTHER, minutes=20)],
    )

    result = run(account, team.gm, path)

    assert (result.rows, result.new, result.known, result.skipped, result.rejected) == (
        3,
        3,
        0,
        0,
        [],
    )
    assert result.matched == 1
    call = Call.objects.get(dealer=team.dealer, call_id="1.1")
    assert (call.lead_id, call.agent_id, call.disposition) == (
        lead.pk,
        team.dcc_agent.pk,
        Disposition.ANSWERED,
    )
    assert (call.rang_at, call.talk_seconds, call.wait_seconds) == (STARTED, 120, 9)
    assert_recorded(
        lead,
        EventKind.CALLED,
        by=team.dcc_agent,
        stage=(Stage.NEW, Stage.CONTACTED),
        at=STARTED + timedelta(seconds=9),
    )
    change = SettingsChange.objects.get(dealer=team.dealer, what="call_history_imported")
    assert change.detail == {"file": "Master.csv", "rows": 3, "new": 3, "known": 0, "rejected": 0}
    assert "rows=3 new=3" in caplog.text
    assert CALLER not in caplog.text and OTHER not in caplog.text


def test_the_same_file_twice_stores_nothing_new(team: Team, account, tmp_path):
    make_lead(team.dealer, phone=CALLER, at=STARTED - timedelta(days=1))
    path = write_csv(tmp_path / "cdr.csv", [cdr("2.1"), cdr("2.2", src=OTHER, answered=False)])
    run(account, team.gm, path)
    calls, events = Call.objects.count(), Event.objects.count()

    again = run(account, team.gm, path)

    assert (again.rows, again.new, again.known, again.matched) == (2, 0, 2, 1)
    assert (Call.objects.count(), Event.objects.count()) == (calls, events)
    assert len(Call.objects.get(call_id="2.1").pushes) == 1


def test_a_call_twice_in_the_file_is_one_call(team: Team, account, tmp_path):
    """Asterisk writes a row per leg: the leg missed at one seat, then the one answered."""
    path = write_csv(
        tmp_path / "legs.csv", [cdr("3.1", answered=False), cdr("3.1", dstchannel="SIP/8002-1")]
    )
    result = run(account, team.gm, path)
    assert (result.new, result.known) == (1, 1)
    call = Call.objects.get(call_id="3.1")
    assert call.disposition == Disposition.ANSWERED


def test_an_xlsx_export_with_times_as_dates(team: Team, account, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(ASTERISK)
    naive = STARTED.replace(tzinfo=None)
    row = cdr("4.1", src=OTHER)
    row.update(
        start=naive,
        answer=naive + timedelta(seconds=9),
        end=naive + timedelta(seconds=129),
        duration=129,
        billsec=120,
        src=int(OTHER),  # a number, as Excel keeps a phone number typed in
    )
    sheet.append([row[header] for header in ASTERISK])
    path = tmp_path / "cdr.xlsx"
    workbook.save(path)

    result = run(account, team.gm, path)

    assert (result.new, result.rejected) == (1, [])
    call = Call.objects.get(call_id="4.1")
    assert (call.number, call.rang_at, call.talk_seconds) == (OTHER, STARTED, 120)


CHINESE = [
    "呼叫ID", "主叫号码", "被叫号码", "开始时间", "接听时间", "结束时间", "总时长",
    "通话时长(秒)", "呼叫结果", "座席工号", "呼叫方向", "中继号码",
]  # fmt: skip


def test_a_gbk_csv_with_chinese_headings_and_values(team: Team, account, tmp_path):
    lead = make_lead(team.dealer, phone=CALLER, at=STARTED - timedelta(days=1))
    start, answer, end = (clock(STARTED + timedelta(seconds=s)) for s in (0, 9, 129))
    later = STARTED + timedelta(hours=2)
    rows = [
        ["5.1", CALLER, HOTLINE, start, answer, end, "00:02:09", "00:02:00", "已接听", "8001",
         "呼入", HOTLINE],
        ["5.2", "8002", OTHER, clock(later), "", clock(later + timedelta(seconds=25)), "25", "0",
         "未接听", "8002", "呼出", HOTLINE],
    ]  # fmt: skip
    text = io.StringIO()
    csv.writer(text).writerows([CHINESE, *rows])
    path = tmp_path / "通话记录.csv"
    path.write_bytes(text.getvalue().encode("gbk"))

    result = run(account, team.gm, path)

    assert (result.new, result.rejected, result.matched) == (2, [], 1)
    inbound = Call.objects.get(call_id="5.1")
    assert (inbound.direction, inbound.disposition, inbound.status) == (
        Direction.INBOUND,
        Disposition.ANSWERED,
        "已接听",
    )
    assert (inbound.talk_seconds, inbound.wait_seconds, inbound.lead_id) == (120, 9, lead.pk)
    assert inbound.agent_id == team.dcc_agent.pk
    outbound = Call.objects.get(call_id="5.2")
    assert (outbound.direction, outbound.disposition, outbound.number) == (
        Direction.OUTBOUND,
        Disposition.NO_ANSWER,
        OTHER,
    )
    assert outbound.agent_id == team.dcc_agent_2.pk


def test_a_bad_row_is_rejected_with_its_row_and_column_and_the_others_are_stored(
    team: Team, account, tmp_path
):
    path = write_csv(
        tmp_path / "cdr.csv",
        [
            cdr("6.1"),
            cdr("6.2", start="2026-13-45 10:00:00"),
            {},  # a row of empty cells between
            cdr("6.3", direction="sideways"),
            cdr("6.4", src=OTHER),
        ],
        headers=[*ASTERISK, "direction"],
    )

    result = run(account, team.gm, path)

    assert result.rejected == [
        RejectedRow(3, "start", "start is not a time."),
        RejectedRow(5, "direction", "direction must be inbound or outbound."),
    ]
    assert (result.rows, result.new, result.skipped) == (5, 2, 1)
    assert set(Call.objects.values_list("call_id", flat=True)) == {"6.1", "6.4"}


def test_a_rejected_row_names_the_files_own_heading(team: Team, account, tmp_path):
    path = write_csv(
        tmp_path / "cdr.csv",
        [{"呼叫ID": "7.1", "开始时间": "昨天", "呼叫结果": "已接听", "呼叫方向": "呼入"}],
        headers=["呼叫ID", "开始时间", "呼叫结果", "呼叫方向"],
    )
    result = run(account, team.gm, path)
    assert [(row.row, row.column) for row in result.rejected] == [(2, "开始时间")]
    assert not Call.objects.exists()


def test_a_file_without_a_required_column_is_refused_whole(team: Team, account, tmp_path):
    headers = [header for header in ASTERISK if header != "disposition"]
    path = write_csv(tmp_path / "cdr.csv", [cdr("8.1"), cdr("8.2")], headers=headers)
    with pytest.raises(FileError) as refused:
        run(account, team.gm, path)
    assert "disposition" in refused.value.message
    assert "呼叫结果" in refused.value.message  # the headings it could have had
    assert not Call.objects.exists()


def test_a_file_past_the_row_limit_is_refused_whole(team: Team, account, tmp_path):
    path = write_csv(tmp_path / "cdr.csv", [cdr(f"9.{n}", minutes=n) for n in range(3)])
    with pytest.raises(FileError) as refused:
        run(account, team.gm, path, max_rows=2)
    assert "dcc phone import" in refused.value.message
    assert not Call.objects.exists()


def test_a_dry_run_counts_as_the_real_run_and_stores_nothing(team: Team, account, tmp_path):
    make_lead(team.dealer, phone=CALLER, at=STARTED - timedelta(days=1))
    rows = [cdr("10.1"), cdr("10.1"), cdr("10.2", src=OTHER, answered=False)]
    rows.append(cdr("10.3", start="soon"))
    path = write_csv(tmp_path / "cdr.csv", rows)
    events = Event.objects.count()

    dry = run(account, team.gm, path, dry_run=True)

    assert not Call.objects.exists()
    assert not Callback.objects.exists()
    assert Event.objects.count() == events
    assert not SettingsChange.objects.filter(what="call_history_imported").exists()
    real = run(account, team.gm, path)
    assert dry.dry_run and not real.dry_run
    counts = ("rows", "new", "known", "skipped", "matched", "rejected")
    assert [getattr(dry, name) for name in counts] == [getattr(real, name) for name in counts]
    assert (real.new, real.known, real.matched, len(real.rejected)) == (2, 1, 1, 1)


def test_a_missed_call_in_history_opens_no_callback(team: Team, account, tmp_path):
    lead = make_lead(team.dealer, phone=CALLER, at=STARTED - timedelta(days=1))
    path = write_csv(tmp_path / "cdr.csv", [cdr("11.1", answered=False)])
    run(account, team.gm, path)
    call = Call.objects.get(call_id="11.1")
    assert (call.disposition, call.lead_id) == (Disposition.MISSED_RINGING, lead.pk)
    assert not Callback.objects.exists()
    # The dealer's miss is not work on the lead: nothing in its ledger.
    assert not Event.objects.filter(lead=lead, kind=EventKind.CALLED).exists()


def test_only_who_may_change_the_phone_settings_imports(team: Team, account, tmp_path):
    path = write_csv(tmp_path / "cdr.csv", [cdr("12.1")])
    with pytest.raises(NotPermitted):
        run(account, team.consultant, path)
    assert not Call.objects.exists()
    assert login(team.consultant).get(reverse("settings_phone_history")).status_code == 403


def upload(rows: list[dict], name: str = "cdr.csv", headers=ASTERISK) -> SimpleUploadedFile:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(headers)
    writer.writerows([row.get(header, "") for header in headers] for row in rows)
    return SimpleUploadedFile(name, text.getvalue().encode(), content_type="text/csv")


def test_the_page_imports_an_upload_and_shows_the_result_in_chinese(team: Team, account, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    client = login(team.gm)
    url = reverse("settings_phone_history")
    form = client.get(url)
    assert form.status_code == 200
    assert "导入通话记录" in form.content.decode()

    response = client.post(
        url,
        {
            "account": account.pk,
            "file": upload([cdr("13.1"), cdr("13.2", start="2026-13-45 10:00:00")]),
        },
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "已导入" in page
    assert "被拒的行" in page
    assert "不是有效的时间" in page  # the reason, in Chinese
    assert list(Call.objects.values_list("call_id", flat=True)) == ["13.1"]


def test_the_page_dry_run_stores_nothing(team: Team, account):
    response = login(team.gm).post(
        reverse("settings_phone_history"),
        {"account": account.pk, "file": upload([cdr("14.1")]), "dry_run": "on"},
    )
    assert response.status_code == 200
    assert "Dry run: nothing was stored." in response.content.decode()
    assert not Call.objects.exists()


def test_the_page_refuses_a_file_without_a_required_column(team: Team, account):
    headers = [header for header in ASTERISK if header != "uniqueid"]
    response = login(team.gm).post(
        reverse("settings_phone_history"),
        {"account": account.pk, "file": upload([cdr("15.1")], headers=headers)},
    )
    assert response.status_code == 422
    assert "no uniqueid column" in response.content.decode()
    assert not Call.objects.exists()


def test_the_page_refuses_a_file_past_the_upload_size(team: Team, account, settings):
    settings.DCC_IMPORT_MAX_MB = 0
    response = login(team.gm).post(
        reverse("settings_phone_history"), {"account": account.pk, "file": upload([cdr("16.0")])}
    )
    assert response.status_code == 422
    assert "The file is too large" in response.content.decode()
    assert not Call.objects.exists()


def test_the_page_states_its_row_limit(team: Team, account):
    page = login(team.gm).get(reverse("settings_phone_history")).content.decode()
    assert f"{PAGE_MAX_ROWS:,}" in page
    assert "dcc phone import" in page


def test_the_command_prints_the_counts_and_each_rejected_row(team: Team, account, tmp_path):
    path = write_csv(
        tmp_path / "cdr.csv", [cdr("16.1"), cdr("16.2", src=OTHER, end="never"), cdr("16.3")]
    )
    out = io.StringIO()
    call_command("phone", "import", str(path), "--dealer", team.dealer.code, stdout=out)
    assert out.getvalue().splitlines() == [
        "3 rows: 2 new calls, 0 already known, 1 rejected, 0 empty; 0 calls on a lead.",
        "Row 3, end: end is not a time.",
    ]
    assert Call.objects.count() == 2


def test_the_command_dry_run_and_a_named_provider(team: Team, account, tmp_path):
    PhoneAccount.objects.create(dealer=team.dealer, provider="tccc")
    path = write_csv(tmp_path / "cdr.csv", [cdr("17.1")])
    out = io.StringIO()
    with pytest.raises(Exception, match="several phone accounts"):
        call_command("phone", "import", str(path), "--dealer", team.dealer.code)
    call_command(
        "phone",
        "import",
        str(path),
        "--dealer",
        team.dealer.code,
        "--provider",
        "generic",
        "--dry-run",
        "--as",
        team.dcc_supervisor.username,
        stdout=out,
    )
    assert out.getvalue().splitlines()[0] == "Dry run: nothing was stored."
    assert not Call.objects.exists()
