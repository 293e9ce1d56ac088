"""The daily report: generated each evening per dealer, kept as generated, as XLSX."""

from __future__ import annotations

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from kpi.daily import build_daily_report, daily_report_xlsx, generate_due_reports, table_xlsx
from kpi.models import DailyReport
from kpi.selectors import day_window, kpi_report, report_json
from leads import actions
from leads.models import CallOutcome
from tests.factories import make_lead

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 5, 12)


@pytest.fixture
def day_of_work(team):
    for hour in (9, 10, 11):
        lead = make_lead(team.dealer, by=team.gm, owner=team.dcc_agent,
                         at=datetime(2026, 5, 12, hour, tzinfo=SHANGHAI))  # fmt: skip
        if hour < 11:
            actions.log_call(lead=lead, by=team.dcc_agent, outcome=CallOutcome.REACHED,
                             at=datetime(2026, 5, 12, hour, 5, tzinfo=SHANGHAI))  # fmt: skip


def test_the_report_holds_the_days_and_the_months_numbers(team, day_of_work):
    content = build_daily_report(dealer=team.dealer, day=DAY)
    window = day_window(dealer_ids=[team.dealer.pk], first=DAY, last=DAY)
    assert content["day_kpis"] == report_json(kpi_report(window=window, metrics=list(
        content["day_kpis"]["metrics"])))  # fmt: skip
    assert content["day_kpis"]["total"]["metrics"]["contact_rate"]["numerator"] == 2
    assert content["month_kpis"]["total"]["metrics"]["lead_volume"]["value"] == 3
    # The third lead never got its first call: a breach of its SLA.
    assert content["sla_breach_count"] == 1
    assert [group["label"] for group in content["agents"]["groups"]] == [str(team.dcc_agent)]


def test_tick_generates_each_dealers_report_once_in_the_evening(team, other_team, day_of_work):
    morning = datetime(2026, 5, 12, 8, tzinfo=SHANGHAI)
    evening = datetime(2026, 5, 12, 21, 30, tzinfo=SHANGHAI)
    assert generate_due_reports(morning) == 0
    assert generate_due_reports(evening) == 2
    assert generate_due_reports(evening) == 0
    kept = DailyReport.objects.get(dealer=team.dealer, day=DAY)
    assert kept.content["day_kpis"]["total"]["metrics"]["lead_volume"]["value"] == 3
    out = io.StringIO()
    call_command("tick", stdout=out)
    assert "daily report(s) generated" in out.getvalue()


def test_the_xlsx_has_a_sheet_per_section_with_real_numbers(team, day_of_work):
    report = DailyReport.objects.create(
        dealer=team.dealer, day=DAY, content=build_daily_report(dealer=team.dealer, day=DAY)
    )
    book = openpyxl.load_workbook(io.BytesIO(daily_report_xlsx(report)))
    assert book.sheetnames == ["Day", "Month so far", "Channels", "Agents", "Overdue tasks"]
    day = book["Day"]
    headers = [cell.value for cell in day[1]]
    column = headers.index("Contact rate") + 1
    cell = day.cell(row=2, column=column)
    assert (cell.value, cell.number_format) == (pytest.approx(2 / 3), "0.0%")


def test_text_that_looks_like_a_formula_stays_text():
    sheets = [("t", ["name"], [["=cmd|' /C calc'!A0"], [3]])]
    book = openpyxl.load_workbook(io.BytesIO(table_xlsx(sheets)))
    sheet = book["t"]
    assert (sheet["A2"].value, sheet["A2"].data_type) == ("=cmd|' /C calc'!A0", "s")
    assert sheet["A3"].value == 3


def test_the_report_command_keeps_a_report_only_when_asked(team, day_of_work, tmp_path):
    out = io.StringIO()
    call_command("report", dealer=team.dealer.code, day=DAY, stdout=out)
    assert "lead_volume 3" in out.getvalue()
    assert not DailyReport.objects.exists()  # shown, not kept
    call_command("report", dealer=team.dealer.code, day=DAY, regenerate=True, stdout=out)
    assert DailyReport.objects.get(dealer=team.dealer, day=DAY)
    with pytest.raises(CommandError, match="outside the dates accepted"):
        call_command("report", dealer=team.dealer.code, day=date(1, 1, 1), stdout=out)
    today = timezone.localdate()  # the fixed clock's morning: the day is not over
    with pytest.raises(CommandError, match="is kept from 21:00"):
        call_command("report", dealer=team.dealer.code, day=today, regenerate=True, stdout=out)
    assert DailyReport.objects.count() == 1
