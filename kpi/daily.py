"""The daily report (日报表): every evening, for each dealer, the day's funnel, the month so far,
channels, agents, first-response SLA breaches and overdue tasks. Kept as generated (the
morning reads what was sent), viewable for any day, exported as a formatted XLSX.

Only the evening job (`dcc tick`, after EVENING in the dealer's zone) and `dcc report
--regenerate` keep a report, and never before the day's evening: a page that shows a day
without a kept report computes it and keeps nothing (a read never writes, and a morning view
must not become the day's official report).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from typing import Any

import xlsxwriter
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Dealer, Staff
from dcc.errors import InvalidInput
from kpi import measures
from kpi.models import DailyReport
from kpi.registry import METRICS, Unit
from kpi.selectors import day_window, kpi_report, report_json
from kpi.targets import first_of_month
from leads.models import Task

EVENING = time(21, 0)
DAY_METRICS = [
    "lead_volume",
    "touches",
    "first_response_on_time",
    "contact_rate",
    "appointments",
    "arrivals",
    "orders",
    "deliveries",
    "arrival_rate",
]
CHANNEL_METRICS = ["lead_volume", "arrivals", "orders", "cost_per_lead"]
AGENT_METRICS = ["lead_volume", "contact_rate", "appointments", "arrivals"]
DIMENSION_NAMES = {
    "channel": gettext_lazy("Channel"),
    "channel_group": gettext_lazy("Channel group"),
    "month": gettext_lazy("Month"),
    "model": gettext_lazy("Model of interest"),
    "grade": gettext_lazy("Grade"),
    "agent": gettext_lazy("Agent"),
    "dealer": gettext_lazy("Dealer"),
}


def build_daily_report(*, dealer: Dealer, day: date, now: datetime | None = None) -> dict:
    """What the day's report says, as plain data (stored as it is)."""
    now = now or timezone.now()
    ids = [dealer.pk]
    today = day_window(dealer_ids=ids, first=day, last=day)
    month = day_window(dealer_ids=ids, first=first_of_month(day), last=day)
    # The day's leads whose first response was late, as the day stands (or now, before its
    # end): the registry's "breached".
    judged = replace(today, as_of=min(now, today.end))
    late = measures.lead_ids("breached", judged, None, None)
    overdue = (
        Task.objects.filter(dealer=dealer, closed_at=None, due_at__lt=now)
        .values("assignee_id")
        .annotate(n=Count("pk"))
        .order_by("-n", "assignee_id")
    )
    people = {
        p.pk: str(p) for p in Staff.objects.filter(pk__in=[o["assignee_id"] for o in overdue])
    }
    return {
        "dealer": dealer.code,
        "day": day.isoformat(),
        "day_kpis": report_json(kpi_report(window=today, metrics=DAY_METRICS)),
        "month_kpis": report_json(kpi_report(window=month, metrics=DAY_METRICS)),
        "channels": report_json(kpi_report(window=today, by="channel", metrics=CHANNEL_METRICS)),
        "agents": report_json(kpi_report(window=today, by="agent", metrics=AGENT_METRICS)),
        "sla_breaches": list(late.order_by("pk")[:200]),
        "sla_breach_count": measures.counts("breached", judged, None)[None],
        "overdue_tasks": [
            {"person": people.get(row["assignee_id"], ""), "tasks": row["n"]} for row in overdue
        ],
    }


def draft_daily_report(*, dealer: Dealer, day: date) -> DailyReport:
    """The dealer's report for `day` as the ledger stands now, not kept."""
    now = timezone.now()
    return DailyReport(
        dealer=dealer,
        day=day,
        content=build_daily_report(dealer=dealer, day=day, now=now),
        generated_at=now,
    )


def is_final(day: date, now: datetime | None = None) -> bool:
    """Whether `day`'s report may be kept: the day is over, or its evening has come."""
    now = timezone.localtime(now or timezone.now())
    return day < now.date() or (day == now.date() and now.time() >= EVENING)


