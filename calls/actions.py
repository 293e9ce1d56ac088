"""What the phone system tells us, written: each push merged into its call (idempotent, in any
order), the call matched to its customer and lead, and once it has ended its consequences —
the `called` event in the lead's ledger, the callback a missed call leaves, the callback a
reached call closes. An unknown caller's details taken during the call become a lead (留资).

Pushes about one call may arrive in any order and any number of times: the call detail
before or after the recording, the same push five times, a "missed" push and then an
"answered" one for a call picked up by transfer. Every merge keeps what is known and only
fills in or improves it, so the order does not change the result."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime
from typing import NamedTuple

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Staff
from calls import listeners, matching
from calls.models import (
    CALL_ID_LENGTH,
    DEFAULT_CALLBACK_MINUTES,
    SEAT_LENGTH,
    Call,
    Callback,
    PhoneAccount,
    Recording,
    Seat,
)
from calls.providers import PROVIDERS, ProviderError
from calls.report import MISSED, CallReport, Direction, Disposition, Phase
from calls.tasks import fetch_recording_task
from dcc.errors import DomainError, InvalidInput, NotPermitted
from leads import actions as lead_actions
from leads.assignment import may_own
from leads.models import CallOutcome, Channel, Lead
from leads.permissions import authorize
from leads.sla import business_deadline, in_business_hours
from leads.stages import OPEN_STAGES, Action, Grade
from leads.teams import team_of
from privacy import consent


class Unavailable(DomainError):
    """The provider could not do what was asked (its API down or refusing)."""

    status = 502
    code = "provider_unavailable"


# Keep the pushes of one call for the audit trail, but not without bound.
MAX_PUSHES_KEPT = 20

OUTCOME = {
    Disposition.ANSWERED: CallOutcome.REACHED,
    Disposition.BUSY: CallOutcome.BUSY,
    Disposition.REJECTED: CallOutcome.HUNG_UP,
    Disposition.FAILED: CallOutcome.POWERED_OFF,
}


def receive(
    account: PhoneAccount,
    report: CallReport,
    *,
    now: datetime | None = None,
    history: bool = False,
) -> Call:
    """Merge one push into its call and settle what follows from it. `history`: the call comes
    from an imported record of past calls, so a miss in it leaves no callback to make now
    (the agents of then dealt with it, or it is too late); it still closes one a reached call
    answers, and still writes the lead's ledger."""
    _check_lengths(report)
    now = now or timezone.now()
    # No savepoint of its own: a push's calls are stored whole or not at all (calls.push), and
    # every other caller runs it in a transaction of its own.
    with transaction.atomic(savepoint=False):
        call = _locked_call(account, report)
        known = Known(call.line_number, call.number, call.seat, call.agent_id)
        _merge(call, report, now)
        _identify(call, account, known)
        _mark_for_kpis(call, account)
        call.updated_at = now
        if not _stored(call, now):
            # The same call pushed twice at once: the other push created it; merge into that.
            return receive(account, report, now=now, history=history)
        _save_recordings(call, report, now)
        settle(call, history=history)
    return call


def _check_lengths(report: CallReport) -> None:
    """What a call is known by must fit: an id or seat too long to store is refused, named."""
    for field, value, limit in (
        ("call_id", report.call_id, CALL_ID_LENGTH),
        ("seat", report.seat, SEAT_LENGTH),
    ):
        if len(value) > limit:
            raise InvalidInput(
                _("%(field)s is too long: at most %(limit)d characters.")
                % {"field": field, "limit": limit},
                code="too_long",
                field=field,
            )


def _kept(raw: dict) -> dict:
    """A push as sent, without NUL characters (no database keeps them in JSON text)."""
    text = json.dumps(raw, ensure_ascii=False, default=str)
    return json.loads(text.replace("\\u0000", "")) if "\\u0000" in text else raw


def _locked_call(account: PhoneAccount, report: CallReport) -> Call:
    """The call this report is about, locked; a new one (not stored yet) if none is known."""
    # The lead and agent come along (the ledger entry needs them), unlocked: leads.actions
    # locks the lead.
    calls = Call.objects.select_for_update(of=("self",)).select_related("lead", "agent")
    key = {"dealer_id": account.dealer_id, "provider": account.provider}
    call = calls.filter(**key, call_id=report.call_id).first()
    if call is None and report.reference:
        # A click-to-call we placed: the record made then learns the provider's id now.
        call = calls.filter(**key, reference=report.reference, call_id__startswith="ref:").first()
        if call is not None:
            call.call_id = report.call_id
    return call or Call(**key, call_id=report.call_id, direction=report.direction)


