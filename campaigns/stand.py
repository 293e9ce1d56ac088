"""Direct sales at the stand (直销员): a staff member types a visitor's details into their phone,
under their own capture code, so the lead is credited to the campaign and to them as if the
visitor had scanned their code. The phone keeps the entries while the venue's connection is
down and sends them when it is back, so the same entry may arrive more than once (a reply lost
on the way, the page reloaded and the queue sent again): each carries a key the phone made for
it, and an entry whose key was seen gives the first answer again, nothing new.

The keys live with the API's (leads.models.IdempotencyKey, per person), prefixed so that the
two never meet."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Staff
from campaigns import capture
from campaigns.models import CaptureCode
from dcc.errors import InvalidInput
from leads.actions import IntakeOutcome
from leads.models import IdempotencyKey, Lead

KEY_PREFIX = "stand:"
KEY_PATTERN = re.compile(r"[A-Za-z0-9-]{16,64}")
# An entry made offline keeps the time it was made (the lead came in then), within reason: the
# phone's clock is the staff member's, so not in the future, and not from days ago.
LONGEST_OFFLINE = timedelta(hours=48)


@dataclass(frozen=True)
class Sent:
    lead: Lead
    outcome: str  # "created" or "touched", as the first time
    again: bool  # this key was seen before: nothing new was written


def stand_codes(staff: Staff, dealer_id: int) -> list[CaptureCode]:
    """The person's own codes of the dealer's campaigns running today, the latest first."""
    today = timezone.localdate()
    return list(
        CaptureCode.objects.filter(
            dealer_id=dealer_id,
            staff=staff,
            campaign__starts_on__lte=today,
            campaign__ends_on__gte=today,
        )
        .select_related("campaign")
        .order_by("-campaign__starts_on", "-pk")
    )


def entered_at(text: str, *, now: datetime) -> datetime:
    """When the phone says the entry was made, kept within LONGEST_OFFLINE before now."""
    try:
        moment = datetime.fromisoformat((text or "").replace("Z", "+00:00"))
    except ValueError:
        return now
    if timezone.is_naive(moment):
        return now
    return min(max(moment, now - LONGEST_OFFLINE), now)


def send(
    *,
    staff: Staff,
    dealer_id: int,
    key: str,
    code: str,
    name: str,
    mobile: str,
    car_model: str = "",
    consent_given: bool = False,
    entered: str = "",
    address: str = "",
) -> Sent:
    """One entry from the stand: a lead (or a repeat enquiry) credited to `staff`'s code, once
    per key. InvalidInput names the field to fix; the entry is then not kept."""
    if not KEY_PATTERN.fullmatch(key or ""):
        raise InvalidInput(_("This entry has no valid key; enter it again."), field="key")
    found = CaptureCode.objects.filter(code=code, dealer_id=dealer_id, staff=staff).first()
    if found is None:
        raise InvalidInput(_("Choose one of your own capture codes."), field="code")
    digest = hashlib.sha256(
        json.dumps([code, name, mobile, car_model, bool(consent_given)]).encode()
    ).hexdigest()
    full_key = KEY_PREFIX + key
    earlier = _earlier(staff, full_key, digest)
    if earlier is not None:
        return earlier
    now = timezone.now()
    try:
        with transaction.atomic():
            captured = capture.capture(
                code=found.code,
                name=name,
                mobile=mobile,
                car_model=car_model,
                consent_given=consent_given,
                address=address,
                page_url="/campaigns/stand/",
                at=entered_at(entered, now=now),
                entered_by=staff,
            )
            IdempotencyKey.objects.create(
                dealer_id=dealer_id,
                staff=staff,
                key=full_key,
                request_digest=digest,
                lead=captured.lead,
                status_code=201 if captured.outcome == IntakeOutcome.CREATED else 200,
                outcome=captured.outcome.value,
            )
    except IntegrityError:
        # The same entry sent twice at once: the other one won; give its answer.
        earlier = _earlier(staff, full_key, digest)
        if earlier is None:
            raise
        return earlier
    return Sent(captured.lead, captured.outcome.value, again=False)


def _earlier(staff: Staff, key: str, digest: str) -> Sent | None:
    row = IdempotencyKey.objects.filter(staff=staff, key=key).select_related("lead").first()
    if row is None:
        return None
    if row.request_digest != digest:
        raise InvalidInput(_("This entry's key was used for another entry."), field="key")
    return Sent(row.lead, row.outcome, again=True)
