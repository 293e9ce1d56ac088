"""The alert: an account's latest score under its threshold (at it holds)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from platforms import actions, selectors
from platforms.models import PlatformAccount
from platforms.permissions import visible_accounts

pytestmark = pytest.mark.django_db


def score(team, account, value: str, day: date = date(2026, 11, 18)):
    return actions.record_score(
        account=account, by=team.platform_specialist, day=day, score=Decimal(value)
    )


@pytest.mark.parametrize(
    ("value", "alert"), [("84.99", True), ("85", False), ("85.01", False), ("0", True)]
)
def test_at_below_and_above_the_threshold(team, account, value, alert):
    score(team, account, value)
    found = selectors.alerts(team.dealer.pk, PlatformAccount.objects.all())
    assert bool(found) is alert
    if alert:
        assert [s.score for s in found[0].below] == [Decimal(value)]


def test_the_latest_score_counts_by_day_then_by_when_recorded(team, account):
    score(team, account, "70", date(2026, 11, 17))
    score(team, account, "90", date(2026, 11, 16))  # late entry of an older day
    assert selectors.alerts(team.dealer.pk, PlatformAccount.objects.all())
    score(team, account, "60", date(2026, 11, 18))
    score(team, account, "88", date(2026, 11, 18))  # a correction of the same day
    assert not selectors.alerts(team.dealer.pk, PlatformAccount.objects.all())


def test_a_raised_threshold_raises_the_alert(team, account):
    score(team, account, "88")
    assert not selectors.alerts(team.dealer.pk, PlatformAccount.objects.all())
    account.platform = "yiche"
    actions.update_account(
        account=account,
        by=team.gm,
        name=account.name,
        channel=account.channel,
        specialist=account.specialist,
        threshold=Decimal("90"),
        is_active=True,
    )
    assert selectors.alerts(team.dealer.pk, PlatformAccount.objects.all())


def test_an_inactive_account_raises_none(team, account):
    score(team, account, "10")
    PlatformAccount.objects.update(is_active=False)
    assert not selectors.alerts(team.dealer.pk, PlatformAccount.objects.all())


def test_no_score_no_alert(team, account):
    assert not selectors.alerts(team.dealer.pk, visible_accounts(team.gm, team.dealer.pk))
