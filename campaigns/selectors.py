"""What campaigns returned: leads, repeat enquiries, arrivals and orders, and the cost of each,
per campaign and per capture code, read from the attribution rows joined with the leads'
milestone columns (leads.tallies keeps those equal to the ledger). A constant number of
queries however many campaigns or codes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q

from campaigns.models import Campaign, CampaignLead, CampaignTouch, CaptureCode


@dataclass(frozen=True)
class Figures:
    leads: int = 0
    touches: int = 0
    arrivals: int = 0
    orders: int = 0
    cost: Decimal | None = None  # the campaign's cost; per code there is none of its own

    def _per(self, count: int) -> Decimal | None:
        if self.cost is None or not count:
            return None
        return (self.cost / count).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    @property
    def cost_per_lead(self) -> Decimal | None:
        return self._per(self.leads)

    @property
    def cost_per_arrival(self) -> Decimal | None:
        return self._per(self.arrivals)

    @property
    def cost_per_order(self) -> Decimal | None:
        return self._per(self.orders)


_MILESTONES = {
    "leads": Count("pk"),
    "arrivals": Count("pk", filter=Q(lead__first_arrived_at__isnull=False)),
    "orders": Count("pk", filter=Q(lead__first_ordered_at__isnull=False)),
}


def campaign_figures(campaigns: Iterable[Campaign]) -> dict[int, Figures]:
    """Each campaign's figures, by its id (two queries)."""
    campaigns = list(campaigns)
    if not campaigns:
        return {}
    ids = [c.pk for c in campaigns]
    dealer_ids = {c.dealer_id for c in campaigns}
    counted = {
        row["campaign_id"]: row
        for row in CampaignLead.objects.filter(dealer_id__in=dealer_ids, campaign_id__in=ids)
        .values("campaign_id")
        .annotate(**_MILESTONES)
    }
    touches = dict(
        CampaignTouch.objects.filter(dealer_id__in=dealer_ids, campaign_id__in=ids)
        .values("campaign_id")
        .annotate(n=Count("pk"))
        .values_list("campaign_id", "n")
    )
    return {
        c.pk: Figures(
            leads=counted.get(c.pk, {}).get("leads", 0),
            touches=touches.get(c.pk, 0),
            arrivals=counted.get(c.pk, {}).get("arrivals", 0),
            orders=counted.get(c.pk, {}).get("orders", 0),
            cost=c.cost,
        )
        for c in campaigns
    }


def code_figures(campaign: Campaign) -> dict[int, Figures]:
    """Each of the campaign's codes' figures, by code id (two queries)."""
    here = {"dealer_id": campaign.dealer_id, "campaign": campaign}
    counted = {
        row["capture_code_id"]: row
        for row in CampaignLead.objects.filter(**here)
        .values("capture_code_id")
        .annotate(**_MILESTONES)
    }
    touches = dict(
        CampaignTouch.objects.filter(**here)
        .values("capture_code_id")
        .annotate(n=Count("pk"))
        .values_list("capture_code_id", "n")
    )
    ids = set(counted) | set(touches)
    return {
        code_id: Figures(
            leads=counted.get(code_id, {}).get("leads", 0),
            touches=touches.get(code_id, 0),
            arrivals=counted.get(code_id, {}).get("arrivals", 0),
            orders=counted.get(code_id, {}).get("orders", 0),
        )
        for code_id in ids
        if code_id is not None
    }


def codes_of(campaign: Campaign) -> list[CaptureCode]:
    """The campaign's codes: its own first, then the staff's by name."""
    codes = CaptureCode.objects.filter(dealer_id=campaign.dealer_id, campaign=campaign)
    return sorted(
        codes.select_related("staff"),
        key=lambda c: (c.staff_id is not None, str(c.staff or ""), c.pk),
    )


def campaigns_of(dealer_id: int) -> list[Campaign]:
    """The dealer's campaigns, the latest first."""
    return list(
        Campaign.objects.filter(dealer_id=dealer_id)
        .select_related("channel")
        .order_by("-starts_on", "-pk")[:200]
    )
