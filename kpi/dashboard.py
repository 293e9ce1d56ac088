"""The dealer dashboard's reads: a month's funnel against the month before, the channel and
agent tables, any two periods side by side, and the leads behind any number on them. Every
number comes from kpi.selectors.kpi_report (the registry's one definition); this module only
picks the metrics and periods, lays them out and says where each number drills down to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Dealer, Staff
from calls.models import Line
from dcc import dates
from dcc.errors import InvalidInput
from dcc.formats import format_money
from kpi import measures
from kpi.bottlenecks import brand_dealer_ids
from kpi.counting import lead_ids
from kpi.measures import Window
from kpi.registry import MEASURES, METRICS, Metric, Unit, View
from kpi.selectors import (
    Number,
    Report,
    Value,
    day_window,
    factor_label,
    hour_label,
    kpi_report,
    referrer_labels,
    step_label,
)
from leads.models import Channel, Lead, Team
from leads.permissions import visible_leads
from leads.selectors_team import team_board
from leads.sla import breached

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
# How the pages name a dimension a number was grouped by. Which dimensions there are is the
# engine's to say (kpi.measures.DIMENSIONS, asked at run time); a new one without a name here
# is shown by its key.
DIMENSION_NAMES = {
    "day": gettext_lazy("Day"),
    "week": gettext_lazy("Week"),
    "month": gettext_lazy("Month"),
    "channel": gettext_lazy("Channel"),
    "channel_group": gettext_lazy("Channel group"),
    "model": gettext_lazy("Model"),
    "grade": gettext_lazy("Grade"),
    "agent": gettext_lazy("Agent"),
    "consultant": gettext_lazy("Consultant"),
    "team": gettext_lazy("Team"),
    "dealer": gettext_lazy("Dealer"),
    "line": gettext_lazy("Line"),
    "hour": gettext_lazy("Hour of day"),
    "step": gettext_lazy("Return-visit step"),
    "factor": gettext_lazy("Satisfaction factor"),
    "referrer": gettext_lazy("Referrer"),
}
# Dimensions whose groups are keyed by a row id (a channel, a person, a team, a dealer, a line).
ID_DIMENSIONS = frozenset({"channel", "agent", "consultant", "team", "dealer", "line", "referrer"})
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


# ---------------------------------------------------------------- any period of days

MAX_DAYS = 366  # the longest period a page shows (a leap year)


@dataclass(frozen=True)
class Period:
    """Whole days from `first` to `last`, both included."""

    first: date
    last: date

    @classmethod
    def of_month(cls, month: Month) -> Period:
        return cls(month.first, month.last)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def month(self) -> Month | None:
        """The calendar month this period is, if it is one."""
        month = Month.of(self.first)
        return month if self.first == month.first and self.last == month.last else None

    def __str__(self) -> str:
        if self.month is not None:
            return str(self.month)
        if self.first == self.last:
            return self.first.isoformat()
        return f"{self.first.isoformat()} – {self.last.isoformat()}"


def period_window(*, dealer_ids: list[int], period: Period, view: View) -> Window:
    return day_window(dealer_ids=dealer_ids, first=period.first, last=period.last, view=view)


class BadPeriod(ValueError):
    """A period the pages cannot show; `field` names the form field that is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def parse_date(text: str | None, *, field: str, label: str) -> date:
    """A date as <input type="date"> sends it (YYYY-MM-DD), within the dates the product
    accepts (dcc.dates)."""
    if not (text or "").strip():
        raise BadPeriod(field, _("“%(field)s” is missing.") % {"field": label})
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise BadPeriod(
            field, _("“%(field)s” is not a date: write it as YYYY-MM-DD.") % {"field": label}
        ) from None
    _check_in_window(day, field=field, label=label)
    return day


def _check_in_window(day: date, *, field: str, label: str) -> None:
    try:
        dates.check_in_window(day, field=field)
    except InvalidInput as error:
        raise BadPeriod(
            field, _("“%(field)s”: %(problem)s") % {"field": label, "problem": error.message}
        ) from None


def parse_month(text: str | None, *, field: str, label: str) -> Month | None:
    """A month as <input type="month"> sends it, or None when there is none (the page then
    shows its default); BadPeriod when it is outside the dates the product accepts."""
    month = Month.parse(text)
    if month is not None:
        _check_in_window(month.first, field=field, label=label)
    return month