def _stored(call: Call, now: datetime) -> bool:
    """Save the call; False when it is new and another push of it was stored first."""
    if call.pk is not None:
        call.save()
        return True
    call.created_at = now
    try:
        with transaction.atomic():
            call.save(force_insert=True)
    except IntegrityError:
        call.pk = None
        return False
    return True


def _merge(call: Call, report: CallReport, now: datetime) -> None:
    digest = hashlib.sha256(
        json.dumps(report.raw, sort_keys=True, default=str).encode()
    ).hexdigest()[:16]
    if any(push.get("digest") == digest for push in call.pushes):
        return  # the very same push again: nothing new
    call.pushes = [
        *call.pushes[-(MAX_PUSHES_KEPT - 1) :],
        {
            "digest": digest,
            "phase": str(report.phase),
            "at": now.isoformat(),
            "raw": _kept(report.raw),
        },
    ]
    if report.phase != Phase.RECORDING:
        # A recording push may not say the direction (Tencent's, Aliyun's): the others do.
        call.direction = report.direction
    call.line_number = call.line_number or matching.digits(report.line_number)[:20]
    call.number = call.number or matching.caller_number(report.customer_number)
    call.seat = report.seat or call.seat
    call.reference = call.reference or report.reference[:64]
    call.rang_at = min(filter(None, (call.rang_at, report.rang_at)), default=None)
    call.answered_at = call.answered_at or report.answered_at
    call.ended_at = max(filter(None, (call.ended_at, report.ended_at)), default=None)
    for name in ("wait_seconds", "talk_seconds"):
        value = getattr(report, name)
        if value is not None:
            setattr(call, name, max(value, getattr(call, name) or 0))
    if report.disposition:
        # Answered wins: a call missed at one seat and picked up by transfer was answered.
        if call.disposition != Disposition.ANSWERED:
            call.disposition = report.disposition
            call.status = report.status[:64] or call.status
    elif report.status and not call.disposition:
        call.status = report.status[:64]
    if report.phase == Phase.ANSWERED and call.answered_at is None:
        call.answered_at = report.rang_at or now
    call.hung_up_by = report.hung_up_by or call.hung_up_by
    if call.rang_at is None:
        call.rang_at = call.answered_at or call.ended_at or now


class Known(NamedTuple):
    """What a call's earlier pushes settled, as stored: not looked up again unless it changed."""

    line_number: str
    number: str
    seat: str
    agent_id: int | None


def _identify(call: Call, account: PhoneAccount, known: Known) -> None:
    """The line, the person at the seat and their team, the customer and the lead."""
    dealer = account.dealer
    if call.line_number != known.line_number:
        call.line = matching.line_of(dealer, call.line_number)
    # An inbound call moved to another seat (transferred) is the new seat's; an outbound call
    # placed by click-to-call stays the caller's.
    if call.seat != known.seat and call.seat and (call.agent_id is None or call.is_inbound):
        call.agent = matching.person_at_seat(account, call.seat) or call.agent
    if call.agent_id != known.agent_id and call.agent_id:
        call.team = team_of(call.agent, dealer, call.rang_at)
    if call.number != known.number and call.customer_id is None and not call.not_a_lead:
        found = matching.match_number(dealer, call.number)
        call.not_a_lead = found.not_a_lead
        call.customer = found.customer
        call.lead = call.lead or found.lead
        call.had_open_lead = _is_open(found.lead) if call.number and not found.not_a_lead else None


# ---------------------------------------------------------------- what the call KPIs read


def _is_open(lead: Lead | None) -> bool:
    return lead is not None and lead.stage in OPEN_STAGES


def _mark_for_kpis(call: Call, account: PhoneAccount) -> None:
    """What the call KPIs cannot well compute in SQL, set as the call is stored: whether it
    rang within the dealer's business hours (the answer rate's calls)."""
    if call.rang_at is not None:
        call.in_hours = in_business_hours(account.dealer, call.rang_at) == call.rang_at


