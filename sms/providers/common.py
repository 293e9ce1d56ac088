"""What every SMS adapter is given and answers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Outgoing:
    phone: str  # the normalised mobile number
    sign_name: str  # the signature, without its brackets
    template_code: str  # the provider's code of the approved template
    params: dict[str, str]  # the template's variables
    text: str  # what the phone shows (signature and filled-in text)


@dataclass(frozen=True)
class Sent:
    provider_id: str  # the provider's id of the message (Aliyun's BizId), for its receipt
    delivered: bool = False  # known delivered at once (the outbox)
