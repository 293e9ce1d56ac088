"""Sending text messages and taking what comes back: one message from a lead, a bulk send to a
segment (with the preview that says how many will go and why the others will not), the
reminders and notices `dcc tick` sends by itself, delivery receipts and replies. Each message
sent is a row (sms.models.Message) and an SMS event in its lead's ledger; the event holds the
message's id, template, type and status, never the number or the text (personal data is kept
out of the hashed chain, so an erasure leaves it whole)."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Dealer, Staff
from dcc.errors import Conflict, InvalidInput, NotPermitted
from dcc.phone import normalise_phone
from leads import actions
from leads.models import Customer, EventKind, Lead
from leads.stages import Stage
from owners.models import ReturnVisit, VisitStatus
from privacy import consent
from privacy.models import ConsentSource, Purpose
from sms import rules, texts
from sms.models import Message, Reply, SmsSettings, Status, Template, Trigger
from sms.permissions import may_bulk_send, may_send_to_lead
from sms.providers import SENDERS, Outgoing, ProviderError
from sms.segments import Segment, recipients

log = logging.getLogger(__name__)


def usable_template(dealer: Dealer, template_id: int | None) -> Template:
    template = Template.objects.filter(dealer=dealer, pk=template_id, is_active=True).first()
    if template is None:
        raise InvalidInput(_("Choose one of the dealer's templates."), field="template")
    return template


# ---------------------------------------------------------------- one message


def _reserve(
    *,
    settings: SmsSettings,
    lead: Lead,
    template: Template,
    filled: texts.Filled,
    trigger: str,
    by: Staff | None,
    at: datetime,
    key: str = "",
    automatic: bool = False,
) -> Message | str:
    """Screen the customer and keep the message, under a lock on the customer's row, so that
    two senders at once never both pass a per-number limit (the row counts towards it at once;
    on SQLite the transaction itself queues writers). The message, or why it may not go (a
    rules.Skip code). Its key is taken here too: two ticks never send one reminder twice."""
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=lead.customer_id)
        reason = rules.screen(
            settings=settings, kind=template.kind, customers=[customer], at=at, automatic=automatic
        )[customer.pk]
        if reason is not None:
            return reason
        return Message.objects.create(
            dealer_id=lead.dealer_id,
            customer=customer,
            lead=lead,
            template=template,
            kind=template.kind,
            trigger=trigger,
            phone=customer.phone,
            text=filled.text,
            parts=filled.parts,
            provider=settings.provider,
            status=Status.SENT,
            sent_by=by,
            sent_at=at,
            key=key,
        )


def _deliver(
    settings: SmsSettings, message: Message, *, lead: Lead, template: Template, params: dict
) -> Message:
    """Hand a kept message to the provider (outside any transaction: the provider may take its
    time), then note the outcome and the ledger event."""
    outgoing = Outgoing(
        phone=message.phone,
        sign_name=settings.signature,
        template_code=template.provider_code,
        params=params,
        text=message.text,
    )
    try:
        sent = SENDERS[settings.provider](settings, outgoing)
    except ProviderError as error:
        message.status, message.error = Status.FAILED, error.message[:200]
    else:
        message.provider_id = sent.provider_id
        if sent.delivered:
            message.status, message.reported_at = Status.DELIVERED, message.sent_at
    message.save(update_fields=["status", "error", "provider_id", "reported_at"])
    actions.record_fact(
        lead=lead,
        by=message.sent_by,
        at=message.sent_at,
        kind=EventKind.SMS,
        data={
            "message": message.pk,
            "template": template.pk,
            "type": template.kind,
            "trigger": message.trigger,
            "status": message.status,
        },
    )
    return message


def _send(
    *,
    settings: SmsSettings,
    lead: Lead,
    template: Template,
    filled: texts.Filled,
    trigger: str,
    by: Staff | None,
    at: datetime,
    key: str = "",
    automatic: bool = False,
) -> Message | str:
    """Keep the message (if the customer may be sent it now), then deliver it."""
    kept = _reserve(
        settings=settings,
        lead=lead,
        template=template,
        filled=filled,
        trigger=trigger,
        by=by,
        at=at,
        key=key,
        automatic=automatic,
    )
    if isinstance(kept, str):
        return kept
    return _deliver(settings, kept, lead=lead, template=template, params=filled.params)


def send_to_lead(
    *, lead: Lead, template: Template, by: Staff, at: datetime | None = None
) -> Message:
    """One message to the lead's customer, from the lead's page. Refused (naming why) when the
    template is wrong, the text too long, or the customer may not be sent it now."""
    if not may_send_to_lead(by, lead):
        raise NotPermitted(_("You may not send messages to this lead's customer."))
    if template.dealer_id != lead.dealer_id or not template.is_active:
        raise InvalidInput(_("Choose one of the dealer's templates."), field="template")
    at = at or timezone.now()
    settings = SmsSettings.of(lead.dealer)
    filled = texts.render(text=template.text, kind=template.kind, lead=lead, settings=settings)
    sent = _send(
        settings=settings,
        lead=lead,
        template=template,
        filled=filled,
        trigger=Trigger.MANUAL,
        by=by,
        at=at,
    )
    if isinstance(sent, str):
        raise Conflict(_("Not sent: %(reason)s.") % {"reason": rules.Skip.LABELS[sent]}, code=sent)
    return sent


# ---------------------------------------------------------------- bulk


@dataclass
class Preview:
    """What a bulk send would do now: how many it finds, how many it would send, and how many
    it would skip, by reason (rules.Skip)."""

    found: int = 0
    send: int = 0
    skipped: Counter = field(default_factory=Counter)
    sample: str = ""  # the message as the first recipient would get it
    leads: list[Lead] = field(default_factory=list, repr=False)
    reasons: dict[int, str | None] = field(default_factory=dict, repr=False)

    def skipped_list(self) -> list[tuple[str, object, int]]:
        return [(code, rules.Skip.LABELS[code], self.skipped[code]) for code in rules.Skip.ORDER]


@dataclass
class Outcome:
    sent: int = 0
    failed: int = 0
    skipped: Counter = field(default_factory=Counter)


def preview_bulk(
    *, dealer: Dealer, segment: Segment, template: Template, at: datetime | None = None
) -> Preview:
    at = at or timezone.now()
    settings = SmsSettings.of(dealer)
    if not settings.signature:
        raise InvalidInput(_("Set the dealer's SMS signature first."), field="template")
    texts.check_wording(text=template.text, kind=template.kind, settings=settings)
    leads = recipients(dealer.pk, segment)
    reasons = rules.screen(
        settings=settings, kind=template.kind, customers=[lead.customer for lead in leads], at=at
    )
    preview = Preview(found=len(leads), leads=leads, reasons=reasons)
    for lead in leads:
        reason = reasons[lead.customer_id]
        if reason is None:
            preview.send += 1
            if not preview.sample:
                preview.sample = texts.render(
                    text=template.text, kind=template.kind, lead=lead, settings=settings
                ).text
        else:
            preview.skipped[reason] += 1
    return preview


def send_bulk(
    *,
    dealer: Dealer,
    segment: Segment,
    template: Template,
    by: Staff,
    at: datetime | None = None,
) -> Outcome:
    """Send `template` to the segment's customers who may be sent it now (as the preview
    said); a message too long once filled in for one customer is skipped, not sent cut."""
    if not may_bulk_send(by, dealer.pk):
        raise NotPermitted(_("Only marketing and supervisors send to a segment."))
    if template.dealer_id != dealer.pk or not template.is_active:
        raise InvalidInput(_("Choose one of the dealer's templates."), field="template")
    at = at or timezone.now()
    preview = preview_bulk(dealer=dealer, segment=segment, template=template, at=at)
    settings = SmsSettings.of(dealer)
    outcome = Outcome(skipped=Counter(preview.skipped))
    for lead in preview.leads:
        if preview.reasons[lead.customer_id] is not None:
            continue
        try:
            filled = texts.render(
                text=template.text, kind=template.kind, lead=lead, settings=settings
            )
        except InvalidInput:
            outcome.skipped["too_long"] += 1
            continue
        message = _send(
            settings=settings,
            lead=lead,
            template=template,
            filled=filled,
            trigger=Trigger.BULK,
            by=by,
            at=at,
        )
        if isinstance(message, str):  # since the preview: another send took the limit
            outcome.skipped[message] += 1
        elif message.status == Status.FAILED:
            outcome.failed += 1
        else:
            outcome.sent += 1
    return outcome


# ---------------------------------------------------------------- by themselves (dcc tick)


def _send_automatic(
    settings: SmsSettings, template: Template, lead: Lead, *, trigger: str, key: str, at: datetime
) -> bool:
    if Message.objects.filter(dealer_id=settings.dealer_id, key=key).exists():
        return False
    reason = rules.screen(
        settings=settings, kind=template.kind, customers=[lead.customer], at=at, automatic=True
    )[lead.customer_id]
    if reason is not None:
        return False  # tried again at the next tick (quiet hours, a limit) while still due
    try:
        filled = texts.render(text=template.text, kind=template.kind, lead=lead, settings=settings)
    except InvalidInput as error:
        log.warning("dealer %s: %s not sent: %s", settings.dealer_id, trigger, error.message)
        return False
    try:
        sent = _send(
            settings=settings,
            lead=lead,
            template=template,
            filled=filled,
            trigger=trigger,
            by=None,
            at=at,
            key=key,
            automatic=True,
        )
    except IntegrityError:
        return False  # another tick took it
    return not isinstance(sent, str)


def send_due_notices(now: datetime | None = None) -> tuple[int, int]:
    """Appointment reminders the day before the appointment, and return-visit notices on the
    day the visit is due, for every dealer that chose a template for them: (reminders,
    notices) sent. Each goes once (its key); one held back by quiet hours goes at a later tick
    of the same day."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    tomorrow = local.date() + timedelta(days=1)
    reminders = notices = 0
    configured = SmsSettings.objects.select_related(
        "dealer", "reminder_template", "return_visit_template"
    ).exclude(reminder_template=None, return_visit_template=None)
    for settings in configured:
        template = settings.reminder_template
        if template is not None and template.is_active:
            due = Lead.objects.filter(
                dealer_id=settings.dealer_id,
                stage=Stage.APPOINTED,
                appointment_at__date=tomorrow,
            ).select_related("customer", "dealer", "owner", "consultant")
            for lead in due:
                key = f"reminder:{lead.pk}:{lead.appointment_at:%Y%m%d%H%M}"
                reminders += _send_automatic(
                    settings, template, lead, trigger=Trigger.REMINDER, key=key, at=now
                )
        template = settings.return_visit_template
        if template is not None and template.is_active:
            visits = ReturnVisit.objects.filter(
                dealer_id=settings.dealer_id,
                status=VisitStatus.DUE,
                due_at__date=local.date(),
            ).select_related("lead__customer", "lead__dealer", "lead__owner", "lead__consultant")
            for visit in visits:
                notices += _send_automatic(
                    settings,
                    template,
                    visit.lead,
                    trigger=Trigger.RETURN_VISIT,
                    key=f"visit:{visit.pk}",
                    at=now,
                )
    return reminders, notices


