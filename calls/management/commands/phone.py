"""dcc phone simulate | reconcile | import: the demo's phone system, filling what lost pushes
missed, and importing call history from a PBX's or call center's export (calls.history)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Dealer, Staff
from calls import actions, history
from calls.models import PhoneAccount
from calls.providers import PROVIDERS, ProviderError
from calls.simulation import http_sender, play_day, set_up_demo_phone
from dcc.errors import DomainError
from intake.imports import default_importer


class Command(BaseCommand):
    help = (
        "The call center: simulate a day of calls (demo), reconcile calls from a provider, or "
        "import call history from a CDR export (CSV or XLSX)."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="what", required=True)
        simulate = sub.add_parser("simulate", help="push a realistic day of calls, signed")
        simulate.add_argument("--dealer", required=True, help="dealer code")
        simulate.add_argument("--day", type=date.fromisoformat, help="YYYY-MM-DD (today)")
        simulate.add_argument("--days", type=int, default=1, help="this many days up to --day")
        simulate.add_argument("--url", default="", help="a running server (default: in process)")
        reconcile = sub.add_parser("reconcile", help="pull calls a lost push missed")
        reconcile.add_argument("--dealer", required=True, help="dealer code")
        reconcile.add_argument("--since", required=True, type=_moment, help="YYYY-MM-DD[THH:MM]")
        reconcile.add_argument("--until", type=_moment, help="default: now")
        imported = sub.add_parser("import", help="import past calls from a CDR export")
        imported.add_argument("file", type=Path, help="the CSV or XLSX file")
        imported.add_argument("--dealer", required=True, help="dealer code")
        imported.add_argument(
            "--provider", default="", help="the account's provider (when the dealer has several)"
        )
        imported.add_argument(
            "--dry-run", action="store_true", help="read and check every row, store nothing"
        )
        imported.add_argument(
            "--as",
            dest="username",
            default="",
            help="who imports (default: the dealer's first active GM or sales manager)",
        )

    def handle(self, *args, what: str, dealer: str, **options):
        found = Dealer.objects.filter(code=dealer).first()
        if found is None:
            raise CommandError(f"No dealer has the code {dealer!r}.")
        if what == "simulate":
            self._simulate(found, **options)
        elif what == "import":
            self._import(found, **options)
        else:
            self._reconcile(found, **options)

    def _simulate(self, dealer: Dealer, *, day: date | None, days: int, url: str, **_):
        account = set_up_demo_phone(dealer)
        last = day or timezone.localdate()
        send = http_sender(account, url=url)
        for back in range(days - 1, -1, -1):
            played = play_day(account, last - timedelta(days=back), send=send)
            self.stdout.write(
                f"{last - timedelta(days=back)}: {played.pushes} pushes, {played.inbound} "
                f"inbound ({played.missed} missed), {played.outbound} outbound"
            )

    def _reconcile(self, dealer: Dealer, *, since: datetime, until: datetime | None, **_):
        until = until or timezone.now()
        for account in PhoneAccount.objects.filter(dealer=dealer, is_active=True):
            provider = PROVIDERS[account.provider]
            try:
                reports = provider.calls_since(
                    account.credentials, account.api_url or provider.default_base_url, since, until
                )
            except ProviderError as error:
                self.stderr.write(f"{account}: {error}")
                continue
            for report in reports:
                actions.receive(account, report)
            self.stdout.write(f"{account}: {len(reports)} call record(s) reconciled.")

    def _import(
        self,
        dealer: Dealer,
        *,
        file: Path,
        provider: str,
        dry_run: bool,
        username: str,
        **options,
    ):
        account = _account(dealer, provider)
        by = _importer(dealer, username)
        try:
            result = history.import_call_history(account=account, by=by, path=file, dry_run=dry_run)
        except OSError as error:
            raise CommandError(f"{file}: {error.strerror or error}") from error
        except DomainError as error:
            raise CommandError(f"{file.name}: {error.message}") from error
        if dry_run:
            self.stdout.write(_("Dry run: nothing was stored."))
        self.stdout.write(
            _(
                "%(rows)d rows: %(new)d new calls, %(known)d already known, %(rejected)d "
                "rejected, %(skipped)d empty; %(matched)d calls on a lead."
            )
            % {
                "rows": result.rows,
                "new": result.new,
                "known": result.known,
                "rejected": len(result.rejected),
                "skipped": result.skipped,
                "matched": result.matched,
            }
        )
        for row in result.rejected:
            where = {"row": row.row, "column": row.column, "reason": row.message}
            if row.column:
                self.stdout.write(_("Row %(row)d, %(column)s: %(reason)s") % where)
            else:
                self.stdout.write(_("Row %(row)d: %(reason)s") % where)


def _account(dealer: Dealer, provider: str) -> PhoneAccount:
    """The dealer's one phone account, or the one with `provider`."""
    accounts = list(PhoneAccount.objects.filter(dealer=dealer).order_by("provider"))
    if provider:
        accounts = [account for account in accounts if account.provider == provider]
        if not accounts:
            raise CommandError(
                _("%(dealer)s has no phone account with %(provider)s.")
                % {"dealer": dealer.code, "provider": provider}
            )
    if not accounts:
        raise CommandError(_("%(dealer)s has no phone account.") % {"dealer": dealer.code})
    if len(accounts) > 1:
        raise CommandError(
            _("%(dealer)s has several phone accounts: name one with --provider (%(names)s).")
            % {"dealer": dealer.code, "names": ", ".join(a.provider for a in accounts)}
        )
    return accounts[0]


def _importer(dealer: Dealer, username: str) -> Staff:
    if username:
        person = Staff.objects.filter(username=username, is_active=True).first()
        if person is None:
            raise CommandError(_("Unknown user %(username)s.") % {"username": username})
        return person
    person = default_importer(dealer)
    if person is None:
        raise CommandError(
            _("%(dealer)s has no active general or sales manager: name one with --as.")
            % {"dealer": dealer.code}
        )
    return person


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise CommandError(f"{text!r} is not a date (YYYY-MM-DD) or time (…THH:MM).") from error
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment
