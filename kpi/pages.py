"""Reads for the measurement pages beside the dashboard: the broken stages of a month, the
order target's progress, headquarters' ranking and heat map, the daily report as tables, and
the scorecards per role. Every number comes from its owner module (kpi.bottlenecks,
kpi.targets, kpi.headquarters, kpi.daily, kpi.scorecards); this module only lays it out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Dealer, Staff
from accounts.roles import Role
from dcc.formats import format_money
from kpi import daily
from kpi.bottlenecks import MIN_SAMPLE, STAGE_METRICS, Finding, find_bottlenecks
from kpi.dashboard import (
    BadPeriod,
    Cell,
    Month,
    Period,
    Table,
    drill_query,
    month_window,
    parse_month,
    parse_period,
    seconds_text,
)
from kpi.dashboard import cell as number_cell
from kpi.headquarters import Cell as HeatCell
from kpi.headquarters import (
    HeatMap,
    HeatRow,
    Ranking,
    RankRow,
    heat_map,
    kpi_dealer_ids,
    ranking,
)
from kpi.models import DailyReport, ScoreEvent
from kpi.registry import METRICS, Unit, View
from kpi.scorecards import Scorecard, point_rules, scorecards
from kpi.selectors import Value
from kpi.targets import TargetPlan, target_plan

# ---------------------------------------------------------------- broken stages


@dataclass(frozen=True)
class BrokenStage:
    """A finding of the bottleneck finder with the leads its rate is measured on."""

    finding: Finding
    drill: str  # drill-down query: the leads in the rate's denominator (of the agent, if named)
    leads: int


def broken_stages(*, dealer: Dealer, month: Month, view: View) -> list[BrokenStage]:
    """The month's stages significantly below the brand or the dealer's last three months."""
    window = month_window(dealer_ids=[dealer.pk], month=month, view=view)
    result = find_bottlenecks(dealer=dealer, window=window)
    stages = []
    for finding in result.findings:
        measure = METRICS[finding.metric].denominator
        if finding.agent is not None:
            drill = drill_query(result.window, measure, "agent", finding.agent.agent_id)
            leads = finding.agent.rate.denominator
        else:
            drill = drill_query(result.window, measure)
            leads = finding.rate.denominator
        stages.append(BrokenStage(finding=finding, drill=drill, leads=leads))
    return stages


# ---------------------------------------------------------------- the order target


def target_for(*, dealer: Dealer, month: Month, today: date | None = None) -> TargetPlan | None:
    return target_plan(dealer=dealer, month=month.first, today=today)


# ---------------------------------------------------------------- headquarters


def percent_text(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def value_text(metric_key: str, value: Value) -> str:
    """A ranking value as shown: a count, a rate in percent, money in yuan."""
    unit = METRICS[metric_key].unit
    if value.value is None:
        return "—"
    if unit == Unit.RATE:
        return percent_text(float(value.value))
    if unit == Unit.MONEY:
        return format_money(value.value)
    if unit == Unit.SECONDS:
        return seconds_text(value.value)
    if METRICS[metric_key].denominator is None:
        return f"{value.value:,}"
    return f"{value.value:,.1f}"


@dataclass(frozen=True)
class HqPeriod:
    """The period headquarters' page shows: a month, or any days (`custom`), or what is wrong
    with the dates asked for."""

    period: Period
    custom: bool
    values: dict[str, str]  # what the date fields show
    errors: dict[str, str]  # field -> what is wrong with it

    @property
    def month(self) -> Month:
        """The month to link to from here (the period's own, or the one it starts in)."""
        return self.period.month or Month.of(self.period.first)


def read_hq_period(params: Mapping[str, str], *, today: date) -> HqPeriod:
    """`range=days` with `from` and `to`: those days; otherwise `month` (default: this one)."""
    try:
        month = parse_month(params.get("month"), field="month", label=_("Month"))
    except BadPeriod as error:
        period = Period.of_month(Month.of(today))
        values = {"from": params.get("from", ""), "to": params.get("to", "")}
        return HqPeriod(period, params.get("range") == "days", values, {"month": error.message})
    month = month or Month.of(today)
    if params.get("range") != "days":
        period = Period.of_month(month)
        return HqPeriod(period, False, _period_values(period), {})
    values = {"from": params.get("from", ""), "to": params.get("to", "")}
    if not (values["from"] or values["to"]):  # just switched to days: the month's, to edit
        period = Period.of_month(month)
        return HqPeriod(period, True, _period_values(period), {})
    try:
        period = parse_period(
            values["from"], values["to"], fields=("from", "to"), labels=(_("From"), _("To"))
        )
    except BadPeriod as error:
        return HqPeriod(Period.of_month(month), True, values, {error.field: error.message})
    return HqPeriod(period, True, values, {})


def _period_values(period: Period) -> dict[str, str]:
    return {"from": period.first.isoformat(), "to": period.last.isoformat()}


@dataclass(frozen=True)
class RankLine:
    """A ranking row as shown: the dealer's value linked to its leads, the brand average."""

    row: RankRow
    value: Cell
    average: str


@dataclass(frozen=True)
class HeatLine:
    """A heat-map row as shown: each rate linked to its leads, flagged or not."""

    row: HeatRow
    cells: list[tuple[HeatCell, Cell]]


@dataclass(frozen=True)
class Headquarters:
    ranking: Ranking
    heat: HeatMap
    chart: dict
    lines: list[RankLine]
    heat_lines: list[HeatLine]


def headquarters(*, staff: Staff, metric: str, period: Period | Month, view: View) -> Headquarters:
    """The dealers `staff` may see ranked on `metric`, and their heat map of funnel rates,
    every number with the drill-down to the leads behind it at its dealer."""
    if isinstance(period, Month):
        period = Period.of_month(period)
    dealer_ids = kpi_dealer_ids(staff)
    days = {"first": period.first, "last": period.last, "view": view}
    ranked = ranking(dealer_ids=dealer_ids, metric=metric, **days)
    heat = heat_map(dealer_ids=dealer_ids, **days)
    lines = [
        RankLine(
            row=row,
            value=number_cell(
                ranked.metric, row.value, ranked.window, None, None, dealer=row.dealer.code
            ),
            average=value_text(metric, row.brand_average),
        )
        for row in ranked.rows
    ]
    heat_lines = [
        HeatLine(
            row=row,
            cells=[
                (
                    row.cells[key],
                    number_cell(
                        METRICS[key],
                        Value(row.cells[key].rate.numerator, row.cells[key].rate.denominator),
                        heat.window,
                        None,
                        None,
                        dealer=row.dealer.code,
                    ),
                )
                for key in heat.metrics
            ],
        )
        for row in heat.rows
    ]
    return Headquarters(
        ranking=ranked,
        heat=heat,
        chart=heat_chart(heat, heat_lines),
        lines=lines,
        heat_lines=heat_lines,
    )


def drill_dealer(*, staff: Staff, current: Dealer, code: str | None) -> Dealer | None:
    """The dealer whose leads a drill-down lists: the current one, or (headquarters) the one
    named by `code` if `staff` reads its KPIs; None when it is not granted (or not there)."""
    if not code:
        return current
    dealer = Dealer.objects.filter(code=code).first()
    if dealer is None or dealer.pk not in kpi_dealer_ids(staff):
        return None
    return dealer


def heat_chart(heat: HeatMap, lines: list[HeatLine] | None = None) -> dict:
    """What the heat map draws: per cell the gap to the brand average in percentage points
    (None without a rate), its texts, whether it is flagged, whether its sample is large
    enough to be judged (MIN_SAMPLE), and the drill-down to its numerator's leads."""
    cells = []
    for y, row in enumerate(heat.rows):
        for x, key in enumerate(heat.metrics):
            cell = row.cells[key]
            drill = lines[y].cells[x][1].drill if lines else ""
            rate, brand = cell.rate.value, cell.brand.value
            gap = None if rate is None or brand is None else round((rate - brand) * 100, 1)
            cells.append(
                {
                    "x": x,
                    "y": y,
                    "gap": gap,
                    "rate": percent_text(rate),
                    "brand": percent_text(brand),
                    "parts": f"{cell.rate.numerator:,} / {cell.rate.denominator:,}",
                    "low": cell.low,
                    "judged": cell.rate.judged,
                    "drill": drill,
                }
            )
    # The colour scale reaches the widest judged gap (at least 5 points) either side.
    reach = round(max([5.0, *(abs(c["gap"] or 0) for c in cells if c["judged"])]))
    return {
        "metrics": [str(METRICS[key].name) for key in heat.metrics],
        "dealers": [f"{row.dealer.code} {row.dealer.name}" for row in heat.rows],
        "cells": cells,
        "reach": reach,
        "labels": {
            "above": _("%(points)s percentage points above the brand") % {"points": reach},
            "below": _("%(points)s percentage points below the brand") % {"points": reach},
            "brand": _("Brand average"),
            "gap": _("Against the brand"),
            "low": _("Significantly below the brand average"),
            "small": _("Fewer than %(n)d in the denominator: not judged") % {"n": MIN_SAMPLE},
        },
    }


def hq_metric_choices() -> list[tuple[str, str]]:
    return [(key, str(metric.name)) for key, metric in METRICS.items()]


def stage_names() -> list[str]:
    return [str(METRICS[key].name) for key in STAGE_METRICS]


# ---------------------------------------------------------------- the daily report


def yesterday() -> date:
    return timezone.localdate() - timedelta(days=1)


def daily_report(*, dealer: Dealer, day: date) -> tuple[DailyReport, bool]:
    """The report kept for `day`, or, when none was kept (yet), one computed now and not
    kept: only the evening job keeps reports. The flag says it was kept."""
    report = DailyReport.objects.filter(dealer=dealer, day=day).first()
    if report is not None:
        return report, True
    return daily.draft_daily_report(dealer=dealer, day=day), False


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    headers: list[str]
    rows: list[list[str]]
    total: list[str] | None  # the last row, set apart


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, daily.Percent):
        return percent_text(value.value)
    if isinstance(value, daily.Money):
        return format_money(value.value)
    if isinstance(value, int | float):
        return f"{value:,}"
    return str(value)


