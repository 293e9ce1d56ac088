"""What the dealer holds about a customer, section by section, for access (export) and erasure.

Each app that keeps personal data about customers registers a `Holding` in its AppConfig.ready
(privacy sits below them in the layers, so it cannot import them): how to list it for an export
and how to erase it. privacy.rights runs them all, in registration order, for one customer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise

from leads.models import Customer

# One record of a section, as exported: column → plain value (str, int, float, bool, None;
# datetimes as ISO text), the same keys in every row of a section.
Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Holding:
    key: str  # stable, ASCII: the JSON key and the XLSX sheet name
    title: str | Promise  # what a person reads
    export: Callable[[Customer], list[Row]]
    # Erase the section's personal data for the customer (blank or remove it; counts and ids
    # that KPIs need stay). Returns how many records it touched. Runs inside the erasure's
    # transaction: raise to abandon the whole erasure.
    erase: Callable[[Customer], int]
    # What the section still keeps after an erasure, for the confirmation page (counts only).
    remains: Callable[[Customer], int] | None = None


_HOLDINGS: dict[str, Holding] = {}


def register(holding: Holding) -> None:
    """Add a section (again with the same key: replaced, so a reloaded app does not double)."""
    _HOLDINGS[holding.key] = holding


def holdings() -> list[Holding]:
    return list(_HOLDINGS.values())
