"""dcc phone simulate | reconcile: the demo's phone system, and filling what lost pushes missed."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import Dealer
from calls import actions
from calls.models import PhoneAccount
from calls.providers import PROVIDERS, ProviderError
from calls.simulation import http_sender, play_day, set_up_demo_phone


class Command(BaseCommand):
    help = "The call center: simulate a day of calls (demo), or reconcile calls from a provider."

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

    def handle(self, *args, what: str, dealer: str, **options):
        found = Dealer.objects.filter(code=dealer).first()
        if found is None:
            raise CommandError(f"No dealer has the code {dealer!r}.")
        if what == "simulate":
            self._simulate(found, **options)
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


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise CommandError(f"{text!r} is not a date (YYYY-MM-DD) or time (…THH:MM).") from error
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment
