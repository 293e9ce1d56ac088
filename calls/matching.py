"""Whose call it is: the caller's number → the customer (by their number or another of
theirs) → their open lead, else their latest; the dealer's line → its channel; the seat →
the person. Staff numbers and blocked numbers are never customers."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists

from accounts.models import Dealer, Membership, Staff
from calls.models import BlockedNumber, Line, NotALead, PhoneAccount, Seat
from dcc.phone import PhoneError, normalise_phone
from leads.models import Customer, CustomerPhone, Lead
from leads.stages import OPEN_STAGES


def digits(raw: str) -> str:
    """A line or an unusual caller number as digits only, without China's country code."""
    number = "".join(ch for ch in raw if ch.isdigit())
    for prefix in ("0086", "86"):
        if number.startswith(prefix) and len(number) - len(prefix) >= 10:
            return number[len(prefix) :]
    return number


def caller_number(raw: str) -> str:
    """The customer's number as customers are stored (normalised), or its digits when it is
    not a Chinese phone number at all (withheld, foreign): kept, matched to nobody."""
    if not raw.strip():
        return ""
    try:
        return normalise_phone(raw).number
    except PhoneError:
        return digits(raw)[:20]


@dataclass(frozen=True)
class Match:
    customer: Customer | None
    lead: Lead | None
    not_a_lead: str = ""


def match_number(dealer: Dealer, number: str) -> Match:
    if not number:
        return Match(None, None)
    reason = _not_a_lead(dealer, number)
    if reason:
        return Match(None, None, reason)
    customer = Customer.objects.filter(dealer=dealer, phone=number).first()
    if customer is None:
        other = CustomerPhone.objects.filter(dealer=dealer, phone=number).first()
        customer = other.customer if other else None
    if customer is None:
        return Match(None, None)
    leads = Lead.objects.filter(customer=customer)
    lead = leads.filter(stage__in=OPEN_STAGES).first() or leads.order_by("-created_at").first()
    return Match(customer, lead)


def _not_a_lead(dealer: Dealer, number: str) -> str:
    """Whether the number is blocked or a staff member's: both asked in one query."""
    found = Dealer.objects.filter(pk=dealer.pk).values(
        blocked=Exists(BlockedNumber.objects.filter(dealer=dealer, number=number)),
        staff=Exists(
            Membership.objects.filter(dealer=dealer, is_active=True, staff__mobile=number)
        ),
    )
    answer = found.first() or {}
    if answer.get("blocked"):
        return NotALead.BLOCKED
    return NotALead.STAFF if answer.get("staff") else ""


def line_of(dealer: Dealer, number: str) -> Line | None:
    if not number:
        return None
    return Line.objects.filter(dealer=dealer, number=number).select_related("channel").first()


def person_at_seat(account: PhoneAccount, seat: str) -> Staff | None:
    if not seat:
        return None
    found = Seat.objects.filter(account=account, seat=seat).select_related("staff").first()
    return found.staff if found else None
