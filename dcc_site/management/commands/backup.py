"""`dcc backup [FILE]`: the database and the files beside it, in one archive (dcc_site.backup)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from dcc.errors import DomainError
from dcc_site import backup


class Command(BaseCommand):
    help = (
        "Back up the database (SQLite: online backup, consistent while DCC runs; PostgreSQL: "
        "pg_dump) with the call recordings, import files and sticker photos, into one archive "
        "with a manifest of what it holds."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "archive",
            nargs="?",
            help="where to write it (default: var/backups/dcc-YYYYMMDD-HHMMSS.tar.gz)",
        )

    def handle(self, *args, archive: str | None = None, **options):
        target = Path(archive) if archive else backup.default_archive_path()
        try:
            manifest = backup.backup(target)
        except DomainError as error:
            raise CommandError(error.message) from error
        files = sum(manifest.files.values())
        self.stdout.write(
            self.style.SUCCESS(
                _("Backed up %(rows)s rows of %(tables)d tables and %(files)d files to %(path)s.")
                % {
                    "rows": f"{manifest.rows:,}",
                    "tables": len(manifest.counts),
                    "files": files,
                    "path": target,
                }
            )
        )
