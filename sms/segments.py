"""A bulk send's audience: the dealer's leads by stage, grade, channel and model, its owners
(customers with a delivered car) and its members by tier; one recipient per customer, their
latest matching lead (whose details fill the message and whose ledger records it)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from dcc.errors import InvalidInput
from leads.models import Lead
from owners.models import Member, Vehicle

# A bulk send runs while the person waits; a larger audience is narrowed first.
MAX_RECIPIENTS = 2000


@dataclass(frozen=True)
class Segment:
    stages: tuple[str, ...] = ()
    grades: tuple[str, ...] = ()
    channel_ids: tuple[int, ...] = ()
    car_model: str = ""
    owners_only: bool = False
    tier_ids: tuple[int, ...] = ()


def matching_leads(dealer_id: int, segment: Segment) -> QuerySet[Lead]:
    found = Lead.objects.filter(dealer_id=dealer_id)
    if segment.stages:
        found = found.filter(stage__in=segment.stages)
    if segment.grades:
        found = found.filter(grade__in=segment.grades)
    if segment.channel_ids:
        found = found.filter(channel_id__in=segment.channel_ids)
    if segment.car_model:
        found = found.filter(car_model__icontains=segment.car_model)
    if segment.owners_only:
        owners = Vehicle.objects.filter(dealer_id=dealer_id).values("owner_id")
        found = found.filter(customer_id__in=owners)
    if segment.tier_ids:
        members = Member.objects.filter(dealer_id=dealer_id, tier_id__in=segment.tier_ids)
        found = found.filter(customer_id__in=members.values("customer_id"))
    return found


def recipients(dealer_id: int, segment: Segment) -> list[Lead]:
    """The latest matching lead of each customer in the segment (InvalidInput when there are
    more customers than one bulk send takes)."""
    found = matching_leads(dealer_id, segment)
    if found.values("customer_id").distinct().count() > MAX_RECIPIENTS:
        raise InvalidInput(
            _("More than %(max)d customers: narrow the segment.") % {"max": MAX_RECIPIENTS},
            field="stages",
        )
    latest: dict[int, Lead] = {}
    rows = found.select_related("customer", "dealer", "owner", "consultant").order_by(
        "customer_id", "-created_at", "-pk"
    )
    for lead in rows:
        latest.setdefault(lead.customer_id, lead)
    return list(latest.values())
