"""Members (会员): an owner's card, tiers by lifetime points, and the points ledger.

Every change of a balance is a line of the member's ledger (PointsEntry) written with the new
balance under the member's row lock, so the lines add up to the balances. Usable points are
earned less redeemed, expired and taken back, and never below zero: a redemption larger than
the balance is refused, a take-back takes what is left. Lifetime points count what was earned
(less what was taken back) and place the member in a tier; redeeming never demotes. Usable
points expire whole when a member has neither earned nor redeemed for the programme's idle
days (`expire_idle`, from `dcc tick`, and before any change of the member's balance).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.audit import record_change
from accounts.models import Dealer, Staff
from accounts.roles import check_configure
from dcc.errors import InvalidInput, NotPermitted
from leads.ledger import Entry
from leads.models import Customer, Lead
from owners.models import (
    EARNING_KINDS,
    Member,
    MemberProgram,
    MemberTier,
    PointsEntry,
    PointsKind,
    RewardKind,
    Vehicle,
)
from owners.permissions import works_owners

# A dealer's tiers until it sets its own (names stored in English, shown translated).
DEFAULT_TIERS = (
    (gettext_noop("Standard"), 0),
    (gettext_noop("Silver"), 5_000),
    (gettext_noop("Gold"), 20_000),
    (gettext_noop("Platinum"), 50_000),
)
# The referral reward of each level up the chain: the referrer, then whoever referred them.
DEFAULT_LEVEL_REWARDS = (2_000, 500)
MAX_POINTS = 10_000_000  # one line of the ledger: a typo's extra zeros stop here


@dataclass(frozen=True)
class Programme:
    purchase_points: int
    event_points: int
    service_points: int
    idle_days: int
    reward_kind: str
    level_rewards: tuple[int, ...]
    returned_car_rule: str


def programme(dealer_id: int) -> Programme:
    """The dealer's member programme, or the defaults."""
    stored = MemberProgram.objects.filter(dealer_id=dealer_id).first() or MemberProgram(
        dealer_id=dealer_id, level_rewards=list(DEFAULT_LEVEL_REWARDS)
    )
    return Programme(
        purchase_points=stored.purchase_points,
        event_points=stored.event_points,
        service_points=stored.service_points,
        idle_days=stored.idle_days,
        reward_kind=stored.reward_kind,
        level_rewards=tuple(int(n) for n in stored.level_rewards),
        returned_car_rule=stored.returned_car_rule,
    )


def tiers(dealer_id: int) -> list[MemberTier]:
    """The dealer's tiers, lowest first; the defaults are stored on first use."""
    found = list(MemberTier.objects.filter(dealer_id=dealer_id))
    if found:
        return found
    for name, min_points in DEFAULT_TIERS:
        try:
            with transaction.atomic():
                MemberTier.objects.create(dealer_id=dealer_id, name=name, min_points=min_points)
        except IntegrityError:  # another request stored them first
            pass
    return list(MemberTier.objects.filter(dealer_id=dealer_id))


def tier_for(lifetime_points: int, dealer_tiers: list[MemberTier]) -> MemberTier | None:
    reached = [tier for tier in dealer_tiers if tier.min_points <= lifetime_points]
    return reached[-1] if reached else None


def card_number(customer: Customer) -> str:
    # Unique because a customer has one card at a dealer; no counter to race on.
    return f"VIP{customer.pk:08d}"


def member_of(customer: Customer) -> Member | None:
    return Member.objects.filter(dealer_id=customer.dealer_id, customer=customer).first()


def join(
    *,
    customer: Customer,
    by: Staff | None,
    at: datetime | None = None,
    vehicle: Vehicle | None = None,
) -> Member:
    """The customer's card (made now, or the one they have). `by` None: the product itself (a
    delivery, a referral reward)."""
    if by is not None and not works_owners(by, customer.dealer_id):
        raise NotPermitted(_("Only owner operations and managers enrol members."))
    found = member_of(customer)
    if found is not None:
        return found
    at = at or timezone.now()
    try:
        with transaction.atomic():
            return Member.objects.create(
                dealer_id=customer.dealer_id,
                customer=customer,
                vehicle=vehicle,
                card_number=card_number(customer),
                tier=tier_for(0, tiers(customer.dealer_id)),
                joined_at=at,
                joined_by=by,
                active_at=at,
            )
    except IntegrityError:  # joined at the same moment elsewhere
        return Member.objects.get(dealer_id=customer.dealer_id, customer=customer)


