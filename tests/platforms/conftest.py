"""Platform operations' fixtures: the dealer's 车商汇 account run by its platform specialist."""

from __future__ import annotations

import pytest

from platforms import actions
from platforms.models import Platform, PlatformAccount
from tests.factories import channel

CHANNELS = {Platform.AUTOHOME, Platform.YICHE, Platform.DONGCHEDI}


def open_account(team, *, platform: str = Platform.AUTOHOME, name: str = "车商汇", **fields):
    return actions.create_account(
        dealer=team.dealer,
        by=team.marketing_manager,
        platform=platform,
        name=name,
        channel=channel(team.dealer, platform if platform in CHANNELS else "autohome"),
        specialist=fields.pop("specialist", team.platform_specialist),
        **fields,
    )


@pytest.fixture
def account(team) -> PlatformAccount:
    return open_account(team)
