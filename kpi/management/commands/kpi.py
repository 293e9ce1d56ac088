"""`dcc kpi`: the KPI registry's numbers for a dealer and a range of days, in a table, JSON or
CSV; the same numbers as the API and the dashboards."""

from __future__ import annotations

import csv
import json
import unicodedata
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Dealer
from kpi.measures import ALL_DIMENSIONS
from kpi.registry import METRICS, Unit, View
from kpi.selectors import (
    Report,
    day_window,
    kpi_report,
    refusal_message,
    refused_metrics,
    report_json,
)


class Command(BaseCommand):
    help = "KPIs of a dealer for a range of days: every metric, or some, by a dimension."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dealer", required=True, help="dealer code")
        parser.add_argument(
            "--from",
            dest="first",
            required=True,
            type=date.fromisoformat,
            help="first day, YYYY-MM-DD",
        )
        parser.add_argument(
            "--to",
            dest="last",
            required=True,
            type=date.fromisoformat,
            help="last day (included), YYYY-MM-DD",
        )
        parser.add_argument(
            "--by",
            choices=[*ALL_DIMENSIONS, "person"],
            help="group by (person: the agent the lead was assigned to; for the call "
            "metrics, the person on the call); line and hour cut only the call metrics",
        )
        parser.add_argument(
            "--view",
            choices=View.values,
            default=View.PERIOD,
            help="period: events in the range; cohort: leads created in the "
            "range, followed to today",
        )
        parser.add_argument(
            "--metric",
            action="append",
            choices=sorted(METRICS),
            help="only this metric (repeat for more)",
        )
        parser.add_argument("--format", choices=("table", "json", "csv"), default="table")

    def handle(self, *args: Any, dealer: str, first: date, last: date, **options: Any) -> None:
        found = Dealer.objects.filter(code=dealer).first()
        if found is None:
            raise CommandError(f"No dealer with the code {dealer}.")
        if last < first:
            raise CommandError("--to must not be before --from.")
        by = "agent" if options["by"] == "person" else options["by"]
        refused = refused_metrics(options["metric"], by)
        if refused:
            raise CommandError(refusal_message(refused, by))
        window = day_window(dealer_ids=[found.pk], first=first, last=last, view=options["view"])
        report = kpi_report(window=window, by=by, metrics=options["metric"])
        if options["format"] == "json":
            self.stdout.write(json.dumps(report_json(report), ensure_ascii=False, indent=2))
        elif options["format"] == "csv":
            self._csv(report)
        else:
            self._table(report)

    def _rows(self, report: Report) -> list[tuple[str, list[str]]]:
        rows = []
        for group in [*report.groups, report.total]:
            rows.append((group.label, [_shown(report, group, m.key) for m in report.metrics]))
        return rows

    def _table(self, report: Report) -> None:
        headers = ["", *(m.key for m in report.metrics)]
        rows = [[label, *cells] for label, cells in self._rows(report)]
        table = [headers, *rows]
        widths = [max(_width(str(row[i])) for row in table) for i in range(len(headers))]
        for row in table:
            cells = zip(row, widths, strict=True)
            self.stdout.write("  ".join(" " * (w - _width(str(c))) + str(c) for c, w in cells))

    def _csv(self, report: Report) -> None:
        writer = csv.writer(self.stdout)
        writer.writerow(["group", "metric", "value", "numerator", "denominator"])
        for group in [*report.groups, report.total]:
            for metric in report.metrics:
                value = group.values.get(metric.key)
                if value is not None:
                    writer.writerow(
                        [group.label, metric.key, value.value, value.numerator, value.denominator]
                    )


def _width(text: str) -> int:
    """Columns `text` takes in a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _shown(report: Report, group: Any, key: str) -> str:
    value = group.values.get(key)
    if value is None:
        return "—"
    if value.value is None:
        return "n/a"
    unit = METRICS[key].unit
    if unit == Unit.RATE:
        return f"{value.value:.1%} ({value.numerator}/{value.denominator})"
    if unit == Unit.SECONDS:
        return f"{value.value:.0f}s"
    if unit == Unit.AVERAGE:
        return f"{value.value:.1f} ({value.numerator}/{value.denominator})"
    return str(value.value)
