from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import Dealer
from leads.selectors import sla_counts


class Command(BaseCommand):
    help = "First-response SLA per dealer and channel: leads, waiting, breached."

    def add_arguments(self, parser):
        parser.add_argument("--dealer", help="dealer code (default: all)")
        parser.add_argument(
            "--hours", type=int, default=24, help="leads created in the last N hours"
        )

    def handle(self, *args, dealer: str | None, hours: int, **options):
        dealers = Dealer.objects.all()
        if dealer:
            dealers = dealers.filter(code=dealer)
            if not dealers:
                raise CommandError(f"Unknown dealer {dealer}")
        rows = sla_counts(dealers=list(dealers), since=timezone.now() - timedelta(hours=hours))
        self.stdout.write(
            f"{'dealer':<10} {'channel':<16} {'leads':>6} {'waiting':>8} "
            f"{'breached':>9} {'uncalled':>9}"
        )
        for row in rows:
            self.stdout.write(
                f"{row.dealer:<10} {row.channel:<16} {row.leads:>6} {row.waiting:>8} "
                f"{row.breached:>9} {row.breached_open:>9}"
            )
