"""Owner operations' share of `dcc tick`: late complaints escalated, visits whose attempts
ran out closed as unreachable. Both may run any number of times."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from owners.complaints import escalate_late_complaints
from owners.visits import close_exhausted_visits


def run(now: datetime | None = None) -> tuple[int, int]:
    """(escalations made, visits closed as unreachable)."""
    now = now or timezone.now()
    return escalate_late_complaints(now), close_exhausted_visits(now)
