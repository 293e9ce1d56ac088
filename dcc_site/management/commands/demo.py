from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from audit.demo import play_audit_week
from calls.simulation import play_day, set_up_demo_phone
from campaigns.demo import play_campaigns
from leads.demo import DEMO_PASSWORD, load_demo
from owners.demo import play_owner_work, play_referrals
from privacy.demo import play_consent
from sms.demo import play_sms

PHONE_DAYS = 7


class Command(BaseCommand):
    help = (
        "Load the demo dealers, staff and a few hundred leads, a week of their calls, owner "
        "operations' visits, complaints, members and referrals, last week's audits and "
        "yesterday's text messages (safe to run twice)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--leads", type=int, default=300, help="leads per dealer")
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, leads: int, seed: int, **options):
        result = load_demo(leads_per_dealer=leads, seed=seed)
        self.stdout.write(result.summary())
        if result.leads:  # a week of calls through the phone system's push address
            today = timezone.localdate()
            for dealer in result.dealers:
                account = set_up_demo_phone(dealer)
                pushed = sum(
                    play_day(account, today - timedelta(days=back), seed=seed).pushes
                    for back in range(PHONE_DAYS - 1, -1, -1)
                )
                self.stdout.write(f"{dealer.code}: {pushed} calls of the last week pushed.")
        # The owners' and the audit group's work, over the deliveries, calls and exits above;
        # each skips a dealer it played already.
        for dealer in result.dealers:
            self.stdout.write(play_owner_work(dealer, seed).summary(dealer.code))
            named = play_referrals(dealer, seed)
            self.stdout.write(f"{dealer.code}: {named} owner referrals named.")
            self.stdout.write(play_audit_week(dealer, seed).summary(dealer.code))
            consents = play_consent(dealer, seed)
            self.stdout.write(f"{dealer.code}: {consents} consent statements recorded.")
            self.stdout.write(play_sms(dealer, seed))
            self.stdout.write(play_campaigns(dealer, seed))
        self.stdout.write(f"Demo logins (password {DEMO_PASSWORD}):")
        for username, roles in result.logins:
            self.stdout.write(f"  {username:<15} {roles}")
