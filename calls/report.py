"""The one shape every provider's push becomes (`CallReport`), before it is stored.

Providers say the same things in different words: Tencent's end-status codes, Aliyun's
ContactDisposition, Clink's status numbers, Asterisk's `disposition`. Each adapter in
`calls.providers` translates its payloads into a CallReport; everything after that — storing,
matching, the ledger, callbacks, KPIs — knows only this shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class Direction(models.TextChoices):
    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")


class Disposition(models.TextChoices):
    """How a call ended, in the dealer's terms, whatever the provider called it."""

    ANSWERED = "answered", _("Answered")
    MISSED_IN_QUEUE = "missed_in_queue", _("Missed in queue")
    MISSED_RINGING = "missed_ringing", _("Missed while ringing")
    ABANDONED_IVR = "abandoned_ivr", _("Abandoned in IVR")
    NO_AGENT = "no_agent", _("No agent online")
    OUT_OF_HOURS = "out_of_hours", _("Out of hours")
    BUSY = "busy", _("Busy")
    NO_ANSWER = "no_answer", _("No answer")
    FAILED = "failed", _("Failed")
    REJECTED = "rejected", _("Rejected")
    OTHER = "other", _("Other")  # a status the provider added after this adapter was written


# Inbound calls nobody at the dealer answered: each leaves a callback to make.
MISSED = frozenset(
    {
        Disposition.MISSED_IN_QUEUE,
        Disposition.MISSED_RINGING,
        Disposition.ABANDONED_IVR,
        Disposition.NO_AGENT,
        Disposition.OUT_OF_HOURS,
    }
)


class HungUpBy(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    AGENT = "agent", _("Agent")
    SYSTEM = "system", _("System")
    UNKNOWN = "", _("Unknown")


class Phase(models.TextChoices):
    """What a push tells: a call ringing at a seat (the screen pop), answered, ended (the
    call detail record), or a recording that is ready."""

    RINGING = "ringing", _("Ringing")
    ANSWERED = "answered", _("Answered")
    ENDED = "ended", _("Ended")
    RECORDING = "recording", _("Recording ready")


@dataclass(frozen=True)
class CallReport:
    """One push about one call, as the provider saw it. Times are aware datetimes; numbers as
    sent (they are normalised when stored); anything the push did not say is None or empty,
    so that a later push can fill it in (a recording that arrives before the hang-up)."""

    provider: str
    call_id: str  # the provider's id of the call: with the dealer and provider, the call's key
    phase: Phase
    direction: Direction
    line_number: str = ""  # the dealer's number: called (inbound) or shown (outbound)
    customer_number: str = ""
    seat: str = ""  # the provider's seat / agent number, mapped to a person by calls.Seat
    rang_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    wait_seconds: int | None = None
    talk_seconds: int | None = None
    disposition: Disposition | None = None  # None until the call has ended
    status: str = ""  # the provider's own status code, kept as sent
    hung_up_by: HungUpBy = HungUpBy.UNKNOWN
    recording_urls: tuple[str, ...] = ()
    reference: str = ""  # what we sent with a click-to-call, echoed back by the provider
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


class PayloadError(ValueError):
    """A push that cannot be read: says which field and why (answered with a 4xx)."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
