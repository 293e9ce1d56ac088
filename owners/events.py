"""Owner events (车主活动): self-drive tours, family days, model launches, raffles.

An event has a capacity, a budget and what it did cost. Owners are invited by segment (member
tier, car model, delivery dates); each invitation has an unguessable code, printed as a QR code
that the door scans. Owners sign up with how many people they bring, never beyond the places
left, or decline. At the door the code checks the owner in (once; the owner earns the
programme's event points once), and the people the owner brought along are written down: with
a phone number each becomes a lead of the owner-referral channel, credited to the inviting
owner as a referral from the event. `event_results` says what an event brought: who came,
the leads, their arrivals and orders, and what each lead cost.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Dealer, Staff
from calls.actions import place_call
from calls.models import Call
from dcc.errors import Conflict, DomainError, InvalidInput, NotPermitted, whole_number_in
from dcc.phone import PhoneError, normalise_phone
from leads import actions
from leads.models import Channel, ChannelGroup, Customer, Lead
from owners import members, referrals
from owners.models import (
    EventGuest,
    Invitation,
    Member,
    MemberTier,
    OwnerEvent,
    OwnerEventKind,
    PointsKind,
    Referral,
    ReferralSource,
    Vehicle,
)
from owners.permissions import works_owners

# Codes are read aloud and typed at the door: no 0/O, no 1/I/L. 31**16 ≈ 2**79, not guessed.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 16
MAX_CAPACITY = 100_000
MAX_PARTY = 20  # an owner and the family and friends they bring
MAX_MONEY = Decimal("9999999999.99")  # the columns' 12 digits
REFERRAL_CHANNEL = "referral"
# What a scanner types for a QR code: the check-in address, which ends in the code.
_CODE_IN_ADDRESS = re.compile(r"/check-in/([^/?#\s]+)/?(?:[?#].*)?$")


def _check_worker(by: Staff, dealer_id: int) -> None:
    if not works_owners(by, dealer_id):
        raise NotPermitted(_("Only owner operations and managers run owner events."))


# ---------------------------------------------------------------- the event


@dataclass(frozen=True)
class EventFields:
    title: str
    kind: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    place: str = ""
    budget: Decimal = Decimal(0)
    cost: Decimal = Decimal(0)


def money_in(value: object, *, field: str) -> Decimal:
    """An amount in CNY: from 0 up, in fen at most."""
    try:
        amount = Decimal(str(value).strip() or "0")
    except InvalidOperation:
        raise InvalidInput(_("Enter an amount in CNY."), field=field) from None
    if not amount.is_finite() or not Decimal(0) <= amount <= MAX_MONEY:
        raise InvalidInput(
            _("Enter an amount from 0 to %(max)s CNY.") % {"max": f"{MAX_MONEY:,.2f}"},
            field=field,
        )
    if amount != amount.quantize(Decimal("0.01")):
        raise InvalidInput(_("Enter the amount in yuan and fen (two decimals)."), field=field)
    return amount


def _checked(fields: EventFields) -> dict[str, Any]:
    title = fields.title.strip()
    if not title:
        raise InvalidInput(_("Give the event a title."), field="title")
    if fields.kind not in OwnerEventKind.values:
        raise InvalidInput(_("Choose one of the options."), field="kind")
    if fields.starts_at is None or fields.ends_at is None:
        raise InvalidInput(_("Say when the event starts and ends."), field="starts_at")
    if fields.ends_at <= fields.starts_at:
        raise InvalidInput(_("The event must end after it starts."), field="ends_at")
    return {
        "title": title[:100],
        "kind": fields.kind,
        "starts_at": fields.starts_at,
        "ends_at": fields.ends_at,
        "place": fields.place.strip()[:200],
        "capacity": whole_number_in(fields.capacity, (1, MAX_CAPACITY), field="capacity"),
        "budget": money_in(fields.budget, field="budget"),
        "cost": money_in(fields.cost, field="cost"),
    }


def create_event(
    *, dealer: Dealer, by: Staff, fields: EventFields, at: datetime | None = None
) -> OwnerEvent:
    _check_worker(by, dealer.pk)
    return OwnerEvent.objects.create(
        dealer=dealer, created_by=by, created_at=at or timezone.now(), **_checked(fields)
    )


def edit_event(*, event: OwnerEvent, by: Staff, fields: EventFields) -> OwnerEvent:
    """Change an event; its capacity never below the people already signed up."""
    _check_worker(by, event.dealer_id)
    values = _checked(fields)
    with transaction.atomic():
        locked = OwnerEvent.objects.select_for_update().get(pk=event.pk)
        coming = _people_signed_up(locked)
        if values["capacity"] < coming:
            raise InvalidInput(
                ngettext(
                    "%(n)d person has signed up already: the capacity cannot be less.",
                    "%(n)d people have signed up already: the capacity cannot be less.",
                    coming,
                )
                % {"n": coming},
                field="capacity",
            )
        for name, value in values.items():
            setattr(locked, name, value)
        locked.save(update_fields=list(values))
    return locked


def _people_signed_up(event: OwnerEvent, *, but: Invitation | None = None) -> int:
    signed_up = Invitation.objects.filter(event=event, signed_up_at__isnull=False)
    if but is not None:
        signed_up = signed_up.exclude(pk=but.pk)
    return signed_up.aggregate(n=Sum("party_size", default=0))["n"]


def upcoming_and_past(dealer_id: int, *, now: datetime) -> tuple[list, list]:
    """The dealer's events not yet over (soonest first) and those over (latest first)."""
    events = OwnerEvent.objects.filter(dealer_id=dealer_id)
    upcoming = list(events.filter(ends_at__gte=now).order_by("starts_at", "pk"))
    past = list(events.filter(ends_at__lt=now).order_by("-starts_at", "-pk")[:100])
    return upcoming, past


