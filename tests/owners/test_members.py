"""Members' points: a delivery enrols the owner and credits the purchase once; the ledger's
lines add up to the balances; redemptions never overdraw; idle points expire; tiers follow
lifetime points, which redeeming never lowers; a returned car's purchase points go back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dcc.errors import InvalidInput, NotPermitted
from leads.batch import Batch
from owners import members
from owners.models import Member, MemberProgram, PointsEntry, PointsKind, Vehicle
from owners.vehicles import return_vehicle
from tests.factories import channel, fresh_mobile
from tests.owners.conftest import deliver

pytestmark = pytest.mark.django_db


def balance_from_ledger(member: Member) -> int:
    return sum(PointsEntry.objects.filter(member=member).values_list("points", flat=True))


def test_a_delivery_enrols_the_owner_and_credits_the_purchase_once(team, fixed_clock):
    lead = deliver(team)
    member = Member.objects.get(customer=lead.customer)
    assert (member.usable_points, member.lifetime_points) == (1000, 1000)
    assert member.card_number.startswith("VIP")
    assert str(member.tier) == "Standard"
    # Told again (a replay of the follower): nothing more.
    members.on_delivery(lead, type("E", (), {"at": timezone.now()})())
    member.refresh_from_db()
    assert member.usable_points == 1000
    assert PointsEntry.objects.filter(member=member, kind=PointsKind.PURCHASE).count() == 1


def test_a_batch_delivery_enrols_the_owner_too(team, fixed_clock):
    phone = fresh_mobile()
    batch = Batch(team.dealer)
    batch.begin(phones=[phone], external_ids=[(channel(team.dealer).pk, "")], size=4)
    with batch.row():
        deliver(team, phone=phone, executor=batch)
    batch.write()
    member = Member.objects.get(customer__phone=phone)
    assert (member.usable_points, member.lifetime_points) == (1000, 1000)


def test_redeeming_more_than_usable_is_refused_and_nothing_changes(team, fixed_clock):
    member = Member.objects.get(customer=deliver(team).customer)
    with pytest.raises(InvalidInput) as refused:
        members.redeem(member=member, points=1001, by=team.owner_ops)
    assert refused.value.field == "points"
    assert "1000" in refused.value.message
    member.refresh_from_db()
    assert member.usable_points == 1000
    members.redeem(member=member, points=400, by=team.owner_ops, note="保养券")
    member.refresh_from_db()
    assert (member.usable_points, member.lifetime_points) == (600, 1000)
    assert balance_from_ledger(member) == 600
    assert PointsEntry.objects.filter(member=member).order_by("pk").last().usable_after == 600


@pytest.mark.parametrize("typed", ["0", "-5", "abc", "", "1.5", "99999999999"])
def test_bad_point_numbers_are_refused_with_the_field(team, fixed_clock, typed):
    member = Member.objects.get(customer=deliver(team).customer)
    with pytest.raises(InvalidInput) as refused:
        members.redeem(member=member, points=typed, by=team.owner_ops)
    assert refused.value.field == "points"


def test_only_owner_operations_and_managers_redeem(team, fixed_clock):
    member = Member.objects.get(customer=deliver(team).customer)
    with pytest.raises(NotPermitted):
        members.redeem(member=member, points=10, by=team.dcc_agent)


def test_idle_points_expire_dated_when_they_expired_and_lifetime_stays(team, fixed_clock):
    MemberProgram.objects.create(dealer=team.dealer, idle_days=30)
    member = Member.objects.get(customer=deliver(team).customer)
    joined = member.active_at
    fixed_clock.move_to(joined + timedelta(days=29))
    assert members.expire_idle(now=timezone.now()) == 0
    fixed_clock.move_to(joined + timedelta(days=31))
    assert members.expire_idle(now=timezone.now()) == 1
    member.refresh_from_db()
    assert (member.usable_points, member.lifetime_points) == (0, 1000)
    expired = PointsEntry.objects.get(member=member, kind=PointsKind.EXPIRED)
    assert (expired.points, expired.at) == (-1000, joined + timedelta(days=30))
    assert members.expire_idle(now=timezone.now()) == 0  # once


def test_points_earned_on_an_idle_card_expire_the_old_ones_first(team, fixed_clock):
    MemberProgram.objects.create(dealer=team.dealer, idle_days=30)
    member = Member.objects.get(customer=deliver(team).customer)
    later = member.active_at + timedelta(days=40)
    members.earn(member=member, kind=PointsKind.SERVICE, points=50, at=later, key="ro:1")
    member.refresh_from_db()
    assert (member.usable_points, member.lifetime_points) == (50, 1050)
    assert balance_from_ledger(member) == 50


def test_tiers_follow_lifetime_points_and_redeeming_never_demotes(team, fixed_clock):
    member = Member.objects.get(customer=deliver(team).customer)
    members.earn(
        member=member, kind=PointsKind.ADJUSTMENT, points=4500, at=timezone.now(), key="a:1"
    )
    assert str(member.tier) == "Silver"
    members.redeem(member=member, points=5000, by=team.owner_ops)
    member.refresh_from_db()
    assert (member.usable_points, str(member.tier)) == (500, "Silver")


def test_an_award_with_a_key_happens_once(team, fixed_clock):
    member = Member.objects.get(customer=deliver(team).customer)
    first = members.earn(
        member=member, kind=PointsKind.SERVICE, points=50, at=timezone.now(), key="ro:7"
    )
    again = members.earn(
        member=member, kind=PointsKind.SERVICE, points=50, at=timezone.now(), key="ro:7"
    )
    assert first is not None and again is None
    member.refresh_from_db()
    assert member.usable_points == 1050


def test_a_returned_car_takes_back_the_purchase_points_left_never_below_zero(team, fixed_clock):
    lead = deliver(team)
    member = Member.objects.get(customer=lead.customer)
    members.redeem(member=member, points=700, by=team.owner_ops)
    return_vehicle(vehicle=Vehicle.objects.get(lead=lead), by=team.owner_ops)
    member.refresh_from_db()
    assert (member.usable_points, member.lifetime_points) == (0, 0)
    assert balance_from_ledger(member) == 0
    taken = PointsEntry.objects.get(member=member, kind=PointsKind.CLAWED_BACK)
    assert taken.points == -300
