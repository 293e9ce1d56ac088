"""Referrals (转介绍): a lead names the owner or member who sent them, found by phone at the
same dealer; the referral is credited when the lead orders and rewarded when its car is
delivered, by the dealer's programme (points or money, for the referrer and — when the
programme says — whoever referred them, level by level). A returned car's rewards are taken
back or kept by the programme's rule. Each step is a fact in the lead's ledger, so the lead's
history shows who referred it and what was paid.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Staff
from dcc.errors import Conflict, InvalidInput, NotPermitted
from dcc.phone import PhoneError, normalise_phone
from leads import actions
from leads.ledger import Entry
from leads.models import Customer, EventKind, Lead
from leads.stages import EXIT_STAGES, Stage
from owners import members
from owners.models import (
    Member,
    OwnerEvent,
    PointsKind,
    Referral,
    ReferralReward,
    ReferralSource,
    ReferralStatus,
    ReturnedCarRule,
    RewardKind,
    Vehicle,
)
from owners.permissions import may_name_referrer

# A chain of referrers is followed this far up at most (a programme may pay fewer levels).
MAX_LEVELS = 5


class Step:
    """What a referral's ledger fact says happened (its data's `step`)."""

    NAMED = "named"
    CREDITED = "credited"
    REWARDED = "rewarded"
    VOID = "void"


def is_owner_or_member(dealer_id: int) -> Q:
    """Customers of the dealer who may refer: an owner of a car it delivered, or a member."""
    return Q(dealer_id=dealer_id) & (
        Exists(Vehicle.objects.filter(owner_id=OuterRef("pk"), dealer_id=dealer_id))
        | Exists(Member.objects.filter(customer_id=OuterRef("pk"), dealer_id=dealer_id))
    )


def find_referrer(dealer_id: int, phone: str) -> Customer:
    """The owner or member with this number at the dealer, or InvalidInput saying why not."""
    try:
        number = normalise_phone(phone).number
    except PhoneError as error:
        raise InvalidInput(error.message, field="referrer_phone", code="bad_phone") from None
    found = Customer.objects.filter(is_owner_or_member(dealer_id), phone=number).first()
    if found is not None:
        return found
    elsewhere = (
        Customer.objects.filter(phone=number)
        .exclude(dealer_id=dealer_id)
        .filter(Exists(Vehicle.objects.filter(owner_id=OuterRef("pk"))))
        .exists()
    )
    if elsewhere:
        raise InvalidInput(
            _(
                "This number is an owner of another dealer: a referrer must be an owner or "
                "member of this dealer."
            ),
            field="referrer_phone",
            code="referrer_other_dealer",
        )
    raise InvalidInput(
        _("No owner or member of this dealer has this number."),
        field="referrer_phone",
        code="referrer_not_found",
    )


def name_referrer(
    *,
    lead: Lead,
    referrer: Customer,
    by: Staff | None,
    at: datetime | None = None,
    source: str = ReferralSource.LEAD,
    event: OwnerEvent | None = None,
) -> Referral:
    """Credit `lead` to `referrer`. Refused for the customer themself, a referrer of another
    dealer, a lead already referred or already delivered or closed; a lead that has ordered is
    credited at once. `by` None: the product (an event guest checked in)."""
    if by is not None and not may_name_referrer(by, lead):
        raise NotPermitted(_("You may not name this lead's referrer."))
    if referrer.dealer_id != lead.dealer_id:
        raise InvalidInput(
            _("A referrer must be an owner or member of this dealer."),
            field="referrer_phone",
            code="referrer_other_dealer",
        )
    if referrer.pk == lead.customer_id:
        raise InvalidInput(
            _("A customer cannot refer themself."), field="referrer_phone", code="self_referral"
        )
    if not Customer.objects.filter(is_owner_or_member(lead.dealer_id), pk=referrer.pk).exists():
        raise InvalidInput(
            _("No owner or member of this dealer has this number."),
            field="referrer_phone",
            code="referrer_not_found",
        )
    if lead.stage == Stage.DELIVERED or lead.stage in EXIT_STAGES:
        raise Conflict(
            _("The referrer is named while the lead is open; this one is %(stage)s.")
            % {"stage": Stage(lead.stage).label},
            code="lead_closed",
        )
    at = at or timezone.now()
    try:
        with transaction.atomic():
            referral = Referral.objects.create(
                dealer_id=lead.dealer_id,
                lead=lead,
                referrer=referrer,
                source=source,
                event=event,
                named_at=at,
                named_by=by,
            )
            record_named(referral)
            if lead.first_ordered_at is not None:
                _credit(referral, at=at)
    except IntegrityError:
        raise Conflict(
            _("This lead's referrer is already named."), code="referrer_already_named"
        ) from None
    return referral


def record_named(referral: Referral) -> None:
    """The naming's fact in the lead's ledger."""
    _fact(referral, Step.NAMED, by=referral.named_by, at=referral.named_at)


def made_by(customer: Customer) -> QuerySet[Referral]:
    """The referrals a customer made, newest first, with the referred customers."""
    return (
        Referral.objects.filter(dealer_id=customer.dealer_id, referrer=customer)
        .select_related("lead__customer")
        .order_by("-named_at")
    )


def referral_of(lead: Lead) -> Referral | None:
    return Referral.objects.filter(lead_id=lead.pk).select_related("referrer").first()


# ---------------------------------------------------------------- followers of the ledger


def on_order(lead: Lead, entry: Entry) -> None:
    """leads.followers: an order credits the lead's referrer."""
    referral = Referral.objects.filter(lead_id=lead.pk, status=ReferralStatus.NAMED).first()
    if referral is not None:
        _credit(referral, at=entry.at)


