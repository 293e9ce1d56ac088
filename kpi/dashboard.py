"""The dealer dashboard's reads: a month's funnel against the month before, the channel and
agent tables, two months side by side, and the leads behind any number on them. Every number
comes from kpi.selectors.kpi_report (the registry's one definition); this module only picks the
metrics, lays them out and says where each number drills down to."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Staff
from kpi.measures import DIMENSIONS, Window, lead_ids
from kpi.registry import MEASURES, METRICS, Metric, Unit, View
from kpi.selectors import Number, Report, Value, day_window, kpi_report
from leads.models import Channel, Lead
from leads.permissions import visible_leads

# The funnel's steps: the measure each counts, and the registry metric whose numerator it is.
FUNNEL: tuple[tuple[str, str], ...] = (
    ("leads", "lead_volume"),
    ("contacted", "contact_rate"),
    ("appointed", "appointments"),
    ("arrived", "arrivals"),
    ("ordered", "orders"),
    ("delivered", "deliveries"),
)
CHANNEL_METRICS = [
    "lead_volume",
    "arrivals",
    "orders",
    "lead_close_rate",
    "cost_per_lead",
    "cost_per_arrival",
    "cost_per_order",
]
AGENT_METRICS = ["lead_volume", "contact_rate", "invitation_rate", "arrival_rate"]
# How the drill-down page names the dimension a number was grouped by.
DIMENSION_NAMES = {
    "channel": gettext_lazy("Channel"),
    "channel_group": gettext_lazy("Channel group"),
    "month": gettext_lazy("Month"),
    "model": gettext_lazy("Model"),
    "grade": gettext_lazy("Grade"),
    "agent": gettext_lazy("Agent"),
    "dealer": gettext_lazy("Dealer"),
}
# Metrics where a fall is the good news.
LOWER_IS_BETTER = frozenset({"defeat_rate", "cost_per_lead", "cost_per_arrival", "cost_per_order"})


# ---------------------------------------------------------------- months


@dataclass(frozen=True)
class Month:
    """A calendar month, named by its first day."""

    first: date

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.replace(day=1))

    @classmethod
    def current(cls) -> Month:
        return cls.of(timezone.localdate())

    @classmethod
    def parse(cls, text: str | None) -> Month | None:
        """ "2026-05" (as <input type="month"> sends it), or None when it is not a month."""
        try:
            year, month = (text or "").split("-")
            return cls(date(int(year), int(month), 1))
        except ValueError:
            return None

    @property
    def last(self) -> date:
        return self.following.first - timedelta(days=1)

    @property
    def previous(self) -> Month:
        return Month.of(self.first - timedelta(days=1))

    @property
    def following(self) -> Month:
        return Month.of(self.first + timedelta(days=32))

    def __str__(self) -> str:
        return self.first.strftime("%Y-%m")


def month_window(*, dealer_ids: list[int], month: Month, view: View) -> Window:
    return day_window(dealer_ids=dealer_ids, first=month.first, last=month.last, view=view)


# ---------------------------------------------------------------- numbers and their leads


@dataclass(frozen=True)
class Part:
    """A numerator or denominator as shown, with the drill-down to its leads (if any)."""

    text: str
    drill: str = ""  # query string of the drill-down page; empty: no leads behind it (money)


@dataclass(frozen=True)
class Cell:
    """One number on the dashboard: the value as shown, its leads, and what it is made of."""

    metric: Metric
    value: Value
    window: Window
    text: str
    drill: str
    parts: tuple[Part, ...] = ()  # numerator and denominator of a rate or a cost


@dataclass(frozen=True)
class Delta:
    """How a number moved from one period to another (counts and money as the difference,
    rates in percentage points)."""

    text: str
    direction: int  # 1 up, -1 down, 0 level or not comparable
    good: bool | None  # None: level or not comparable


def drill_query(window: Window, measure: str, by: str | None = None, group: object = None) -> str:
    """The drill-down page's query string for the leads behind `measure` in `window`."""
    start = timezone.localtime(window.start).date()
    last = (timezone.localtime(window.end) - timedelta(days=1)).date()
    params = {
        "measure": measure,
        "from": start.isoformat(),
        "to": last.isoformat(),
        "view": str(window.view),
    }
    if by is not None:
        params["by"] = by
        params["group"] = group.isoformat() if isinstance(group, date) else group or ""
    return urlencode(params)


# Numbers read the same in Chinese and English: thousands grouped by commas, a decimal point.
def _count(number: Number) -> str:
    return f"{number:,}"


def _money(number: Number) -> str:
    return f"¥{Decimal(number):,.2f}"


def _points(ratio: float | Decimal) -> str:
    """A ratio in percent (or a change of ratios in percentage points), one decimal, rounded
    half up."""
    return f"{(Decimal(str(ratio)) * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}"


def _percent(ratio: float | Decimal) -> str:
    return _points(ratio) + "%"


