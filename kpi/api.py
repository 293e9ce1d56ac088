"""GET /api/v1/kpi: the registry's numbers, each with its numerator and denominator, and the
leads behind any of them. The same numbers as `dcc kpi`."""

from __future__ import annotations

from datetime import date
from typing import Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from accounts.models import Dealer
from dcc.api import current_staff
from dcc.errors import InvalidInput, NotFound, NotPermitted
from kpi.measures import lead_ids
from kpi.registry import MEASURES, METRICS, View
from kpi.selectors import day_window, kpi_report, report_json
from leads.permissions import may_see_kpis, roles_at, visible_leads

router = Router(tags=["kpi"])
DRILL_LIMIT = 1000

Dimension = Literal["channel", "channel_group", "month", "model", "grade", "agent", "dealer"]


class KpiQuery(Schema):
    dealer: str = Field(description="dealer code")
    from_: date = Field(alias="from", description="first day, YYYY-MM-DD")
    to: date = Field(description="last day (included), YYYY-MM-DD")
    view: Literal["period", "cohort"] = "period"
    by: Dimension | None = None
    metric: list[str] = Field(default_factory=list, description="only these metrics")


class DrillQuery(KpiQuery):
    measure: str = Field(description="a measure: the numerator or denominator of a metric")
    group: str | None = Field(None, description="the group's key, as the report gives it")


def _dealer(request: HttpRequest, code: str) -> Dealer:
    staff = current_staff(request)
    dealer = Dealer.objects.filter(code=code).first()
    if dealer is None or not may_see_kpis(staff, dealer.pk):
        if dealer is not None and roles_at(staff, dealer.pk):
            raise NotPermitted(_("Only managers and supervisors see the dealer's KPIs."))
        raise NotFound(_("Unknown dealer “%(code)s”.") % {"code": code}, field="dealer")
    return dealer


def _window(request: HttpRequest, query: KpiQuery):
    if query.to < query.from_:
        raise InvalidInput(_("“to” must not be before “from”."), field="to")
    unknown = sorted(set(query.metric) - set(METRICS))
    if unknown:
        raise InvalidInput(
            _("Unknown metrics: %(metrics)s.") % {"metrics": ", ".join(unknown)}, field="metric"
        )
    dealer = _dealer(request, query.dealer)
    return day_window(
        dealer_ids=[dealer.pk], first=query.from_, last=query.to, view=View(query.view)
    )


@router.get("/kpi", summary="KPIs of a dealer")
def kpis(request: HttpRequest, query: Query[KpiQuery]) -> dict:
    """Each metric's value, numerator and denominator, in total and per group of `by`."""
    window = _window(request, query)
    return report_json(kpi_report(window=window, by=query.by, metrics=query.metric or None))


@router.get("/kpi/leads", summary="The leads behind a KPI number")
def kpi_leads(request: HttpRequest, query: Query[DrillQuery]) -> dict:
    """The ids of the leads a measure counts (in one group of `by`), at most 1,000, those the
    caller may see."""
    if query.measure not in MEASURES or query.measure == "spend":
        raise InvalidInput(_("Unknown measure."), field="measure")
    window = _window(request, query)
    group: object = query.group
    try:
        if query.by == "month" and query.group:
            group = date.fromisoformat(query.group)
        elif query.by in ("channel", "agent", "dealer") and query.group:
            group = int(query.group)
    except ValueError as error:
        raise InvalidInput(_("Not a group of this dimension."), field="group") from error
    ids = lead_ids(query.measure, window, query.by, group)
    seen = visible_leads(current_staff(request), dealer_id=window.dealer_ids[0])
    shown = list(seen.filter(pk__in=ids).order_by("pk").values_list("pk", flat=True)[:DRILL_LIMIT])
    return {"measure": query.measure, "leads": shown, "count": ids.count()}
