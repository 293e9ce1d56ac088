"""`dcc report`: a dealer's daily report for a day, generated (again) and written as XLSX."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Dealer
from dcc.dates import check_in_window
from dcc.errors import DomainError
from kpi.daily import daily_report_xlsx, draft_daily_report, generate_daily_report
from kpi.models import DailyReport


class Command(BaseCommand):
    help = (
        "A dealer's daily report for a day: as kept, or computed now (and kept only with"
        " --regenerate, once the day's evening has come); as XLSX."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dealer", required=True, help="dealer code")
        parser.add_argument("--date", dest="day", required=True, type=date.fromisoformat)
        parser.add_argument("--xlsx", type=Path, help="write the report to this file")
        parser.add_argument(
            "--regenerate", action="store_true", help="generate it again now and keep it"
        )

    def handle(self, *args: Any, dealer: str, day: date, **options: Any) -> None:
        found = Dealer.objects.filter(code=dealer).first()
        if found is None:
            raise CommandError(f"No dealer with the code {dealer}.")
        try:
            check_in_window(day, field="date")
            report = DailyReport.objects.filter(dealer=found, day=day).first()
            if options["regenerate"]:
                report = generate_daily_report(dealer=found, day=day)
            elif report is None:  # shown, not kept: only the evening job keeps reports
                report = draft_daily_report(dealer=found, day=day)
        except DomainError as error:
            raise CommandError(error.message) from None
        total = report.content["day_kpis"]["total"]["metrics"]
        self.stdout.write(
            f"{found.code} {day}: "
            + ", ".join(f"{key} {value['value']}" for key, value in total.items())
        )
        if options["xlsx"]:
            options["xlsx"].write_bytes(daily_report_xlsx(report))
            self.stdout.write(f"written to {options['xlsx']}")
