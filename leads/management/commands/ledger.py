from django.core.management.base import BaseCommand, CommandError

from accounts.models import Dealer
from leads import ledger


class Command(BaseCommand):
    help = "Ledger tools. `ledger verify` recomputes every lead's hash chain."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        verify = sub.add_parser("verify", help="check every chain; report the first broken link")
        verify.add_argument("--dealer", help="dealer code (default: all dealers)")

    def handle(self, *args, subcommand: str, dealer: str | None = None, **options):
        dealer_id = None
        if dealer:
            dealer_id = Dealer.objects.filter(code=dealer).values_list("pk", flat=True).first()
            if dealer_id is None:
                raise CommandError(f"Unknown dealer {dealer}")
        report = ledger.verify(dealer_id=dealer_id)
        if report.ok:
            self.stdout.write(
                self.style.SUCCESS(f"OK: {report.events} events of {report.leads} leads verified.")
            )
            return
        for link in report.broken:
            event = f" (event id {link.event_id})" if link.event_id else ""
            self.stderr.write(
                f"BROKEN: lead {link.lead_id}, event #{link.seq}{event}: {link.problem}"
            )
        raise CommandError(
            f"{len(report.broken)} broken chain(s) among {report.leads} leads "
            f"({report.events} events)."
        )
