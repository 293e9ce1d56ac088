"""Settings changes, kept as records traceable to a person (leads have their ledger; the
dealer's configuration has this), and lockouts of sign-ins and tokens."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from accounts.models import Dealer, Lockout, SettingsChange, Staff

log = logging.getLogger("dcc.settings")
security_log = logging.getLogger("dcc.security")


def record_change(
    *, dealer: Dealer, by: Staff, what: str, subject: str, detail: dict[str, Any] | None = None
) -> SettingsChange:
    """Note who changed which setting of `dealer`, to what."""
    log.info("dealer=%s %s %s by=%s %s", dealer.code, what, subject, by.username, detail or "")
    return SettingsChange.objects.create(
        dealer=dealer, changed_by=by, what=what, subject=subject[:200], detail=detail or {}
    )


def record_lockout(
    *, scope: str, address: str, failures: int, until: datetime, username: str = ""
) -> Lockout:
    """Note that `scope` (an account, an address, bearer tokens from an address) is held back
    until `until` after `failures` failures in a row."""
    security_log.warning(
        "lockout %s username=%r address=%s failures=%d until=%s",
        scope,
        username,
        address,
        failures,
        until.isoformat(timespec="seconds"),
    )
    return Lockout.objects.create(
        scope=scope, username=username[:150], address=address, failures=failures, until=until
    )
