"""The demo's consent: what most customers agreed to when they first enquired (a form at the
showroom or on a platform), a few withdrawals by reply, and a few numbers on the do-not-call
list, so that marketing's lists and the lead pages show the real mix."""

from __future__ import annotations

import random
from datetime import timedelta

from accounts.models import Dealer
from leads.models import Customer
from privacy.models import ConsentRecord, ConsentSource, DoNotCall, Purpose

AGREED_SHARE = 0.6  # customers who agreed to marketing calls and SMS
WITHDRAWN_SHARE = 0.05  # of those, who later replied to stop SMS
DO_NOT_CALL = 3


def play_consent(dealer: Dealer, seed: int) -> int:
    """Consent records for the dealer's customers (none if it has some already); how many."""
    if ConsentRecord.objects.filter(dealer=dealer).exists():
        return 0
    rng = random.Random(f"{seed}-consent-{dealer.pk}")
    records: list[ConsentRecord] = []
    customers = Customer.objects.filter(dealer=dealer, erased_at__isnull=True).order_by("pk")
    for pk, created_at in customers.values_list("pk", "created_at"):
        if rng.random() >= AGREED_SHARE:
            continue
        wording = "本人同意接收本店的产品资讯、活动邀约电话和短信。"
        for purpose in (Purpose.MARKETING_CALLS, Purpose.SMS):
            records.append(
                ConsentRecord(
                    dealer=dealer,
                    customer_id=pk,
                    purpose=purpose,
                    given=True,
                    at=created_at,
                    how=ConsentSource.FORM,
                    evidence=wording,
                )
            )
        if rng.random() < WITHDRAWN_SHARE:
            records.append(
                ConsentRecord(
                    dealer=dealer,
                    customer_id=pk,
                    purpose=Purpose.SMS,
                    given=False,
                    at=created_at + timedelta(days=rng.randint(3, 30)),
                    how=ConsentSource.REPLY,
                    evidence="R",
                )
            )
    ConsentRecord.objects.bulk_create(records, batch_size=2000)
    barred = customers.order_by("-pk").values_list("phone", "created_at")
    DoNotCall.objects.bulk_create(
        [
            DoNotCall(dealer=dealer, phone=phone, reason="客户投诉后要求不再来电", at=created_at)
            for phone, created_at in barred[:DO_NOT_CALL]
        ],
        ignore_conflicts=True,
    )
    return len(records)