def _save_recordings(call: Call, report: CallReport, now: datetime) -> None:
    for url in report.recording_urls:
        recording, new = Recording.objects.get_or_create(
            call=call, url=url[:1000], defaults={"created_at": now}
        )
        if new:  # fetched in the background, before the provider's address expires
            transaction.on_commit(lambda pk=recording.pk: fetch_recording_task.enqueue(pk))


# ---------------------------------------------------------------- once a call has ended


def settle(call: Call, *, history: bool = False) -> None:
    """What an ended call leaves behind, each thing once: its event in the lead's ledger, the
    callback of a missed inbound call (not for `history`, see receive), the closing of the
    callback a reached call answers; then what the apps above make of it (calls.listeners)."""
    if not call.disposition or call.not_a_lead:
        return
    if call.is_answered:
        _close_callback(call)
    elif call.direction == Direction.INBOUND and call.disposition in MISSED and not history:
        _count_missed(call)
    if call.lead_id and not call.in_ledger and _belongs_in_ledger(call):
        lead_actions.phone_call(
            lead=call.lead,
            by=call.agent,
            at=call.answered_at or call.rang_at,
            call_id=call.call_id,
            direction=call.direction,
            outcome=OUTCOME.get(call.disposition, CallOutcome.NO_ANSWER),
            duration_seconds=call.talk_seconds or 0,
            disposition=call.disposition,
            line=call.line_number,
            recorded=call.recordings.exists(),
        )
        Call.objects.filter(pk=call.pk).update(in_ledger=True)
        call.in_ledger = True
    if call.lead_id:
        listeners.call_settled(call)


def _belongs_in_ledger(call: Call) -> bool:
    """Answered calls, and the attempts the DCC made (as a typed "no answer" is); an inbound
    call nobody took is the dealer's miss, not work on the lead: it leaves a callback."""
    return call.is_answered or call.direction == Direction.OUTBOUND


def _count_missed(call: Call) -> None:
    if call.callback_id or not call.number:
        return
    callback = (
        Callback.objects.select_for_update()
        .filter(dealer_id=call.dealer_id, number=call.number, closed_at__isnull=True)
        .first()
    )
    if callback is None:
        minutes = call.line.callback_minutes if call.line else DEFAULT_CALLBACK_MINUTES
        callback = Callback.objects.create(
            dealer_id=call.dealer_id,
            number=call.number,
            line=call.line,
            customer=call.customer,
            lead=call.lead,
            missed_count=1,
            last_missed_at=call.rang_at,
            due_at=business_deadline(call.dealer, call.rang_at, minutes=minutes),
        )
    else:
        callback.missed_count += 1
        callback.last_missed_at = max(callback.last_missed_at, call.rang_at)
        callback.save(update_fields=["missed_count", "last_missed_at"])
    Call.objects.filter(pk=call.pk).update(callback=callback)
    call.callback = callback


def _close_callback(call: Call) -> None:
    """A reached call closes the number's open callback, if a miss before it opened one. A
    call that was itself counted missed (then picked up by transfer) is uncounted."""
    reached_at = call.answered_at or call.rang_at
    Callback.objects.filter(
        dealer_id=call.dealer_id,
        number=call.number,
        closed_at__isnull=True,
        missed_calls__rang_at__lte=reached_at,
    ).update(closed_at=reached_at, closed_by=call)
    if call.callback_id:
        Callback.objects.filter(pk=call.callback_id).update(missed_count=F("missed_count") - 1)
        Call.objects.filter(pk=call.pk).update(callback=None)
        call.callback = None


# ---------------------------------------------------------------- an unknown caller's details


