"""Types shared by every schema of input (API bodies and query strings, platform webhooks), so
that what the database or the date arithmetic cannot take is refused as a 422 naming the field
where it enters, rather than failing later as a server error."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import AfterValidator, Field, field_validator

from dcc import dates

# The largest value of a 64-bit integer column: ids and versions beyond it overflow SQLite.
MAX_INT = 2**63 - 1


def _no_nul(value: Any) -> Any:
    """PostgreSQL text cannot hold a NUL character; no person types one either."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError(_("A NUL character is not accepted."))
    if isinstance(value, list | tuple | set):
        for item in value:
            _no_nul(item)
    return value


def _day_in_window(value: date) -> date:
    if not dates.in_window(value):
        raise ValueError(dates.outside_window(value))
    return value


def _time_in_window(value: datetime) -> datetime:
    """In the window, and in the dealer's time zone when it came without one."""
    if not dates.in_window(value):
        raise ValueError(dates.outside_window(value))
    return timezone.make_aware(value) if timezone.is_naive(value) else value


Id = Annotated[int, Field(ge=1, le=MAX_INT)]
Version = Annotated[int, Field(ge=0, le=MAX_INT)]
Text = Annotated[str, AfterValidator(_no_nul)]
Day = Annotated[date, AfterValidator(_day_in_window)]
Moment = Annotated[datetime, AfterValidator(_time_in_window)]


class Input(Schema):
    """Base of every input schema: no field of it, nor any item of a list, holds a NUL."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_anywhere(cls, value: Any) -> Any:
        return _no_nul(value)
