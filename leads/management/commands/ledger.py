from django.core.management.base import BaseCommand, CommandError

from accounts.models import Dealer
from leads import ledger, tallies


class Command(BaseCommand):
    help = (
        "Ledger tools. `ledger verify` recomputes every lead's hash chain; `ledger tallies` "
        "checks the leads' milestones and daily tallies against the ledger."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        verify = sub.add_parser("verify", help="check every chain; report the first broken link")
        verify.add_argument("--dealer", help="dealer code (default: all dealers)")
        counted = sub.add_parser(
            "tallies", help="compare the milestones and daily tallies with the ledger"
        )
        counted.add_argument("--dealer", help="dealer code (default: all dealers)")
        counted.add_argument(
            "--rebuild", action="store_true", help="recompute them from the ledger"
        )

    def handle(self, *args, subcommand: str, dealer: str | None = None, **options):
        dealer_id = None
        if dealer:
            dealer_id = Dealer.objects.filter(code=dealer).values_list("pk", flat=True).first()
            if dealer_id is None:
                raise CommandError(f"Unknown dealer {dealer}")
        if subcommand == "tallies":
            self.tallies(dealer_id, rebuild=options["rebuild"])
        else:
            self.verify(dealer_id)

    def tallies(self, dealer_id: int | None, *, rebuild: bool) -> None:
        dealer_ids = [dealer_id] if dealer_id else list(Dealer.objects.values_list("pk", flat=True))
        if rebuild:
            leads = tallies.rebuild(dealer_ids)
            self.stdout.write(self.style.SUCCESS(f"Rebuilt from the ledger: {leads} leads."))
            return
        found = tallies.drift(dealer_ids)
        if not found:
            self.stdout.write(self.style.SUCCESS("OK: milestones and tallies match the ledger."))
            return
        for line in found[:50]:
            self.stderr.write(f"DRIFT: {line}")
        raise CommandError(f"{len(found)} difference(s); `ledger tallies --rebuild` fixes them.")

    def verify(self, dealer_id: int | None) -> None:
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
