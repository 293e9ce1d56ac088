"""Throttling of sign-ins and bearer tokens: failures are counted in Django's cache (shared by
every process when CACHES points at Redis) by account and by address; past a few free tries
each further failure makes the next attempt wait twice as long, up to a cap.

The account's wait is short and capped low, because anyone can fail on purpose with another
person's username: an attacker can delay a real user by a minute at most. The address's wait
grows long, since it only holds back the address that keeps failing."""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone

from accounts import audit
from accounts.models import Lockout

log = logging.getLogger("dcc.security")


@dataclass(frozen=True)
class Policy:
    scope: str  # Lockout.ACCOUNT, .ADDRESS, .TOKEN
    free: int  # failures before any wait
    first_wait: float  # seconds, doubling with each further failure
    longest_wait: float  # seconds
    forget_after: int  # seconds after the last failure when the count starts afresh


ACCOUNT = Policy(Lockout.ACCOUNT, free=5, first_wait=2, longest_wait=60, forget_after=15 * 60)
ADDRESS = Policy(Lockout.ADDRESS, free=10, first_wait=2, longest_wait=3600, forget_after=3600)
TOKEN = Policy(Lockout.TOKEN, free=20, first_wait=1, longest_wait=15 * 60, forget_after=10 * 60)


def client_address(request: HttpRequest) -> str:
    """The caller's address; behind the reverse proxy, the one it appended to X-Forwarded-For
    (earlier entries are whatever the client claimed)."""
    if settings.DCC_BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
        if forwarded:
            return forwarded[:45]
    return request.META.get("REMOTE_ADDR", "")[:45]


def _keys(policy: Policy, who: str) -> tuple[str, str]:
    digest = hashlib.sha256(who.strip().casefold().encode()).hexdigest()[:32]
    return f"dcc:throttle:{policy.scope}:{digest}:n", f"dcc:throttle:{policy.scope}:{digest}:until"


def wait_for(policy: Policy, who: str) -> int:
    """Whole seconds `who` must still wait before trying again; 0 when free to try."""
    until = cache.get(_keys(policy, who)[1])
    return max(0, math.ceil(until - time.time())) if until else 0


def _fail(policy: Policy, who: str) -> tuple[int, float]:
    """Count one failure; (failures so far, seconds of the wait it starts, 0 if none)."""
    count_key, until_key = _keys(policy, who)
    cache.add(count_key, 0, timeout=policy.forget_after)
    try:
        failures = cache.incr(count_key)
    except ValueError:  # expired between add and incr
        cache.set(count_key, 1, timeout=policy.forget_after)
        failures = 1
    cache.touch(count_key, policy.forget_after)
    if failures <= policy.free:
        return failures, 0
    wait = min(policy.longest_wait, policy.first_wait * 2 ** (failures - policy.free - 1))
    cache.set(until_key, time.time() + wait, timeout=math.ceil(wait) + 1)
    return failures, wait


def _forget(policy: Policy, who: str) -> None:
    cache.delete_many(_keys(policy, who))


def _lock_ends(wait: float) -> datetime:
    return timezone.now() + timedelta(seconds=wait)


# ---------------------------------------------------------------- signing in


def login_wait(username: str, address: str) -> int:
    """Seconds before this username may be tried from this address; 0 when it may now."""
    return max(wait_for(ACCOUNT, username), wait_for(ADDRESS, address))


def login_failed(username: str, address: str) -> int:
    """Count a wrong password (or unknown user); the wait it starts, in whole seconds."""
    longest = 0.0
    for policy, who in ((ACCOUNT, username), (ADDRESS, address)):
        failures, wait = _fail(policy, who)
        if wait:
            audit.record_lockout(
                scope=policy.scope,
                username=username,
                address=address,
                failures=failures,
                until=_lock_ends(wait),
            )
            longest = max(longest, wait)
    return math.ceil(longest)


def login_succeeded(username: str) -> None:
    """The account's count starts afresh. The address's does not: an attacker with an
    account of their own must not clear their address by signing in between guesses."""
    _forget(ACCOUNT, username)


# ---------------------------------------------------------------- bearer tokens


def token_wait(address: str) -> int:
    return wait_for(TOKEN, address)


def token_failed(address: str) -> None:
    failures, wait = _fail(TOKEN, address)
    if wait:
        audit.record_lockout(
            scope=TOKEN.scope, address=address, failures=failures, until=_lock_ends(wait)
        )
