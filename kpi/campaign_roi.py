"""The campaigns beside the channels on the dealer dashboard: each campaign running in the
month with its return to date (its leads, repeat enquiries, arrivals and orders, followed to
today: a campaign's cost buys all its leads, whenever they arrive or order) and its cost per
lead, arrival and order; under it each capture code's counts (and its line's), every number
linked to the leads behind it. Figures from campaigns.selectors, six queries in all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from accounts.models import Staff
from campaigns import selectors
from campaigns.models import Campaign, CaptureCode
from campaigns.selectors import Figures
from dcc.formats import format_money
from leads.models import Lead
from leads.permissions import visible_leads

FIGURES = ("leads", "touches", "arrivals", "orders")


def figure_name(figure: str) -> str:
    return {
        "leads": _("Leads"),
        "touches": _("Repeat enquiries"),
        "arrivals": _("Arrivals"),
        "orders": _("Orders"),
    }[figure]


LINE = "line"  # the drill-down's code for the leads a campaign's line brought


@dataclass(frozen=True)
class Number:
    """A count as shown, and the drill-down's query string for the leads it counts."""

    value: int
    drill: str


@dataclass(frozen=True)
class RoiRow:
    label: str
    campaign: Campaign
    is_campaign: bool  # the campaign's own row (with its costs); else one of its codes'
    counts: dict[str, Number]
    cost: str = ""
    cost_is_budget: bool = False
    cost_per_lead: str = ""
    cost_per_arrival: str = ""
    cost_per_order: str = ""


def drill_query(campaign: Campaign, figure: str, code: int | str | None = None) -> str:
    params = {"campaign": campaign.pk, "figure": figure}
    if code is not None:
        params["code"] = code
    return urlencode(params)


def _money(value: Decimal | None) -> str:
    return "—" if value is None else format_money(value)


def _counts(campaign: Campaign, figures: Figures, code: int | str | None) -> dict[str, Number]:
    return {
        figure: Number(getattr(figures, figure), drill_query(campaign, figure, code))
        for figure in FIGURES
    }


def campaign_table(*, dealer_id: int, first: date, last: date) -> list[RoiRow]:
    """The campaigns running on any day from `first` to `last`, each followed by its codes'
    rows and, when it has a line, the line's row."""
    campaigns = selectors.campaigns_in(dealer_id, first=first, last=last)
    figures = selectors.campaign_figures(campaigns)
    by_code = selectors.codes_figures(campaigns)
    codes = selectors.codes_of_all(campaigns)
    rows: list[RoiRow] = []
    for campaign in campaigns:
        total = figures[campaign.pk]
        rows.append(
            RoiRow(
                label=campaign.name,
                campaign=campaign,
                is_campaign=True,
                counts=_counts(campaign, total, None),
                cost=_money(total.cost),
                cost_is_budget=total.cost_is_budget,
                cost_per_lead=_money(total.cost_per_lead),
                cost_per_arrival=_money(total.cost_per_arrival),
                cost_per_order=_money(total.cost_per_order),
            )
        )
        for code in codes[campaign.pk]:
            rows.append(
                RoiRow(
                    label=code_label(code),
                    campaign=campaign,
                    is_campaign=False,
                    counts=_counts(
                        campaign, by_code.get((campaign.pk, code.pk), Figures()), code.pk
                    ),
                )
            )
        line = by_code.get((campaign.pk, None))
        if campaign.line_id or line is not None:
            rows.append(
                RoiRow(
                    label=_("Calls on its line"),
                    campaign=campaign,
                    is_campaign=False,
                    counts=_counts(campaign, line or Figures(), LINE),
                )
            )
    return rows


def code_label(code: CaptureCode) -> str:
    if code.staff_id is None:
        return _("The campaign's own code")
    return _("Code of %(staff)s") % {"staff": code.staff}


class NotACampaignNumber(ValueError):
    """The drill-down asks for no figure of the dealer's campaigns."""


@dataclass(frozen=True)
class Behind:
    campaign: Campaign
    figure: str
    label: str  # which code ("" for the whole campaign)
    leads: QuerySet[Lead]
    total: int


def leads_behind(
    *, staff: Staff, dealer_id: int, campaign_id: str, figure: str, code: str | None
) -> Behind:
    """The leads behind one number of the campaign table, of those `staff` may see, newest
    first; NotACampaignNumber for anything the table does not link to."""
    if figure not in FIGURES:
        raise NotACampaignNumber(figure)
    try:
        campaign = Campaign.objects.get(dealer_id=dealer_id, pk=int(campaign_id))
    except (ValueError, OverflowError, Campaign.DoesNotExist):
        raise NotACampaignNumber(campaign_id) from None
    label = ""
    chosen: int | str | None = "all"
    if code == LINE:
        chosen, label = None, _("Calls on its line")
    elif code:
        found = (
            CaptureCode.objects.filter(campaign=campaign, pk=code).select_related("staff").first()
            if code.isdigit() and len(code) < 19
            else None
        )
        if found is None:
            raise NotACampaignNumber(code)
        chosen, label = found.pk, code_label(found)
    ids = selectors.campaign_lead_ids(campaign, figure=figure, code=chosen)
    seen = visible_leads(staff, dealer_id=dealer_id).filter(pk__in=ids)
    total = Lead.objects.filter(pk__in=ids).count()
    return Behind(campaign, figure, label, seen.order_by("-created_at", "-pk"), total)
