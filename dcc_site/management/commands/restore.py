"""`dcc restore FILE`: a backup into a fresh, empty database (dcc_site.backup)."""

from __future__ import annotations

from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from dcc.errors import DomainError
from dcc_site import backup


class Command(BaseCommand):
    help = (
        "Restore a `dcc backup` archive into the database DATABASE_URL names (a new, empty one; "
        "PostgreSQL: created if missing) and its files into their folders."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", help="an archive written by `dcc backup`")
        parser.add_argument(
            "--force",
            action="store_true",
            help="replace everything in a database that is not empty",
        )
        parser.add_argument(
            "--verify",
            action="store_true",
            help="then check the ledger's chains and tallies (dcc ledger verify, tallies)",
        )

    def handle(self, *args, archive: str, force: bool, verify: bool, **options):
        try:
            done = backup.restore(Path(archive), force=force)
        except DomainError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Restored %(rows)s rows of %(tables)d tables (backup of %(when)s, DCC "
                    "%(version)s) into %(database)s, and %(files)d files."
                )
                % {
                    "rows": f"{done.manifest.rows:,}",
                    "tables": len(done.manifest.counts),
                    "when": done.manifest.created_at,
                    "version": done.manifest.dcc_version,
                    "database": done.database,
                    "files": done.files,
                }
            )
        )
        if done.pending_migrations:
            self.stdout.write(
                self.style.WARNING(
                    _("The backup is of an older DCC: run `dcc migrate` before serving it.")
                )
            )
            return
        if verify:
            call_command("ledger", "verify", stdout=self.stdout, stderr=self.stderr)
            call_command("ledger", "tallies", stdout=self.stdout, stderr=self.stderr)