# ---------------------------------------------------------------- what comes back


def record_report(
    *, dealer: Dealer, provider_id: str, delivered: bool, error: str = "", at: datetime
) -> bool:
    """A delivery receipt: the message it names is delivered or failed (whether it was found)."""
    message = Message.objects.filter(dealer=dealer, provider_id=provider_id).first()
    if message is None or not provider_id:
        return False
    message.status = Status.DELIVERED if delivered else Status.FAILED
    message.error = "" if delivered else error[:200]
    message.reported_at = at
    message.save(update_fields=["status", "error", "reported_at"])
    return True


def receive_reply(*, dealer: Dealer, phone: str, content: str, at: datetime) -> Reply:
    """A customer's reply. R, TD or 退订 (any case, spaces trimmed) withdraws their consent to
    marketing SMS, recorded with the reply as evidence; the reply joins their latest lead's
    ledger (without its text)."""
    try:
        number = normalise_phone(phone).number
    except InvalidInput:
        number = phone.strip()[:20]
    customer = Customer.objects.filter(dealer=dealer, phone=number).first()
    opted_out = texts.is_opt_out(content) and customer is not None
    with transaction.atomic():
        reply = Reply.objects.create(
            dealer=dealer,
            customer=customer,
            phone=number,
            content=content[:1000],
            received_at=at,
            opted_out=opted_out,
        )
        if opted_out:
            consent.record(
                customer=customer,
                purpose=Purpose.SMS,
                given=False,
                how=ConsentSource.REPLY,
                evidence=content.strip(),
                at=at,
            )
        lead = (
            Lead.objects.filter(customer=customer).order_by("-created_at", "-pk").first()
            if customer is not None
            else None
        )
        if lead is not None:
            actions.record_fact(
                lead=lead,
                by=None,
                at=at,
                kind=EventKind.SMS,
                data={"reply": reply.pk, "direction": "in", "opted_out": opted_out},
            )
    return reply
