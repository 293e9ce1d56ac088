"""What campaigns returned: leads, repeat enquiries, arrivals and orders, and the cost of each,
per campaign and per capture code, read from the attribution rows joined with the leads'
milestone columns (leads.tallies keeps those equal to the ledger). A constant number of
queries however many campaigns or codes.

The cost counted is what the campaign actually cost, once marketing has entered it; until then
its budget, marked as such (a campaign under way has spent little of it yet, so its cost per
lead would look too good on its actual spend so far). A capture code has no cost of its own:
split by its share of the leads, every code's cost per lead would be the campaign's, so codes
show their counts and only the campaign its costs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
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
    cost_is_budget: bool = False  # no actual cost entered yet: the budget is counted

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


def counted_cost(campaign: Campaign) -> tuple[Decimal, bool]:
    """The cost a campaign's return is measured against, and whether it is the budget."""
    if campaign.cost:
        return campaign.cost, False
    return campaign.budget, True


# Which of a campaign's leads each figure counts (a lead reaches a milestone once).
MILESTONE_FILTERS = {
    "leads": Q(),
    "arrivals": Q(lead__first_arrived_at__isnull=False),
    "orders": Q(lead__first_ordered_at__isnull=False),
}

_MILESTONES = {figure: Count("pk", filter=q) for figure, q in MILESTONE_FILTERS.items()}


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
            cost=counted_cost(c)[0],
            cost_is_budget=counted_cost(c)[1],
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


def codes_figures(campaigns: Iterable[Campaign]) -> dict[tuple[int, int | None], Figures]:
    """The figures of each code of several campaigns, by (campaign id, code id), two queries.
    Code None: the leads and repeat enquiries the campaign's line brought (campaigns.lines)."""
    campaigns = list(campaigns)
    if not campaigns:
        return {}
    here = {
        "dealer_id__in": {c.dealer_id for c in campaigns},
        "campaign_id__in": [c.pk for c in campaigns],
    }
    counted = {
        (row["campaign_id"], row["capture_code_id"]): row
        for row in CampaignLead.objects.filter(**here)
        .values("campaign_id", "capture_code_id")
        .annotate(**_MILESTONES)
        .order_by()
    }
    touches = {
        (campaign_id, code_id): n
        for campaign_id, code_id, n in CampaignTouch.objects.filter(**here)
        .values("campaign_id", "capture_code_id")
        .annotate(n=Count("pk"))
        .values_list("campaign_id", "capture_code_id", "n")
        .order_by()
    }
    return {
        key: Figures(
            leads=counted.get(key, {}).get("leads", 0),
            touches=touches.get(key, 0),
            arrivals=counted.get(key, {}).get("arrivals", 0),
            orders=counted.get(key, {}).get("orders", 0),
        )
        for key in set(counted) | set(touches)
    }


def campaigns_in(dealer_id: int, *, first: date, last: date) -> list[Campaign]:
    """The dealer's campaigns running on any day from `first` to `last`, the latest first."""
    return list(
        Campaign.objects.filter(dealer_id=dealer_id, starts_on__lte=last, ends_on__gte=first)
        .select_related("channel", "line")
        .order_by("-starts_on", "-pk")[:200]
    )


def codes_of_all(campaigns: Iterable[Campaign]) -> dict[int, list[CaptureCode]]:
    """Each campaign's codes (its own first, then the staff's by name), one query."""
    campaigns = list(campaigns)
    found: dict[int, list[CaptureCode]] = {c.pk: [] for c in campaigns}
    codes = CaptureCode.objects.filter(
        dealer_id__in={c.dealer_id for c in campaigns}, campaign_id__in=list(found)
    ).select_related("staff")
    for code in sorted(codes, key=lambda c: (c.staff_id is not None, str(c.staff or ""), c.pk)):
        found[code.campaign_id].append(code)
    return found


def campaign_lead_ids(campaign: Campaign, *, figure: str, code: int | str | None = "all"):
    """The ids of the campaign's leads a figure counts ("leads", "arrivals", "orders"), of one
    code (None: those its line brought), or all; "touches": the leads of its repeat enquiries."""
    if figure == "touches":
        rows = CampaignTouch.objects.filter(dealer_id=campaign.dealer_id, campaign=campaign)
    else:
        rows = CampaignLead.objects.filter(
            MILESTONE_FILTERS[figure], dealer_id=campaign.dealer_id, campaign=campaign
        )
    if code != "all":
        rows = rows.filter(capture_code_id=code)
    return rows.values_list("lead_id", flat=True)


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