def points_in(value: object, *, field: str = "points") -> int:
    """A number of points typed or sent: a whole number from 1 up."""
    try:
        points = int(str(value).strip())
    except (TypeError, ValueError):
        message = _("Points are a whole number.")
        raise InvalidInput(message, field=field, code="bad_points") from None
    if not 1 <= points <= MAX_POINTS:
        raise InvalidInput(
            _("Enter from 1 to %(max)d points.") % {"max": MAX_POINTS},
            field=field,
            code="bad_points",
        )
    return points


def earn(
    *,
    member: Member,
    kind: str,
    points: int,
    at: datetime,
    by: Staff | None = None,
    key: str = "",
    note: str = "",
) -> PointsEntry | None:
    """Credit `points`; None when `key` was credited before (an award happens once)."""
    if kind not in EARNING_KINDS:
        raise InvalidInput(_("Points are not earned this way."), field="kind")
    points = points_in(points)
    with transaction.atomic():
        locked = _locked(member, at)
        if key and PointsEntry.objects.filter(dealer_id=locked.dealer_id, key=key).exists():
            return None
        locked.usable_points += points
        locked.lifetime_points += points
        entry = _write(locked, kind, points, at, by, key, note)
    _refresh(member, locked)
    return entry


def redeem(
    *, member: Member, points: object, by: Staff, at: datetime | None = None, note: str = ""
) -> PointsEntry:
    """Spend usable points (a gift, a service voucher): refused when more than the balance."""
    if not works_owners(by, member.dealer_id):
        raise NotPermitted(_("Only owner operations and managers redeem points."))
    points = points_in(points)
    at = at or timezone.now()
    with transaction.atomic():
        locked = _locked(member, at)
        if points > locked.usable_points:
            raise InvalidInput(
                _("Only %(usable)d points are usable; %(asked)d cannot be redeemed.")
                % {"usable": locked.usable_points, "asked": points},
                field="points",
                code="not_enough_points",
            )
        locked.usable_points -= points
        entry = _write(locked, PointsKind.REDEEMED, -points, at, by, "", note)
    _refresh(member, locked)
    return entry


def take_back(
    *, member: Member, points: int, at: datetime, by: Staff | None, key: str, note: str
) -> PointsEntry | None:
    """Undo an award (a returned car): as many of `points` as are still usable — the rest was
    spent, and a balance never goes below zero. None when nothing was left or `key` was taken
    back before."""
    with transaction.atomic():
        locked = _locked(member, at)
        if PointsEntry.objects.filter(dealer_id=locked.dealer_id, key=key).exists():
            return None
        taken = min(points, locked.usable_points)
        locked.lifetime_points -= min(points, locked.lifetime_points)
        if not taken:
            locked.tier = tier_for(locked.lifetime_points, tiers(locked.dealer_id))
            locked.save(update_fields=["lifetime_points", "tier"])
            _refresh(member, locked)
            return None
        locked.usable_points -= taken
        entry = _write(locked, PointsKind.CLAWED_BACK, -taken, at, by, key, note)
    _refresh(member, locked)
    return entry


def expire_idle(*, now: datetime, dealer_id: int | None = None) -> int:
    """Expire the usable points of every member idle past their programme's days; how many
    members lost points."""
    dealers = Member.objects.filter(usable_points__gt=0).values_list("dealer_id", flat=True)
    if dealer_id is not None:
        dealers = dealers.filter(dealer_id=dealer_id)
    expired = 0
    for dealer in sorted(set(dealers)):
        idle = timedelta(days=programme(dealer).idle_days)
        idle_members = Member.objects.filter(
            dealer_id=dealer, usable_points__gt=0, active_at__lte=now - idle
        )
        for member_id in idle_members.values_list("pk", flat=True).order_by("pk"):
            with transaction.atomic():
                locked = Member.objects.select_for_update().get(pk=member_id)
                expired += _expire_if_idle(locked, now)
    return expired


