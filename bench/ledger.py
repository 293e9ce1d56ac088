"""The ledger's checkpoints: how long taking one and verifying against it take at N leads.

    .venv/bin/python bench/ledger.py [--leads N] [--database-url URL]

A fresh database (SQLite file under var/bench/, or a PostgreSQL URL whose name contains
"bench": dropped and created) gets one dealer with N leads (default 100,000), each created and
called once through the batch executor (leads.batch), so two chained events a lead. Timed:
the first checkpoint (every head stored), a call on 1% of the leads, the second checkpoint
(only those heads stored), and `verify` (every chain recomputed and checked against both).
Target: a checkpoint of 100,000 leads in a few seconds on SQLite.

A benchmark, not a test: it prints and exits 0 unless the run itself breaks.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

from support import django_setup, recreate_postgres, remove_sqlite

ROOT = Path(__file__).resolve().parent.parent
BATCH = 2000


def timed(label: str, work):
    started = time.perf_counter()
    result = work()
    print(f"  {label}: {time.perf_counter() - started:.2f} s", flush=True)
    return result


def generate(count: int) -> tuple[object, list[int]]:
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import Brand, Dealer, Membership, Region, Staff
    from accounts.roles import Role
    from leads.batch import Batch
    from leads.models import CallOutcome, Channel, Lead
    from leads.setup.defaults import set_up_dealer

    brand = Brand.objects.create(code="bench", name="星途汽车")
    region = Region.objects.create(brand=brand, code="east", name="华东区")
    dealer = Dealer.objects.create(
        region=region, code="BENCH", name="上海浦东星途4S店", city="上海"
    )
    set_up_dealer(dealer)
    agent = Staff.objects.create(username="agent", display_name="坐席")
    Membership.objects.create(staff=agent, dealer=dealer, role=Role.DCC_AGENT)
    channel = Channel.objects.filter(dealer=dealer).first()
    now = timezone.now()
    batch = Batch(dealer, now=now)
    for start in range(0, count, BATCH):
        size = min(BATCH, count - start)
        phones = [f"13{number:09d}" for number in range(start, start + size)]
        with transaction.atomic():
            batch.begin(phones=phones, external_ids=(), size=size)
            for phone in phones:
                with batch.row():
                    lead = batch.create_lead(
                        dealer=dealer, phone=phone, channel=channel, by=None, owner=agent
                    )
                    batch.log_call(lead=lead.lead, by=agent, outcome=CallOutcome.NO_ANSWER)
            batch.write()
    return dealer, list(Lead.objects.filter(dealer=dealer).values_list("pk", flat=True))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--database-url", help="PostgreSQL (its name must contain 'bench')")
    args = parser.parse_args(argv)
    if args.database_url:
        recreate_postgres(args.database_url)
        os.environ["DATABASE_URL"] = args.database_url
    else:
        path = Path(os.environ.get("DCC_VAR_DIR", ROOT / "var")) / "bench" / "ledger.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_sqlite(path)
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ.setdefault("DCC_LEDGER_KEY", "bench ledger key")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dcc.settings")
    django_setup()
    from django.core.management import call_command

    from leads import actions, checkpoints
    from leads.models import CallOutcome, Lead

    call_command("migrate", verbosity=0)
    rng = random.Random(7)
    print(f"Ledger checkpoints at {args.leads:,} leads ({os.environ['DATABASE_URL']}):")
    dealer, lead_ids = timed("writing the leads", lambda: generate(args.leads))
    first = timed("first checkpoint", lambda: checkpoints.make(dealer.pk))
    for lead in Lead.objects.filter(pk__in=rng.sample(lead_ids, max(1, len(lead_ids) // 100))):
        actions.log_call(lead=lead, by=lead.owner, outcome=CallOutcome.REACHED)
    second = timed("second checkpoint (1% changed)", lambda: checkpoints.make(dealer.pk))
    print(f"    heads stored: {first.changed:,}, then {second.changed:,}")
    report = timed("verify against them", checkpoints.verify)
    print(f"    {report.events:,} events of {report.leads:,} leads, ok: {report.ok}")
    if not report.ok:
        sys.exit("verify failed")


if __name__ == "__main__":
    main()
