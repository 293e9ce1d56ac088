"""Figures shared for a few seconds (settings.DCC_FIGURES_SECONDS) between everyone asking the
same question: the month's counts for a dealer's dashboard, the DCC board of a team. Forty
managers refreshing one dealer's dashboard then cost one count per period, not forty; the
price is figures up to that many seconds old, which the pages say. In the cache every web
process shares (Redis in production), keyed by the question in full.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache

T = TypeVar("T")


def shared_seconds() -> int:
    return max(settings.DCC_FIGURES_SECONDS, 0)


def shared(question: tuple, count: Callable[[], T]) -> T:
    """`count()`, or what it gave for the same `question` less than DCC_FIGURES_SECONDS ago.
    `question` must name everything the answer depends on (its repr is the key)."""
    seconds = shared_seconds()
    if not seconds:
        return count()
    key = "kpi:figures:" + hashlib.sha256(repr(question).encode()).hexdigest()
    found = cache.get(key)
    if found is None:
        found = count()
        cache.set(key, found, seconds)
    return found
