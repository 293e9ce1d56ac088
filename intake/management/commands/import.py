"""`dcc import FILE --dealer CODE`: import a CSV or Excel file of leads (intake.imports)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, OutputWrapper
from django.utils.translation import gettext as _

from accounts.models import Dealer, Staff
from dcc.errors import DomainError
from intake import imports
from intake.models import ImportJob

BAR_WIDTH = 30


class ProgressBar:
    """Percentage of the file read and rows per second, redrawn in place on stderr."""

    def __init__(self, out: OutputWrapper) -> None:
        self.out = out
        self.started = time.monotonic()
        self.drawn = False

    def __call__(self, job: ImportJob) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        filled = BAR_WIDTH * job.percent // 100
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        line = _("%(percent)3d%% [%(bar)s] %(rows)s rows, %(rate)s rows/s") % {
            "percent": job.percent,
            "bar": bar,
            "rows": f"{job.rows_done:,}",
            "rate": f"{job.rows_done / elapsed:,.0f}",
        }
        self.out.write("\r" + line, ending="")
        self.out.flush()
        self.drawn = True

    def end(self) -> None:
        if self.drawn:
            self.out.write("")  # keep the last state of the bar on its own line


class Command(BaseCommand):
    help = (
        "Import leads from a CSV or Excel file into a dealer. Rows already imported are "
        "skipped; rejected rows are written next to the file as NAME.rejected.csv."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path, help="the CSV or Excel file")
        parser.add_argument("--dealer", required=True, help="dealer code")
        parser.add_argument("--channel", help="channel (code or name) of rows that name none")
        parser.add_argument("--mapping", help="name of one of the dealer's saved column mappings")
        parser.add_argument("--preset", help="column preset of a platform's export")
        parser.add_argument(
            "--dry-run", action="store_true", help="check everything, write no lead"
        )
        parser.add_argument(
            "--as",
            dest="username",
            help="who imports (default: the dealer's first active GM or sales manager)",
        )

    def handle(self, *args: Any, file: Path, **options: Any) -> None:
        dealer = Dealer.objects.filter(code=options["dealer"]).first()
        if dealer is None:
            raise CommandError(_("Unknown dealer %(code)s.") % {"code": options["dealer"]})
        by = self._importer(dealer, options["username"])
        channel = None
        if options["channel"]:
            channel = imports.dealer_channel(dealer, options["channel"])
            if channel is None:
                raise CommandError(
                    _("%(dealer)s has no channel %(channel)s.")
                    % {"dealer": dealer.code, "channel": options["channel"]}
                )
        bar = ProgressBar(self.stderr)
        try:
            job = imports.start_import(
                dealer=dealer,
                by=by,
                path=file,
                channel=channel,
                preset=options["preset"],
                saved_mapping=options["mapping"],
                dry_run=options["dry_run"],
            )
            imports.run_import(job, path=file, progress=bar)
        except DomainError as error:
            bar.end()
            raise CommandError(f"{file.name}: {error.message}") from error
        bar.end()
        self._summary(job, file)

    def _importer(self, dealer: Dealer, username: str | None) -> Staff:
        if username:
            person = Staff.objects.filter(username=username, is_active=True).first()
            if person is None:
                raise CommandError(_("Unknown user %(username)s.") % {"username": username})
            return person
        person = imports.default_importer(dealer)
        if person is None:
            raise CommandError(
                _("%(dealer)s has no active general or sales manager: name one with --as.")
                % {"dealer": dealer.code}
            )
        return person

    def _summary(self, job: ImportJob, file: Path) -> None:
        if job.dry_run:
            self.stdout.write(_("Dry run: nothing was written."))
        self.stdout.write(
            _(
                "Created %(created)d, touched %(touched)d, rejected %(rejected)d, "
                "already imported %(already)d, empty rows %(skipped)d."
            )
            % {
                "created": job.created,
                "touched": job.touched,
                "rejected": job.rejected,
                "already": job.already_imported,
                "skipped": job.skipped,
            }
        )
        if job.rejected:
            target = file.with_name(f"{file.stem}.rejected.csv")
            with target.open("w", encoding="utf-8", newline="") as out:
                imports.rejected_rows_csv(job, out)
            self.stdout.write(
                _("Rejected rows, with the reason for each: %(path)s") % {"path": target}
            )