def capture(
    call: Call,
    *,
    by: Staff,
    name: str,
    car_model: str = "",
    grade: Grade | str = "",
    appointment_at: datetime | None = None,
    note: str = "",
) -> Lead:
    """留资: the agent who took an unknown caller's call enters what the caller said; the lead
    is made on the line's channel, owned by that agent where they may own leads, linked to
    the call and counted as captured. A grade and a showroom visit may be given at once."""
    if call.agent_id != by.pk:
        raise NotPermitted(_("Only the person who took the call can capture it."))
    if call.direction != Direction.INBOUND or call.not_a_lead or not call.number:
        raise InvalidInput(_("This call cannot become a lead."), code="not_capturable")
    if call.lead_id:
        raise InvalidInput(_("This caller already has a lead."), code="already_captured")
    channel = _channel_of(call)
    with transaction.atomic():
        intake = lead_actions.create_lead(
            dealer=call.dealer,
            phone=call.number,
            channel=channel,
            by=by,
            name=name,
            car_model=car_model,
            note=note,
            owner=by if may_own(by, call.dealer) else None,
        )
        lead = intake.lead
        if grade:
            lead = lead_actions.set_grade(lead=lead, by=by, grade=grade)
        call.lead, call.customer, call.captured = lead, lead.customer, True
        call.save(update_fields=["lead", "customer", "captured"])
        settle(call)
        if appointment_at:
            lead.refresh_from_db()
            lead = lead_actions.book_appointment(lead=lead, by=by, appointment_at=appointment_at)
    return lead


def _channel_of(call: Call) -> Channel:
    if call.line is not None:
        return call.line.channel
    hotline = Channel.objects.filter(dealer_id=call.dealer_id, group="phone", is_active=True)
    channel = hotline.order_by("pk").first()
    if channel is None:
        raise InvalidInput(
            _("The line this call came in on has no channel; set one up in the phone settings."),
            code="line_without_channel",
        )
    return channel


# ---------------------------------------------------------------- click-to-call

DIAL_TIMEOUT_SECONDS = 10.0


def dial(lead: Lead, *, by: Staff) -> Call:
    """Click-to-call: the provider rings `by`'s seat, then the customer; the person never
    sees the number. The call is recorded now, with our reference, so that its pushes find
    it (and its lead) by the reference the provider echoes, and the call panel shows it at
    once."""
    authorize(by, lead, Action.LOG_CALL)
    return place_call(lead, by=by)


def place_call(lead: Lead, *, by: Staff, marketing: bool = False) -> Call:
    """`dial` without asking leads.permissions: for the apps above calls that decide
    themselves who may call a customer for their work (owner operations calling a delivered
    customer for a return visit), after they have checked it. The number stays hidden.

    A `marketing` call (an invitation, an offer: not about the customer's own enquiry, order
    or car) is placed only to a customer who agreed and whose number is not on the dealer's
    do-not-call list."""
    if lead.customer.erased_at is not None:
        raise InvalidInput(
            _("This customer's personal data was erased: there is no number to call."),
            code="erased",
        )
    if marketing and (refusal := consent.marketing_call_refusal(lead.customer)):
        raise InvalidInput(refusal, code="no_marketing_consent")
    seat = (
        Seat.objects.filter(staff=by, account__dealer_id=lead.dealer_id, account__is_active=True)
        .select_related("account")
        .first()
    )
    if seat is None:
        raise InvalidInput(_("You have no phone seat at this dealer."), code="no_seat")
    account = seat.account
    provider = PROVIDERS[account.provider]
    reference = secrets.token_hex(8)
    now = timezone.now()
    call = Call.objects.create(
        dealer_id=lead.dealer_id,
        provider=account.provider,
        call_id=f"ref:{reference}",
        reference=reference,
        direction=Direction.OUTBOUND,
        number=lead.customer.phone,
        customer_id=lead.customer_id,
        lead=lead,
        seat=seat.seat,
        agent=by,
        team=team_of(by, lead.dealer, now),
        rang_at=now,
    )
    try:
        call_id = provider.dial(
            account.credentials,
            account.api_url or provider.default_base_url,
            seat=seat.seat,
            customer_number=lead.customer.phone,
            reference=reference,
            timeout=DIAL_TIMEOUT_SECONDS,
        )
    except ProviderError as error:
        call.delete()
        raise Unavailable(
            _("The phone system did not place the call: %(reason)s") % {"reason": error}
        ) from error
    if call_id and call_id != reference:
        taken = Call.objects.filter(dealer_id=lead.dealer_id, provider=account.provider)
        if not taken.filter(call_id=call_id).exists():  # its push may have come first
            Call.objects.filter(pk=call.pk).update(call_id=call_id[:100])
            call.call_id = call_id[:100]
    return call
