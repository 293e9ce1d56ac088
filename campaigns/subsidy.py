"""Car-sticker fuel subsidy (车贴油补): members put the campaign's sticker (with its own phone
number) on their car for a few months and are paid a monthly amount for each month a photo
shows it still there. What it returns is what the sticker brings: the calls on the campaign's
line and the leads they make (campaigns.lines, campaigns.selectors).

Enrolling lays out the months and what each pays; a check is a photo of the sticker on the
car, from the month's first day on; a month is paid once checked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Staff
from calls.models import Call
from calls.report import Direction
from campaigns.models import Campaign, CampaignKind, SubsidyEnrolment, SubsidyMonth
from campaigns.permissions import runs_subsidies
from dcc.errors import InvalidInput, NotPermitted
from owners.models import Member

DEFAULT_MONTHS = 3
LONGEST_MONTHS = 12
MAX_PHOTO_MB = 8
# What a phone's camera gives, known by the file's first bytes (not its name or the browser's
# word for it).
PHOTO_KINDS = {
    "jpg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
}


def _check_worker(by: Staff, dealer_id: int) -> None:
    if not runs_subsidies(by, dealer_id):
        raise NotPermitted(
            _("Only marketing, the managers and owner operations run the fuel subsidy.")
        )


def month_of(day: date) -> date:
    return day.replace(day=1)


def add_months(first: date, n: int) -> date:
    index = first.year * 12 + first.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def enrol(
    *,
    campaign: Campaign,
    member: Member,
    by: Staff,
    months: int = DEFAULT_MONTHS,
    first_month: date | None = None,
    at: datetime | None = None,
) -> SubsidyEnrolment:
    """A member in the subsidy for `months` months from `first_month` (default: this one),
    each paying the campaign's monthly amount as it is now."""
    _check_worker(by, campaign.dealer_id)
    if campaign.kind != CampaignKind.FUEL_SUBSIDY:
        raise InvalidInput(_("This campaign is not a car-sticker fuel subsidy."))
    if not campaign.monthly_subsidy:
        raise InvalidInput(
            _("Set the campaign's monthly fuel subsidy first."), field="monthly_subsidy"
        )
    if member.dealer_id != campaign.dealer_id:
        raise InvalidInput(_("Choose a member of this dealer."), field="member")
    if not 1 <= months <= LONGEST_MONTHS:
        raise InvalidInput(_("From 1 to %(n)d months.") % {"n": LONGEST_MONTHS}, field="months")
    at = at or timezone.now()
    first = month_of(first_month or timezone.localdate(at))
    try:
        with transaction.atomic():
            enrolment = SubsidyEnrolment.objects.create(
                dealer_id=campaign.dealer_id,
                campaign=campaign,
                member=member,
                first_month=first,
                months=months,
                monthly_amount=campaign.monthly_subsidy,
                enrolled_by=by,
                enrolled_at=at,
            )
            SubsidyMonth.objects.bulk_create(
                SubsidyMonth(
                    dealer_id=campaign.dealer_id,
                    enrolment=enrolment,
                    month=add_months(first, n),
                    amount=campaign.monthly_subsidy,
                )
                for n in range(months)
            )
    except IntegrityError:
        raise InvalidInput(_("This member is already enrolled."), field="member") from None
    return enrolment


def check_photo(photo: UploadedFile) -> str:
    """The photo's kind ("jpg", "png"), or InvalidInput saying what is wrong with it."""
    if photo.size > MAX_PHOTO_MB * 1024 * 1024:
        raise InvalidInput(
            _("The photo is too large: at most %(mb)d MB.") % {"mb": MAX_PHOTO_MB}, field="photo"
        )
    head = photo.read(16)
    photo.seek(0)
    for kind, magics in PHOTO_KINDS.items():
        if any(head.startswith(magic) for magic in magics):
            return kind
    raise InvalidInput(_("The photo must be a JPEG or PNG picture."), field="photo")


