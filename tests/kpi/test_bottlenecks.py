"""The bottleneck finder: the Wilson interval, and which stages of whose funnel it calls
significantly worse than the brand or the previous three months (ledgers made with the real
actions, backdated)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accounts.models import Dealer, Staff
from kpi.bottlenecks import (
    BRAND,
    MIN_SAMPLE,
    TRAILING,
    Interval,
    Rate,
    find_bottlenecks,
    significantly_low,
    trailing_window,
    wilson,
)
from kpi.registry import View
from kpi.selectors import day_window
from leads import actions
from tests.factories import make_lead

SHANGHAI = ZoneInfo("Asia/Shanghai")


def funnel(
    dealer: Dealer, *, by: Staff, agent: Staff, leads: int, arrived: int, month: int = 5
) -> None:
    """`leads` leads of `agent` created on the 2nd of `month` 2026, the first `arrived` of
    them walking into the showroom on the 3rd."""
    for n in range(leads):
        lead = make_lead(
            dealer, by=by, owner=agent, at=datetime(2026, month, 2, 10, tzinfo=SHANGHAI)
        )
        if n < arrived:
            actions.record_arrival(
                lead=lead, by=by, at=datetime(2026, month, 3, 10, tzinfo=SHANGHAI)
            )


def may(dealer: Dealer, view: View = View.PERIOD):
    return day_window(
        dealer_ids=[dealer.pk], first=date(2026, 5, 1), last=date(2026, 5, 31), view=view
    )


# The Wilson interval ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [(0, 10, 0.0, 0.277533), (5, 10, 0.236593, 0.763407), (81, 263, 0.255289, 0.366210),
     (10, 10, 0.722467, 1.0), (0, 0, 0.0, 1.0)],
)  # fmt: skip
def test_wilson_interval_known_values(successes, n, low, high):
    """Reference values from the closed form, z = 1.959964 (two-sided 95 %):
    (2np + z² ± z·√(z² + 4np(1−p))) / (2(n + z²)). For 0 of 10: (0 + 3.8415 ± 3.8415) /
    27.683 = 0 and 0.277533; for 5 of 10: (13.8415 ± 1.95996·√13.8415) / 27.683 = 0.236593
    and 0.763407; for 81 of 263: (165.8415 ± 1.95996·√(3.8415 + 4·81·182/263)) / 533.683 =
    0.255289 and 0.366210. n = 0 says nothing: the whole of [0, 1]."""
    interval = wilson(successes, n)
    assert interval.low == pytest.approx(low, abs=1e-6)
    assert interval.high == pytest.approx(high, abs=1e-6)


@given(n=st.integers(1, 5000), data=st.data())
def test_wilson_holds_the_rate_within_zero_and_one(n, data):
    successes = data.draw(st.integers(0, n))
    interval = wilson(successes, n)
    assert 0.0 <= interval.low <= successes / n <= interval.high <= 1.0


@given(n=st.integers(1, 2000), factor=st.integers(2, 50), data=st.data())
def test_wilson_narrows_with_more_of_the_same(n, factor, data):
    successes = data.draw(st.integers(0, n))
    small, large = wilson(successes, n), wilson(successes * factor, n * factor)
    assert large.high - large.low < small.high - small.low


def test_the_rule_needs_a_sample_and_a_benchmark_of_min_sample():
    assert MIN_SAMPLE == 20
    assert significantly_low(Rate(0, 20), Rate(40, 100))  # 0 of 20: upper 16 % < 40 %
    assert not significantly_low(Rate(0, 19), Rate(40, 100))  # too few to judge
    assert not significantly_low(Rate(0, 20), Rate(8, 19))  # too few to judge by
    assert not significantly_low(Rate(6, 20), Rate(40, 100))  # 30 %, but upper 52 %
    assert not significantly_low(Rate(40, 100), Rate(40, 100))


def test_a_rate_above_100_percent_is_neither_judged_nor_judged_by():
    """The period view counts this month's orders of last month's arrivals: 30 of 20."""
    assert not Rate(30, 20).judged
    assert Rate(30, 20).interval == Interval(0.0, 1.0)
    assert not significantly_low(Rate(30, 20), Rate(40, 100))
    assert not significantly_low(Rate(0, 20), Rate(130, 100))


# Against the brand ---------------------------------------------------------------------------


@pytest.fixture
def brand(db, team, other_team):
    """May 2026, three dealers of one brand, walk-in arrivals only (no appointments, calls,
    orders):

    team:        agent 1 20 leads, 0 arrived; agent 2 20 leads, 4 arrived → 4 of 40 (10 %)
    other_team:  40 leads, 16 arrived (40 %)
    third:       40 leads, 24 arrived (60 %)
    brand pooled: 44 of 120 = 36.7 %; with the third dealer left out it would differ.
    """
    from tests.conftest import build_team
    from tests.factories import DealerFactory

    third = build_team(DealerFactory())
    funnel(team.dealer, by=team.gm, agent=team.dcc_agent, leads=20, arrived=0)
    funnel(team.dealer, by=team.gm, agent=team.dcc_agent_2, leads=20, arrived=4)
    funnel(other_team.dealer, by=other_team.gm, agent=other_team.dcc_agent, leads=40, arrived=16)
    funnel(third.dealer, by=third.gm, agent=third.dcc_agent, leads=40, arrived=4 + 20)
    return third


def test_a_dealer_clearly_below_the_brand_is_flagged_with_its_worst_agent(team, brand):
    team.dcc_agent.display_name = "Zhang San"
    team.dcc_agent.save()
    result = find_bottlenecks(dealer=team.dealer, window=may(team.dealer))
    arrival = next(check for check in result.checks if check.metric == "arrival_rate")
    assert (arrival.rate.numerator, arrival.rate.denominator) == (4, 40)
    assert (arrival.brand.numerator, arrival.brand.denominator) == (44, 120)
    assert arrival.low_vs_brand and not arrival.low_vs_trailing
    agents = {agent.agent_id: agent for agent in arrival.agents}
    assert agents[team.dcc_agent.pk].low_vs_brand  # 0 of 20: upper 16 %
    assert not agents[team.dcc_agent_2.pk].low_vs_brand  # 4 of 20: upper 42 %
    assert [(f.metric, f.benchmark) for f in result.findings] == [("arrival_rate", BRAND)]
    finding = result.findings[0]
    assert finding.stage == "invite"
    assert finding.agent.agent_id == team.dcc_agent.pk
    assert finding.sentence == (
        "Arrival rate 10%, brand average 37%: significantly low — the invitation stage; "
        "of which Zhang San 0%."
    )


def test_a_dealer_at_the_brand_average_is_not_flagged(other_team, brand):
    result = find_bottlenecks(dealer=other_team.dealer, window=may(other_team.dealer))
    assert result.findings == []
    arrival = next(check for check in result.checks if check.metric == "arrival_rate")
    assert (arrival.rate.numerator, arrival.rate.denominator) == (16, 40)
    assert not arrival.low_vs_brand


def test_a_small_sample_is_never_flagged(brand):
    """Ten leads, none arrived: 0 % against the brand's 36 %, but ten is too few to judge."""
    from tests.conftest import build_team
    from tests.factories import DealerFactory

    small = build_team(DealerFactory())
    funnel(small.dealer, by=small.gm, agent=small.dcc_agent, leads=10, arrived=0)
    result = find_bottlenecks(dealer=small.dealer, window=may(small.dealer))
    arrival = next(check for check in result.checks if check.metric == "arrival_rate")
    assert arrival.rate.interval.high < arrival.brand.value  # low, yet not judged
    assert not arrival.low_vs_brand
    assert result.findings == []