def ledger(member: Member) -> QuerySet[PointsEntry]:
    return member.entries.select_related("by").order_by("-at", "-pk")


# ---------------------------------------------------------------- followers of the ledger


def on_delivery(lead: Lead, entry: Entry) -> None:
    """leads.followers: the new owner gets their card (if they had none) and the purchase's
    points, once per sale."""
    vehicle = Vehicle.objects.filter(dealer_id=lead.dealer_id, lead_id=lead.pk).first()
    member = join(customer=lead.customer, by=None, at=entry.at, vehicle=vehicle)
    points = programme(lead.dealer_id).purchase_points
    if points:
        earn(
            member=member,
            kind=PointsKind.PURCHASE,
            points=points,
            at=entry.at,
            key=purchase_key(lead.pk),
            note=vehicle.car_model if vehicle else "",
        )


def purchase_key(lead_id: int) -> str:
    return f"purchase:{lead_id}"


def on_return(vehicle: Vehicle, *, by: Staff, at: datetime) -> None:
    """A returned car's purchase points are taken back (as far as they are still usable)."""
    member = member_of(vehicle.owner)
    award = PointsEntry.objects.filter(
        dealer_id=vehicle.dealer_id, key=purchase_key(vehicle.lead_id)
    ).first()
    if member is None or award is None:
        return
    take_back(
        member=member,
        points=award.points,
        at=at,
        by=by,
        key=f"returned:{vehicle.lead_id}",
        note=_("Car returned"),
    )


def reward_kind_is_points(dealer_id: int) -> bool:
    return programme(dealer_id).reward_kind == RewardKind.POINTS


# ---------------------------------------------------------------- inside


def _locked(member: Member, at: datetime) -> Member:
    """The member's row, locked, with idle points expired as of `at`."""
    locked = Member.objects.select_for_update().get(pk=member.pk)
    _expire_if_idle(locked, at)
    return locked


def _expire_if_idle(member: Member, at: datetime) -> bool:
    """Expire the (locked) member's usable points when idle as of `at`: dated when they
    expired, which needs no daily run to be right."""
    idle = timedelta(days=programme(member.dealer_id).idle_days)
    if not member.usable_points or member.active_at > at - idle:
        return False
    lost, member.usable_points = member.usable_points, 0
    note = _("No points earned or redeemed for %(days)d days") % {"days": idle.days}
    _write(member, PointsKind.EXPIRED, -lost, member.active_at + idle, None, "", note, active=False)
    return True


def _write(
    member: Member,
    kind: str,
    points: int,
    at: datetime,
    by: Staff | None,
    key: str,
    note: str,
    *,
    active: bool = True,
) -> PointsEntry:
    """The ledger line and the member's new balances (the caller holds the row lock)."""
    if active:
        member.active_at = max(member.active_at, at)
    member.tier = tier_for(member.lifetime_points, tiers(member.dealer_id))
    member.save(update_fields=["usable_points", "lifetime_points", "tier", "active_at"])
    return PointsEntry.objects.create(
        dealer_id=member.dealer_id,
        member=member,
        at=at,
        kind=kind,
        points=points,
        usable_after=member.usable_points,
        note=note[:200],
        by=by,
        key=key,
    )


def _refresh(member: Member, locked: Member) -> None:
    for field in ("usable_points", "lifetime_points", "tier", "tier_id", "active_at"):
        setattr(member, field, getattr(locked, field))