# ---------------------------------------------------------------- segments and invitations


@dataclass(frozen=True)
class Segment:
    """Which owners: members of these tiers, owners of these models, delivered between these
    days (each left empty: no condition)."""

    tiers: tuple[int, ...] = ()
    models: tuple[str, ...] = ()
    delivered_from: date | None = None
    delivered_to: date | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "tiers": list(self.tiers),
            "models": list(self.models),
            "delivered_from": self.delivered_from.isoformat() if self.delivered_from else None,
            "delivered_to": self.delivered_to.isoformat() if self.delivered_to else None,
        }


def segment_in(dealer: Dealer, raw: Segment | dict[str, Any]) -> Segment:
    """A segment from a form or the stored JSON, checked: the tiers are the dealer's, the days
    are days, the first not after the last."""
    if isinstance(raw, Segment):
        raw = raw.as_json()
    try:
        tier_ids = tuple(sorted({int(t) for t in raw.get("tiers") or ()}))
    except (TypeError, ValueError):
        raise InvalidInput(_("Choose tiers of this dealer."), field="tiers") from None
    if tier_ids and MemberTier.objects.filter(dealer=dealer, pk__in=tier_ids).count() != len(
        tier_ids
    ):
        raise InvalidInput(_("Choose tiers of this dealer."), field="tiers")
    models = tuple(sorted({str(m).strip() for m in raw.get("models") or () if str(m).strip()}))
    days = {}
    for name in ("delivered_from", "delivered_to"):
        value = raw.get(name)
        try:
            days[name] = date.fromisoformat(value) if isinstance(value, str) and value else value
        except ValueError:
            raise InvalidInput(_("Enter a day as YYYY-MM-DD."), field=name) from None
        if days[name] is not None and not isinstance(days[name], date):
            raise InvalidInput(_("Enter a day as YYYY-MM-DD."), field=name)
    if (
        days["delivered_from"]
        and days["delivered_to"]
        and (days["delivered_to"] < days["delivered_from"])
    ):
        raise InvalidInput(_("The last day comes before the first."), field="delivered_to")
    return Segment(tier_ids, models, days["delivered_from"], days["delivered_to"])


