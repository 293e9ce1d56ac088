"""Scores computed from our own data with a fixed clock: the 400 answer score (kpi.phone, the
worked example of tests/kpi/test_call_kpis.py) on the account's channel lines or the hotline,
and first response on time of the account's channel's leads (the KPI registry)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from calls import actions as call_actions
from calls.models import Line, LineKind, PhoneAccount
from dcc.errors import InvalidInput, NotPermitted
from leads import actions as lead_actions
from leads.models import CallOutcome
from platforms import actions
from platforms.models import PlatformScore, ScoreKind, ScoreSource
from tests.calls.reports import HOTLINE, answered, at, missed
from tests.factories import channel, make_lead

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("office_hours")]
A, B, C, D = (f"1390000000{n}" for n in range(1, 5))
PLATFORM_NUMBER = "01012345678"


@pytest.fixture
def phones(team) -> PhoneAccount:
    phones = PhoneAccount.objects.create(dealer=team.dealer, provider="generic")
    Line.objects.create(
        dealer=team.dealer,
        number=HOTLINE,
        kind=LineKind.HOTLINE_400,
        channel=channel(team.dealer, "hotline_400"),
    )
    return phones


def moment(days_before: int, hour: int, minute: int = 0):
    return at(0).replace(hour=hour - 8, minute=minute) - timedelta(days=days_before)


@pytest.fixture
def worked_example(phones):
    """75 % of valid calls answered on the 400 line over the 15 days before, 50 % today
    (65.00), and one missed valid call today on Autohome's own number."""
    for days_before, hour in ((1, 10), (3, 11), (5, 15)):
        call_actions.receive(phones, answered(number=A, start=moment(days_before, hour)))
    call_actions.receive(phones, missed(number=B, start=moment(7, 16)))
    call_actions.receive(phones, replace(missed(number=B, start=moment(9, 12)), wait_seconds=5))
    call_actions.receive(phones, answered(number=A, start=moment(0, 9, 10)))
    call_actions.receive(phones, replace(missed(number=C, start=moment(0, 9, 20)), wait_seconds=12))
    return phones


def computed(account, kind) -> PlatformScore:
    return PlatformScore.objects.get(account=account, kind=kind, source=ScoreSource.COMPUTED)


def test_without_lines_of_its_own_the_account_is_scored_on_the_400_hotline(
    team, account, worked_example
):
    actions.compute_scores(account=account, by=team.platform_specialist)
    score = computed(account, ScoreKind.ANSWER)
    assert score.score == Decimal("65.00")
    assert score.day == date(2026, 11, 18)
    assert "3 of 4" in score.note and "1 of 2" in score.note


def test_with_the_platforms_own_number_its_calls_alone_count(team, account, worked_example):
    Line.objects.create(
        dealer=team.dealer,
        number=PLATFORM_NUMBER,
        kind=LineKind.PLATFORM,
        channel=account.channel,
    )
    call_actions.receive(
        worked_example,
        replace(missed(number=D, start=moment(0, 9, 30)), line_number=PLATFORM_NUMBER),
    )
    actions.compute_scores(account=account, by=team.platform_specialist)
    # No valid call before today: 100 % × 0.6; today's one call missed: 0 % × 0.4.
    assert computed(account, ScoreKind.ANSWER).score == Decimal("60.00")


def test_first_response_on_time_of_the_accounts_channel_over_15_days(team, account):
    agent = team.dcc_agent

    def lead(days_before: int, hour: int, call_after: int, via: str = "autohome"):
        found = make_lead(
            team.dealer, by=team.gm, owner=agent, at=moment(days_before, hour), channel_code=via
        )
        lead_actions.log_call(
            lead=found,
            by=agent,
            outcome=CallOutcome.REACHED,
            at=moment(days_before, hour) + timedelta(minutes=call_after),
        )

    lead(2, 10, 5)  # on time (the SLA is 15 minutes)
    lead(2, 11, 60)  # late
    lead(1, 10, 10)  # on time
    lead(1, 14, 5, via="yiche")  # another platform's lead
    lead(17, 10, 5)  # before the 15 days
    actions.compute_scores(account=account, by=team.platform_specialist)
    score = computed(account, ScoreKind.RESPONSE)
    assert score.score == Decimal("66.67")
    assert score.note.startswith("2 of 3 leads")


def test_no_leads_no_response_score_and_computing_again_replaces_the_days(
    team, account, worked_example
):
    actions.compute_scores(account=account, by=team.platform_specialist)
    actions.compute_scores(account=account, by=team.platform_specialist)
    assert not PlatformScore.objects.filter(kind=ScoreKind.RESPONSE).exists()
    assert PlatformScore.objects.filter(kind=ScoreKind.ANSWER).count() == 1


def test_a_past_day_is_scored_as_it_stood(team, account, worked_example):
    # Yesterday: the 15 days before it held 2 answered of 3 valid, yesterday 1 of 1.
    yesterday = timezone.localdate() - timedelta(days=1)
    actions.compute_scores(account=account, by=team.platform_specialist, day=yesterday)
    assert computed(account, ScoreKind.ANSWER).score == Decimal("80.00")


def test_the_future_and_others_are_refused(team, account):
    with pytest.raises(InvalidInput):
        actions.compute_scores(
            account=account,
            by=team.platform_specialist,
            day=timezone.localdate() + timedelta(days=1),
        )
    with pytest.raises(NotPermitted):
        actions.compute_scores(account=account, by=team.dcc_agent)


def test_the_computed_score_below_the_line_raises_the_alert(team, account, worked_example):
    from platforms import selectors
    from platforms.models import PlatformAccount

    actions.compute_scores(account=account, by=team.platform_specialist)
    [standing] = selectors.alerts(team.dealer.pk, PlatformAccount.objects.all())
    assert [score.kind for score in standing.below] == [ScoreKind.ANSWER]


def test_the_upkeep_scores_yesterday_once_for_every_active_account(team, account, phones):
    from io import StringIO

    from django.core.management import call_command

    from tests.platforms.conftest import open_account

    open_account(team, platform="yiche", name="车易通")
    type(account).objects.filter(name="车易通").update(is_active=False)
    out = StringIO()
    call_command("tick", stdout=out)
    assert "1 platform account(s) scored for yesterday." in out.getvalue()
    score = computed(account, ScoreKind.ANSWER)
    assert (score.day, score.recorded_by, score.score) == (
        date(2026, 11, 17),
        None,
        Decimal("100.00"),  # no calls: full marks, as the platforms give
    )
    assert actions.compute_due() == 0