SECTION_METRICS = {
    "day_kpis": daily.DAY_METRICS,
    "month_kpis": daily.DAY_METRICS,
    "channels": daily.CHANNEL_METRICS,
    "agents": daily.AGENT_METRICS,
}


def _in_order(section: dict, wanted: list[str]) -> dict:
    """A stored section with its metrics in the report's order (a JSON column need not keep
    the order of keys: PostgreSQL's jsonb does not), then any others in the registry's."""
    stored = section["metrics"]
    keys = [key for key in wanted if key in stored]
    keys += [key for key in METRICS if key in stored and key not in keys]
    keys += [key for key in stored if key not in keys]
    return {**section, "metrics": {key: stored[key] for key in keys}}


def in_report_order(report: DailyReport) -> DailyReport:
    """The kept report (unsaved copy) with every section's metrics in the report's order."""
    content = dict(report.content)
    for key, wanted in SECTION_METRICS.items():
        if key in content:
            content[key] = _in_order(content[key], wanted)
    return DailyReport(
        dealer_id=report.dealer_id,
        day=report.day,
        generated_at=report.generated_at,
        content=content,
    )


def daily_sections(report: DailyReport) -> list[Section]:
    """The kept report's sections as tables, as its XLSX lays them out."""
    content = report.content
    # The day and the month so far side by side, a metric a row.
    _headers, day = daily.report_rows(_in_order(content["day_kpis"], daily.DAY_METRICS))
    _headers, month = daily.report_rows(_in_order(content["month_kpis"], daily.DAY_METRICS))
    names = _headers[1:]
    sections = [
        Section(
            "day_kpis",
            _("Key figures"),
            [_("Metric"), _("The day"), _("Month so far")],
            [
                [name, _shown(today), _shown(so_far)]
                for name, today, so_far in zip(names, day[-1][1:], month[-1][1:], strict=True)
            ],
            None,
        )
    ]
    for key, title in (("channels", _("Channels")), ("agents", _("Agents"))):
        headers, rows = daily.report_rows(_in_order(content[key], SECTION_METRICS[key]))
        shown = [[_shown(value) for value in row] for row in rows]
        sections.append(Section(key, title, headers, shown[:-1], shown[-1] if shown else None))
    sections.append(
        Section(
            "overdue_tasks",
            _("Overdue tasks"),
            [_("Person"), _("Overdue tasks")],
            [[row["person"], f"{row['tasks']:,}"] for row in content["overdue_tasks"]],
            None,
        )
    )
    return sections


