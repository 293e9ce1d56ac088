"""The consent ledger and the do-not-call list, read and written. Whoever sends a marketing
message or places a marketing call asks `current`/`consented` and `is_do_not_call` first.

A customer's consent for a purpose is their latest statement about it; no statement at all is
`None` (unknown), which marketing treats as no."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import record_change
from accounts.models import Dealer, Staff
from dcc.errors import InvalidInput
from dcc.phone import mask_phone, normalise_phone
from leads.models import Customer
from privacy.models import ConsentRecord, ConsentSource, DoNotCall, Purpose

MAX_EVIDENCE = 4000


def record(
    *,
    customer: Customer,
    purpose: str,
    given: bool,
    how: str,
    evidence: str = "",
    by: Staff | None = None,
    at: datetime | None = None,
) -> ConsentRecord:
    """Append one statement of `customer`'s about `purpose`."""
    if purpose not in Purpose.values:
        raise InvalidInput(_("Unknown consent purpose."), field="purpose")
    if how not in ConsentSource.values:
        raise InvalidInput(_("Unknown way of giving consent."), field="how")
    return ConsentRecord.objects.create(
        dealer_id=customer.dealer_id,
        customer=customer,
        purpose=purpose,
        given=bool(given),
        at=at or timezone.now(),
        how=how,
        evidence=evidence.strip()[:MAX_EVIDENCE],
        by=by,
    )


def _latest(purpose: str):
    return (
        ConsentRecord.objects.filter(customer=OuterRef("pk"), purpose=purpose)
        .order_by("-at", "-pk")
        .values("given")[:1]
    )


def current(customer: Customer, purpose: str) -> bool | None:
    """Whether `customer` consents to `purpose` now: their latest statement (by when it was
    made; the later-recorded of two at one instant), or None when they never said."""
    return (
        ConsentRecord.objects.filter(customer=customer, purpose=purpose)
        .order_by("-at", "-pk")
        .values_list("given", flat=True)
        .first()
    )


def consented(customers: Iterable[Customer | int], purpose: str) -> set[int]:
    """The ids of those of `customers` whose latest statement about `purpose` gives consent,
    in one query however many they are (for a bulk send)."""
    ids = [c if isinstance(c, int) else c.pk for c in customers]
    if not ids:
        return set()
    latest = Customer.objects.filter(pk__in=ids).annotate(latest=Subquery(_latest(purpose)))
    return set(latest.filter(latest=True).values_list("pk", flat=True))


def history(customer: Customer) -> list[ConsentRecord]:
    """Every statement of the customer's, newest first."""
    return list(
        ConsentRecord.objects.filter(customer=customer).select_related("by").order_by("-at", "-pk")
    )


def latest_by_purpose(customer: Customer) -> dict[str, ConsentRecord | None]:
    """Each purpose's latest statement of the customer's (None: never asked), in one query."""
    latest: dict[str, ConsentRecord | None] = dict.fromkeys(Purpose.values)
    for record in history(customer):
        if latest[record.purpose] is None:
            latest[record.purpose] = record
    return latest


# ---------------------------------------------------------------- do not call


def add_do_not_call(
    *, dealer: Dealer, phone: str, reason: str = "", by: Staff | None = None
) -> DoNotCall:
    """Put a number on the dealer's do-not-call list (again: nothing changes)."""
    number = normalise_phone(phone).number
    try:
        with transaction.atomic():
            return DoNotCall.objects.create(
                dealer=dealer, phone=number, reason=reason.strip()[:200], at=timezone.now(), by=by
            )
    except IntegrityError:
        return DoNotCall.objects.get(dealer=dealer, phone=number)


def remove_do_not_call(*, dealer: Dealer, phone: str, by: Staff | None = None) -> bool:
    """Take a number off the list; whether it was on it. Taken off by a person: recorded
    (the list holds customers' wishes; who lifted one must be traceable)."""
    number = normalise_phone(phone).number
    removed = DoNotCall.objects.filter(dealer=dealer, phone=number).delete()[0] > 0
    if removed and by is not None:
        record_change(dealer=dealer, by=by, what="do_not_call_removed", subject=mask_phone(number))
    return removed


def is_do_not_call(dealer: Dealer, phone: str) -> bool:
    """Whether the dealer must not call `phone` for marketing (a number that does not parse is
    not on the list)."""
    try:
        number = normalise_phone(phone).number
    except InvalidInput:
        return False
    return DoNotCall.objects.filter(dealer=dealer, phone=number).exists()


# ---------------------------------------------------------------- marketing calls


def marketing_call_refusal(customer: Customer) -> str | None:
    """Why `customer` may not be called for marketing (None: they may): their number is on
    the do-not-call list, or they have not agreed to marketing calls."""
    if is_do_not_call_customer(customer):
        return _("This number is on the do-not-call list.")
    if current(customer, Purpose.MARKETING_CALLS) is not True:
        return _("The customer has not agreed to marketing calls.")
    return None


def is_do_not_call_customer(customer: Customer) -> bool:
    return DoNotCall.objects.filter(dealer_id=customer.dealer_id, phone=customer.phone).exists()


def callable_for_marketing(dealer_id: int, customer_ids: Iterable[int]) -> set[int]:
    """Those of `customer_ids` who may be called for marketing, in one query (a list page)."""
    ids = list(customer_ids)
    if not ids:
        return set()
    agreed = (
        Customer.objects.filter(pk__in=ids)
        .annotate(latest=Subquery(_latest(Purpose.MARKETING_CALLS)))
        .filter(latest=True)
        .exclude(phone__in=DoNotCall.objects.filter(dealer_id=dealer_id).values("phone"))
    )
    return set(agreed.values_list("pk", flat=True))
