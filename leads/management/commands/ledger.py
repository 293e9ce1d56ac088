from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Dealer
from leads import checkpoints, signing, tallies


class Command(BaseCommand):
    help = (
        "Ledger tools. `ledger verify` recomputes every lead's hash chain and checks it against "
        "the signed checkpoints; `ledger checkpoint` takes a checkpoint now; `ledger "
        "export-checkpoints` writes them as JSON lines to keep elsewhere; `ledger keygen` makes "
        "an Ed25519 key pair to sign them; `ledger tallies` checks the leads' milestones and "
        "daily tallies against the ledger."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        verify = sub.add_parser(
            "verify",
            help="check every chain and the checkpoints; report the first broken link of each",
        )
        verify.add_argument("--dealer", help="dealer code (default: all dealers)")
        verify.add_argument(
            "--against",
            metavar="FILE",
            help="also compare the database's checkpoints with an export kept elsewhere",
        )
        checkpoint = sub.add_parser(
            "checkpoint", help="take and sign a checkpoint of the chain heads now"
        )
        checkpoint.add_argument("--dealer", help="dealer code (default: all dealers with leads)")
        export = sub.add_parser(
            "export-checkpoints", help="write a dealer's checkpoints as JSON lines"
        )
        export.add_argument("--dealer", required=True, help="dealer code")
        export.add_argument("--after", type=int, default=0, help="only checkpoints after #N")
        export.add_argument("--output", metavar="FILE", help="append to FILE (default: stdout)")
        keygen = sub.add_parser(
            "keygen", help="make an Ed25519 key pair for DCC_LEDGER_SIGNING_KEY"
        )
        keygen.add_argument("directory", help="where to write NAME.pem and NAME.pub.pem")
        keygen.add_argument("--name", default="ledger", help="file name (default: ledger)")
        counted = sub.add_parser(
            "tallies", help="compare the milestones and daily tallies with the ledger"
        )
        counted.add_argument("--dealer", help="dealer code (default: all dealers)")
        counted.add_argument(
            "--rebuild", action="store_true", help="recompute them from the ledger"
        )

    def handle(self, *args, subcommand: str, dealer: str | None = None, **options):
        if subcommand == "keygen":
            self.keygen(Path(options["directory"]), options["name"])
            return
        dealer_id = None
        if dealer:
            dealer_id = Dealer.objects.filter(code=dealer).values_list("pk", flat=True).first()
            if dealer_id is None:
                raise CommandError(f"Unknown dealer {dealer}")
        if subcommand == "tallies":
            self.tallies(dealer_id, rebuild=options["rebuild"])
        elif subcommand == "checkpoint":
            self.checkpoint(dealer_id)
        elif subcommand == "export-checkpoints":
            self.export(dealer_id, after=options["after"], output=options["output"])
        else:
            self.verify(dealer_id, against=options["against"])

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

    def checkpoint(self, dealer_id: int | None) -> None:
        if dealer_id is None:
            made = checkpoints.make_due(every=True)
        else:
            made = [checkpoints.make(dealer_id)]
        self.report_made(made)

    def report_made(self, made: list[checkpoints.Made]) -> None:
        for each in made:
            taken = each.checkpoint
            self.stdout.write(
                f"Dealer {taken.dealer.code}: checkpoint #{taken.seq} of {taken.leaf_count} "
                f"leads ({each.changed} changed), root {taken.root[:16]}…, "
                f"{taken.algorithm} key {taken.key_id}."
            )
            for line in each.regressions:
                self.stderr.write(f"WARNING: dealer {taken.dealer.code}, {line}")

    def export(self, dealer_id: int, *, after: int, output: str | None) -> None:
        lines = checkpoints.export_lines(dealer_id, after=after)
        if output is None:
            for line in lines:
                self.stdout.write(line)
            return
        written = 0
        with open(output, "a", encoding="utf-8") as file:
            for line in lines:
                file.write(line + "\n")
                written += 1
        self.stdout.write(f"{written} checkpoint(s) appended to {output}.")

    def keygen(self, directory: Path, name: str) -> None:
        try:
            private, public = signing.generate_ed25519(directory, name)
        except FileExistsError as error:
            raise CommandError(f"{error.filename} exists; choose another --name") from error
        self.stdout.write(
            f"Private key: {private} (mode 0600; set DCC_LEDGER_SIGNING_KEY={private}).\n"
            f"Public key: {public} (give it to whoever checks the exported checkpoints)."
        )

    def verify(self, dealer_id: int | None, *, against: str | None) -> None:
        report = checkpoints.verify(dealer_id=dealer_id)
        problems = list(report.checkpoint_problems)
        if against:
            try:
                with open(against, encoding="utf-8") as file:
                    problems += checkpoints.check_export(file, dealer_id=dealer_id)
            except (OSError, ValueError, KeyError) as error:
                raise CommandError(f"{against}: {error}") from error
        if report.ok and not problems:
            self.stdout.write(
                self.style.SUCCESS(
                    f"OK: {report.events} events of {report.leads} leads verified"
                    f" against {report.checkpoints} signed checkpoint(s)."
                )
            )
            return
        for problem in problems:
            self.stderr.write(f"CHECKPOINT: {problem}")
        for link in report.broken:
            event = f" (event id {link.event_id})" if link.event_id else ""
            self.stderr.write(
                f"BROKEN: lead {link.lead_id}, event #{link.seq}{event}: {link.problem}"
            )
        raise CommandError(
            f"{len(report.broken)} broken chain(s) among {report.leads} leads "
            f"({report.events} events), {len(problems)} checkpoint problem(s)."
        )
