"""Headquarters views: many dealers side by side. A ranking of dealers on any metric (with the
rank within their city and their brand's average), and a heat map of dealers × funnel rates
marking each rate significantly below the brand average (the rule of kpi.bottlenecks).

Each is one kpi_report grouped by dealer over every dealer of the brands involved: a fixed
number of queries however many dealers there are. The brand average pools the numerators
and denominators of all the brand's dealers, whether the reader is shown them or not; ranks
are among the dealers shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.models import Dealer, Staff
from accounts.roles import roles_by_dealer
from kpi.bottlenecks import STAGE_METRICS, Rate, rate_json, significantly_low
from kpi.measures import Window
from kpi.registry import METRICS, Metric, Unit, View
from kpi.selectors import Group, Number, Value, day_window, kpi_report
from leads.permissions import may_see_kpis

# Metrics where less is better: their rank 1 is the lowest value.
LOWER_IS_BETTER = frozenset({"defeat_rate", "cost_per_lead", "cost_per_arrival", "cost_per_order"})


def kpi_dealer_ids(staff: Staff) -> list[int]:
    """The dealers whose KPIs `staff` may see (headquarters: those it is granted)."""
    return sorted(
        dealer_id for dealer_id in roles_by_dealer(staff) if may_see_kpis(staff, dealer_id)
    )


@dataclass
class RankRow:
    dealer: Dealer
    value: Value
    rank: int | None  # None: no value (nothing in the denominator)
    city_rank: int | None
    brand_average: Value


@dataclass
class Ranking:
    metric: Metric
    window: Window
    rows: list[RankRow]


@dataclass(frozen=True)
class Cell:
    rate: Rate
    brand: Rate
    low: bool  # significantly below the brand average


@dataclass
class HeatRow:
    dealer: Dealer
    cells: dict[str, Cell]


@dataclass
class HeatMap:
    window: Window
    metrics: list[str]
    rows: list[HeatRow]


def _brands(dealer_ids: list[int]) -> tuple[list[Dealer], dict[int, list[int]]]:
    """The dealers shown, and every dealer id of each of their brands (one query)."""
    brands = Dealer.objects.filter(pk__in=dealer_ids).values("region__brand_id")
    everyone = list(
        Dealer.objects.filter(region__brand_id__in=brands)
        .select_related("region__brand")
        .order_by("code")
    )
    members: dict[int, list[int]] = {}
    for dealer in everyone:
        members.setdefault(dealer.region.brand_id, []).append(dealer.pk)
    wanted = set(dealer_ids)
    return [dealer for dealer in everyone if dealer.pk in wanted], members


def _by_dealer(
    dealer_ids: list[int], metrics: list[str], first: date, last: date, view: View, as_of
) -> tuple[Window, list[Dealer], dict[int, list[int]], dict[int, Group]]:
    shown, members = _brands(dealer_ids)
    everyone = sorted(pk for pks in members.values() for pk in pks)
    window = day_window(
        dealer_ids=everyone or list(dealer_ids), first=first, last=last, view=view, as_of=as_of
    )
    report = kpi_report(window=window, by="dealer", metrics=metrics)
    shown_window = day_window(
        dealer_ids=[dealer.pk for dealer in shown], first=first, last=last, view=view, as_of=as_of
    )
    return shown_window, shown, members, {group.key: group for group in report.groups}


def _pooled(metric: Metric, dealer_ids: list[int], groups: dict[int, Group]) -> Value:
    """The brand's value: its dealers' numerators over their denominators (for a count,
    the mean per dealer)."""
    zero: Number = Decimal(0) if metric.unit == Unit.MONEY else 0
    numerator: Number = zero
    denominator: Number = 0
    for pk in dealer_ids:
        value = groups[pk].values.get(metric.key) if pk in groups else None
        if value is not None:
            numerator += value.numerator
            denominator += value.denominator or 0
    if metric.denominator is None:
        denominator = len(dealer_ids)
    return Value(numerator=numerator, denominator=denominator)


def _value(metric: Metric, group: Group | None) -> Value:
    if group is not None and metric.key in group.values:
        return group.values[metric.key]
    zero: Number = Decimal(0) if metric.unit == Unit.MONEY else 0
    return Value(numerator=zero, denominator=None if metric.denominator is None else 0)


def _ranks(values: list[tuple[int, Number | float | None]], lower_is_better: bool) -> dict:
    """Standard competition ranks (1, 2, 2, 4) by value; no value, no rank."""
    ranked = sorted(
        ((key, value) for key, value in values if value is not None),
        key=lambda item: item[1] if lower_is_better else -item[1],
    )
    ranks: dict[int, int | None] = {key: None for key, _value in values}
    previous: object = object()
    for position, (key, value) in enumerate(ranked, start=1):
        ranks[key] = ranks[ranked[position - 2][0]] if value == previous else position
        previous = value
    return ranks


def ranking(
    *,
    dealer_ids: list[int],
    metric: str,
    first: date,
    last: date,
    view: View = View.PERIOD,
    as_of: datetime | None = None,
) -> Ranking:
    """The dealers ranked on `metric` (rank 1 the best), each with its rank within its city
    and its brand's average."""
    chosen = METRICS[metric]
    window, shown, members, groups = _by_dealer(dealer_ids, [metric], first, last, view, as_of)
    averages = {brand: _pooled(chosen, pks, groups) for brand, pks in members.items()}
    values = {dealer.pk: _value(chosen, groups.get(dealer.pk)) for dealer in shown}
    lower = metric in LOWER_IS_BETTER
    ranks = _ranks([(pk, value.value) for pk, value in values.items()], lower)
    city_ranks: dict[int, int | None] = {}
    for city in {dealer.city for dealer in shown}:
        here = [(d.pk, values[d.pk].value) for d in shown if d.city == city]
        city_ranks |= _ranks(here, lower)
    rows = [
        RankRow(
            dealer=dealer,
            value=values[dealer.pk],
            rank=ranks[dealer.pk],
            city_rank=city_ranks[dealer.pk],
            brand_average=averages[dealer.region.brand_id],
        )
        for dealer in shown
    ]
    rows.sort(key=lambda row: (row.rank is None, row.rank or 0, row.dealer.code))
    return Ranking(metric=chosen, window=window, rows=rows)


