"""Test data: factories for tenancy and staff, and helpers that make leads through the real
actions (so every lead in a test has its ledger and tasks)."""

from __future__ import annotations

import itertools
from datetime import datetime

import factory

from accounts.models import Brand, Dealer, Membership, Region, Staff
from accounts.roles import Role
from leads import actions
from leads.models import Channel, Lead
from leads.setup.defaults import set_up_dealer

_mobiles = itertools.count(10_000_000)


def fresh_mobile() -> str:
    """A valid mobile number not used before in this test run."""
    return f"139{next(_mobiles):08d}"


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand
        django_get_or_create = ("code",)

    code = "brand"
    name = "Brand"


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("brand", "code")

    brand = factory.SubFactory(BrandFactory)
    code = "east"
    name = "East"


class DealerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dealer
        skip_postgeneration_save = True

    region = factory.SubFactory(RegionFactory)
    code = factory.Sequence(lambda n: f"D{n:03d}")
    name = factory.Sequence(lambda n: f"Dealer {n}")
    city = "上海"

    @factory.post_generation
    def defaults(obj: Dealer, create: bool, extracted, **kwargs) -> None:
        if create:
            set_up_dealer(obj)


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Staff
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    display_name = factory.Sequence(lambda n: f"员工{n}")
    password = factory.django.Password("pw-for-tests-1")


def member(dealer: Dealer, role: Role, **fields) -> Staff:
    """A new person holding `role` at `dealer`."""
    weight = fields.pop("weight", 1)
    staff = StaffFactory(**fields)
    Membership.objects.create(staff=staff, dealer=dealer, role=role, weight=weight)
    return staff


def channel(dealer: Dealer, code: str = "autohome") -> Channel:
    return Channel.objects.get(dealer=dealer, code=code)


def make_lead(
    dealer: Dealer,
    *,
    by: Staff | None = None,
    phone: str | None = None,
    channel_code: str = "autohome",
    owner: Staff | None = None,
    at: datetime | None = None,
    **fields,
) -> Lead:
    return actions.create_lead(
        dealer=dealer,
        phone=phone or fresh_mobile(),
        channel=channel(dealer, channel_code),
        by=by,
        owner=owner,
        at=at,
        **fields,
    ).lead
