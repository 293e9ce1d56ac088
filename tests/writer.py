"""A worker that records enquiries through the real action until it is killed, printing each
lead's id once its transaction has committed (tests/test_crash.py kills it with SIGKILL).

    python -m tests.writer DEALER_ID CHANNEL_ID STAFF_ID   (DATABASE_URL names the database)
"""

from __future__ import annotations

import os
import sys


def main(dealer_id: int, channel_id: int, staff_id: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dcc.settings")
    import django

    django.setup()
    from accounts.models import Dealer, Staff
    from leads.actions import create_lead
    from leads.models import Channel

    dealer = Dealer.objects.get(pk=dealer_id)
    channel = Channel.objects.get(pk=channel_id)
    by = Staff.objects.get(pk=staff_id)
    number = 0
    while True:
        number += 1
        intake = create_lead(
            dealer=dealer,
            phone=f"137{os.getpid() % 1000:03d}{number:05d}",
            channel=channel,
            by=by,
            name="压测",
            note="written until killed",
        )
        # create_lead returns once committed: from here on the lead is acknowledged.
        print(intake.lead.pk, flush=True)


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:4]))