def record_check(
    *, month: SubsidyMonth, photo: UploadedFile, by: Staff, at: datetime | None = None
) -> SubsidyMonth:
    """The month's check: a photo of the sticker on the car (a later photo replaces it)."""
    _check_worker(by, month.dealer_id)
    at = at or timezone.now()
    if timezone.localdate(at) < month.month:
        raise InvalidInput(_("This month has not begun yet."), field="photo")
    if month.paid_at is not None:
        raise InvalidInput(_("This month is paid: its check stands."), field="photo")
    kind = check_photo(photo)
    old = month.photo.name if month.photo else ""
    month.photo.save(f"sticker-{month.pk}.{kind}", photo, save=False)
    month.checked_at, month.checked_by = at, by
    month.save(update_fields=["photo", "checked_at", "checked_by"])
    if old and old != month.photo.name:
        transaction.on_commit(lambda: month.photo.storage.delete(old))
    return month


def mark_paid(*, month: SubsidyMonth, by: Staff, at: datetime | None = None) -> SubsidyMonth:
    """The month's subsidy paid to the member; only once checked, and once."""
    _check_worker(by, month.dealer_id)
    if month.checked_at is None:
        raise InvalidInput(_("Check the sticker first: no photo for this month yet."))
    with transaction.atomic():
        done = SubsidyMonth.objects.filter(pk=month.pk, paid_at__isnull=True).update(
            paid_at=at or timezone.now(), paid_by=by
        )
    if not done:
        raise InvalidInput(_("This month is already paid."))
    month.refresh_from_db()
    return month


def find_member(campaign: Campaign, text: str) -> Member:
    """A member of the campaign's dealer by card number or mobile, or InvalidInput."""
    text = (text or "").strip()
    found = (
        Member.objects.filter(dealer_id=campaign.dealer_id)
        .filter(Q(card_number=text) | Q(customer__phone=text))
        .first()
        if text
        else None
    )
    if found is None:
        raise InvalidInput(_("No member with this card number or mobile."), field="member")
    return found


def payments(campaign: Campaign, *, until: date | None = None) -> QuerySet[SubsidyMonth]:
    """The campaign's months up to `until` (default: this month): the month, the member, the
    amount, whether checked and paid; the oldest unpaid first."""
    last = month_of(until or timezone.localdate())
    return (
        SubsidyMonth.objects.filter(
            dealer_id=campaign.dealer_id, enrolment__campaign=campaign, month__lte=last
        )
        .select_related("enrolment__member__customer", "checked_by", "paid_by")
        .order_by(F("paid_at").asc(nulls_first=True), "month", "enrolment__member__card_number")
    )


@dataclass(frozen=True)
class Totals:
    members: int
    due: Decimal  # checked, not paid
    paid: Decimal
    unchecked: int  # months begun without a photo
    calls: int  # inbound calls on the campaign's line within its days


def totals(campaign: Campaign) -> Totals:
    """What the subsidy costs so far and what its line brought in calls (three queries)."""
    today = month_of(timezone.localdate())
    rows = SubsidyMonth.objects.filter(
        dealer_id=campaign.dealer_id, enrolment__campaign=campaign, month__lte=today
    )
    due = paid = Decimal(0)
    unchecked = 0
    for amount, checked_at, paid_at in rows.values_list("amount", "checked_at", "paid_at"):
        if paid_at is not None:
            paid += amount
        elif checked_at is not None:
            due += amount
        else:
            unchecked += 1
    members = SubsidyEnrolment.objects.filter(
        dealer_id=campaign.dealer_id, campaign=campaign
    ).aggregate(n=Count("pk"))["n"]
    calls = 0
    if campaign.line_id:
        calls = Call.objects.filter(
            dealer_id=campaign.dealer_id,
            line_id=campaign.line_id,
            direction=Direction.INBOUND,
            rang_at__date__gte=campaign.starts_on,
            rang_at__date__lte=campaign.ends_on,
        ).count()
    return Totals(members, due, paid, unchecked, calls)
