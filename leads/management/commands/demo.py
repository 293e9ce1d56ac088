from django.core.management.base import BaseCommand

from leads.demo import DEMO_PASSWORD, load_demo


class Command(BaseCommand):
    help = "Load the demo dealers, staff and a few hundred leads (safe to run twice)."

    def add_arguments(self, parser):
        parser.add_argument("--leads", type=int, default=300, help="leads per dealer")
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, leads: int, seed: int, **options):
        result = load_demo(leads_per_dealer=leads, seed=seed)
        self.stdout.write(result.summary())
        self.stdout.write(f"Demo logins (password {DEMO_PASSWORD}):")
        for username, roles in result.logins:
            self.stdout.write(f"  {username:<15} {roles}")
