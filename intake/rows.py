"""One imported row, as the rest of the system sees it: either a LeadRow (clean, normalised)
or a RowError (what is wrong, where). Reading files and mapping columns produce these;
the import runner consumes them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from leads.phone import NormalisedPhone

# The canonical import format; only `mobile` is required.
CANONICAL_COLUMNS = (
    "external_id",
    "name",
    "mobile",
    "channel",
    "model",
    "city",
    "created_at",
    "grade",
    "owner",
    "contacted_at",
    "appointed_at",
    "arrived_at",
    "ordered_at",
    "delivered_at",
    "defeated_at",
    "defeat_reason",
    "invalid_reason",
    "note",
)
# The lifecycle columns, in the order a lead lives them.
LIFECYCLE = (
    "created_at",
    "contacted_at",
    "appointed_at",
    "arrived_at",
    "ordered_at",
    "delivered_at",
)


@dataclass(frozen=True)
class LeadRow:
    row_number: int  # as the user sees it in the file: the header is row 1
    phone: NormalisedPhone
    external_id: str = ""
    name: str = ""
    channel: str = ""  # a channel code or name as written ("" = the import's channel)
    car_model: str = ""
    city: str = ""
    grade: str = ""  # "" or H/A/B/C/N
    owner: str = ""  # a staff member's username or mobile, as written
    created_at: datetime | None = None
    contacted_at: datetime | None = None
    appointed_at: datetime | None = None
    arrived_at: datetime | None = None
    ordered_at: datetime | None = None
    delivered_at: datetime | None = None
    defeated_at: datetime | None = None
    defeat_reason: str = ""
    invalid_reason: str = ""
    note: str = ""


@dataclass(frozen=True)
class RowError:
    row_number: int
    field: str  # the canonical column at fault ("" when the row as a whole is)
    message: str  # says what is wrong, in the user's language
    raw: tuple[str, ...]  # the row's cells as read, for the rejected-rows file
