"""Creating and changing campaigns, field by field, and issuing capture codes."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from accounts.roles import Role
from calls.models import Line
from campaigns import campaigns
from campaigns.models import CaptureCode
from dcc.errors import InvalidInput, NotPermitted
from tests.campaigns.conftest import a_day, fields
from tests.factories import channel, member

pytestmark = pytest.mark.django_db


def test_a_new_campaign_has_its_own_code(team, show):
    codes = list(CaptureCode.objects.filter(campaign=show))
    assert len(codes) == 1 and codes[0].staff is None
    assert len(codes[0].code) == campaigns.CODE_LENGTH
    assert set(codes[0].code) <= set(campaigns.CODE_ALPHABET)
    assert (show.created_by, show.dealer, show.channel.code) == (
        team.marketing_manager,
        team.dealer,
        "car_show",
    )


def test_empty_wording_gets_the_standard_wording(team):
    made = campaigns.create_campaign(
        dealer=team.dealer, by=team.gm, fields=fields(team.dealer, consent_wording="  ")
    )
    assert team.dealer.name in made.consent_wording and "SMS" in made.consent_wording


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", "x" * 101),
        ("kind", "party"),
        ("starts_on", None),
        ("ends_on", None),
        ("ends_on", "before"),
        ("ends_on", "far"),
        ("channel", None),
        ("channel", "elsewhere"),
        ("line", "elsewhere"),
        ("budget", "-1"),
        ("cost", "abc"),
        ("cost", "1.234"),
        ("offer", "票" * 201),
        ("consent_wording", "意" * 1001),
        ("car_models", "\n".join(f"M{n}" for n in range(31))),
        ("car_models", "x" * 101),
    ],
)
def test_bad_input_is_refused_on_its_field(team, other_team, field, value):
    if value == "before":
        value = a_day(-2)
    elif value == "far":
        value = a_day(800)
    elif value == "elsewhere" and field == "channel":
        value = channel(other_team.dealer, "car_show")
    elif value == "elsewhere" and field == "line":
        value = Line.objects.create(
            dealer=other_team.dealer,
            number="4008001234",
            kind="campaign",
            channel=channel(other_team.dealer, "car_show"),
        )
    with pytest.raises(InvalidInput) as refused:
        campaigns.create_campaign(
            dealer=team.dealer, by=team.gm, fields=fields(team.dealer, **{field: value})
        )
    assert refused.value.field == field


def test_scripts_are_kept_as_text(team):
    made = campaigns.create_campaign(
        dealer=team.dealer,
        by=team.gm,
        fields=fields(team.dealer, name="<script>alert(1)</script>", offer="<b>票</b>"),
    )
    assert made.name == "<script>alert(1)</script>" and made.offer == "<b>票</b>"


@pytest.mark.parametrize("role", [Role.PLATFORM_SPECIALIST, Role.DCC_AGENT, Role.HEADQUARTERS])
def test_only_marketing_and_managers_run_campaigns(team, role, show):
    with pytest.raises(NotPermitted):
        campaigns.create_campaign(
            dealer=team.dealer, by=team.by_role(role), fields=fields(team.dealer)
        )
    with pytest.raises(NotPermitted):
        campaigns.issue_code(campaign=show, staff=team.consultant, by=team.by_role(role))


def test_editing_changes_the_fields_and_checks_them(team, show):
    campaigns.edit_campaign(
        campaign=show,
        by=team.sales_manager,
        fields=fields(team.dealer, cost=Decimal("15000.50"), ends_on=a_day(10)),
    )
    show.refresh_from_db()
    assert (show.cost, show.ends_on) == (Decimal("15000.50"), a_day(10))
    with pytest.raises(InvalidInput):
        campaigns.edit_campaign(
            campaign=show, by=team.gm, fields=fields(team.dealer, ends_on=a_day(-5))
        )


def test_a_staff_member_gets_one_code(team, show):
    first = campaigns.issue_code(campaign=show, staff=team.consultant, by=team.gm)
    again = campaigns.issue_code(campaign=show, staff=team.consultant, by=team.marketing_manager)
    assert first.pk == again.pk and first.staff == team.consultant
    other = campaigns.issue_code(campaign=show, staff=team.dcc_agent, by=team.gm)
    assert other.code != first.code
    assert CaptureCode.objects.filter(campaign=show).count() == 3


def test_codes_go_only_to_people_working_at_the_dealer(team, other_team, show):
    outsider = member(other_team.dealer, Role.CONSULTANT)
    for person in (outsider, team.headquarters):
        with pytest.raises(InvalidInput) as refused:
            campaigns.issue_code(campaign=show, staff=person, by=team.gm)
        assert refused.value.field == "staff"


def test_dates_are_days_not_instants(team):
    made = campaigns.create_campaign(
        dealer=team.dealer,
        by=team.gm,
        fields=fields(team.dealer, starts_on=a_day(0), ends_on=a_day(0)),
    )
    assert made.ends_on - made.starts_on == timedelta(0)
