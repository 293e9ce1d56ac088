"""What the apps above calls do once a call has ended and its lead is known (a campaign's line
credits the lead to the campaign). They register here in their AppConfig.ready: calls sits
below them in the layers, so it cannot import them. A listener runs in the call's transaction
on every settle of the call (each push after it ended), so it must do its work once."""

from __future__ import annotations

from collections.abc import Callable

from calls.models import Call

CallListener = Callable[[Call], None]

_LISTENERS: dict[str, CallListener] = {}


def listen(key: str, listener: CallListener) -> None:
    """Add a listener (again with the same key: replaced, so a reloaded app does not double)."""
    _LISTENERS[key] = listener


def call_settled(call: Call) -> None:
    for listener in list(_LISTENERS.values()):
        listener(call)