def _day_starts(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def segment_owners(dealer: Dealer, segment: Segment | dict[str, Any]) -> QuerySet[Customer]:
    """The dealer's owners (a car it delivered, not returned) in the segment."""
    segment = segment_in(dealer, segment)
    cars = Vehicle.objects.filter(dealer=dealer, owner_id=OuterRef("pk"), returned_at__isnull=True)
    if segment.models:
        cars = cars.filter(car_model__in=segment.models)
    if segment.delivered_from:
        cars = cars.filter(delivered_at__gte=_day_starts(segment.delivered_from))
    if segment.delivered_to:
        cars = cars.filter(delivered_at__lt=_day_starts(segment.delivered_to + timedelta(days=1)))
    owners = Customer.objects.filter(Exists(cars), dealer=dealer)
    if segment.tiers:
        tiered = Member.objects.filter(
            dealer=dealer, customer_id=OuterRef("pk"), tier_id__in=segment.tiers
        )
        owners = owners.filter(Exists(tiered))
    return owners.order_by("pk")


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def code_in(typed: str) -> str:
    """The code in what was typed or scanned: the code (any case, spaces or dashes between its
    groups) or the whole check-in address a scanner types for the QR code."""
    typed = (typed or "").strip()
    if found := _CODE_IN_ADDRESS.search(typed):
        typed = found.group(1)
    return "".join(ch for ch in typed.upper() if ch not in " -\t")[:64]


def shown_code(code: str) -> str:
    """The code in groups of four, as printed on the invitation."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


@dataclass(frozen=True)
class Invited:
    invited: int
    already: int


def _check_not_over(event: OwnerEvent, at: datetime) -> None:
    if event.ends_at < at:
        raise Conflict(_("This event is over."), code="event_over")


def invite(
    *, event: OwnerEvent, segment: Segment | dict[str, Any], by: Staff, at: datetime | None = None
) -> Invited:
    """Invite the segment's owners; those invited before are left as they are."""
    _check_worker(by, event.dealer_id)
    at = at or timezone.now()
    segment = segment_in(event.dealer, segment)
    with transaction.atomic():
        # One invitation round at a time per event: two rounds never invite an owner twice.
        locked = OwnerEvent.objects.select_for_update().select_related("dealer").get(pk=event.pk)
        _check_not_over(locked, at)
        owners = list(segment_owners(locked.dealer, segment).values_list("pk", flat=True))
        before = set(Invitation.objects.filter(event=locked).values_list("customer_id", flat=True))
        fresh = [pk for pk in owners if pk not in before]
        Invitation.objects.bulk_create(
            Invitation(
                dealer_id=locked.dealer_id,
                event=locked,
                customer_id=pk,
                code=new_code(),
                invited_at=at,
                invited_by=by,
            )
            for pk in fresh
        )
        locked.segment = segment.as_json()
        locked.save(update_fields=["segment"])
    event.segment = locked.segment
    return Invited(invited=len(fresh), already=len(owners) - len(fresh))


def call_to_invite(*, invitation: Invitation, by: Staff) -> Call:
    """Ring the invited owner from `by`'s seat (the number stays hidden). An invitation is
    marketing: only to an owner who agreed to marketing calls and is not on the do-not-call
    list (calls.actions.place_call refuses the rest, saying why)."""
    _check_worker(by, invitation.dealer_id)
    sale = (
        Vehicle.objects.filter(owner_id=invitation.customer_id)
        .select_related("lead__customer", "lead__dealer")
        .order_by("-delivered_at")
        .first()
    )
    if sale is None:
        raise InvalidInput(_("This owner has no car from us to call about."), code="no_vehicle")
    return place_call(sale.lead, by=by, marketing=True)


def _locked_invitation(invitation: Invitation) -> tuple[Invitation, OwnerEvent]:
    """The invitation and its event, locked (the event first: sign-ups count its places)."""
    event = OwnerEvent.objects.select_for_update().get(pk=invitation.event_id)
    locked = Invitation.objects.select_for_update().select_related("customer").get(pk=invitation.pk)
    return locked, event


def places_left(event: OwnerEvent) -> int:
    return max(0, event.capacity - _people_signed_up(event))


def sign_up(
    *, invitation: Invitation, by: Staff, party_size: object, at: datetime | None = None
) -> Invitation:
    """The owner comes, with `party_size` people in all (themself included); refused when
    that is more than the places left. Signing up again changes the number."""
    _check_worker(by, invitation.dealer_id)
    party = whole_number_in(party_size, (1, MAX_PARTY), field="party_size")
    at = at or timezone.now()
    with transaction.atomic():
        locked, event = _locked_invitation(invitation)
        _check_not_over(event, at)
        if locked.checked_in_at is not None:
            raise Conflict(_("This owner is already checked in."), code="checked_in")
        left = event.capacity - _people_signed_up(event, but=locked)
        if party > left:
            if left <= 0:
                message = _("The event is full: all %(capacity)d places are taken.") % {
                    "capacity": event.capacity
                }
            else:
                message = ngettext(
                    "Only %(left)d place is left of %(capacity)d.",
                    "Only %(left)d places are left of %(capacity)d.",
                    left,
                ) % {"left": left, "capacity": event.capacity}
            raise InvalidInput(message, field="party_size", code="event_full")
        locked.signed_up_at = locked.signed_up_at or at
        locked.declined_at = None
        locked.party_size = party
        locked.save(update_fields=["signed_up_at", "declined_at", "party_size"])
    return locked


def decline(*, invitation: Invitation, by: Staff, at: datetime | None = None) -> Invitation:
    """The owner does not come: their places are free again."""
    _check_worker(by, invitation.dealer_id)
    at = at or timezone.now()
    with transaction.atomic():
        locked, _event = _locked_invitation(invitation)
        if locked.checked_in_at is not None:
            raise Conflict(_("This owner is already checked in."), code="checked_in")
        locked.declined_at, locked.signed_up_at = at, None
        locked.save(update_fields=["declined_at", "signed_up_at"])
    return locked


# ---------------------------------------------------------------- at the door


@dataclass(frozen=True)
class CheckedIn:
    invitation: Invitation
    already: bool  # checked in before: nothing changed
    points: int  # the event points the owner earned now


def find_invitation(*, dealer: Dealer, code: str, event: OwnerEvent | None = None) -> Invitation:
    """The invitation with this code at this dealer (for this event, when given), or
    InvalidInput on `code` saying why not."""
    found = (
        Invitation.objects.select_related("event", "customer").filter(code=code_in(code)).first()
    )
    if found is None:
        raise InvalidInput(_("No invitation has this code."), field="code", code="unknown_code")
    if found.dealer_id != dealer.pk:
        raise InvalidInput(
            _("This invitation is for another dealer's event."),
            field="code",
            code="other_dealer",
        )
    if event is not None and found.event_id != event.pk:
        raise InvalidInput(
            _("This invitation is for another event: %(title)s.") % {"title": found.event.title},
            field="code",
            code="other_event",
        )
    return found


def check_in(
    *,
    dealer: Dealer,
    code: str,
    by: Staff,
    at: datetime | None = None,
    event: OwnerEvent | None = None,
) -> CheckedIn:
    """Check the owner of this code in at the door (at `event`'s door, when given). Once: a
    second scan says when they came. An invited owner who comes without having signed up is
    signed up now (the door does not send an invited owner home); one who declined is refused.
    The owner earns the programme's event points, once per event."""
    _check_worker(by, dealer.pk)
    at = at or timezone.now()
    invitation = find_invitation(dealer=dealer, code=code, event=event)
    opens = timezone.localdate(invitation.event.starts_at)
    if timezone.localdate(at) < opens:
        raise InvalidInput(
            _("The door opens on %(day)s, the day of the event.") % {"day": opens.isoformat()},
            field="code",
            code="too_early",
        )
    with transaction.atomic():
        locked, locked_event = _locked_invitation(invitation)
        if locked.checked_in_at is not None:
            return CheckedIn(locked, already=True, points=0)
        if locked.declined_at is not None:
            raise InvalidInput(
                _("%(owner)s declined this invitation: sign them up first.")
                % {"owner": locked.customer.name or _("The owner")},
                field="code",
                code="declined",
            )
        locked.signed_up_at = locked.signed_up_at or at
        locked.checked_in_at, locked.checked_in_by = at, by
        locked.save(update_fields=["signed_up_at", "checked_in_at", "checked_in_by"])
        points = members.programme(dealer.pk).event_points
        if points:
            member = members.join(customer=locked.customer, by=None, at=at)
            earned = members.earn(
                member=member,
                kind=PointsKind.EVENT,
                points=points,
                at=at,
                key=f"event:{locked_event.pk}:{locked.customer_id}",
                note=locked_event.title,
            )
            points = earned.points if earned else 0
    locked.event = locked_event
    return CheckedIn(locked, already=False, points=points)


@dataclass(frozen=True)
class GuestAdded:
    guest: EventGuest
    lead: Lead
    new_lead: bool  # False: a repeat enquiry on the guest's open lead
    credited: bool  # the lead is credited to the inviting owner
    why_not: str = ""  # why it is not, when it is not


def referral_channel(dealer: Dealer) -> Channel:
    channel = (
        Channel.objects.filter(dealer=dealer, code=REFERRAL_CHANNEL).first()
        or Channel.objects.filter(dealer=dealer, group=ChannelGroup.REFERRAL, is_active=True)
        .order_by("pk")
        .first()
    )
    if channel is None:
        raise InvalidInput(_("This dealer has no owner-referral channel."), field="phone")
    return channel


def add_guest(
    *,
    invitation: Invitation,
    name: str,
    phone: str,
    by: Staff,
    at: datetime | None = None,
) -> GuestAdded:
    """Someone the checked-in owner brought along: their enquiry enters as a lead of the
    owner-referral channel (or a repeat enquiry on their open lead), credited to the owner as
    a referral from the event — unless the lead has its referrer already or the guest is the
    owner themself; the guest is kept either way."""
    _check_worker(by, invitation.dealer_id)
    at = at or timezone.now()
    try:
        number = normalise_phone(phone)
    except PhoneError as error:
        raise InvalidInput(error.message, field="phone", code=error.code) from None
    invitation = Invitation.objects.select_related("event", "customer", "dealer").get(
        pk=invitation.pk
    )
    if invitation.checked_in_at is None:
        raise Conflict(_("Check the owner in first."), code="not_checked_in")
    if EventGuest.objects.filter(invitation=invitation, phone=number.number).exists():
        raise InvalidInput(_("This guest is on the list already."), field="phone")
    event = invitation.event
    with transaction.atomic():
        # The enquiry comes from the event, not from the person writing it down: owner
        # operations do not enter leads themselves (leads.permissions); the guest row keeps who.
        intake = actions.create_lead(
            dealer=invitation.dealer,
            phone=number,
            channel=referral_channel(invitation.dealer),
            by=None,
            name=name,
            note=event.title,
            at=at,
        )
        lead = intake.lead
        try:
            with transaction.atomic():
                guest = EventGuest.objects.create(
                    dealer_id=invitation.dealer_id,
                    invitation=invitation,
                    name=name.strip()[:100],
                    phone=number.number,
                    lead=lead,
                    added_at=at,
                    added_by=by,
                )
        except IntegrityError:  # the same guest written down at the same moment elsewhere
            raise InvalidInput(_("This guest is on the list already."), field="phone") from None
        why_not = _why_not_credited(lead, invitation)
        if not why_not:
            try:
                referrals.name_referrer(
                    lead=lead,
                    referrer=invitation.customer,
                    by=by,
                    at=at,
                    source=ReferralSource.EVENT,
                    event=event,
                )
            except NotPermitted:
                raise
            except DomainError as error:  # closed meanwhile, or named meanwhile
                why_not = error.message
    return GuestAdded(guest, lead, intake.created, credited=not why_not, why_not=why_not)


def _why_not_credited(lead: Lead, invitation: Invitation) -> str:
    if lead.customer_id == invitation.customer_id:
        return _("The guest is the owner themself: no referral.")
    named = Referral.objects.filter(lead=lead).select_related("referrer").first()
    if named is not None:
        return _("This customer's lead was referred already, by %(name)s.") % {
            "name": named.referrer.name or _("another owner")
        }
    return ""


# ---------------------------------------------------------------- what an event brought


@dataclass
class Results:
    invited: int = 0
    signed_up: int = 0
    declined: int = 0
    people_expected: int = 0
    checked_in: int = 0
    guests: int = 0
    leads: int = 0
    referrals: int = 0  # guests' leads credited to the inviting owner
    arrivals: int = 0
    orders: int = 0
    budget: Decimal = Decimal(0)
    cost: Decimal = Decimal(0)
    lead_ids: set[int] = field(default_factory=set, repr=False)

    @property
    def attendance_rate(self) -> float | None:
        """Checked in of signed up (an owner signed up at the door counts in both)."""
        return self.checked_in / self.signed_up if self.signed_up else None

    @property
    def cost_per_lead(self) -> Decimal | None:
        if not self.leads:
            return None
        return (self.cost / self.leads).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    @property
    def over_budget(self) -> bool:
        return self.cost > self.budget


def results_for(events: list[OwnerEvent]) -> dict[int, Results]:
    """What each event brought, in three queries for any number of events. The guests' leads
    count once each; an arrival or order counts when it came on or after the day the guest was
    written down (what the lead did before the event is not the event's)."""
    results = {event.pk: Results(budget=event.budget, cost=event.cost) for event in events}
    if not events:
        return results
    dealer_ids = {event.dealer_id for event in events}
    signed = Q(signed_up_at__isnull=False)
    for row in (
        Invitation.objects.filter(dealer_id__in=dealer_ids, event_id__in=results)
        .values("event_id")
        .annotate(
            invited=Count("id"),
            signed_up=Count("id", filter=signed),
            declined=Count("id", filter=Q(declined_at__isnull=False)),
            people=Sum("party_size", filter=signed, default=0),
            checked_in=Count("id", filter=Q(checked_in_at__isnull=False)),
        )
    ):
        result = results[row["event_id"]]
        result.invited, result.signed_up, result.declined = (
            row["invited"],
            row["signed_up"],
            row["declined"],
        )
        result.people_expected, result.checked_in = row["people"], row["checked_in"]
    first_seen: dict[tuple[int, int], datetime] = {}
    moments: dict[int, tuple[datetime | None, datetime | None]] = {}
    guests = EventGuest.objects.filter(
        dealer_id__in=dealer_ids, invitation__event_id__in=results
    ).values_list(
        "invitation__event_id",
        "lead_id",
        "added_at",
        "lead__first_arrived_at",
        "lead__first_ordered_at",
    )
    for event_id, lead_id, added_at, arrived_at, ordered_at in guests:
        results[event_id].guests += 1
        if lead_id is None:
            continue
        key = (event_id, lead_id)
        first_seen[key] = min(added_at, first_seen.get(key, added_at))
        moments[lead_id] = (arrived_at, ordered_at)
    for (event_id, lead_id), seen in first_seen.items():
        result = results[event_id]
        result.leads += 1
        result.lead_ids.add(lead_id)
        arrived_at, ordered_at = moments[lead_id]
        since = _day_starts(timezone.localdate(seen))
        result.arrivals += arrived_at is not None and arrived_at >= since
        result.orders += ordered_at is not None and ordered_at >= since
    for event_id, n in (
        Referral.objects.filter(dealer_id__in=dealer_ids, event_id__in=results)
        .values_list("event_id")
        .annotate(n=Count("id"))
    ):
        results[event_id].referrals = n
    return results


def event_results(event: OwnerEvent) -> Results:
    return results_for([event])[event.pk]


# What the invitation list of an event may be narrowed to.
ANSWERS = {
    "coming": Q(signed_up_at__isnull=False, checked_in_at__isnull=True),
    "checked_in": Q(checked_in_at__isnull=False),
    "no_answer": Q(signed_up_at__isnull=True, declined_at__isnull=True, checked_in_at__isnull=True),
    "declined": Q(declined_at__isnull=False),
}


def invitations_of(event: OwnerEvent, *, answer: str = "", query: str = "") -> QuerySet[Invitation]:
    """The event's invitations, by the owner's name; narrowed to an answer (ANSWERS) and to
    owners whose name has `query` or whose number ends with its digits (four or more)."""
    found = Invitation.objects.filter(dealer_id=event.dealer_id, event=event)
    if answer in ANSWERS:
        found = found.filter(ANSWERS[answer])
    query = query.strip()[:50]
    if query:
        digits = "".join(ch for ch in query if ch.isdigit())
        match = Q(customer__name__icontains=query)
        if len(digits) >= 4:
            match |= Q(customer__phone__endswith=digits)
        found = found.filter(match)
    return found.select_related("customer", "checked_in_by").order_by("customer__name", "pk")


def count_guests(invitations: list[Invitation]) -> None:
    """Each invitation's `guest_count`, in one query for the lot (a page of a long list)."""
    counts = dict(
        EventGuest.objects.filter(invitation__in=[i.pk for i in invitations])
        .values("invitation_id")
        .annotate(n=Count("pk"))
        .values_list("invitation_id", "n")
        .order_by()
    )
    for invitation in invitations:
        invitation.guest_count = counts.get(invitation.pk, 0)


def guests_of(event: OwnerEvent) -> list[EventGuest]:
    """The event's guests, each with `credited`: their lead is credited to this owner from
    this event."""
    guests = list(
        EventGuest.objects.filter(dealer_id=event.dealer_id, invitation__event=event)
        .select_related("invitation__customer", "added_by", "lead")
        .order_by("added_at", "pk")
    )
    credited = set(
        Referral.objects.filter(
            dealer_id=event.dealer_id, event=event, lead_id__in=[g.lead_id for g in guests]
        ).values_list("lead_id", "referrer_id")
    )
    for guest in guests:
        guest.credited = (guest.lead_id, guest.invitation.customer_id) in credited
    return guests


def invitations_of_owner(customer: Customer) -> QuerySet[Invitation]:
    return (
        Invitation.objects.filter(dealer_id=customer.dealer_id, customer=customer)
        .select_related("event")
        .annotate(guest_count=Count("guests"))
        .order_by("-event__starts_at", "-pk")
    )
