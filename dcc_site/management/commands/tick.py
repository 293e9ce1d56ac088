from django.core.management.base import BaseCommand
from django.db import connection
from django.utils import timezone

from calls.recordings import purge_expired
from intake.uploads import fail_stalled, remove_old_uploads
from kpi.daily import generate_due_reports
from leads.actions import apply_due_absences
from leads.checkpoints import make_due as take_due_checkpoints
from owners import upkeep as owner_upkeep
from owners.members import expire_idle
from platforms.actions import compute_due
from privacy.rights import erase_all_past_retention
from sms.sending import send_due_notices


class Command(BaseCommand):
    help = (
        "Periodic upkeep (run every few minutes): "
        "hand the work of people whose leave began to their cover; fail imports whose worker "
        "stopped, so they can be run again; delete uploads older than 30 days; generate the "
        "evening's daily reports; delete call recordings past their dealer's retention; escalate "
        "complaints past their deadline and close return visits whose attempts ran out; expire the "
        "usable points of members idle past their programme's days; compute yesterday's platform "
        "scores of the accounts that have none yet; erase the personal data of customers past "
        "their dealer's retention period; text tomorrow's appointments their reminder and today's "
        "return visits their notice (outside quiet hours); take each dealer's daily signed "
        "checkpoint of the ledger (the first tick of the day)."
    )

    def handle(self, *args, **options):
        moved = apply_due_absences()
        self.stdout.write(f"{moved} lead(s) moved to covers.")
        self.stdout.write(f"{fail_stalled()} stalled import(s) failed, to be run again.")
        self.stdout.write(f"{remove_old_uploads()} old upload(s) deleted.")
        self.stdout.write(f"{generate_due_reports()} daily report(s) generated.")
        self.stdout.write(f"{purge_expired()} call recording(s) past retention deleted.")
        escalated, unreachable = owner_upkeep.run()
        self.stdout.write(f"{escalated} late complaint(s) escalated.")
        self.stdout.write(f"{unreachable} return visit(s) closed as unreachable.")
        self.stdout.write(f"{expire_idle(now=timezone.now())} idle member(s)' points expired.")
        self.stdout.write(f"{compute_due()} platform account(s) scored for yesterday.")
        erased = erase_all_past_retention(now=timezone.now())
        self.stdout.write(f"{erased} customer(s) past retention erased.")
        reminders, notices = send_due_notices()
        self.stdout.write(
            f"{reminders} appointment reminder(s) and {notices} return-visit notice(s) texted."
        )
        for made in take_due_checkpoints():
            self.stdout.write(
                f"Ledger checkpoint #{made.checkpoint.seq} of dealer {made.checkpoint.dealer.code} "
                f"taken ({made.checkpoint.leaf_count} leads)."
            )
            for line in made.regressions:
                self.stderr.write(
                    f"WARNING: ledger of dealer {made.checkpoint.dealer.code}, {line}"
                )
        if connection.vendor == "sqlite":
            # Keeps SQLite's query planner statistics fresh (PostgreSQL's autovacuum does this).
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA optimize")