def generate_daily_report(*, dealer: Dealer, day: date) -> DailyReport:
    """(Re)generate and keep the dealer's report for `day`, a day whose evening has come."""
    if not is_final(day):
        raise InvalidInput(
            _("The report of %(day)s is kept from %(evening)s on that day, not before.")
            % {"day": day.isoformat(), "evening": EVENING.strftime("%H:%M")},
            field="date",
        )
    report, _created = DailyReport.objects.update_or_create(
        dealer=dealer,
        day=day,
        defaults={
            "content": build_daily_report(dealer=dealer, day=day),
            "generated_at": timezone.now(),
        },
    )
    return report


def generate_due_reports(now: datetime | None = None) -> int:
    """Generate today's report for every dealer that has none yet, once the evening has
    come (in the dealers' zone). Run by `dcc tick`; returns how many were generated."""
    now = timezone.localtime(now or timezone.now())
    if now.time() < EVENING:
        return 0
    done = set(DailyReport.objects.filter(day=now.date()).values_list("dealer_id", flat=True))
    made = 0
    for dealer in Dealer.objects.exclude(pk__in=done):
        generate_daily_report(dealer=dealer, day=now.date())
        made += 1
    return made


# ---------------------------------------------------------------- XLSX


@dataclass(frozen=True)
class Percent:
    """A rate, shown as a percentage in the sheet."""

    value: float


@dataclass(frozen=True)
class Money:
    value: float


def table_xlsx(sheets: list[tuple[str, list[str], list[list[Any]]]]) -> bytes:
    """Any tables as one formatted workbook: (sheet name, headers, rows) each. Numbers stay
    numbers; text is written as text, never as a formula."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False})
    header = book.add_format({"bold": True, "bg_color": "#0B4F8A", "font_color": "#FFFFFF"})
    percent = book.add_format({"num_format": "0.0%"})
    money = book.add_format({"num_format": "#,##0.00"})
    for name, headers, rows in sheets:
        sheet = book.add_worksheet(name[:31])
        sheet.write_row(0, 0, headers, header)
        sheet.freeze_panes(1, 1)
        widths = [max(len(str(h)) * 2, 8) for h in headers]
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row):
                if isinstance(value, Percent):
                    sheet.write_number(r, c, value.value, percent)
                elif isinstance(value, Money):
                    sheet.write_number(r, c, value.value, money)
                elif isinstance(value, int | float):
                    sheet.write_number(r, c, value)
                elif value is None:
                    sheet.write_blank(r, c, None)
                else:
                    sheet.write_string(r, c, str(value))  # text, never a formula
                widths[c] = max(widths[c], min(len(str(value)) * 2, 40))
        for c, width in enumerate(widths):
            sheet.set_column(c, c, width)
    book.close()
    return out.getvalue()


def report_rows(report: dict) -> tuple[list[str], list[list[Any]]]:
    """A stored report section (report_json) as headers and rows for a sheet."""
    # In the registry's order: PostgreSQL's JSON does not keep the order keys were stored in.
    metrics = [key for key in METRICS if key in report["metrics"]]
    first = DIMENSION_NAMES.get(report["by"], "")
    headers = [str(first)] + [report["metrics"][key]["name"] for key in metrics]
    rows = []
    for group in [*report["groups"], report["total"]]:
        row: list[Any] = [group["label"]]
        for key in metrics:
            cell = group["metrics"].get(key)
            value = None if cell is None else cell["value"]
            unit = METRICS[key].unit
            if value is None:
                row.append(None)
            elif unit == Unit.RATE:
                row.append(Percent(float(value)))
            elif unit == Unit.MONEY:
                row.append(Money(float(value)))
            else:
                row.append(int(value))
        rows.append(row)
    return headers, rows


def daily_report_xlsx(report: DailyReport) -> bytes:
    content = report.content
    sheets = [
        (_("Day"), *report_rows(content["day_kpis"])),
        (_("Month so far"), *report_rows(content["month_kpis"])),
        (_("Channels"), *report_rows(content["channels"])),
        (_("Agents"), *report_rows(content["agents"])),
        (
            _("Overdue tasks"),
            [_("Person"), _("Overdue tasks")],
            [[row["person"], row["tasks"]] for row in content["overdue_tasks"]],
        ),
    ]
    return table_xlsx(sheets)