def cell(metric: Metric, value: Value, window: Window, by: str | None, group: object) -> Cell:
    """`value` of `metric` as shown, linked to the leads it counts: a count or a rate to its
    numerator's leads, a cost (spend is money, not leads) to its denominator's."""
    numerator = Part(
        _money(value.numerator) if metric.numerator == "spend" else _count(value.numerator),
        "" if metric.numerator == "spend" else drill_query(window, metric.numerator, by, group),
    )
    if metric.unit == Unit.COUNT:
        return Cell(metric, value, window, numerator.text, numerator.drill)
    denominator = Part(
        _count(value.denominator or 0), drill_query(window, metric.denominator, by, group)
    )
    if value.value is None:
        text = "—"
    elif metric.unit == Unit.RATE:
        text = _percent(value.value)
    else:
        text = _money(value.value)
    drill = numerator.drill if metric.unit == Unit.RATE else denominator.drill
    return Cell(metric, value, window, text, drill, (numerator, denominator))


def delta(metric: Metric, now: Value, before: Value) -> Delta:
    """How `metric` moved from `before` to `now`."""
    if metric.unit == Unit.COUNT:
        change: float | Decimal | None = now.numerator - before.numerator
    elif now.value is None or before.value is None:
        change = None
    else:
        change = now.value - before.value
    if change is None:
        return Delta("—", 0, None)
    direction = (change > 0) - (change < 0)
    sign = "+" if direction > 0 else "−" if direction < 0 else "±"
    if metric.unit == Unit.COUNT:
        text = sign + _count(abs(change))
    elif metric.unit == Unit.RATE:
        text = _("%(sign)s%(points)s pp") % {"sign": sign, "points": _points(abs(change))}
    else:
        text = sign + _money(abs(change))
    if not direction:
        return Delta(text, 0, None)
    return Delta(text, direction, (direction < 0) == (metric.key in LOWER_IS_BETTER))


# ---------------------------------------------------------------- the funnel


@dataclass(frozen=True)
class Step:
    measure: str
    name: str
    count: Cell
    previous: Cell  # the same step in the month before
    delta: Delta
    conversion: Cell | None  # of the step before (None for the first step)
    conversion_previous: Cell | None


@dataclass(frozen=True)
class Funnel:
    month: Month
    previous_month: Month
    view: View
    steps: list[Step]

    def chart(self) -> dict:
        """What the chart draws: each step's name, count and drill-down, both months."""
        return {
            "steps": [
                {
                    "name": step.name,
                    "value": step.count.value.numerator,
                    "previous": step.previous.value.numerator,
                    "drill": step.count.drill,
                    "conversion": step.conversion.text if step.conversion else "",
                }
                for step in self.steps
            ],
            "month": str(self.month),
            "previous_month": str(self.previous_month),
        }


def _step_conversion(measure: str, before: str, values: Value, window: Window) -> Cell:
    """A step's count of the step before's, e.g. arrivals of appointments (a ratio of two
    registry measures; in the period view it can pass 100%, as the events of a month need not
    come from the same leads)."""
    rate = Metric(
        f"{measure}_of_{before}",
        MEASURES[measure].name,
        measure,
        before,
        Unit.RATE,
        MEASURES[measure].description,
    )
    return cell(rate, values, window, None, None)


def _funnel_counts(window: Window) -> dict[str, Value]:
    report = kpi_report(window=window, metrics=[metric for _measure, metric in FUNNEL])
    return {
        measure: Value(report.total.values[metric].numerator, None) for measure, metric in FUNNEL
    }


def funnel(*, dealer_ids: list[int], month: Month, view: View) -> Funnel:
    """The month's funnel, leads to deliveries, each step against the month before, with the
    conversion from the step before."""
    now_window = month_window(dealer_ids=dealer_ids, month=month, view=view)
    then_window = month_window(dealer_ids=dealer_ids, month=month.previous, view=view)
    now, then = _funnel_counts(now_window), _funnel_counts(then_window)
    steps = []
    for index, (measure, metric_key) in enumerate(FUNNEL):
        metric = METRICS[metric_key]
        count_metric = Metric(
            measure, MEASURES[measure].name, measure, None, Unit.COUNT, metric.description
        )
        conversion = conversion_previous = None
        if index:
            before = FUNNEL[index - 1][0]
            conversion = _step_conversion(
                measure,
                before,
                Value(now[measure].numerator, now[before].numerator),
                now_window,
            )
            conversion_previous = _step_conversion(
                measure,
                before,
                Value(then[measure].numerator, then[before].numerator),
                then_window,
            )
        steps.append(
            Step(
                measure=measure,
                name=str(MEASURES[measure].name),
                count=cell(count_metric, now[measure], now_window, None, None),
                previous=cell(count_metric, then[measure], then_window, None, None),
                delta=delta(count_metric, now[measure], then[measure]),
                conversion=conversion,
                conversion_previous=conversion_previous,
            )
        )
    return Funnel(month=month, previous_month=month.previous, view=view, steps=steps)


