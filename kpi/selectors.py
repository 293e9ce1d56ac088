"""KPI reports: any metrics of the registry, for a window, by any dimension, each value with
its numerator and denominator. The CLI, the API and (later) the dashboards read these."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Dealer, Staff
from calls.models import Line
from dcc.phone import mask_phone
from kpi.counting import count_measures
from kpi.measures import (
    ALL_DIMENSIONS,
    TIME_DIMENSIONS,
    NotThisDimension,
    Window,
    adds_up,
    spend,
    supports,
)
from kpi.registry import METRICS, Metric, Unit, View
from leads.models import Channel, ChannelGroup, Customer, Team
from owners.plans import DEFAULT_STEPS
from owners.questionnaires import FACTORS

Number = int | Decimal


@dataclass(frozen=True)
class Value:
    numerator: Number
    denominator: Number | None

    @property
    def value(self) -> Number | float | None:
        """The count itself, or numerator / denominator (None when the denominator is 0)."""
        if self.denominator is None:
            return self.numerator
        if not self.denominator:
            return None
        if isinstance(self.numerator, Decimal) or isinstance(self.denominator, Decimal):
            return (Decimal(self.numerator) / Decimal(self.denominator)).quantize(Decimal("0.01"))
        return self.numerator / self.denominator


@dataclass
class Group:
    key: object  # the dimension's value (None: everything)
    label: str
    values: dict[str, Value] = field(default_factory=dict)


@dataclass
class Report:
    window: Window
    by: str | None
    metrics: list[Metric]
    groups: list[Group]
    total: Group


def day_window(
    *,
    dealer_ids: list[int],
    first: date,
    last: date,
    view: View = View.PERIOD,
    as_of: datetime | None = None,
) -> Window:
    """The window from the start of `first` to the end of `last`, in the dealer's time zone."""
    tz = timezone.get_current_timezone()
    return Window(
        dealer_ids=tuple(dealer_ids),
        start=datetime.combine(first, time.min, tzinfo=tz),
        end=datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz),
        view=View(view),
        as_of=as_of,
    )


def metric_supports(metric: Metric, by: str | None) -> bool:
    """Whether `metric` can be cut by `by` (only call metrics by line and hour)."""
    return all(
        supports(measure, by)
        for measure in (metric.numerator, metric.denominator)
        if measure and measure != "spend"
    )


def refused_metrics(metrics: list[str] | None, by: str | None) -> list[str]:
    """Of the metrics asked for (None: all, which is then those `by` cuts), the keys of those
    that cannot be cut by `by`."""
    return [key for key in metrics or () if not metric_supports(METRICS[key], by)]


def refusal_message(refused: list[str], by: str | None) -> str:
    """Why these metrics have no groups of `by`: the dimension is another kind of row's (a
    call's line, a return visit's step), or a stock has no days."""
    if by in TIME_DIMENSIONS:
        message = _("%(metrics)s cannot be cut by %(dimension)s: it is counted as at a day.")
    else:
        message = _(
            "%(metrics)s cannot be cut by %(dimension)s: only the metrics of what has one can "
            "(a call's line and hour, a return visit's step, a questionnaire's factor, a "
            "referral's referrer)."
        )
    return message % {"metrics": ", ".join(refused), "dimension": by}


def kpi_report(
    *, window: Window, by: str | None = None, metrics: list[str] | None = None
) -> Report:
    """The metrics (default: all that `by` cuts) in `window`, for everything and per value of
    `by`. NotThisDimension for a metric asked for that `by` does not cut."""
    if by is not None and by not in ALL_DIMENSIONS:
        raise KeyError(by)
    refused = refused_metrics(metrics, by)
    if refused:
        raise NotThisDimension(refused[0], str(by))
    if metrics:
        chosen = [METRICS[key] for key in metrics]
    else:
        chosen = [metric for metric in METRICS.values() if metric_supports(metric, by)]
    needed = {m.numerator for m in chosen} | {m.denominator for m in chosen if m.denominator}
    counted = needed - {"spend"}
    grouped = count_measures(counted, window, by) if by is not None else {}
    # The total of a measure whose every lead falls in one group is the sum of the groups.
    alone = {m for m in counted if by is None or not adds_up(m, by)}
    totals = count_measures(alone, window, None) if alone else {}
    per_group: dict[str, dict[object, Number] | None] = {}
    total: dict[str, Number] = {}
    for measure in counted:
        per_group[measure] = grouped.get(measure)
        total[measure] = (
            totals[measure].get(None) or 0 if measure in alone else sum(grouped[measure].values())
        )
    if "spend" in needed:
        per_group["spend"] = spend(window, by) if by else None
        total["spend"] = (spend(window, None) or {}).get(None, Decimal(0))
    keys: set[object] = set()
    for found in per_group.values():
        keys |= set(found or {})
    labels = _labels(by, keys)
    groups = [
        _group(key, labels[key], chosen, per_group)
        for key in sorted(keys, key=lambda key: (labels[key] == "", str(labels[key])))
    ]
    everything = Group(None, _("All"))
    for metric in chosen:
        everything.values[metric.key] = _value(metric, total)
    return Report(window=window, by=by, metrics=chosen, groups=groups, total=everything)