def parse_period(
    first_text: str | None,
    last_text: str | None,
    *,
    fields: tuple[str, str],
    labels: tuple[str, str],
) -> Period:
    """The period between two dates as a form sends them: both dates, the last not before the
    first, at most MAX_DAYS days; BadPeriod names the field to fix."""
    first = parse_date(first_text, field=fields[0], label=labels[0])
    last = parse_date(last_text, field=fields[1], label=labels[1])
    if last < first:
        raise BadPeriod(
            fields[1],
            _("“%(to)s” is before “%(from)s”.") % {"to": labels[1], "from": labels[0]},
        )
    period = Period(first, last)
    if period.days > MAX_DAYS:
        raise BadPeriod(
            fields[1],
            _("From “%(from)s” to “%(to)s” is %(days)s days: choose at most %(max)s.")
            % {"from": labels[0], "to": labels[1], "days": f"{period.days:,}", "max": MAX_DAYS},
        )
    return period


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

    @property
    def above_whole(self) -> bool:
        """A rate above 100 %: its numerator counts leads its denominator does not (in the
        period view, earlier leads' events in the period; a walk-in without a booking)."""
        return self.metric.unit == Unit.RATE and (self.value.value or 0) > 1


@dataclass(frozen=True)
class Delta:
    """How a number moved from one period to another (counts and money as the difference,
    rates in percentage points)."""

    text: str
    direction: int  # 1 up, -1 down, 0 level or not comparable
    good: bool | None  # None: level or not comparable


def drill_query(
    window: Window,
    measure: str,
    by: str | None = None,
    group: object = None,
    *,
    dealer: str | None = None,
) -> str:
    """The drill-down page's query string for the leads behind `measure` in `window` (at
    `dealer`, by code, when it is not the viewer's current dealer: headquarters)."""
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
    if dealer is not None:
        params["dealer"] = dealer
    return urlencode(params)


# Numbers read the same in Chinese and English: thousands grouped by commas, a decimal point.
def _count(number: Number) -> str:
    return f"{number:,}"


def _money(number: Number) -> str:
    return format_money(Decimal(number))


