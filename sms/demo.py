"""Demo data: a dealer's SMS set-up (the outbox, a signature, three templates, reminders on)
and yesterday's messages, played through the real services: the consultants' reminders, a
weekend offer to the customers who agreed to marketing SMS (the others skipped), their
receipts, and two replies — one of them R, which opted its customer out."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from django.utils import timezone

from accounts.models import Dealer, Membership, Role
from dcc.errors import DomainError
from leads.models import Lead
from leads.stages import OPEN_STAGES
from privacy import consent
from privacy.models import ConsentSource, Purpose
from sms.models import Kind, Message, SmsSettings, Template
from sms.sending import receive_reply, record_report, send_to_lead

TEMPLATES = [
    (
        "到店提醒",
        Kind.NOTIFICATION,
        "${name}您好，您预约的到店时间为${appointment}，顾问${consultant}将为您服务。地址：${address}",
    ),
    (
        "回访通知",
        Kind.NOTIFICATION,
        "${name}您好，感谢您选择${dealer}，近日我们的回访专员将致电了解您的用车体验。",
    ),
    (
        "周末试驾礼",
        Kind.MARKETING,
        "${name}您好，本周末到店试驾${model}即送精美礼品，详询${phone}。拒收请回复R",
    ),
]
OFFERS = 12  # customers asked about marketing SMS (about two in three agree)


def play_sms(dealer: Dealer, seed: int, *, now: datetime | None = None) -> str:
    """Set the dealer up and play yesterday's messages (once: skipped when it has templates)."""
    if Template.objects.filter(dealer=dealer).exists():
        return f"{dealer.code}: SMS already played."
    now = now or timezone.now()
    rng = random.Random(f"{seed}:sms:{dealer.code}")
    settings = SmsSettings.of(dealer)
    settings.signature = dealer.name[:12] if len(dealer.name) >= 2 else "DCC演示"
    settings.dealer_phone = "400-820-8820"
    settings.dealer_address = f"{dealer.city}汽车园区8号"
    made = {
        name: Template.objects.create(dealer=dealer, name=name, kind=kind, text=text)
        for name, kind, text in TEMPLATES
    }
    settings.reminder_template = made["到店提醒"]
    settings.return_visit_template = made["回访通知"]
    settings.save()
    marketing = (
        Membership.objects.filter(dealer=dealer, role=Role.MARKETING_MANAGER, is_active=True)
        .select_related("staff")
        .first()
    )
    # Yesterday morning, in the dealer's time: out of quiet hours, before today's limits.
    base = datetime.combine(
        timezone.localdate(now) - timedelta(days=1),
        time(10, 0),
        tzinfo=timezone.get_current_timezone(),
    )
    found = (
        Lead.objects.filter(dealer=dealer, stage__in=OPEN_STAGES, created_at__lt=base)
        .exclude(car_model="")
        .select_related("customer", "owner", "consultant", "dealer")
        .order_by("-created_at")
    )
    appointed = list(found.filter(appointment_at__gt=base)[:4])
    offered = list(found.exclude(pk__in=[lead.pk for lead in appointed])[:OFFERS])
    sent: list[Message] = []
    for index, lead in enumerate(appointed):  # the reminders people sent from the lead
        at = base + timedelta(minutes=7 * index)
        try:
            sent.append(send_to_lead(lead=lead, template=made["到店提醒"], by=lead.owner, at=at))
        except DomainError:
            continue
    for index, lead in enumerate(offered):
        at = base + timedelta(hours=1, minutes=index)
        agreed = rng.random() < 0.67
        consent.record(
            customer=lead.customer,
            purpose=Purpose.SMS,
            given=agreed,
            how=ConsentSource.FORM,
            evidence="到店登记表：同意接收优惠短信" if agreed else "到店登记表：未勾选",
            at=lead.created_at,
        )
        if agreed and marketing is not None:
            try:
                sent.append(
                    send_to_lead(lead=lead, template=made["周末试驾礼"], by=marketing.staff, at=at)
                )
            except DomainError:
                continue
    if sent:  # one number turned out to be off: its receipt says so
        record_report(
            dealer=dealer,
            provider_id=sent[-1].provider_id,
            delivered=False,
            error="MK:0000",
            at=sent[-1].sent_at + timedelta(seconds=9),
        )
    offers = [message for message in sent if message.kind == Kind.MARKETING]
    if offers:
        receive_reply(
            dealer=dealer,
            phone=offers[0].phone,
            content="R",
            at=offers[0].sent_at + timedelta(minutes=3),
        )
    if len(offers) > 1:
        receive_reply(
            dealer=dealer,
            phone=offers[1].phone,
            content="周六上午可以，谢谢",
            at=offers[1].sent_at + timedelta(minutes=12),
        )
    return f"{dealer.code}: {len(sent)} text messages in the outbox, {len(made)} templates."