def on_delivery(lead: Lead, entry: Entry) -> None:
    """leads.followers: a delivery rewards the chain of referrers, by the programme, once."""
    referral = (
        Referral.objects.filter(
            lead_id=lead.pk, status__in=(ReferralStatus.NAMED, ReferralStatus.CREDITED)
        )
        .select_related("referrer")
        .first()
    )
    if referral is None:
        return
    if referral.status == ReferralStatus.NAMED:  # an order imported without its event
        _credit(referral, at=entry.at)
    programme = members.programme(lead.dealer_id)
    paid = []
    for level, (beneficiary, amount) in enumerate(
        zip(_chain(referral), programme.level_rewards, strict=False), start=1
    ):
        if amount <= 0:
            continue
        paid.append(_reward(referral, level, beneficiary, amount, programme.reward_kind, entry.at))
    referral.status, referral.rewarded_at = ReferralStatus.REWARDED, entry.at
    referral.save(update_fields=["status", "rewarded_at"])
    _fact(referral, Step.REWARDED, by=None, at=entry.at, rewards=paid)


def on_return(vehicle: Vehicle, *, by: Staff, at: datetime) -> None:
    """A referred car returned: the referral is void, its rewards taken back when the
    programme says so (points as far as still usable; money marked to be recovered)."""
    referral = Referral.objects.filter(lead_id=vehicle.lead_id).first()
    if referral is None or referral.status == ReferralStatus.VOID:
        return
    claw_back = members.programme(vehicle.dealer_id).returned_car_rule == ReturnedCarRule.CLAW_BACK
    if claw_back:
        for reward in referral.rewards.filter(clawed_back_at=None).select_related("beneficiary"):
            member = members.member_of(reward.beneficiary)
            if reward.points and member is not None:
                members.take_back(
                    member=member,
                    points=reward.points,
                    at=at,
                    by=by,
                    key=f"referral-back:{referral.pk}:{reward.level}",
                    note=_("Referred car returned"),
                )
            reward.clawed_back_at = at
            reward.save(update_fields=["clawed_back_at"])
    referral.status, referral.voided_at = ReferralStatus.VOID, at
    referral.void_reason = _("Car returned")
    referral.save(update_fields=["status", "voided_at", "void_reason"])
    _fact(referral, Step.VOID, by=by, at=at, taken_back=claw_back)


# ---------------------------------------------------------------- inside


def _credit(referral: Referral, *, at: datetime) -> None:
    referral.status, referral.credited_at = ReferralStatus.CREDITED, at
    referral.save(update_fields=["status", "credited_at"])
    _fact(referral, Step.CREDITED, by=None, at=at)


def _chain(referral: Referral) -> list[Customer]:
    """The referrer, then who referred the referrer's own purchase, and so on up (each person
    once: a loop in the data ends the chain)."""
    chain = [referral.referrer]
    referred = referral.lead.customer_id
    while len(chain) < MAX_LEVELS:
        above = (
            Referral.objects.filter(
                dealer_id=referral.dealer_id,
                lead__customer_id=chain[-1].pk,
                status__in=(ReferralStatus.CREDITED, ReferralStatus.REWARDED),
            )
            .select_related("referrer")
            .order_by("named_at", "pk")
            .first()
        )
        if above is None or above.referrer in chain or above.referrer_id == referred:
            break
        chain.append(above.referrer)
    return chain


def _reward(
    referral: Referral, level: int, beneficiary: Customer, amount: int, kind: str, at: datetime
) -> dict:
    reward, made = ReferralReward.objects.get_or_create(
        referral=referral,
        level=level,
        defaults={
            "dealer_id": referral.dealer_id,
            "beneficiary": beneficiary,
            "points": amount if kind == RewardKind.POINTS else 0,
            "money": Decimal(amount) if kind == RewardKind.MONEY else Decimal(0),
            "at": at,
        },
    )
    if made and reward.points:
        member = members.join(customer=beneficiary, by=None, at=at)
        members.earn(
            member=member,
            kind=PointsKind.REFERRAL,
            points=reward.points,
            at=at,
            key=f"referral:{referral.pk}:{level}",
            note=_("Referral, level %(level)d") % {"level": level},
        )
    return {
        "level": level,
        "customer": beneficiary.pk,
        "points": reward.points,
        "money": str(reward.money),
    }


def _fact(referral: Referral, step: str, *, by: Staff | None, at: datetime, **data) -> None:
    actions.record_fact(
        lead=referral.lead,
        by=by,
        at=at,
        kind=EventKind.REFERRED,
        data={"step": step, "referral": referral.pk, "referrer": referral.referrer_id, **data},
    )
