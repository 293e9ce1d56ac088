"""The window of dates the product accepts wherever a date enters it (API, webhooks, imports,
pages): from 2000 to two years ahead. Anything outside is a typo or an attack, and year 1 or
9999 would overflow the arithmetic that follows (time zones, periods, months)."""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from dcc.errors import InvalidInput

EARLIEST = date(2000, 1, 1)
YEARS_AHEAD = 2


def latest(*, today: date | None = None) -> date:
    """The last day accepted: two years from today (28 February for a 29 February)."""
    today = today or timezone.localdate()
    try:
        return today.replace(year=today.year + YEARS_AHEAD)
    except ValueError:
        return today.replace(year=today.year + YEARS_AHEAD, day=28)


def in_window(value: date | datetime, *, today: date | None = None) -> bool:
    day = value.date() if isinstance(value, datetime) else value
    return EARLIEST <= day <= latest(today=today)


def outside_window(value: date | datetime) -> str:
    """What to say about a date outside the window."""
    return _("%(value)s is outside the dates accepted (%(first)s to %(last)s).") % {
        "value": value.isoformat(),
        "first": EARLIEST.isoformat(),
        "last": latest().isoformat(),
    }


def check_in_window(value: date | datetime, *, field: str) -> None:
    """Raise InvalidInput naming `field` when `value` is outside the accepted window."""
    if not in_window(value):
        raise InvalidInput(outside_window(value), field=field)


def aware(value: datetime, *, field: str) -> datetime:
    """`value` checked against the window, with the dealer's time zone when it has none (a
    platform's "2026-01-05 13:00" is local time)."""
    check_in_window(value, field=field)
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value
