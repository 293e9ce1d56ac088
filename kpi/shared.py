"""Figures shared for a few seconds (settings.DCC_FIGURES_SECONDS) between everyone asking the
same question: the month's counts for a dealer's dashboard, the DCC board of a team. Forty
managers refreshing one dealer's dashboard then cost one count per period, not forty; the
price is figures up to that many seconds old, which the pages say. In the cache every web
process shares (Redis in production), keyed by the question in full.

When figures are due again, the first to ask counts them while the others are answered with
the figures still kept (for as long again at most): a dozen managers arriving together do not
all count at once.
"""

from __future__ import annotations

import hashlib
import time
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
    kept = cache.get(key)  # (counted at, figures), kept for twice the period
    now = time.time()
    if kept is not None and now - kept[0] < seconds:
        return kept[1]
    # Due (or never counted): one asker counts; the others take the kept figures meanwhile.
    if kept is not None and not cache.add(f"{key}:counting", 1, seconds):
        return kept[1]
    figures = count()
    cache.set(key, (time.time(), figures), 2 * seconds)
    cache.delete(f"{key}:counting")
    return figures
