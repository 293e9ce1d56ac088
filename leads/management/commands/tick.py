from django.core.management.base import BaseCommand
from django.db import connection

from leads.actions import apply_due_absences


class Command(BaseCommand):
    help = (
        "Periodic upkeep (run every few minutes): "
        "hand the work of people whose leave began to their cover."
    )

    def handle(self, *args, **options):
        moved = apply_due_absences()
        self.stdout.write(f"{moved} lead(s) moved to covers.")
        if connection.vendor == "sqlite":
            # Keeps SQLite's query planner statistics fresh (PostgreSQL's autovacuum does this).
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA optimize")