def test_without_an_agent_significantly_low_the_sentence_names_nobody(team, other_team):
    """Four agents, each 5 of 15 (too few to judge alone); the dealer's 20 of 60 (33 %) against
    the brand's 80 of 120 (67 %)."""
    agents = [team.dcc_agent, team.dcc_agent_2]
    from tests.factories import member

    agents += [member(team.dealer, "dcc_agent"), member(team.dealer, "dcc_agent")]
    for agent in agents:
        funnel(team.dealer, by=team.gm, agent=agent, leads=15, arrived=5)
    funnel(other_team.dealer, by=other_team.gm, agent=other_team.dcc_agent, leads=60, arrived=60)
    result = find_bottlenecks(dealer=team.dealer, window=may(team.dealer))
    assert [f.sentence for f in result.findings] == [
        "Arrival rate 33%, brand average 67%: significantly low — the invitation stage."
    ]


# Against the dealer's own previous three months ----------------------------------------------


def test_the_trailing_window_is_the_three_calendar_months_before():
    window = day_window(dealer_ids=[1], first=date(2026, 5, 10), last=date(2026, 5, 20))
    before = trailing_window(window)
    assert before.start == datetime(2026, 2, 1, tzinfo=SHANGHAI)
    assert before.end == datetime(2026, 5, 1, tzinfo=SHANGHAI)
    january = trailing_window(
        day_window(dealer_ids=[1], first=date(2026, 1, 5), last=date(2026, 1, 5))
    )
    assert (january.start, january.end) == (
        datetime(2025, 10, 1, tzinfo=SHANGHAI),
        datetime(2026, 1, 1, tzinfo=SHANGHAI),
    )
    # Cohort: the older leads are followed for as long after their end as the window's.
    as_of = datetime(2026, 6, 11, tzinfo=SHANGHAI)
    cohort = day_window(dealer_ids=[1], first=date(2026, 5, 1), last=date(2026, 5, 31),
                        view=View.COHORT, as_of=as_of)  # fmt: skip
    assert trailing_window(cohort).as_of == datetime(2026, 5, 11, tzinfo=SHANGHAI)


def test_a_dealer_below_its_previous_three_months_is_flagged(team):
    """February to April: 30 leads of agent 1, 15 arrived (50 %); May: 30 leads, 3 arrived
    (10 %, upper 26 %). The brand is this dealer alone, so nothing is low against it."""
    team.dcc_agent.display_name = "Li Si"
    team.dcc_agent.save()
    for month, arrived in ((2, 5), (3, 5), (4, 5)):
        funnel(team.dealer, by=team.gm, agent=team.dcc_agent, leads=10, arrived=arrived,
               month=month)  # fmt: skip
    funnel(team.dealer, by=team.gm, agent=team.dcc_agent, leads=30, arrived=3)
    result = find_bottlenecks(dealer=team.dealer, window=may(team.dealer))
    arrival = next(check for check in result.checks if check.metric == "arrival_rate")
    assert (arrival.trailing.numerator, arrival.trailing.denominator) == (15, 30)
    assert arrival.low_vs_trailing and not arrival.low_vs_brand
    assert [(f.metric, f.benchmark) for f in result.findings] == [("arrival_rate", TRAILING)]
    assert result.findings[0].sentence == (
        "Arrival rate 10%, previous three months 50%: significantly low — the invitation "
        "stage; of which Li Si 10%."
    )


def test_sentences_come_in_the_users_language(team, brand):
    """The sentence is built with gettext at the time of asking, in the active language."""
    from django.utils import translation

    with translation.override("zh-hans"):
        result = find_bottlenecks(dealer=team.dealer, window=may(team.dealer))
    sentence = result.findings[0].sentence
    assert "邀约到店率" in sentence and "10%" in sentence and "Arrival rate" not in sentence
