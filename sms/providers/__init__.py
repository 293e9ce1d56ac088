"""Who carries the dealer's messages: the outbox (the default: kept here and shown, for the
demo and a dealer not yet set up) or Alibaba Cloud SMS. Each adapter has `send(settings,
outgoing) -> Sent`, raising ProviderError (calls.providers.base) with a reason a dealer can act
on when the message could not go."""

from __future__ import annotations

from collections.abc import Callable

from calls.providers.base import ProviderError
from sms.models import Provider, SmsSettings
from sms.providers import aliyun, outbox
from sms.providers.common import Outgoing, Sent

SENDERS: dict[str, Callable[[SmsSettings, Outgoing], Sent]] = {
    Provider.OUTBOX: outbox.send,
    Provider.ALIYUN: aliyun.send,
}

__all__ = ["SENDERS", "Outgoing", "ProviderError", "Sent"]