def _group(
    key: object, label: str, chosen: list[Metric], per_group: dict[str, dict | None]
) -> Group:
    group = Group(key, label)
    found = {
        measure: (values or {}).get(key, Decimal(0) if measure == "spend" else 0)
        for measure, values in per_group.items()
    }
    for metric in chosen:
        if metric.unit == Unit.MONEY and per_group.get("spend") is None:
            continue  # spend does not belong to this dimension (a model, a grade, a person)
        group.values[metric.key] = _value(metric, found)
    return group


def _value(metric: Metric, found: dict[str, Number]) -> Value:
    denominator = found.get(metric.denominator, 0) if metric.denominator else None
    return Value(numerator=found.get(metric.numerator, 0), denominator=denominator)


def _labels(by: str | None, keys: set[object]) -> dict[object, str]:
    """How each group is named on screen."""
    if by == "channel":
        names = dict(Channel.objects.filter(pk__in=keys).values_list("pk", "name"))
        return {key: _(names[key]) if names.get(key) else "" for key in keys}
    if by == "channel_group":
        return {key: str(ChannelGroup(key).label) if key else "" for key in keys}
    if by in ("agent", "consultant"):
        people = {person.pk: str(person) for person in Staff.objects.filter(pk__in=keys)}
        return {key: people.get(key, _("Nobody")) for key in keys}
    if by == "team":
        teams = {team.pk: str(team) for team in Team.objects.filter(pk__in=keys)}
        return {key: teams.get(key, _("No team")) for key in keys}
    if by == "dealer":
        return dict(Dealer.objects.filter(pk__in=keys).values_list("pk", "code"))
    if by == "line":
        lines = {line.pk: str(line) for line in Line.objects.filter(pk__in=keys)}
        return {key: lines.get(key, _("No line")) for key in keys}
    if by == "hour":
        return {key: hour_label(key) for key in keys}
    if by == "step":
        return {key: step_label(key) for key in keys}
    if by == "factor":
        return {key: factor_label(key) for key in keys}
    if by == "referrer":
        return referrer_labels(keys)
    if by == "month":
        return {key: key.strftime("%Y-%m") if key else "" for key in keys}
    if by == "week":  # ISO weeks: they start on Monday, as the groups do
        return {key: key.strftime("%G-W%V") if key else "" for key in keys}
    return {key: str(key) if key else _("(none)") for key in keys}


def hour_label(hour: object) -> str:
    """An hour of the day as its span, "09:00–10:00"."""
    if not isinstance(hour, int):
        return _("(none)")
    return f"{hour:02d}:00–{(hour + 1) % 24:02d}:00"


def step_label(hours: object) -> str:
    """A step of the return-visit plan by its hours after delivery: "72 h after delivery · 3-day
    visit (3DC)", named as the default plan's step of those hours (a dealer's own names are
    the dealer's, and steps of many dealers are grouped by their hours)."""
    if not isinstance(hours, int):
        return _("(none)")
    if hours % 24 or hours < 48:
        after = _("%(hours)d h after delivery") % {"hours": hours}
    else:
        after = _("%(days)d days after delivery") % {"days": hours // 24}
    named = [_(name) for name, offset, *_rest in DEFAULT_STEPS if offset == hours]
    return " · ".join([after, *named])


def factor_label(key: object) -> str:
    """A satisfaction factor of the default questionnaire, in the reader's language."""
    names = dict(FACTORS)
    return _(names[key]) if key in names else str(key or _("(none)"))


def referrer_labels(keys: set[object]) -> dict[object, str]:
    """Referrers by name (their number masked where they gave none)."""
    people = {
        pk: name or mask_phone(phone)
        for pk, name, phone in Customer.objects.filter(pk__in=keys).values_list(
            "pk", "name", "phone"
        )
    }
    return {key: people.get(key, _("Nobody")) for key in keys}


def report_json(report: Report) -> dict:
    """The report as the API and `dcc kpi --format json` give it: for each group, each
    metric's value, numerator and denominator."""

    def plain(number: object) -> object:
        return str(number) if isinstance(number, Decimal) else number

    def group_json(group: Group) -> dict:
        key = group.key.isoformat() if isinstance(group.key, date) else group.key
        return {
            "key": key,
            "label": group.label,
            "metrics": {
                name: {
                    "value": plain(value.value),
                    "numerator": plain(value.numerator),
                    "denominator": plain(value.denominator),
                }
                for name, value in group.values.items()
            },
        }

    return {
        "from": timezone.localtime(report.window.start).date().isoformat(),
        "to": (timezone.localtime(report.window.end) - timedelta(days=1)).date().isoformat(),
        "view": str(report.window.view),
        "by": report.by,
        "metrics": {
            m.key: {"name": str(m.name), "unit": str(m.unit), "description": str(m.description)}
            for m in report.metrics
        },
        "groups": [group_json(group) for group in report.groups],
        "total": group_json(report.total),
    }