def heat_map(
    *,
    dealer_ids: list[int],
    first: date,
    last: date,
    view: View = View.PERIOD,
    as_of: datetime | None = None,
) -> HeatMap:
    """Dealers × funnel rates: each rate, its brand's average, and whether it is
    significantly below it."""
    metrics = list(STAGE_METRICS)
    window, shown, members, groups = _by_dealer(dealer_ids, metrics, first, last, view, as_of)
    averages = {
        (brand, key): Rate.of(_pooled(METRICS[key], pks, groups))
        for brand, pks in members.items()
        for key in metrics
    }
    rows = []
    for dealer in shown:
        cells = {}
        for key in metrics:
            brand = averages[dealer.region.brand_id, key]
            rate = Rate.of(_value(METRICS[key], groups.get(dealer.pk)))
            cells[key] = Cell(rate=rate, brand=brand, low=significantly_low(rate, brand))
        rows.append(HeatRow(dealer=dealer, cells=cells))
    return HeatMap(window=window, metrics=metrics, rows=rows)


def _plain(number: object) -> object:
    return str(number) if isinstance(number, Decimal) else number


def _value_json(value: Value) -> dict:
    return {
        "value": _plain(value.value),
        "numerator": _plain(value.numerator),
        "denominator": _plain(value.denominator),
    }


def _days(window: Window) -> dict:
    return {
        "from": timezone.localtime(window.start).date().isoformat(),
        "to": (timezone.localtime(window.end) - timedelta(days=1)).date().isoformat(),
        "view": str(window.view),
    }


def _dealer_json(dealer: Dealer) -> dict:
    return {
        "code": dealer.code,
        "name": dealer.name,
        "city": dealer.city,
        "brand": dealer.region.brand.code,
    }


def ranking_json(result: Ranking) -> dict:
    """The ranking as the API gives it. For a count the brand average is the brand's total
    over its number of dealers."""
    metric = result.metric
    return {
        **_days(result.window),
        "metric": {
            "key": metric.key,
            "name": str(metric.name),
            "unit": str(metric.unit),
            "lower_is_better": metric.key in LOWER_IS_BETTER,
        },
        "dealers": [
            {
                "dealer": _dealer_json(row.dealer),
                **_value_json(row.value),
                "rank": row.rank,
                "city_rank": row.city_rank,
                "brand_average": _value_json(row.brand_average),
            }
            for row in result.rows
        ],
    }


def heat_map_json(result: HeatMap) -> dict:
    """The heat map as the API gives it: per dealer, each rate with its interval, its brand's
    average and whether it is significantly below it."""
    return {
        **_days(result.window),
        "metrics": {key: str(METRICS[key].name) for key in result.metrics},
        "dealers": [
            {
                "dealer": _dealer_json(row.dealer),
                "cells": {
                    key: {
                        **rate_json(cell.rate),
                        "brand_average": rate_json(cell.brand),
                        "low": cell.low,
                    }
                    for key, cell in row.cells.items()
                },
            }
            for row in result.rows
        ],
    }
