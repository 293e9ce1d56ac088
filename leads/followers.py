"""What the rest of the product does when a lead's ledger records something: a delivery gives
the customer their vehicle and schedules owner operations' return visits, an order credits
the referrer. Those parts build on leads, so leads cannot call them; they register here, once,
when their app is ready (AppConfig.ready), and both executors tell them, in the write's own
transaction, after the lead and its events are stored: what they do is stored with the lead's
change or not at all."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from leads.ledger import Entry
from leads.models import Lead

Follower = Callable[[Lead, Entry], None]
_FOLLOWERS: dict[str, list[Follower]] = defaultdict(list)


def follow(kind: str, follower: Follower) -> None:
    """Call `follower(lead, entry)` whenever an event of `kind` is written (once per follower,
    however often the app is made ready)."""
    if follower not in _FOLLOWERS[kind]:
        _FOLLOWERS[kind].append(follower)


def followed(kind: str) -> bool:
    return bool(_FOLLOWERS.get(kind))


def tell(lead: Lead, entries: Iterable[Entry]) -> None:
    """The followers of each entry's kind, in the order the entries were written."""
    for entry in entries:
        for follower in _FOLLOWERS.get(entry.kind, ()):
            follower(lead, entry)
