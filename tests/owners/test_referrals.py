"""Referrals: a lead names an owner or member of its dealer by phone; the referral is credited
on the order and rewarded on delivery by the dealer's programme, level by level; a returned
car's rewards follow the programme's rule; bad referrers are refused with the reason."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dcc.errors import Conflict, InvalidInput, NotPermitted
from leads import actions
from leads.models import Event, EventKind
from owners import referrals
from owners.models import (
    Member,
    MemberProgram,
    PointsKind,
    ReferralReward,
    ReferralStatus,
    ReturnedCarRule,
    RewardKind,
    Vehicle,
)
from owners.vehicles import return_vehicle
from tests.factories import fresh_mobile, make_lead
from tests.owners.conftest import deliver

pytestmark = pytest.mark.django_db


def order_and_deliver(team, lead):
    now = timezone.now()
    lead = actions.record_arrival(lead=lead, by=team.consultant, at=now - timedelta(minutes=3))
    lead = actions.record_order(
        lead=lead, by=team.consultant, car_model="Model 3", at=now - timedelta(minutes=2)
    )
    return actions.record_delivery(lead=lead, by=team.consultant, at=now - timedelta(minutes=1))


def referral_steps(lead) -> list[str]:
    return [
        data["step"]
        for data in Event.objects.filter(lead=lead, kind=EventKind.REFERRED)
        .order_by("seq")
        .values_list("data", flat=True)
    ]


def points(customer) -> tuple[int, int]:
    member = Member.objects.get(customer=customer)
    return member.usable_points, member.lifetime_points


def test_found_by_phone_credited_on_order_rewarded_on_delivery(team, fixed_clock):
    owner = deliver(team).customer  # 1000 purchase points
    lead = make_lead(team.dealer, by=team.dcc_agent, owner=team.consultant)
    referrer = referrals.find_referrer(team.dealer.pk, owner.phone)
    referral = referrals.name_referrer(lead=lead, referrer=referrer, by=team.consultant)
    assert referral.status == ReferralStatus.NAMED
    lead = actions.record_arrival(lead=lead, by=team.consultant)
    lead = actions.record_order(lead=lead, by=team.consultant, car_model="Model 3")
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.CREDITED and referral.credited_at is not None
    assert points(owner) == (1000, 1000)  # credited is not yet rewarded
    actions.record_delivery(lead=lead, by=team.consultant)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.REWARDED
    assert points(owner) == (3000, 3000)
    assert referral_steps(lead) == ["named", "credited", "rewarded"]


def test_two_levels_up_by_the_programme(team, fixed_clock):
    MemberProgram.objects.create(dealer=team.dealer, level_rewards=[2000, 500])
    grandparent = deliver(team).customer
    parent_lead = make_lead(team.dealer, by=team.dcc_agent, owner=team.consultant)
    referrals.name_referrer(lead=parent_lead, referrer=grandparent, by=team.consultant)
    parent = order_and_deliver(team, parent_lead).customer
    assert points(grandparent) == (3000, 3000)
    child_lead = make_lead(team.dealer, by=team.dcc_agent, owner=team.consultant)
    referrals.name_referrer(lead=child_lead, referrer=parent, by=team.consultant)
    order_and_deliver(team, child_lead)
    assert points(parent) == (1000 + 2000, 3000)
    assert points(grandparent) == (3500, 3500)
    rewards = ReferralReward.objects.filter(referral__lead=child_lead).order_by("level")
    assert [(r.level, r.beneficiary_id, r.points) for r in rewards] == [
        (1, parent.pk, 2000),
        (2, grandparent.pk, 500),
    ]


def test_money_rewards_are_recorded_not_pointed(team, fixed_clock):
    MemberProgram.objects.create(
        dealer=team.dealer, reward_kind=RewardKind.MONEY, level_rewards=[800]
    )
    owner = deliver(team).customer
    lead = make_lead(team.dealer, by=team.dcc_agent, owner=team.consultant)
    referrals.name_referrer(lead=lead, referrer=owner, by=team.consultant)
    order_and_deliver(team, lead)
    reward = ReferralReward.objects.get(referral__lead=lead)
    assert (reward.points, reward.money) == (0, 800)
    assert points(owner) == (1000, 1000)


def test_naming_after_the_order_credits_at_once(team, fixed_clock):
    owner = deliver(team).customer
    lead = make_lead(team.dealer, by=team.dcc_agent, owner=team.consultant)
    lead = actions.record_arrival(lead=lead, by=team.consultant)
    lead = actions.record_order(lead=lead, by=team.consultant, car_model="Model 3")
    referral = referrals.name_referrer(lead=lead, referrer=owner, by=team.consultant)
    assert referral.status == ReferralStatus.CREDITED


def test_the_customer_themself_is_refused(team, fixed_clock):
    owner_lead = deliver(team)
    again = make_lead(team.dealer, by=team.dcc_agent, phone=owner_lead.customer.phone)
    with pytest.raises(InvalidInput) as refused:
        referrals.name_referrer(lead=again, referrer=again.customer, by=team.sales_manager)
    assert refused.value.code == "self_referral"


def test_an_owner_of_another_dealer_is_refused_with_the_reason(team, fixed_clock, other_team):
    theirs = deliver(other_team).customer
    with pytest.raises(InvalidInput) as refused:
        referrals.find_referrer(team.dealer.pk, theirs.phone)
    assert refused.value.code == "referrer_other_dealer"
    lead = make_lead(team.dealer, by=team.dcc_agent)
    with pytest.raises(InvalidInput) as refused:
        referrals.name_referrer(lead=lead, referrer=theirs, by=team.sales_manager)
    assert refused.value.code == "referrer_other_dealer"


def test_a_customer_who_never_bought_is_not_a_referrer(team, fixed_clock):
    prospect = make_lead(team.dealer, by=team.dcc_agent).customer
    with pytest.raises(InvalidInput) as refused:
        referrals.find_referrer(team.dealer.pk, prospect.phone)
    assert refused.value.code == "referrer_not_found"
    with pytest.raises(InvalidInput) as refused:
        referrals.find_referrer(team.dealer.pk, "12345")
    assert refused.value.field == "referrer_phone"
    with pytest.raises(InvalidInput):
        referrals.find_referrer(team.dealer.pk, fresh_mobile())


def test_a_second_referrer_and_a_delivered_lead_are_refused(team, fixed_clock):
    owner = deliver(team).customer
    lead = make_lead(team.dealer, by=team.dcc_agent, owner=team.consultant)
    referrals.name_referrer(lead=lead, referrer=owner, by=team.consultant)
    with pytest.raises(Conflict):
        referrals.name_referrer(lead=lead, referrer=owner, by=team.consultant)
    delivered = deliver(team)
    with pytest.raises(Conflict) as refused:
        referrals.name_referrer(lead=delivered, referrer=owner, by=team.sales_manager)
    assert refused.value.code == "lead_closed"


def test_who_may_name_a_referrer(team, fixed_clock):
    owner = deliver(team).customer
    lead = make_lead(team.dealer, by=team.dcc_agent, owner=team.consultant)
    for outsider in (team.headquarters, team.auditor, team.dcc_agent):
        with pytest.raises(NotPermitted):
            referrals.name_referrer(lead=lead, referrer=owner, by=outsider)
    referrals.name_referrer(lead=lead, referrer=owner, by=team.owner_ops)


@pytest.mark.parametrize("rule", [ReturnedCarRule.CLAW_BACK, ReturnedCarRule.KEEP])
def test_a_returned_referred_car_follows_the_rule(team, fixed_clock, rule):
    MemberProgram.objects.create(dealer=team.dealer, level_rewards=[2000], returned_car_rule=rule)
    owner = deliver(team).customer
    lead = make_lead(team.dealer, by=team.dcc_agent, owner=team.consultant)
    referral = referrals.name_referrer(lead=lead, referrer=owner, by=team.consultant)
    lead = order_and_deliver(team, lead)
    return_vehicle(vehicle=Vehicle.objects.get(lead=lead), by=team.owner_ops)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.VOID
    expected = 1000 if rule == ReturnedCarRule.CLAW_BACK else 3000
    assert points(owner)[0] == expected
    assert referral_steps(lead)[-1] == "void"
    assert Member.objects.get(customer=owner).entries.filter(
        kind=PointsKind.CLAWED_BACK
    ).exists() == (rule == ReturnedCarRule.CLAW_BACK)
