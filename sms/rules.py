"""Who may be sent a message now, and why not: consent (marketing only), quiet hours, the
per-number limits, a number that takes no SMS. Asked for one customer or a whole segment in a
few queries, by the send itself and by the bulk preview (so both say the same)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta

from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dcc.phone import PhoneKind
from leads.models import Customer
from privacy.consent import consented
from privacy.models import Purpose
from sms.models import Kind, Message, SmsSettings


class Skip:
    """Why a customer is not sent a message (the codes the preview counts)."""

    NO_CONSENT = "no_consent"
    QUIET_HOURS = "quiet_hours"
    LIMIT = "limit"
    NO_MOBILE = "no_mobile"

    LABELS = {
        NO_CONSENT: _("no consent to marketing SMS"),
        QUIET_HOURS: _("quiet hours"),
        LIMIT: _("per-number limit reached"),
        NO_MOBILE: _("no mobile number"),
    }
    ORDER = (NO_MOBILE, NO_CONSENT, QUIET_HOURS, LIMIT)


def in_quiet_hours(settings: SmsSettings, at: datetime) -> bool:
    """Whether `at` (the dealer's local time) falls in its quiet hours: from `quiet_from`
    (included) to `quiet_until` (excluded), across midnight when from is later than until."""
    start, end = settings.quiet_from, settings.quiet_until
    now = timezone.localtime(at).time().replace(second=0, microsecond=0)
    if start == end:
        return False
    if start < end:
        return start <= now < end
    return now >= start or now < end


def quiet_hours_apply(kind: str, *, automatic: bool) -> bool:
    """Marketing never goes in quiet hours. Nor do the notices the system sends by itself (a
    reminder, a return-visit notice): nobody waits for them, so they wait for the morning
    (`dcc tick` sends them then). A notification a person sends from the lead does go: it
    answers something the customer just did (an appointment booked on a late call), and the
    person sending it takes that decision."""
    return kind == Kind.MARKETING or automatic


def _day_start(at: datetime) -> datetime:
    local = timezone.localtime(at)
    return timezone.make_aware(datetime.combine(local.date(), time.min), local.tzinfo)


def screen(
    *,
    settings: SmsSettings,
    kind: str,
    customers: Sequence[Customer],
    at: datetime,
    automatic: bool = False,
) -> dict[int, str | None]:
    """For each customer id: None when they may be sent a message of `kind` now, else why
    not (a Skip code; the first that holds, in Skip.ORDER)."""
    reasons: dict[int, str | None] = {c.pk: None for c in customers}
    for customer in customers:
        # A landline takes no SMS; an erased customer has no number any more.
        if customer.phone_kind != PhoneKind.MOBILE or customer.erased_at is not None:
            reasons[customer.pk] = Skip.NO_MOBILE
    if kind == Kind.MARKETING:
        agreed = consented([c.pk for c in customers], Purpose.SMS)
        for customer in customers:
            if reasons[customer.pk] is None and customer.pk not in agreed:
                reasons[customer.pk] = Skip.NO_CONSENT
    if quiet_hours_apply(kind, automatic=automatic) and in_quiet_hours(settings, at):
        for pk, reason in reasons.items():
            if reason is None:
                reasons[pk] = Skip.QUIET_HOURS
    waiting = [c for c in customers if reasons[c.pk] is None]
    if waiting:
        for pk in _over_limit(settings, kind, waiting, at):
            reasons[pk] = Skip.LIMIT
    return reasons


def _over_limit(
    settings: SmsSettings, kind: str, customers: Sequence[Customer], at: datetime
) -> set[int]:
    """The customers whose number has had its day's messages (or marketing messages), or one
    too recently: one query for them all. A failed message counts too (the provider may have
    charged and the customer may have got it)."""
    by_phone = {c.phone: c.pk for c in customers}
    since = min(_day_start(at), at - timedelta(seconds=settings.seconds_between))
    rows = (
        Message.objects.filter(dealer_id=settings.dealer_id, phone__in=by_phone, sent_at__gte=since)
        .values("phone")
        .annotate(
            today=Count("pk", filter=Q(sent_at__gte=_day_start(at))),
            marketing=Count("pk", filter=Q(sent_at__gte=_day_start(at), kind=Kind.MARKETING)),
            last=Max("sent_at"),
        )
        .order_by()
    )
    over = set()
    for row in rows:
        too_soon = row["last"] > at - timedelta(seconds=settings.seconds_between)
        if (
            too_soon
            or row["today"] >= settings.messages_per_day
            or (kind == Kind.MARKETING and row["marketing"] >= settings.marketing_per_day)
        ):
            over.add(by_phone[row["phone"]])
    return over
