"""The embedded provider: the message is kept (sms.models.Message) and shown on the outbox page,
where staff may answer it as the customer would (a simulated reply), and nothing leaves the
machine. The default, so that the demo and the tests need no network."""

from __future__ import annotations

import uuid

from sms.models import SmsSettings
from sms.providers.common import Outgoing, Sent


def send(settings: SmsSettings, outgoing: Outgoing) -> Sent:
    return Sent(provider_id=f"outbox-{uuid.uuid4().hex[:20]}", delivered=True)
