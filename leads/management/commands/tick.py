from django.core.management.base import BaseCommand

from leads.actions import apply_due_absences


class Command(BaseCommand):
    help = (
        "Periodic upkeep (run every few minutes): "
        "hand the work of people whose leave began to their cover."
    )

    def handle(self, *args, **options):
        moved = apply_due_absences()
        self.stdout.write(f"{moved} lead(s) moved to covers.")
