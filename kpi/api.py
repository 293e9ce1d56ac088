"""GET /api/v1/kpi: the registry's numbers, each with its numerator and denominator, and the
leads behind any of them. The same numbers as `dcc kpi`. Also the bottleneck finder of a
dealer, and the headquarters ranking and heat map of many."""

from __future__ import annotations

from datetime import date
from typing import Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router
from pydantic import Field

from accounts.models import Dealer
from accounts.requests import current_staff
from dcc import dates
from dcc.errors import InvalidInput, NotFound, NotPermitted
from dcc.schema import MAX_INT, Day, Input
from kpi.bottlenecks import bottlenecks_json, find_bottlenecks
from kpi.counting import lead_ids
from kpi.headquarters import heat_map, heat_map_json, kpi_dealer_ids, ranking, ranking_json
from kpi.measures import ALL_DIMENSIONS, supports
from kpi.registry import MEASURES, METRICS, View
from kpi.selectors import day_window, kpi_report, refusal_message, refused_metrics, report_json
from leads.permissions import may_see_kpis, visible_leads, works_at

router = Router(tags=["kpi"])
DRILL_LIMIT = 1000

Dimension = Literal[ALL_DIMENSIONS]  # type: ignore[valid-type]  # the engine's, as given


class KpiQuery(Input):
    dealer: str = Field(description="dealer code")
    from_: Day = Field(alias="from", description="first day, YYYY-MM-DD")
    to: Day = Field(description="last day (included), YYYY-MM-DD")
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
        if dealer is not None and works_at(staff, dealer.pk):
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
    refused = refused_metrics(query.metric, query.by)
    if refused:
        raise InvalidInput(refusal_message(refused, query.by), field="by")
    return report_json(kpi_report(window=window, by=query.by, metrics=query.metric or None))


@router.get("/kpi/leads", summary="The leads behind a KPI number")
def kpi_leads(request: HttpRequest, query: Query[DrillQuery]) -> dict:
    """The ids of the leads a measure counts (in one group of `by`), at most 1,000, those the
    caller may see."""
    if query.measure not in MEASURES or query.measure == "spend":
        raise InvalidInput(_("Unknown measure."), field="measure")
    if not supports(query.measure, query.by):
        raise InvalidInput(refusal_message([query.measure], query.by), field="by")
    window = _window(request, query)
    group: object = query.group
    try:
        if query.by == "month" and query.group:
            group = date.fromisoformat(query.group)
            dates.check_in_window(group, field="group")
        elif query.by in ("channel", "agent", "team", "dealer", "line", "referrer") and query.group:
            group = int(query.group)
            if not 1 <= group <= MAX_INT:
                raise ValueError(query.group)
        elif query.by == "hour" and query.group:
            group = int(query.group)
            if not 0 <= group <= 23:
                raise ValueError(query.group)
        elif query.by == "step" and query.group:  # hours after delivery
            group = int(query.group)
            if not 0 <= group <= MAX_INT:
                raise ValueError(query.group)
    except ValueError as error:
        raise InvalidInput(_("Not a group of this dimension."), field="group") from error
    ids = lead_ids(query.measure, window, query.by, group)
    seen = visible_leads(current_staff(request), dealer_id=window.dealer_ids[0])
    shown = list(seen.filter(pk__in=ids).order_by("pk").values_list("pk", flat=True)[:DRILL_LIMIT])
    return {"measure": query.measure, "leads": shown, "count": ids.count()}


class PeriodQuery(Input):
    from_: Day = Field(alias="from", description="first day, YYYY-MM-DD")
    to: Day = Field(description="last day (included), YYYY-MM-DD")
    view: Literal["period", "cohort"] = "period"


class BottleneckQuery(PeriodQuery):
    dealer: str = Field(description="dealer code")


class RankingQuery(PeriodQuery):
    metric: str = Field(description="the metric to rank dealers on")


def _checked(query: PeriodQuery) -> None:
    if query.to < query.from_:
        raise InvalidInput(_("“to” must not be before “from”."), field="to")


def _kpi_dealers(request: HttpRequest) -> list[int]:
    dealer_ids = kpi_dealer_ids(current_staff(request))
    if not dealer_ids:
        raise NotPermitted(_("Only managers, supervisors and headquarters see KPIs."))
    return dealer_ids


@router.get("/kpi/bottlenecks", summary="Where a dealer's funnel is significantly worse")
def bottlenecks(request: HttpRequest, query: Query[BottleneckQuery]) -> dict:
    """Each funnel rate of the dealer and of its agents against the brand average and the
    previous three months, and the stages significantly worse, each in a sentence."""
    _checked(query)
    dealer = _dealer(request, query.dealer)
    window = day_window(
        dealer_ids=[dealer.pk], first=query.from_, last=query.to, view=View(query.view)
    )
    return bottlenecks_json(find_bottlenecks(dealer=dealer, window=window))


@router.get("/kpi/ranking", summary="Dealers ranked on a metric")
def dealer_ranking(request: HttpRequest, query: Query[RankingQuery]) -> dict:
    """The dealers whose KPIs the caller sees, ranked on the metric, with the rank within
    their city and their brand's average."""
    _checked(query)
    if query.metric not in METRICS:
        raise InvalidInput(_("Unknown metric."), field="metric")
    dealer_ids = _kpi_dealers(request)
    return ranking_json(
        ranking(dealer_ids=dealer_ids, metric=query.metric, first=query.from_, last=query.to,
                view=View(query.view))
    )  # fmt: skip


@router.get("/kpi/heatmap", summary="Dealers × funnel rates against the brand average")
def dealer_heat_map(request: HttpRequest, query: Query[PeriodQuery]) -> dict:
    """For each dealer the caller sees, each funnel rate and whether it is significantly below
    its brand's average."""
    _checked(query)
    dealer_ids = _kpi_dealers(request)
    return heat_map_json(
        heat_map(dealer_ids=dealer_ids, first=query.from_, last=query.to, view=View(query.view))
    )
