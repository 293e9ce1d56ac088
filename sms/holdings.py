"""The text messages and replies the dealer holds about a customer, for an export and an
erasure (registered with privacy.holdings in sms.apps). An erasure blanks the number and the
text and keeps the rows, so that counts (messages sent, delivered) stay."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from leads.models import Customer
from privacy.holdings import Holding, Row
from sms.models import Message, Reply


def export(customer: Customer) -> list[Row]:
    rows: list[Row] = []
    for message in Message.objects.filter(customer=customer).order_by("sent_at", "pk"):
        rows.append(
            {
                "direction": "out",
                "at": message.sent_at.isoformat(),
                "phone": message.phone,
                "text": message.text,
                "type": message.kind,
                "status": message.status,
            }
        )
    for reply in Reply.objects.filter(customer=customer).order_by("received_at", "pk"):
        rows.append(
            {
                "direction": "in",
                "at": reply.received_at.isoformat(),
                "phone": reply.phone,
                "text": reply.content,
                "type": "",
                "status": "",
            }
        )
    return rows


def erase(customer: Customer) -> int:
    return Message.objects.filter(customer=customer).update(
        phone="", text=""
    ) + Reply.objects.filter(customer=customer).update(phone="", content="")


def remains(customer: Customer) -> int:
    return Message.objects.filter(customer=customer).count()


HOLDING = Holding(key="sms", title=_("Text messages"), export=export, erase=erase, remains=remains)