def seconds_text(seconds: float | Decimal) -> str:
    """A duration as the call center reads it: "42 s", "3 min 05 s", "2 h 04 min"."""
    whole = int(Decimal(str(seconds)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if whole < 60:
        return _("%(seconds)d s") % {"seconds": whole}
    minutes, rest = divmod(whole, 60)
    if minutes < 60:
        return _("%(minutes)d min %(seconds)02d s") % {"minutes": minutes, "seconds": rest}
    hours, minutes = divmod(minutes, 60)
    return _("%(hours)d h %(minutes)02d min") % {"hours": hours, "minutes": minutes}


def _average(number: float | Decimal) -> str:
    return f"{Decimal(str(number)).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}"


def _points(ratio: float | Decimal) -> str:
    """A ratio in percent (or a change of ratios in percentage points), one decimal, rounded
    half up."""
    return f"{(Decimal(str(ratio)) * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}"


def _percent(ratio: float | Decimal) -> str:
    return _points(ratio) + "%"


def cell(
    metric: Metric,
    value: Value,
    window: Window,
    by: str | None,
    group: object,
    *,
    dealer: str | None = None,
) -> Cell:
    """`value` of `metric` as shown, linked to the leads it counts: a count or a rate to its
    numerator's leads, a cost (spend is money, not leads) to its denominator's."""
    if metric.numerator == "spend":
        shown = _money(value.numerator)
    elif metric.unit == Unit.SECONDS:
        shown = seconds_text(value.numerator)
    else:
        shown = _count(value.numerator)
    numerator = Part(
        shown,
        ""
        if metric.numerator == "spend"
        else drill_query(window, metric.numerator, by, group, dealer=dealer),
    )
    if metric.denominator is None:
        return Cell(metric, value, window, numerator.text, numerator.drill)
    denominator = Part(
        _count(value.denominator or 0),
        drill_query(window, metric.denominator, by, group, dealer=dealer),
    )
    if value.value is None:
        text = "—"
    elif metric.unit == Unit.RATE:
        text = _percent(value.value)
    elif metric.unit == Unit.SECONDS:
        text = seconds_text(value.value)
    elif metric.unit == Unit.AVERAGE:
        text = _average(value.value)
    else:
        text = _money(value.value)
    drill = numerator.drill if metric.unit != Unit.MONEY else denominator.drill
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
    elif metric.unit == Unit.SECONDS:
        text = sign + seconds_text(abs(change))
    elif metric.unit == Unit.AVERAGE:
        text = sign + _average(abs(change))
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
    conversion_brand: str = ""  # the same at every dealer of the brand, pooled ("" first step)
    brand_parts: str = ""  # its numerator / denominator (no leads: other dealers' are not ours)


@dataclass(frozen=True)
class Funnel:
    month: Month
    previous_month: Month
    view: View
    steps: list[Step]
    # The month so far when it is this month (else None), and what it is compared with: the
    # same days of the month before, not the whole of it (which early in a month would make
    # everything look worse).
    so_far: Period | None = None
    previous: Period | None = None

    @property
    def previous_label(self) -> str:
        return str(self.previous or self.previous_month)

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
            "previous_month": self.previous_label,
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


def same_days_before(month: Month, *, today: date) -> tuple[Period, Period] | None:
    """When `month` is the current one: its days so far (today included) and the same days
    of the month before (to its end, for a 31st after a 30-day month); else None."""
    if Month.of(today) != month:
        return None
    before = month.previous
    last = min(before.first + timedelta(days=today.day - 1), before.last)
    return Period(month.first, today), Period(before.first, last)


def funnel(*, dealer_ids: list[int], month: Month, view: View, today: date | None = None) -> Funnel:
    """The month's funnel, leads to deliveries, each step against the month before (the same
    days of it while the month is under way), with the conversion from the step before."""
    so_far = same_days_before(month, today=today or timezone.localdate())
    now_window = month_window(dealer_ids=dealer_ids, month=month, view=view)
    if so_far is None:
        then_window = month_window(dealer_ids=dealer_ids, month=month.previous, view=view)
    else:
        then_window = period_window(dealer_ids=dealer_ids, period=so_far[1], view=view)
    now, then = _funnel_counts(now_window), _funnel_counts(then_window)
    dealer = Dealer.objects.select_related("region").get(pk=dealer_ids[0])
    brand = _funnel_counts(replace(now_window, dealer_ids=tuple(brand_dealer_ids(dealer))))
    steps = []
    for index, (measure, metric_key) in enumerate(FUNNEL):
        metric = METRICS[metric_key]
        count_metric = Metric(
            measure, MEASURES[measure].name, measure, None, Unit.COUNT, metric.description
        )
        conversion = conversion_previous = None
        brand_rate = brand_parts = ""
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
            pooled = Value(brand[measure].numerator, brand[before].numerator)
            brand_rate = "—" if pooled.value is None else _percent(pooled.value)
            brand_parts = f"{_count(pooled.numerator)} / {_count(pooled.denominator or 0)}"
        steps.append(
            Step(
                measure=measure,
                name=str(MEASURES[measure].name),
                count=cell(count_metric, now[measure], now_window, None, None),
                previous=cell(count_metric, then[measure], then_window, None, None),
                delta=delta(count_metric, now[measure], then[measure]),
                conversion=conversion,
                conversion_previous=conversion_previous,
                conversion_brand=brand_rate,
                brand_parts=brand_parts,
            )
        )
    return Funnel(
        month=month,
        previous_month=month.previous,
        view=view,
        steps=steps,
        so_far=so_far[0] if so_far else None,
        previous=so_far[1] if so_far else None,
    )


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


def team_table(*, window: Window) -> Table:
    """Per team (the one the agent was in when the lead came in): as per agent."""
    return _table(kpi_report(window=window, by="team", metrics=AGENT_METRICS))


# ---------------------------------------------------------------- SLA breaches, overdue tasks


@dataclass(frozen=True)
class Lapse:
    person: str
    late: int  # leads of the window first assigned to them: answered late, or not yet and due
    unanswered: int  # of those, still not answered
    overdue: int  # open tasks past their due time, now
    due_today: int  # open tasks due from now to the end of today


def lapses(*, dealer: Dealer, window: Window, now: datetime | None = None) -> list[Lapse]:
    """Who on the line is behind: the window's first-response SLA breaches of the leads first
    assigned to each person, and their overdue tasks now (the team board's count). People
    with nothing late or overdue are left out; a last row sums them all."""
    now = now or timezone.now()
    late = {
        owner: (n, still)
        for owner, n, still in Lead.objects.filter(
            dealer=dealer, created_at__gte=window.start, created_at__lt=window.end
        )
        .filter(breached(now))
        .values("first_owner_id")
        .annotate(n=Count("id"), still=Count("id", filter=Q(first_response_at__isnull=True)))
        .values_list("first_owner_id", "n", "still")
        .order_by()
    }
    rows = []
    for row in team_board(dealer=dealer, now=now).rows:
        n, still = late.pop(row.staff.pk, (0, 0))
        if n or row.overdue:
            rows.append(Lapse(str(row.staff), n, still, row.overdue, row.due_today))
    for owner, (n, still) in late.items():  # someone no longer on the team
        name = str(Staff.objects.filter(pk=owner).first() or _("Nobody"))
        rows.append(Lapse(name, n, still, 0, 0))
    if rows:
        rows.append(
            Lapse(
                _("All"),
                sum(r.late for r in rows),
                sum(r.unanswered for r in rows),
                sum(r.overdue for r in rows),
                sum(r.due_today for r in rows),
            )
        )
    return rows


# ---------------------------------------------------------------- two periods side by side

# The one-click pairs of periods: (earlier, later) for a day.
PRESETS = {
    "month": gettext_lazy("This month vs last month"),
    "week": gettext_lazy("This week vs last week"),
    "7days": gettext_lazy("Last 7 days vs the 7 before"),
}
# The comparison form's fields: (from, to) of the first period, then of the second.
COMPARE_FIELDS = (("first_from", "first_to"), ("second_from", "second_to"))


def compare_labels() -> dict[str, str]:
    """How a message names each field of the comparison form."""
    return {
        "first_from": _("First period, from"),
        "first_to": _("First period, to"),
        "second_from": _("Second period, from"),
        "second_to": _("Second period, to"),
    }


def preset_periods(key: str, *, today: date) -> tuple[Period, Period]:
    """The preset's two periods around `today`: calendar months, weeks from Monday, or the
    last seven days (today included) and the seven before them."""
    if key == "month":
        month = Month.of(today)
        return Period.of_month(month.previous), Period.of_month(month)
    if key == "week":
        monday = today - timedelta(days=today.weekday())
        this_week = Period(monday, monday + timedelta(days=6))
        return Period(monday - timedelta(days=7), monday - timedelta(days=1)), this_week
    if key == "7days":
        return (
            Period(today - timedelta(days=13), today - timedelta(days=7)),
            Period(today - timedelta(days=6), today),
        )
    raise KeyError(key)


@dataclass(frozen=True)
class Comparison:
    """What the comparison form asked for: two periods, or what is wrong with the fields."""

    first: Period | None
    second: Period | None
    preset: str  # the preset these periods are ("" when none)
    values: dict[str, str]  # what each field of the form shows
    errors: dict[str, str]  # field -> what is wrong with it

    @property
    def unequal(self) -> bool:
        """The periods differ in length (counts are then not like for like)."""
        return bool(self.first and self.second and self.first.days != self.second.days)


def read_comparison(params: Mapping[str, str], *, today: date) -> Comparison:
    """The two periods of the comparison form: its four dates if any is given, else a preset
    (`preset`), else two months (`other` then `month`), else this month against the last."""
    labels = compare_labels()
    periods: list[Period | None] = []
    errors: dict[str, str] = {}
    dated = any(params.get(name) for pair in COMPARE_FIELDS for name in pair)
    if dated:
        values = {name: params.get(name, "") for pair in COMPARE_FIELDS for name in pair}
        for pair in COMPARE_FIELDS:
            try:
                periods.append(
                    parse_period(
                        params.get(pair[0]),
                        params.get(pair[1]),
                        fields=pair,
                        labels=(labels[pair[0]], labels[pair[1]]),
                    )
                )
            except BadPeriod as error:
                errors[error.field] = error.message
                periods.append(None)
        first, second = periods
    else:
        if params.get("preset") in PRESETS:
            first, second = preset_periods(params["preset"], today=today)
        elif Month.parse(params.get("month")) or Month.parse(params.get("other")):
            month = Month.parse(params.get("month")) or Month.of(today)
            other = Month.parse(params.get("other")) or month.previous
            first, second = Period.of_month(other), Period.of_month(month)
        else:
            first, second = preset_periods("month", today=today)
        values = {
            "first_from": first.first.isoformat(),
            "first_to": first.last.isoformat(),
            "second_from": second.first.isoformat(),
            "second_to": second.last.isoformat(),
        }
    # The preset marked is the one chosen (carried in the URL and the form) while the dates
    # are still its own, never one guessed from the dates: on a Sunday "this week" and "the
    # last 7 days" are the same days. Two months asked by name are the month preset's if they
    # are this month and the last.
    preset = params.get("preset", "")
    if preset not in PRESETS:
        preset = "" if dated else "month"
    if not (first and second) or preset_periods(preset or "month", today=today) != (
        first,
        second,
    ):
        preset = ""
    return Comparison(first, second, preset, values, errors)


@dataclass(frozen=True)
class Compared:
    metric: Metric
    first: Cell
    second: Cell
    delta: Delta  # from the first period to the second


def compare(
    *, dealer_ids: list[int], first: Period | Month, second: Period | Month, view: View
) -> list[Compared]:
    """Every metric of the registry for two periods, side by side, and how it moved from the
    first to the second."""
    windows = [
        period_window(
            dealer_ids=dealer_ids,
            period=Period.of_month(p) if isinstance(p, Month) else p,
            view=view,
        )
        for p in (first, second)
    ]
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


def compare_chart(rows: list[Compared], *, first: Period | Month, second: Period | Month) -> dict:
    """What the comparison chart draws: the funnel's steps in both periods, side by side."""
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
    return {"periods": [str(first), str(second)], "steps": steps}


# ---------------------------------------------------------------- the leads behind a number


class NotAGroup(ValueError):
    """The drill-down's group is not a value of its dimension."""


def dimensions() -> tuple[str, ...]:
    """The dimensions the engine groups by, asked now (it may offer more than it did): those of
    every measure, then those of the call measures only."""
    return tuple(getattr(measures, "ALL_DIMENSIONS", measures.DIMENSIONS))


def time_dimensions() -> tuple[str, ...]:
    """The dimensions whose groups are spans of time, keyed by their first day."""
    return tuple(getattr(measures, "TIME_DIMENSIONS", ("day", "week", "month")))


def dimension_name(by: str | None) -> str:
    if not by:
        return ""
    return str(DIMENSION_NAMES.get(by, by))


def dimension_choices() -> list[tuple[str, str]]:
    """Every dimension the engine offers, named for a form."""
    return [(by, dimension_name(by)) for by in dimensions()]


def parse_group(by: str | None, text: str | None) -> object:
    """A group's key as `drill_query` wrote it: ids for channels, people and dealers, the first
    day for days, weeks and months; empty is the group of leads without a value (e.g.
    nobody's)."""
    if by is None or not text:
        return None
    try:
        if by in ID_DIMENSIONS:
            key = int(text)
            if not 0 < key < 2**63:  # no row has it, and the database could not compare it
                raise NotAGroup(text)
            return key
        if by == "hour":
            hour = int(text)
            if not 0 <= hour <= 23:
                raise NotAGroup(text)
            return hour
        if by == "step":  # hours after delivery
            hours = int(text)
            if not 0 <= hours < 2**31:
                raise NotAGroup(text)
            return hours
        if by in time_dimensions():
            day = date.fromisoformat(text)
            if not dates.in_window(day):
                raise NotAGroup(text)
            return day
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
    if by in ("agent", "consultant"):
        person = Staff.objects.filter(pk=key).first() if key is not None else None
        return str(person) if person else _("Nobody")
    if by == "team":
        team = Team.objects.filter(pk=key).first() if key is not None else None
        return str(team) if team else _("No team")
    if by == "dealer":
        found = Dealer.objects.filter(pk=key).values_list("code", flat=True).first()
        return found or ""
    if by == "line":
        line = Line.objects.filter(pk=key).first() if key is not None else None
        return str(line) if line else _("No line")
    if by == "hour":
        return hour_label(key)
    if by == "step":
        return step_label(key)
    if by == "factor":
        return factor_label(key)
    if by == "referrer":
        return referrer_labels({key}).get(key, "") if key is not None else _("Nobody")
    if by == "month":
        return key.strftime("%Y-%m") if isinstance(key, date) else ""
    if by == "week" and isinstance(key, date):
        return _("Week of %(monday)s") % {"monday": key.isoformat()}
    if isinstance(key, date):
        return key.isoformat()
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
    if by is not None and by not in dimensions():
        raise KeyError(by)
    ids = lead_ids(measure, window, by, group)
    if (
        by is not None
        and group is None
        and by
        not in ID_DIMENSIONS
        | {
            "hour",
            "step",
            *time_dimensions(),
        }
    ):
        # A text dimension's group without a value holds the leads with none and with ""
        # (drill_query writes both as empty).
        ids = Lead.objects.filter(
            Q(pk__in=ids) | Q(pk__in=lead_ids(measure, window, by, ""))
        ).values_list("pk", flat=True)
    seen = visible_leads(staff, dealer_id=dealer_id).filter(pk__in=ids)
    return Behind(leads=seen.order_by("-created_at", "-pk"), total=ids.count())
