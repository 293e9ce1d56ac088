"""leads.sla: the first-response deadline counts only the dealer's business hours, and
`breached()` finds leads called late or still uncalled past it."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from accounts.models import Dealer
from leads import actions
from leads.models import CallOutcome, Channel, Lead
from leads.sla import breached, first_response_deadline, on_time
from tests.factories import make_lead

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2024, 5, day, hour, minute, second, tzinfo=SHANGHAI)


def deadline(
    created_at: datetime,
    *,
    sla: int = 15,
    opens: time = time(9, 0),
    closes: time = time(18, 0),
) -> datetime:
    """Pure: unsaved dealer and channel are enough."""
    return first_response_deadline(
        Dealer(opens_at=opens, closes_at=closes), Channel(sla_minutes=sla), created_at
    )


# ---------------------------------------------------------------- the deadline


@pytest.mark.parametrize(
    ("created", "expected"),
    [
        pytest.param(local(6, 10), local(6, 10, 15), id="10:00 within hours"),
        pytest.param(local(6, 17, 55), local(7, 9, 10), id="17:55 carries 10 min over"),
        pytest.param(local(6, 20), local(7, 9, 15), id="20:00 after closing"),
        pytest.param(local(6, 7), local(6, 9, 15), id="07:00 before opening"),
        pytest.param(local(6, 0), local(6, 9, 15), id="midnight"),
        pytest.param(local(6, 23, 59, 59), local(7, 9, 15), id="just before midnight"),
        pytest.param(local(6, 9), local(6, 9, 15), id="at opening"),
        pytest.param(local(6, 17, 45), local(6, 18), id="deadline at closing"),
        pytest.param(local(6, 18), local(7, 9, 15), id="at closing"),
        pytest.param(local(6, 10, 0, 30), local(6, 10, 15, 30), id="seconds kept"),
        pytest.param(local(31, 17, 50), datetime(2024, 6, 1, 9, 5, tzinfo=SHANGHAI), id="month"),
    ],
)
def test_deadline_with_9_to_18_hours_and_15_minutes(created, expected):
    assert deadline(created) == expected


def test_dealers_work_weekends():
    saturday_evening = local(11, 17, 55)  # 2024-05-11 is a Saturday
    assert saturday_evening.weekday() == 5
    assert deadline(saturday_evening) == local(12, 9, 10)


def test_the_same_moment_given_in_utc():
    created = datetime(2024, 5, 6, 9, 55, tzinfo=UTC)  # 17:55 in Shanghai
    assert deadline(created) == local(7, 9, 10)


def test_an_sla_longer_than_a_business_day_spans_days():
    # 540 business minutes a day: 600 minutes from 17:00 are 60 today and 540 tomorrow;
    # one more minute carries into the third day.
    assert deadline(local(6, 17), sla=600) == local(7, 18)
    assert deadline(local(6, 17), sla=601) == local(8, 9, 1)


@pytest.mark.parametrize("hours", [(time(0), time(0)), (time(9), time(9))])
@pytest.mark.parametrize("created", [local(6, 3), local(6, 10), local(6, 17, 55), local(6, 23, 50)])
def test_around_the_clock_dealer_gets_plain_minutes(hours, created):
    opens, closes = hours
    assert deadline(created, opens=opens, closes=closes) == created + timedelta(minutes=15)


def test_other_hours_and_channel_slas():
    assert deadline(local(6, 8), sla=5, opens=time(8, 30), closes=time(20)) == local(6, 8, 35)
    assert deadline(local(6, 19, 58), sla=5, opens=time(8, 30), closes=time(20)) == local(7, 8, 33)
    assert deadline(local(6, 12), sla=60) == local(6, 13)


# ---------------------------------------------------------------- property


def business_minutes_between(start: datetime, end: datetime, opens: time, closes: time) -> float:
    """Reference: business minutes in [start, end], summed day by day."""
    total = timedelta()
    day = start.astimezone(SHANGHAI).date() - timedelta(days=1)
    while datetime.combine(day, opens, SHANGHAI) < end:
        window_start = max(datetime.combine(day, opens, SHANGHAI), start)
        window_end = min(datetime.combine(day, closes, SHANGHAI), end)
        if window_end > window_start:
            total += window_end - window_start
        day += timedelta(days=1)
    return total.total_seconds() / 60


hours_strategy = st.tuples(
    st.integers(min_value=0, max_value=22), st.sampled_from([0, 15, 30, 45])
).flatmap(
    lambda start: st.tuples(
        st.just(time(*start)),
        st.tuples(
            st.integers(min_value=start[0] + 1, max_value=23), st.sampled_from([0, 30, 59])
        ).map(lambda end: time(*end)),
    )
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    created=st.datetimes(
        min_value=datetime(2020, 1, 1),
        max_value=datetime(2030, 12, 31),
        timezones=st.just(SHANGHAI),
    ),
    sla=st.integers(min_value=1, max_value=3 * 24 * 60),
    hours=st.one_of(st.just((time(9), time(18))), hours_strategy),
)
@example(created=local(6, 17, 55), sla=15, hours=(time(9), time(18)))
@example(created=local(6, 18), sla=540, hours=(time(9), time(18)))
def test_deadline_is_at_least_sla_later_and_inside_business_hours(created, sla, hours):
    opens, closes = hours
    assume(opens < closes)
    due = deadline(created, sla=sla, opens=opens, closes=closes)
    assert due >= created + timedelta(minutes=sla)
    at = due.astimezone(SHANGHAI).time()
    assert opens < at <= closes, (due, hours)
    # Exactly the SLA's minutes of business hours lie between the enquiry and the deadline.
    assert business_minutes_between(created, due, opens, closes) == pytest.approx(sla)


@settings(max_examples=100, deadline=None)
@given(
    created=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
    ),
    sla=st.integers(min_value=1, max_value=600),
)
def test_deadline_does_not_depend_on_the_timezone_the_moment_is_given_in(created, sla):
    assert deadline(created, sla=sla) == deadline(created.astimezone(SHANGHAI), sla=sla)


# ---------------------------------------------------------------- breached()


def ids(query) -> set[int]:
    return set(Lead.objects.filter(query).values_list("pk", flat=True))


@pytest.fixture
def morning_lead(team) -> Lead:
    """Created 10:00 on a past day (deadline 10:15), owned by an agent."""
    lead = make_lead(team.dealer, owner=team.dcc_agent, at=local(6, 10))
    assert lead.sla_deadline == local(6, 10, 15)
    return lead


def call(lead: Lead, at: datetime, outcome: CallOutcome = CallOutcome.NO_ANSWER) -> Lead:
    return actions.log_call(lead=lead, by=lead.owner, outcome=outcome, at=at)


@pytest.mark.django_db
def test_called_after_the_deadline_is_breached(morning_lead):
    call(morning_lead, local(6, 10, 20))
    assert ids(breached()) == {morning_lead.pk}
    assert ids(breached(now=local(6, 10, 21))) == {morning_lead.pk}
    assert ids(on_time()) == set()


@pytest.mark.django_db
def test_called_in_time_is_not_breached(morning_lead):
    call(morning_lead, local(6, 10, 10))
    assert ids(breached()) == set()
    assert ids(on_time()) == {morning_lead.pk}


@pytest.mark.django_db
def test_called_exactly_at_the_deadline_is_on_time(morning_lead):
    call(morning_lead, local(6, 10, 15))
    assert ids(breached()) == set()
    assert ids(on_time()) == {morning_lead.pk}


@pytest.mark.django_db
def test_only_the_first_call_counts(morning_lead):
    call(morning_lead, local(6, 10, 5))
    call(morning_lead, local(6, 11), CallOutcome.REACHED)
    morning_lead.refresh_from_db()
    assert morning_lead.first_response_at == local(6, 10, 5)
    assert ids(breached()) == set()


@pytest.mark.django_db
def test_uncalled_past_the_deadline_is_breached(morning_lead):
    assert ids(breached()) == {morning_lead.pk}  # now is long after that day
    assert ids(breached(now=local(6, 10, 16))) == {morning_lead.pk}


@pytest.mark.django_db
def test_uncalled_before_the_deadline_is_not_breached(morning_lead):
    assert ids(breached(now=local(6, 10, 5))) == set()
    assert ids(breached(now=local(6, 10, 15))) == set()
    assert ids(on_time()) == set()


@pytest.mark.django_db
def test_a_fresh_lead_is_not_breached_yet(team):
    lead = make_lead(team.dealer, owner=team.dcc_agent)
    assert lead.sla_deadline > timezone.now()
    assert lead.pk not in ids(breached())


@pytest.mark.django_db
def test_an_evening_lead_called_next_morning_is_on_time(team):
    lead = make_lead(team.dealer, owner=team.dcc_agent, at=local(6, 17, 55))
    assert lead.sla_deadline == local(7, 9, 10)
    assert ids(breached(now=local(7, 8, 0))) == set()
    call(lead, local(7, 9, 5))
    assert ids(breached()) == set()
    assert ids(on_time()) == {lead.pk}


@pytest.mark.django_db
def test_arrival_without_a_call_stops_the_clock(team):
    lead = make_lead(team.dealer, owner=team.consultant, at=local(6, 10))
    actions.record_arrival(lead=lead, by=team.consultant, at=local(6, 10, 5))
    assert ids(breached()) == set()


@pytest.mark.django_db
def test_breached_mixes_several_leads(team):
    late = make_lead(team.dealer, owner=team.dcc_agent, at=local(6, 10))
    prompt = make_lead(team.dealer, owner=team.dcc_agent, at=local(6, 10))
    waiting = make_lead(team.dealer, owner=team.dcc_agent, at=local(6, 10, 10))
    call(late, local(6, 11))
    call(prompt, local(6, 10, 1))
    now = local(6, 10, 20)
    assert ids(breached(now=now)) == {late.pk}
    assert ids(breached(now=local(6, 10, 26))) == {late.pk, waiting.pk}
    assert ids(on_time()) == {prompt.pk}
