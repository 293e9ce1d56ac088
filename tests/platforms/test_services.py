"""Accounts, the day's checklist and scores entered by hand (platforms.actions)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import SettingsChange
from dcc.errors import Conflict, InvalidInput, NotPermitted
from platforms import actions, selectors
from platforms.models import ChecklistTick, Platform, PlatformAccount, ScoreKind, ScoreSource
from tests.factories import channel
from tests.platforms.conftest import open_account

pytestmark = pytest.mark.django_db


def test_an_account_starts_with_its_platforms_line_and_the_default_checklist(team, account):
    assert account.threshold == Decimal("85")
    yiche = open_account(team, platform=Platform.YICHE, name="车易通")
    assert yiche.threshold == Decimal("90")
    names = [item.name for item in account.checklist_items.all()]
    assert names == [
        "Logged in to the platform",
        "Prices updated",
        "Articles published",
        "Promotion slots used",
        "Every lead handed over",
    ]
    assert SettingsChange.objects.filter(what="platform_account_created").count() == 2


def test_a_chosen_threshold_is_kept(team):
    assert open_account(team, threshold=Decimal("88.5")).threshold == Decimal("88.5")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "  "}, "name"),
        ({"platform": "tiktok"}, "platform"),
        ({"threshold": Decimal("101")}, "threshold"),
        ({"threshold": Decimal("-1")}, "threshold"),
    ],
)
def test_bad_account_fields_are_refused_on_their_field(team, fields, field):
    with pytest.raises(InvalidInput) as refused:
        open_account(team, **fields)
    assert refused.value.field == field
    assert not PlatformAccount.objects.exists()


def test_the_specialist_must_be_a_platform_specialist_there(team):
    with pytest.raises(InvalidInput) as refused:
        open_account(team, specialist=team.dcc_agent)
    assert refused.value.field == "specialist"


def test_the_channel_must_be_the_dealers(team, other_team):
    with pytest.raises(InvalidInput) as refused:
        actions.create_account(
            dealer=team.dealer,
            by=team.gm,
            platform=Platform.AUTOHOME,
            name="车商汇",
            channel=channel(other_team.dealer),
        )
    assert refused.value.field == "channel"


def test_one_name_per_platform(team, account):
    with pytest.raises(Conflict):
        open_account(team)


@pytest.mark.parametrize("role", ["platform_specialist", "dcc_supervisor", "consultant"])
def test_only_the_marketing_manager_and_the_gm_set_accounts_up(team, role):
    with pytest.raises(NotPermitted):
        actions.create_account(
            dealer=team.dealer,
            by=team.by_role(role),
            platform=Platform.AUTOHOME,
            name="车商汇",
            channel=channel(team.dealer),
        )


def test_the_specialist_ticks_today_and_may_take_it_back(team, account, fixed_clock):
    item = account.checklist_items.first()
    first = actions.tick(item=item, by=team.platform_specialist)
    assert actions.tick(item=item, by=team.platform_specialist) == first  # once a day
    assert first.day == date(2026, 11, 18)
    assert first.ticked_by == team.platform_specialist
    [standing] = selectors.standings(PlatformAccount.objects.all())
    assert standing.done_today == 1
    actions.untick(item=item, by=team.platform_specialist)
    [standing] = selectors.standings(PlatformAccount.objects.all())
    assert standing.done_today == 0
    taken_back = ChecklistTick.objects.get()
    assert taken_back.unticked_by == team.platform_specialist
    actions.tick(item=item, by=team.platform_specialist)
    assert ChecklistTick.objects.count() == 2


def test_the_day_is_the_dealers_local_day(team, account, fixed_clock):
    # 00:30 in Shanghai is still the day before in UTC.
    fixed_clock.move_to(datetime.fromisoformat("2026-12-01T00:30:00+08:00"))
    tick = actions.tick(item=account.checklist_items.first(), by=team.platform_specialist)
    assert tick.day == date(2026, 12, 1)


def test_yesterdays_ticks_stand_and_today_starts_empty(team, account, fixed_clock):
    item = account.checklist_items.first()
    actions.tick(item=item, by=team.platform_specialist)
    fixed_clock.move_to(timezone.now() + timedelta(days=1))
    actions.untick(item=item, by=team.platform_specialist)  # today's: there is none
    assert ChecklistTick.objects.get().unticked_at is None
    [standing] = selectors.standings(PlatformAccount.objects.all())
    assert standing.done_today == 0
    assert [(d.done, d.items) for d in standing.history[:2]] == [(0, 5), (1, 5)]
    assert standing.history[1].percent == 20


@pytest.mark.parametrize("role", ["dcc_supervisor", "gm", "dcc_agent"])
def test_those_who_oversee_do_not_tick(team, account, role):
    with pytest.raises(NotPermitted):
        actions.tick(item=account.checklist_items.first(), by=team.by_role(role))


def test_the_marketing_manager_covers_for_the_specialist(team, account):
    actions.tick(item=account.checklist_items.first(), by=team.marketing_manager)


def test_another_specialist_does_not_tick_this_account(team, account):
    from accounts.roles import Role
    from tests.factories import member

    colleague = member(team.dealer, Role.PLATFORM_SPECIALIST)
    with pytest.raises(NotPermitted):
        actions.tick(item=account.checklist_items.first(), by=colleague)


def test_an_item_added_counts_and_a_removed_one_leaves_today(team, account):
    added = actions.add_item(account=account, by=team.marketing_manager, label="直播已开")
    assert added.name == "直播已开"
    actions.remove_item(item=account.checklist_items.first(), by=team.marketing_manager)
    [standing] = selectors.standings(PlatformAccount.objects.all())
    assert [line.item.name for line in standing.lines][-1] == "直播已开"
    assert len(standing.lines) == 5
    with pytest.raises(InvalidInput):
        actions.add_item(account=account, by=team.marketing_manager, label=" ")


def test_a_score_is_recorded_with_who_and_when(team, account):
    score = actions.record_score(
        account=account, by=team.platform_specialist, day=date(2026, 11, 17), score=Decimal("82")
    )
    assert (score.kind, score.source, score.recorded_by) == (
        ScoreKind.PLATFORM,
        ScoreSource.ENTERED,
        team.platform_specialist,
    )


@pytest.mark.parametrize(
    ("day", "score", "field"),
    [
        (date(2026, 11, 19), Decimal("80"), "day"),  # tomorrow
        (date(2026, 11, 18), Decimal("100.01"), "score"),
        (date(2026, 11, 18), Decimal("-0.5"), "score"),
        (date(2026, 11, 18), Decimal("80.123"), "score"),
        (date(2026, 11, 18), "eighty", "score"),
    ],
)
def test_a_bad_score_is_refused_on_its_field(team, account, day, score, field):
    with pytest.raises(InvalidInput) as refused:
        actions.record_score(account=account, by=team.platform_specialist, day=day, score=score)
    assert refused.value.field == field


def test_today_and_the_bounds_are_accepted(team, account):
    for value in ("0", "100"):
        actions.record_score(
            account=account,
            by=team.platform_specialist,
            day=date(2026, 11, 18),
            score=Decimal(value),
        )
