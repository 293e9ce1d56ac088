"""The bottleneck finder: which stage of a dealer's funnel (and whose) is significantly worse
than the brand average or than the dealer's own previous three months.

A rate is *significantly low* against a benchmark when the upper bound of its 95 % Wilson
score interval lies below the benchmark's rate, and its denominator is at least
`MIN_SAMPLE`. The benchmark (a whole brand pooled, or three months) is usually many times
the size of the sample judged, so its own noise is small next to the dealer's; comparing with
its point value is a one-sided test at about the 2.5 % level. Requiring the two intervals to
be apart instead would hide real gaps of mid-sized dealers, the ones headquarters most needs
to see. A benchmark with fewer than `MIN_SAMPLE` in its denominator is not a benchmark.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Dealer
from kpi.measures import Window
from kpi.registry import METRICS
from kpi.selectors import Report, Value, kpi_report

# The funnel's rates, in the order a lead meets them.
STAGE_METRICS = (
    "valid_lead_rate",
    "first_response_on_time",
    "contact_rate",
    "invitation_rate",
    "arrival_rate",
    "arrival_to_order_rate",
    "lead_close_rate",
)
# The stage of the DCC line (DESIGN.md: "judged on") whose work each rate measures.
STAGE_OF = {
    "valid_lead_rate": "acquire",
    "first_response_on_time": "invite",
    "contact_rate": "invite",
    "invitation_rate": "invite",
    "arrival_rate": "invite",
    "arrival_to_order_rate": "close",
    "lead_close_rate": "close",
}
STAGE_NAMES = {
    "acquire": gettext_lazy("the lead acquisition stage"),
    "invite": gettext_lazy("the invitation stage"),
    "close": gettext_lazy("the showroom stage"),
}
# Fewer leads (or arrivals) than this in a denominator are never judged.
MIN_SAMPLE = 20
# The standard normal quantile for a two-sided 95 % interval.
Z_95 = 1.959963984540054
BRAND = "brand"
TRAILING = "trailing"
TRAILING_MONTHS = 3


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


def wilson(successes: int, n: int, z: float = Z_95) -> Interval:
    """The Wilson score interval of a proportion `successes` / `n` (the whole [0, 1] when n
    is 0): centre (p + z²/2n) / (1 + z²/n), half-width z·√(p(1−p)/n + z²/4n²) / (1 + z²/n)."""
    if n <= 0:
        return Interval(0.0, 1.0)
    if not 0 <= successes <= n:
        raise ValueError("successes must lie between 0 and n")
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    # The exact bounds at p = 0 and p = 1; elsewhere clamp rounding noise into [0, 1].
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return Interval(low, high)


@dataclass(frozen=True)
class Rate:
    """A rate with its numerator and denominator, and its 95 % Wilson interval."""

    numerator: int
    denominator: int

    @classmethod
    def of(cls, value: Value | None) -> Rate:
        if value is None:
            return cls(0, 0)
        return cls(int(value.numerator), int(value.denominator or 0))

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    @property
    def proportion(self) -> bool:
        """A share of its denominator. In the period view a rate can exceed 100 % (orders this
        month of customers who arrived last month): then it is no sample to judge."""
        return 0 <= self.numerator <= self.denominator

    @property
    def interval(self) -> Interval:
        if not self.proportion:
            return Interval(0.0, 1.0)
        return wilson(self.numerator, self.denominator)

    @property
    def judged(self) -> bool:
        """A share, with a large enough a sample to be judged, or to judge by."""
        return self.proportion and self.denominator >= MIN_SAMPLE


def significantly_low(rate: Rate, benchmark: Rate) -> bool:
    """The rule of this module: `rate`'s Wilson upper bound below the benchmark's rate, both
    with a denominator of at least MIN_SAMPLE."""
    if not (rate.judged and benchmark.judged):
        return False
    return rate.interval.high < benchmark.numerator / benchmark.denominator


@dataclass(frozen=True)
class AgentRate:
    agent_id: int
    name: str
    rate: Rate
    trailing: Rate
    low_vs_brand: bool
    low_vs_trailing: bool


@dataclass
class StageCheck:
    """One rate of the funnel: the dealer's, its benchmarks, and each agent's."""

    metric: str
    stage: str
    rate: Rate
    brand: Rate
    trailing: Rate
    low_vs_brand: bool
    low_vs_trailing: bool
    agents: list[AgentRate] = field(default_factory=list)


@dataclass(frozen=True)
class Finding:
    """A stage significantly worse than a benchmark, in one sentence."""

    metric: str
    stage: str
    benchmark: str  # BRAND or TRAILING
    rate: Rate
    against: Rate
    agent: AgentRate | None
    sentence: str


@dataclass
class Bottlenecks:
    dealer: Dealer
    window: Window
    trailing_window: Window
    checks: list[StageCheck]
    findings: list[Finding]


def trailing_window(window: Window) -> Window:
    """The three calendar months before the month the window starts in, same view. In the
    cohort view their leads are followed for as long after their end as the window's are
    after its end, so that older leads do not look better for having had more time."""
    tz = timezone.get_current_timezone()
    local = timezone.localtime(window.start, tz)
    first = datetime(local.year, local.month, 1, tzinfo=tz)
    months = local.year * 12 + local.month - 1 - TRAILING_MONTHS
    start = datetime(months // 12, months % 12 + 1, 1, tzinfo=tz)
    as_of = None
    if window.view == "cohort":
        followed = (window.as_of or timezone.now()) - window.end
        as_of = first + followed
    return replace(window, start=start, end=first, as_of=as_of)


def brand_dealer_ids(dealer: Dealer) -> list[int]:
    return list(
        Dealer.objects.filter(region__brand_id=dealer.region.brand_id).values_list("pk", flat=True)
    )


def find_bottlenecks(*, dealer: Dealer, window: Window) -> Bottlenecks:
    """Each funnel rate of `dealer` in `window` (the window's dealer ids are ignored), and
    of each of its agents, against the brand and the trailing three months."""
    own = replace(window, dealer_ids=(dealer.pk,))
    before = trailing_window(own)
    brand_window = replace(own, dealer_ids=tuple(brand_dealer_ids(dealer)))
    metrics = list(STAGE_METRICS)
    now = kpi_report(window=own, by="agent", metrics=metrics)
    then = kpi_report(window=before, by="agent", metrics=metrics)
    brand = kpi_report(window=brand_window, metrics=metrics).total
    checks = [_check(metric, now, then, Rate.of(brand.values[metric])) for metric in metrics]
    findings = []
    for check in checks:
        for benchmark, low in ((BRAND, check.low_vs_brand), (TRAILING, check.low_vs_trailing)):
            if low:
                findings.append(_finding(check, benchmark))
    return Bottlenecks(
        dealer=dealer, window=own, trailing_window=before, checks=checks, findings=findings
    )


def _check(metric: str, now: Report, then: Report, brand: Rate) -> StageCheck:
    rate = Rate.of(now.total.values[metric])
    trailing = Rate.of(then.total.values[metric])
    before = {group.key: group for group in then.groups}
    agents = []
    for group in now.groups:
        if group.key is None:
            continue  # leads that came in with nobody to assign them to
        agent_rate = Rate.of(group.values[metric])
        earlier = before.get(group.key)
        agent_trailing = Rate.of(earlier.values[metric] if earlier else None)
        agents.append(
            AgentRate(
                agent_id=group.key,
                name=group.label,
                rate=agent_rate,
                trailing=agent_trailing,
                low_vs_brand=significantly_low(agent_rate, brand),
                low_vs_trailing=significantly_low(agent_rate, agent_trailing),
            )
        )
    return StageCheck(
        metric=metric,
        stage=STAGE_OF[metric],
        rate=rate,
        brand=brand,
        trailing=trailing,
        low_vs_brand=significantly_low(rate, brand),
        low_vs_trailing=significantly_low(rate, trailing),
        agents=agents,
    )


def _worst_agent(check: StageCheck, benchmark: str) -> AgentRate | None:
    """The agent with the lowest rate among those significantly low themselves."""
    low = [
        agent
        for agent in check.agents
        if (agent.low_vs_brand if benchmark == BRAND else agent.low_vs_trailing)
    ]
    return min(low, key=lambda agent: (agent.rate.value, agent.name), default=None)


def _finding(check: StageCheck, benchmark: str) -> Finding:
    against = check.brand if benchmark == BRAND else check.trailing
    agent = _worst_agent(check, benchmark)
    return Finding(
        metric=check.metric,
        stage=check.stage,
        benchmark=benchmark,
        rate=check.rate,
        against=against,
        agent=agent,
        sentence=explain(check.metric, check.rate, against, benchmark, agent),
    )


def percent(rate: Rate) -> str:
    return "–" if rate.value is None else f"{rate.value:.0%}"


def explain(metric: str, rate: Rate, against: Rate, benchmark: str, agent: AgentRate | None) -> str:
    """The finding in one sentence of the active language."""
    values = {
        "metric": str(METRICS[metric].name),
        "rate": percent(rate),
        "benchmark": percent(against),
        "stage": str(STAGE_NAMES[STAGE_OF[metric]]),
    }
    if agent is not None:
        values |= {"agent": agent.name, "agent_rate": percent(agent.rate)}
    if benchmark == BRAND and agent is None:
        text = _("%(metric)s %(rate)s, brand average %(benchmark)s: significantly low — %(stage)s.")
    elif benchmark == BRAND:
        text = _(
            "%(metric)s %(rate)s, brand average %(benchmark)s: significantly low — %(stage)s; "
            "of which %(agent)s %(agent_rate)s."
        )
    elif agent is None:
        text = _(
            "%(metric)s %(rate)s, previous three months %(benchmark)s: significantly low — "
            "%(stage)s."
        )
    else:
        text = _(
            "%(metric)s %(rate)s, previous three months %(benchmark)s: significantly low — "
            "%(stage)s; of which %(agent)s %(agent_rate)s."
        )
    return text % values


def rate_json(rate: Rate) -> dict:
    interval = rate.interval
    return {
        "value": rate.value,
        "numerator": rate.numerator,
        "denominator": rate.denominator,
        "interval": {"low": round(interval.low, 4), "high": round(interval.high, 4)},
    }


def bottlenecks_json(result: Bottlenecks) -> dict:
    """The finder's answer as the API gives it."""

    def day(moment: datetime, back: timedelta = timedelta(0)) -> str:
        return (timezone.localtime(moment) - back).date().isoformat()

    one_day = timedelta(days=1)
    return {
        "dealer": result.dealer.code,
        "from": day(result.window.start),
        "to": day(result.window.end, one_day),
        "view": str(result.window.view),
        "trailing": {
            "from": day(result.trailing_window.start),
            "to": day(result.trailing_window.end, one_day),
        },
        "min_sample": MIN_SAMPLE,
        "stages": [
            {
                "metric": check.metric,
                "name": str(METRICS[check.metric].name),
                "stage": check.stage,
                "rate": rate_json(check.rate),
                "brand": rate_json(check.brand),
                "trailing": rate_json(check.trailing),
                "low_vs_brand": check.low_vs_brand,
                "low_vs_trailing": check.low_vs_trailing,
                "agents": [
                    {
                        "id": agent.agent_id,
                        "name": agent.name,
                        "rate": rate_json(agent.rate),
                        "trailing": rate_json(agent.trailing),
                        "low_vs_brand": agent.low_vs_brand,
                        "low_vs_trailing": agent.low_vs_trailing,
                    }
                    for agent in check.agents
                ],
            }
            for check in result.checks
        ],
        "findings": [
            {
                "metric": finding.metric,
                "stage": finding.stage,
                "benchmark": finding.benchmark,
                "rate": rate_json(finding.rate),
                "against": rate_json(finding.against),
                "agent": (
                    {"id": finding.agent.agent_id, "name": finding.agent.name}
                    if finding.agent
                    else None
                ),
                "sentence": finding.sentence,
            }
            for finding in result.findings
        ],
    }