# ---------------------------------------------------------------- tables by channel and agent


@dataclass
class Row:
    label: str
    cells: list[Cell | None]  # None: the metric does not apply to this group
    is_total: bool = False


@dataclass
class Table:
    by: str
    metrics: list[Metric]
    rows: list[Row] = field(default_factory=list)


def _table(report: Report) -> Table:
    table = Table(by=report.by or "", metrics=report.metrics)
    for group in [*report.groups, report.total]:
        is_total = group is report.total
        by, key = (None, None) if is_total else (report.by, group.key)
        cells = [
            cell(metric, group.values[metric.key], report.window, by, key)
            if metric.key in group.values
            else None
            for metric in report.metrics
        ]
        table.rows.append(Row(group.label, cells, is_total=is_total))
    return table


def channel_table(*, window: Window) -> Table:
    """Per channel: leads, arrivals, orders, lead close rate, cost per lead, arrival, order."""
    return _table(kpi_report(window=window, by="channel", metrics=CHANNEL_METRICS))


def agent_table(*, window: Window) -> Table:
    """Per DCC agent (whom the lead was first assigned to): leads, contact, invitation and
    arrival rates."""
    return _table(kpi_report(window=window, by="agent", metrics=AGENT_METRICS))


# ---------------------------------------------------------------- two periods side by side


@dataclass(frozen=True)
class Compared:
    metric: Metric
    first: Cell
    second: Cell
    delta: Delta  # from the first period to the second


def compare(*, dealer_ids: list[int], first: Month, second: Month, view: View) -> list[Compared]:
    """Every metric of the registry for two months, side by side, and how it moved from the
    first to the second."""
    windows = [month_window(dealer_ids=dealer_ids, month=m, view=view) for m in (first, second)]
    one, two = (kpi_report(window=window).total for window in windows)
    return [
        Compared(
            metric=metric,
            first=cell(metric, one.values[metric.key], windows[0], None, None),
            second=cell(metric, two.values[metric.key], windows[1], None, None),
            delta=delta(metric, two.values[metric.key], one.values[metric.key]),
        )
        for metric in METRICS.values()
    ]


def compare_chart(rows: list[Compared], *, first: Month, second: Month) -> dict:
    """What the comparison chart draws: the funnel's steps in both months, side by side."""
    by_metric = {row.metric.key: row for row in rows}
    steps = []
    for measure, metric in FUNNEL:
        row = by_metric[metric]
        steps.append(
            {
                "name": str(MEASURES[measure].name),
                "values": [row.first.value.numerator, row.second.value.numerator],
                "drills": [
                    drill_query(window, measure) for window in (row.first.window, row.second.window)
                ],
            }
        )
    return {"months": [str(first), str(second)], "steps": steps}


# ---------------------------------------------------------------- the leads behind a number


class NotAGroup(ValueError):
    """The drill-down's group is not a value of its dimension."""


def parse_group(by: str | None, text: str | None) -> object:
    """A group's key as `drill_query` wrote it: ids for channels, agents and dealers, the first
    day for months; empty is the group of leads without a value (e.g. nobody's)."""
    if by is None or not text:
        return None
    try:
        if by in ("channel", "agent", "dealer"):
            return int(text)
        if by == "month":
            return date.fromisoformat(text)
    except ValueError as error:
        raise NotAGroup(text) from error
    return text


def group_label(by: str | None, key: object) -> str:
    """How the dashboard names one group (as kpi_report labels it)."""
    if by is None:
        return ""
    if by == "channel":
        found = Channel.objects.filter(pk=key).values_list("name", flat=True).first()
        return _(found) if found else ""
    if by == "agent":
        person = Staff.objects.filter(pk=key).first() if key is not None else None
        return str(person) if person else _("Nobody")
    if by == "month":
        return key.strftime("%Y-%m") if isinstance(key, date) else ""
    return str(key) if key else _("(none)")


@dataclass(frozen=True)
class Behind:
    """The leads behind a number: those the viewer may see, and how many it counts in all."""

    leads: QuerySet[Lead]
    total: int


def leads_behind(
    *, staff: Staff, dealer_id: int, measure: str, window: Window, by: str | None, group: object
) -> Behind:
    """The leads `measure` counts in `window` (in one group of `by`), of those `staff` may see,
    newest first."""
    if measure not in MEASURES or measure == "spend":
        raise KeyError(measure)
    if by is not None and by not in DIMENSIONS:
        raise KeyError(by)
    ids = lead_ids(measure, window, by, group)
    seen = visible_leads(staff, dealer_id=dealer_id).filter(pk__in=ids)
    return Behind(leads=seen.order_by("-created_at", "-pk"), total=ids.count())