def table_sheet(table: Table, first_column: str) -> tuple[str, list[str], list[list[Any]]]:
    """A dashboard table (channels or agents) as a sheet for kpi.daily.table_xlsx."""
    headers = [first_column] + [str(metric.name) for metric in table.metrics]
    rows = []
    for row in table.rows:
        values: list[Any] = [row.label]
        for metric, cell in zip(table.metrics, row.cells, strict=True):
            value = None if cell is None else cell.value.value
            if value is None:
                values.append(None)
            elif metric.unit == Unit.RATE:
                values.append(daily.Percent(float(value)))
            elif metric.unit == Unit.MONEY:
                values.append(daily.Money(float(value)))
            else:
                values.append(int(value))
        rows.append(values)
    return first_column, headers, rows


# ---------------------------------------------------------------- scorecards


@dataclass(frozen=True)
class RoleScores:
    role: Role
    events: list[tuple[ScoreEvent, int]]  # what the role is scored on, and its points
    cards: list[Scorecard]


def scores_by_role(*, dealer: Dealer, month: Month) -> list[RoleScores]:
    """Each scored role's people, best first, with the counts the role is scored on."""
    rules = point_rules(dealer)
    cards = scorecards(dealer=dealer, month=month.first)
    roles = []
    for role in dict.fromkeys(card.role for card in cards):
        events = [(event, rules[role, event]) for event in ScoreEvent if (role, event) in rules]
        roles.append(
            RoleScores(
                role=role, events=events, cards=[card for card in cards if card.role == role]
            )
        )
    return roles


def own_scores(*, dealer: Dealer, month: Month, person: Staff) -> list[RoleScores]:
    """`person`'s own scorecards (one per scored role they hold), ranked among their role
    but without anyone else's row."""
    return [
        RoleScores(
            role=scores.role,
            events=scores.events,
            cards=[card for card in scores.cards if card.person.pk == person.pk],
        )
        for scores in scores_by_role(dealer=dealer, month=month)
        if any(card.person.pk == person.pk for card in scores.cards)
    ]


def talk_time(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"