def record_service_visit(
    *, member: Member, repair_order: str, by: Staff, at: datetime | None = None
) -> PointsEntry:
    """The programme's points for a visit to the workshop, once per repair order."""
    if not works_owners(by, member.dealer_id):
        raise NotPermitted(_("Only owner operations and managers credit points."))
    repair_order = repair_order.strip()
    if not repair_order:
        raise InvalidInput(_("Enter the repair order number."), field="repair_order")
    points = programme(member.dealer_id).service_points
    if not points:
        raise InvalidInput(
            _("The member programme gives no points for service visits."), field="repair_order"
        )
    entry = earn(
        member=member,
        kind=PointsKind.SERVICE,
        points=points,
        at=at or timezone.now(),
        by=by,
        key=f"service:{repair_order[:48]}",
        note=repair_order,
    )
    if entry is None:
        raise InvalidInput(
            _("Repair order %(number)s was credited before.") % {"number": repair_order},
            field="repair_order",
            code="already_credited",
        )
    return entry


def adjust(*, member: Member, points: object, note: str, by: Staff) -> PointsEntry:
    """Goodwill points a manager grants, with the reason."""
    if not works_owners(by, member.dealer_id):
        raise NotPermitted(_("Only owner operations and managers credit points."))
    if not note.strip():
        raise InvalidInput(_("Say why the points are granted."), field="note")
    entry = earn(
        member=member,
        kind=PointsKind.ADJUSTMENT,
        points=points_in(points),
        at=timezone.now(),
        by=by,
        note=note.strip(),
    )
    assert entry is not None  # no key: never a repeat
    return entry


def save_programme(
    *,
    dealer: Dealer,
    by: Staff,
    purchase_points: int,
    event_points: int,
    service_points: int,
    idle_days: int,
    reward_kind: str,
    level_rewards: list[int],
    returned_car_rule: str,
) -> MemberProgram:
    """The dealer's programme, changed by someone who may configure it (recorded)."""
    check_configure(by, dealer)
    stored, _made = MemberProgram.objects.get_or_create(
        dealer=dealer, defaults={"level_rewards": list(DEFAULT_LEVEL_REWARDS)}
    )
    values = {
        "purchase_points": purchase_points,
        "event_points": event_points,
        "service_points": service_points,
        "idle_days": idle_days,
        "reward_kind": reward_kind,
        "level_rewards": list(level_rewards),
        "returned_car_rule": returned_car_rule,
    }
    for field, value in values.items():
        setattr(stored, field, value)
    stored.save()
    record_change(dealer=dealer, by=by, what="member_programme", subject=dealer.code, detail=values)
    return stored


def save_tier(
    *, dealer: Dealer, by: Staff, name: str, min_points: int, tier: MemberTier | None = None
) -> MemberTier:
    """Add or change a tier; members are placed again by their lifetime points."""
    check_configure(by, dealer)
    name = name.strip()
    if not name:
        raise InvalidInput(_("Name the tier."), field="name")
    clash = MemberTier.objects.filter(dealer=dealer).exclude(pk=getattr(tier, "pk", None))
    if clash.filter(name=name).exists():
        raise InvalidInput(_("Another tier has this name."), field="name")
    if clash.filter(min_points=min_points).exists():
        raise InvalidInput(_("Another tier starts at these points."), field="min_points")
    tier = tier or MemberTier(dealer=dealer)
    tier.name, tier.min_points = name, min_points
    tier.save()
    place_in_tiers(dealer.pk)
    record_change(
        dealer=dealer, by=by, what="member_tier", subject=name, detail={"min_points": min_points}
    )
    return tier


def place_in_tiers(dealer_id: int) -> None:
    """Every member of the dealer in the tier their lifetime points reach (one UPDATE a tier)."""
    ordered = tiers(dealer_id)
    members = Member.objects.filter(dealer_id=dealer_id)
    members.filter(lifetime_points__lt=ordered[0].min_points if ordered else 0).update(tier=None)
    for tier, above in zip(ordered, [*ordered[1:], None], strict=True):
        reached = members.filter(lifetime_points__gte=tier.min_points)
        if above is not None:
            reached = reached.filter(lifetime_points__lt=above.min_points)
        reached.update(tier=tier)
