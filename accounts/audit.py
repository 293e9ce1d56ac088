"""Settings changes, kept as records traceable to a person (leads have their ledger; the
dealer's configuration has this)."""

from __future__ import annotations

import logging
from typing import Any

from accounts.models import Dealer, SettingsChange, Staff

log = logging.getLogger("dcc.settings")


def record_change(
    *, dealer: Dealer, by: Staff, what: str, subject: str, detail: dict[str, Any] | None = None
) -> SettingsChange:
    """Note who changed which setting of `dealer`, to what."""
    log.info("dealer=%s %s %s by=%s %s", dealer.code, what, subject, by.username, detail or "")
    return SettingsChange.objects.create(
        dealer=dealer, changed_by=by, what=what, subject=subject[:200], detail=detail or {}
    )
