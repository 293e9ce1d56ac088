"""Everything a person can do to a lead: one function per action. Each validates, checks the
stage machine and the permission matrix, writes the lead, its ledger event and its tasks in
one transaction. The UI, the API, imports and the command line all call these; nothing else
writes leads.

`at` backdates an action (history imports, demo data); by default it is now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Absence, Dealer, Staff
from accounts.roles import SUPERVISORS
from dcc import dates
from dcc.errors import Conflict, DomainError, InvalidInput, NotPermitted
from leads import followups, ledger
from leads.assignment import (
    absent_staff_ids,
    is_pool_lead,
    may_own,
    on_duty,
    pick_owner,
    showroom_receiver,
)
from leads.models import (
    CallDirection,
    CallOutcome,
    Channel,
    Customer,
    Event,
    EventKind,
    HandoffReason,
    Lead,
    ReasonCode,
    ReasonKind,
    Task,
    TaskKind,
    TaskOutcome,
    TeamKind,
)
from leads.permissions import authorize, authorize_create, authorize_reveal, roles_at
from leads.phone import NormalisedPhone, normalise_phone
from leads.search import name_initials
from leads.sla import first_response_deadline, settled_deadline
from leads.stages import (
    INVITE_STAGES,
    OPEN_STAGES,
    SHOWROOM_WORKERS,
    Action,
    Grade,
    Stage,
    check_stage,
)

WALK_IN_CHANNEL = "walk_in"


class IntakeOutcome(StrEnum):
    CREATED = "created"
    TOUCHED = "touched"  # repeat enquiry on the customer's open lead
    DUPLICATE = "duplicate"  # the same external id again: nothing written


@dataclass(frozen=True)
class Intake:
    lead: Lead
    outcome: IntakeOutcome

    @property
    def created(self) -> bool:
        return self.outcome is IntakeOutcome.CREATED


# ---------------------------------------------------------------- intake


def create_lead(
    *,
    dealer: Dealer,
    phone: str | NormalisedPhone,
    channel: Channel,
    by: Staff | None,
    name: str = "",
    car_model: str = "",
    city: str = "",
    note: str = "",
    external_id: str = "",
    owner: Staff | None = None,
    at: datetime | None = None,
) -> Intake:
    """Record an enquiry: a new lead, or a touch on the customer's open lead. `by` is None for
    system intake (webhooks); the owner is chosen by the assignment rules unless given."""
    if by is not None:
        authorize_create(by, dealer.pk)
    if channel.dealer_id != dealer.pk:
        raise InvalidInput(_("Unknown channel."), code="unknown_channel", field="channel")
    number = phone if isinstance(phone, NormalisedPhone) else normalise_phone(phone)
    at = at or timezone.now()
    name = name.strip()[:100]
    with transaction.atomic():
        if external_id:
            existing = Lead.objects.filter(
                dealer=dealer, channel=channel, external_id=external_id
            ).first()
            if existing:
                return Intake(existing, IntakeOutcome.DUPLICATE)
        customer = _customer(dealer, number.number, number.kind, name=name, city=city, at=at)
        open_lead = (
            Lead.objects.select_for_update()
            .filter(customer=customer, stage__in=OPEN_STAGES)
            .first()
        )
        if open_lead is None:
            try:
                with transaction.atomic():
                    return Intake(
                        _new_lead(
                            dealer,
                            customer,
                            channel,
                            by=by,
                            owner=owner,
                            car_model=car_model,
                            note=note,
                            external_id=external_id,
                            at=at,
                        ),
                        IntakeOutcome.CREATED,
                    )
            except IntegrityError:
                # Another enquiry won the race: the same platform lead (a duplicate), or the
                # same customer (then this one is a touch).
                if external_id and (
                    existing := Lead.objects.filter(
                        dealer=dealer, channel=channel, external_id=external_id
                    ).first()
                ):
                    return Intake(existing, IntakeOutcome.DUPLICATE)
                open_lead = Lead.objects.select_for_update().get(
                    customer=customer, stage__in=OPEN_STAGES
                )
        return Intake(
            _touch(open_lead, channel, by=by, car_model=car_model, note=note, at=at),
            IntakeOutcome.TOUCHED,
        )


def _customer(dealer: Dealer, phone: str, kind: str, *, name: str, city: str, at: datetime):
    try:
        with transaction.atomic():
            customer, created = Customer.objects.get_or_create(
                dealer=dealer,
                phone=phone,
                defaults={
                    "phone_kind": kind,
                    "name": name,
                    "name_initials": name_initials(name),
                    "city": city,
                    "created_at": at,
                },
            )
    except IntegrityError:
        customer, created = Customer.objects.get(dealer=dealer, phone=phone), False
    if not created and name and not customer.name:
        customer.name, customer.name_initials = name, name_initials(name)
        customer.save(update_fields=["name", "name_initials"])
    return customer


def _new_lead(
    dealer: Dealer,
    customer: Customer,
    channel: Channel,
    *,
    by: Staff | None,
    owner: Staff | None,
    car_model: str,
    note: str,
    external_id: str,
    at: datetime,
) -> Lead:
    if owner is not None and not may_own(owner, dealer):
        raise InvalidInput(_("This person cannot own leads here."), code="bad_owner", field="owner")
    assigned_by_rules = owner is None
    owner = owner or pick_owner(
        dealer, team=TeamKind.DCC, channel=channel, car_model=car_model, at=at
    )
    lead = Lead.objects.create(
        dealer=dealer,
        customer=customer,
        channel=channel,
        car_model=car_model[:100],
        owner=owner,
        created_by=by,
        created_at=at,
        external_id=external_id,
        sla_deadline=first_response_deadline(dealer, channel, at),
    )
    ledger.append(
        lead,
        EventKind.CREATED,
        actor=by,
        at=at,
        to_stage=Stage.NEW,
        to_owner=owner,
        note=note,
        data={"channel": channel.code, "car_model": lead.car_model, "by_rules": assigned_by_rules},
    )
    followups.schedule(lead, TaskKind.FIRST_CALL, due_at=lead.sla_deadline)
    lead.save()
    return lead


def _touch(
    lead: Lead, channel: Channel, *, by: Staff | None, car_model: str, note: str, at: datetime
) -> Lead:
    lead.touch_count += 1
    lead.last_touched_at = at
    ledger.append(
        lead,
        EventKind.TOUCHED,
        actor=by,
        at=at,
        note=note,
        data={"channel": channel.code, "car_model": car_model},
    )
    _save(lead)
    return lead


# ---------------------------------------------------------------- the shared steps


def _begin(lead: Lead, by: Staff, action: Action, expected_version: int | None = None):
    """Lock the lead, then check version, permission and stage; return it and its next stage."""
    locked = Lead.objects.select_for_update().select_related("dealer").get(pk=lead.pk)
    if expected_version is not None and locked.version != expected_version:
        raise Conflict(
            _("Someone else changed this lead a moment ago; reload and try again."),
            code="stale_version",
        )
    authorize(by, locked, action)
    to_stage = check_stage(action, stage=locked.stage, defeat_pending=locked.defeat_pending)
    return locked, to_stage


def _save(lead: Lead) -> None:
    lead.version += 1
    lead.save()


def _reason(dealer: Dealer, kind: ReasonKind, code: str) -> str:
    if not code:
        raise InvalidInput(_("A reason is required."), code="reason_required", field="reason")
    if not ReasonCode.objects.filter(dealer=dealer, kind=kind, code=code, is_active=True).exists():
        raise InvalidInput(
            _("“%(code)s” is not one of this dealer's reasons.") % {"code": code},
            code="unknown_reason",
            field="reason",
        )
    return code


def _step(
    lead: Lead,
    kind: EventKind,
    *,
    by: Staff,
    at: datetime,
    to_stage: Stage | None = None,
    reason: str = "",
    note: str = "",
    data: dict | None = None,
) -> None:
    """Record `kind` on the lead's ledger and move it to `to_stage` (if any)."""
    ledger.append(
        lead,
        kind,
        actor=by,
        at=at,
        from_stage=lead.stage if to_stage else "",
        to_stage=to_stage or "",
        reason=reason,
        note=note,
        data=data,
    )
    if to_stage:
        lead.stage = to_stage


def _close(lead: Lead, at: datetime, outcome: TaskOutcome) -> None:
    """The lead has left the funnel (delivered, invalid, defeated): nothing is owed on it."""
    lead.closed_at = at
    lead.next_follow_up_at = None
    if lead.stage != Stage.DELIVERED:
        lead.appointment_at = None  # its reminder is cancelled with the other tasks
    followups.close(lead, outcome=outcome, at=at)


def _choice(choices: type[models.TextChoices], value: str, *, field: str) -> str:
    """`value` if it is one of `choices`, else InvalidInput on `field`."""
    if value not in choices.values:
        raise InvalidInput(
            _("“%(value)s” is not a valid choice.") % {"value": value},
            code=f"unknown_{field}",
            field=field,
        )
    return value


# A time typed as "now" is a minute or two behind by the time it is saved.
PAST_GRACE = timedelta(minutes=5)


def _check_ahead(value: datetime, *, dealer: Dealer, now: datetime, field: str) -> datetime:
    """An appointment or a follow-up set live: in the future, and no further ahead than the
    dealer's horizon (9999-12-31 is a typo, not a plan). Backdated history is not checked."""
    appointment = field == "appointment_at"
    what = "appointment" if appointment else "follow_up"
    latest = now + timedelta(days=dealer.horizon_days)
    # Outside the window of accepted dates, compare days only: year 1 or 9999 in a time zone
    # overflows.
    in_window = dates.in_window(value)
    if in_window:
        value = dates.aware(value, field=field)
    if (not in_window and value.date() < dates.EARLIEST) or (
        in_window and value < now - PAST_GRACE
    ):
        message = (
            _("The appointment time is in the past.")
            if appointment
            else _("The next follow-up is in the past.")
        )
        raise InvalidInput(message, code=f"{what}_in_past", field=field)
    if not in_window or value > latest:
        message = (
            _("The appointment is more than %(days)d days ahead: book it by %(latest)s.")
            if appointment
            else _("The next follow-up is more than %(days)d days ahead: set it by %(latest)s.")
        )
        shown = timezone.localtime(latest).strftime("%Y-%m-%d %H:%M")
        raise InvalidInput(
            message % {"days": dealer.horizon_days, "latest": shown},
            code=f"{what}_beyond_horizon",
            field=field,
        )
    return value


# ---------------------------------------------------------------- invite


def log_call(
    *,
    lead: Lead,
    by: Staff,
    outcome: CallOutcome,
    direction: CallDirection = CallDirection.OUTBOUND,
    duration_seconds: int = 0,
    note: str = "",
    recording_url: str = "",
    grade: Grade | None = None,
    next_follow_up_at: datetime | None = None,
    at: datetime | None = None,
) -> Lead:
    """A call with the customer. The first call stops the SLA clock; the first one that
    reaches the customer makes a new lead contacted. The next follow-up is scheduled from the
    grade unless given."""
    backdated = at is not None
    at = at or timezone.now()
    if duration_seconds < 0:
        raise InvalidInput(_("Talk time cannot be negative."), field="duration_seconds")
    _choice(CallOutcome, outcome, field="outcome")
    _choice(CallDirection, direction, field="direction")
    if grade:
        _choice(Grade, grade, field="grade")
    with transaction.atomic():
        lead, _stage = _begin(lead, by, Action.LOG_CALL)
        if next_follow_up_at is not None and not backdated:
            next_follow_up_at = _check_ahead(
                next_follow_up_at, dealer=lead.dealer, now=at, field="next_follow_up_at"
            )
        if grade and grade != lead.grade:
            authorize(by, lead, Action.GRADE)
            check_stage(Action.GRADE, stage=lead.stage, defeat_pending=lead.defeat_pending)
        reached = outcome == CallOutcome.REACHED
        from_stage = lead.stage
        if lead.first_response_at is None:
            lead.first_response_at = at
        if reached and lead.stage == Stage.NEW:
            lead.stage = Stage.CONTACTED
        ledger.append(
            lead,
            EventKind.CALLED,
            actor=by,
            at=at,
            from_stage=from_stage if lead.stage != from_stage else "",
            to_stage=lead.stage if lead.stage != from_stage else "",
            note=note,
            data={
                "outcome": str(outcome),
                "direction": str(direction),
                "duration_seconds": duration_seconds,
                "recording_url": recording_url,
            },
        )
        followups.close(
            lead, TaskKind.FIRST_CALL, TaskKind.FOLLOW_UP, outcome=TaskOutcome.DONE, at=at
        )
        if grade and grade != lead.grade:
            _grade(lead, by, Grade(grade), at=at, note="")
        followups.schedule_follow_up(
            lead,
            due_at=next_follow_up_at
            or followups.next_follow_up(lead.dealer, lead.grade or Grade.N, at),
        )
        _save(lead)
        return lead


def _grade(lead: Lead, by: Staff, grade: Grade, *, at: datetime, note: str) -> None:
    ledger.append(
        lead,
        EventKind.GRADED,
        actor=by,
        at=at,
        note=note,
        data={"from": lead.grade, "to": str(grade)},
    )
    lead.grade = grade


def set_grade(
    *, lead: Lead, by: Staff, grade: Grade, note: str = "", at: datetime | None = None
) -> Lead:
    """Grade the customer's intent; the next follow-up moves to the grade's interval."""
    at = at or timezone.now()
    _choice(Grade, grade, field="grade")
    with transaction.atomic():
        lead, _stage = _begin(lead, by, Action.GRADE)
        _grade(lead, by, Grade(grade), at=at, note=note)
        followups.schedule_follow_up(lead, due_at=followups.next_follow_up(lead.dealer, grade, at))
        _save(lead)
        return lead


def book_appointment(
    *,
    lead: Lead,
    by: Staff,
    appointment_at: datetime | None,
    note: str = "",
    at: datetime | None = None,
) -> Lead:
    """Book (or move) the customer's showroom visit."""
    backdated = at is not None
    at = at or timezone.now()
    if appointment_at is None:
        raise InvalidInput(
            _("An appointment needs a date and time."),
            code="appointment_required",
            field="appointment_at",
        )
    with transaction.atomic():
        lead, to_stage = _begin(lead, by, Action.APPOINT)
        if not backdated:
            appointment_at = _check_ahead(
                appointment_at, dealer=lead.dealer, now=at, field="appointment_at"
            )
        moved = lead.stage == Stage.APPOINTED and lead.appointment_at is not None
        ledger.append(
            lead,
            EventKind.APPOINTMENT_MOVED if moved else EventKind.APPOINTMENT_SET,
            actor=by,
            at=at,
            from_stage="" if moved else lead.stage,
            to_stage="" if moved else to_stage,
            note=note,
            data={
                "appointment_at": appointment_at.isoformat(),
                "previous": lead.appointment_at.isoformat() if moved else None,
            },
        )
        if lead.first_response_at is None:
            lead.first_response_at = at
        lead.stage = to_stage
        lead.appointment_at = appointment_at
        followups.close(lead, TaskKind.FIRST_CALL, outcome=TaskOutcome.DONE, at=at)
        followups.schedule(
            lead,
            TaskKind.APPOINTMENT_REMINDER,
            due_at=max(appointment_at - followups.REMIND_BEFORE_APPOINTMENT, at),
        )
        _save(lead)
        return lead


def cancel_appointment(
    *, lead: Lead, by: Staff, note: str = "", at: datetime | None = None
) -> Lead:
    """The customer will not come as booked. The lead stays appointed (stages never go back);
    a new follow-up is due by its grade."""
    at = at or timezone.now()
    with transaction.atomic():
        lead, _stage = _begin(lead, by, Action.CANCEL_APPOINTMENT)
        if lead.appointment_at is None:
            raise Conflict(_("There is no appointment to cancel."), code="no_appointment")
        ledger.append(
            lead,
            EventKind.APPOINTMENT_CANCELLED,
            actor=by,
            at=at,
            note=note,
            data={"appointment_at": lead.appointment_at.isoformat()},
        )
        lead.appointment_at = None
        followups.close(lead, TaskKind.APPOINTMENT_REMINDER, outcome=TaskOutcome.CANCELLED, at=at)
        followups.schedule_follow_up(
            lead, due_at=followups.next_follow_up(lead.dealer, lead.grade or Grade.N, at)
        )
        _save(lead)
        return lead


def invalidate_lead(
    *, lead: Lead, by: Staff, reason: str, note: str = "", at: datetime | None = None
) -> Lead:
    """Not a lead after all (wrong number, no intent, not a buyer …): needs a reason code."""
    at = at or timezone.now()
    with transaction.atomic():
        lead, to_stage = _begin(lead, by, Action.INVALIDATE)
        reason = _reason(lead.dealer, ReasonKind.INVALID, reason)
        _step(
            lead, EventKind.INVALIDATED, by=by, at=at, to_stage=to_stage, reason=reason, note=note
        )
        lead.exit_reason = reason
        _close(lead, at, TaskOutcome.CANCELLED)
        _save(lead)
        return lead


# ---------------------------------------------------------------- handoffs


def hand_off(
    *,
    lead: Lead,
    by: Staff,
    to: Staff | None = None,
    team: TeamKind | None = None,
    reason: str = "",
    note: str = "",
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Lead:
    """Give the lead to a named person, or to whoever the assignment rules pick in `team`.
    Open tasks go with it."""
    at = at or timezone.now()
    if to is None and team is None:
        raise InvalidInput(_("Name a person or a team to hand the lead to."), field="to")
    with transaction.atomic():
        lead, _stage = _begin(lead, by, Action.HAND_OFF, expected_version)
        if to is None:
            to = pick_owner(
                lead.dealer,
                team=TeamKind(team),
                channel=lead.channel,
                car_model=lead.car_model,
                at=at,
                exclude={lead.owner_id},
            )
        _transfer(lead, by=by, to=to, reason=reason, note=note, at=at, team=team)
        _save(lead)
        return lead


def _transfer(
    lead: Lead,
    *,
    by: Staff | None,
    to: Staff,
    reason: str,
    note: str,
    at: datetime,
    team: str | None = None,
) -> None:
    if to.pk == lead.owner_id:
        raise Conflict(_("%(name)s already owns this lead.") % {"name": to}, code="already_owner")
    if not may_own(to, lead.dealer):
        raise InvalidInput(
            _("%(name)s cannot take leads at this dealer.") % {"name": to},
            code="bad_owner",
            field="to",
        )
    previous = lead.owner
    ledger.append(
        lead,
        EventKind.HANDED_OFF,
        actor=by,
        at=at,
        from_owner=previous,
        to_owner=to,
        reason=reason,
        note=note,
        data={"team": str(team)} if team else {},
    )
    followups.move_open_tasks(lead, from_staff=previous, to_staff=to)
    lead.owner = to


@dataclass(frozen=True)
class Reassignment:
    moved: int
    refused: list[tuple[Lead, str]]  # the lead and why it stayed


def reassign_leads(
    *,
    leads: list[Lead],
    by: Staff,
    to: Staff,
    reason: str = HandoffReason.REASSIGN,
    note: str = "",
) -> Reassignment:
    """A supervisor moves many leads to one person: each a handoff in its own transaction,
    so one refusal stops no other."""
    moved, refused = 0, []
    for lead in leads:
        try:
            hand_off(lead=lead, by=by, to=to, reason=reason, note=note)
        except DomainError as error:
            refused.append((lead, error.message))
        else:
            moved += 1
    return Reassignment(moved=moved, refused=refused)


def claim_lead(*, lead: Lead, by: Staff, expected_version: int | None = None) -> Lead:
    """A DCC agent takes a new lead out of the pool. Of two concurrent claims, exactly one
    wins; the other gets a Conflict naming who has it."""
    at = timezone.now()
    with transaction.atomic():
        lead, _stage = _begin(lead, by, Action.CLAIM, expected_version)
        if not is_pool_lead(lead):
            raise Conflict(
                _("%(name)s has already taken this lead.") % {"name": lead.owner},
                code="already_claimed",
            )
        _transfer(lead, by=by, to=by, reason=HandoffReason.CLAIM, note="", at=at)
        _save(lead)
        return lead


def record_absence(
    *,
    dealer: Dealer,
    staff: Staff,
    cover: Staff,
    starts_at: datetime,
    ends_at: datetime,
    by: Staff,
    reason: str = "",
) -> Absence:
    """Leave with a named cover. From its start, the person's open leads and tasks at this
    dealer move to the cover, each move a ledger event."""
    if not roles_at(by, dealer.pk) & SUPERVISORS:
        raise NotPermitted(_("Only supervisors and managers record absences."))
    if ends_at <= starts_at:
        raise InvalidInput(_("The absence must end after it starts."), field="ends_at")
    if cover.pk == staff.pk:
        raise InvalidInput(_("Somebody else must cover."), field="cover")
    if not may_own(cover, dealer):
        raise InvalidInput(_("%(name)s cannot take leads here.") % {"name": cover}, field="cover")
    if Absence.objects.filter(
        dealer=dealer, staff=cover, starts_at__lt=ends_at, ends_at__gt=starts_at
    ).exists():
        raise InvalidInput(_("%(name)s is away then too.") % {"name": cover}, field="cover")
    with transaction.atomic():
        absence = Absence.objects.create(
            dealer=dealer,
            staff=staff,
            cover=cover,
            starts_at=starts_at,
            ends_at=ends_at,
            reason=reason,
            created_by=by,
        )
        if starts_at <= timezone.now():
            apply_absence(absence)
    return absence


def end_absence(*, absence: Absence, by: Staff, at: datetime | None = None) -> Absence:
    """Back early (or a leave cancelled before it began). Leads stay with the cover; the
    supervisor hands back what should go back."""
    if not roles_at(by, absence.dealer_id) & SUPERVISORS:
        raise NotPermitted(_("Only supervisors and managers change absences."))
    at = at or timezone.now()
    if absence.ends_at <= at:
        raise Conflict(_("This absence is already over."), code="absence_over")
    absence.ends_at = max(at, absence.starts_at + timedelta(seconds=1))
    absence.save(update_fields=["ends_at"])
    return absence


def apply_absence(absence: Absence) -> int:
    """Move the absent person's open leads and tasks to the cover; return how many leads."""
    moved = 0
    at = timezone.now()
    with transaction.atomic():
        leads = Lead.objects.select_for_update().filter(
            dealer_id=absence.dealer_id, owner_id=absence.staff_id, stage__in=OPEN_STAGES
        )
        for lead in leads:
            _transfer(
                lead,
                by=absence.created_by,
                to=absence.cover,
                reason=HandoffReason.ABSENCE,
                note=absence.reason,
                at=at,
            )
            _save(lead)
            moved += 1
        # Tasks on leads they do not own (return visits) move too, noted on each lead.
        stray = Task.objects.filter(
            dealer_id=absence.dealer_id, assignee_id=absence.staff_id, closed_at__isnull=True
        ).select_related("lead")
        for task in stray:
            lead = Lead.objects.select_for_update().get(pk=task.lead_id)
            ledger.append(
                lead,
                EventKind.HANDED_OFF,
                actor=absence.created_by,
                at=at,
                from_owner=absence.staff,
                to_owner=absence.cover,
                reason=HandoffReason.ABSENCE,
                note=absence.reason,
                data={"task": task.kind},
            )
            task.assignee = absence.cover
            task.save(update_fields=["assignee"])
            _save(lead)
    return moved


def apply_due_absences(now: datetime | None = None) -> int:
    """Run periodically: absences that have started move what their people still hold."""
    now = now or timezone.now()
    moved = 0
    for absence in Absence.objects.filter(starts_at__lte=now, ends_at__gt=now):
        moved += apply_absence(absence)
    return moved


# ---------------------------------------------------------------- close


def record_arrival(*, lead: Lead, by: Staff, note: str = "", at: datetime | None = None) -> Lead:
    """The customer is in the showroom, with or without an appointment."""
    at = at or timezone.now()
    with transaction.atomic():
        lead, to_stage = _begin(lead, by, Action.ARRIVE)
        _arrive(lead, by=by, to_stage=to_stage, note=note, at=at)
        return lead


def _arrive(lead: Lead, *, by: Staff, to_stage: Stage | None, note: str, at: datetime) -> None:
    _step(
        lead,
        EventKind.ARRIVED,
        by=by,
        at=at,
        to_stage=to_stage,
        note=note,
        data={"with_appointment": lead.appointment_at is not None},
    )
    if lead.first_response_at is None:
        lead.first_response_at = at
    followups.close(
        lead,
        TaskKind.FIRST_CALL,
        TaskKind.APPOINTMENT_REMINDER,
        outcome=TaskOutcome.DONE,
        at=at,
    )
    _save(lead)


def check_in_visitor(
    *,
    dealer: Dealer,
    phone: str,
    by: Staff,
    consultant: Staff | None = None,
    name: str = "",
    car_model: str = "",
    note: str = "",
    at: datetime | None = None,
) -> Lead:
    """A customer at the showroom reception, received by `consultant` (by default the
    assignment rules' showroom receiver: their own consultant, the consultant at reception,
    else the next one on duty). When the number has an open lead in the invite stages (the
    DCC's invitation), it is handed to that consultant and arrives, so the arrival counts for
    the agent who invited; an arrival is not an enquiry, so no touch is written. Anyone without
    an open lead is a walk-in: a new lead of the walk-in channel, owned by that consultant,
    arrived. A customer already past arrival coming back is a touch on the lead, left with its
    consultant."""
    if not roles_at(by, dealer.pk) & SHOWROOM_WORKERS:
        raise NotPermitted(_("Only showroom staff check in visitors."), code="not_permitted")
    at = at or timezone.now()
    channel = Channel.objects.filter(dealer=dealer, code=WALK_IN_CHANNEL).first()
    if channel is None:
        raise InvalidInput(_("This dealer has no walk-in channel."), code="no_walk_in_channel")
    if consultant is not None and not on_duty(dealer, team=TeamKind.SHOWROOM, at=at).filter(
        pk=consultant.pk
    ):
        raise InvalidInput(
            _("%(name)s is not a sales consultant on duty here.") % {"name": consultant},
            code="bad_consultant",
            field="consultant",
        )
    number = normalise_phone(phone)
    with transaction.atomic():
        customer = _customer(
            dealer, number.number, number.kind, name=name.strip()[:100], city="", at=at
        )
        invited = (
            Lead.objects.select_for_update()
            .filter(customer=customer, stage__in=INVITE_STAGES)
            .select_related("owner", "channel")
            .first()
        )
        receiver = consultant or showroom_receiver(
            dealer,
            by=by,
            owner=invited.owner if invited else None,
            channel=invited.channel if invited else channel,
            car_model=car_model or (invited.car_model if invited else ""),
            at=at,
        )
        if invited is None:
            intake = create_lead(
                dealer=dealer,
                phone=number,
                channel=channel,
                by=by,
                name=name,
                car_model=car_model,
                note=note,
                owner=receiver,
                at=at,
            )
            if not intake.created:
                return intake.lead  # already in the showroom's hands: the visit is a touch
            invited = Lead.objects.select_for_update().get(pk=intake.lead.pk)
        if car_model and not invited.car_model:
            invited.car_model = car_model[:100]
        if invited.owner_id != receiver.pk:
            _transfer(invited, by=by, to=receiver, reason=HandoffReason.ARRIVAL, note="", at=at)
        to_stage = check_stage(
            Action.ARRIVE, stage=invited.stage, defeat_pending=invited.defeat_pending
        )
        _arrive(invited, by=by, to_stage=to_stage, note=note, at=at)
        return invited


def record_test_drive(
    *, lead: Lead, by: Staff, car_model: str = "", note: str = "", at: datetime | None = None
) -> Lead:
    return _record(
        lead,
        by,
        Action.TEST_DRIVE,
        EventKind.TEST_DRIVE,
        at,
        note,
        {"car_model": car_model or lead.car_model},
    )


def record_quote(
    *,
    lead: Lead,
    by: Staff,
    amount: Decimal,
    car_model: str = "",
    note: str = "",
    at: datetime | None = None,
) -> Lead:
    if amount <= 0:
        raise InvalidInput(_("The quoted price must be positive."), field="amount")
    return _record(
        lead,
        by,
        Action.QUOTE,
        EventKind.QUOTED,
        at,
        note,
        {"amount": str(amount), "car_model": car_model or lead.car_model},
    )


def record_order(
    *,
    lead: Lead,
    by: Staff,
    car_model: str = "",
    amount: Decimal | None = None,
    note: str = "",
    at: datetime | None = None,
) -> Lead:
    if amount is not None and amount <= 0:
        raise InvalidInput(_("The price must be positive."), field="amount")
    data = {"car_model": car_model or lead.car_model, "amount": str(amount) if amount else None}
    return _record(lead, by, Action.ORDER, EventKind.ORDERED, at, note, data)


def _record(
    lead: Lead,
    by: Staff,
    action: Action,
    kind: EventKind,
    at: datetime | None,
    note: str,
    data: dict,
) -> Lead:
    at = at or timezone.now()
    with transaction.atomic():
        lead, to_stage = _begin(lead, by, action)
        _step(lead, kind, by=by, at=at, to_stage=to_stage, note=note, data=data)
        _save(lead)
        return lead


def record_delivery(*, lead: Lead, by: Staff, note: str = "", at: datetime | None = None) -> Lead:
    """The car is handed over. The lead closes; owner operations owes a return visit."""
    at = at or timezone.now()
    with transaction.atomic():
        lead, to_stage = _begin(lead, by, Action.DELIVER)
        _step(lead, EventKind.DELIVERED, by=by, at=at, to_stage=to_stage, note=note)
        _close(lead, at, TaskOutcome.DONE)
        followups.schedule(
            lead,
            TaskKind.RETURN_VISIT,
            due_at=followups.return_visit_due(lead.dealer, at),
            assignee=followups.return_visit_specialist(lead.dealer, fallback=lead.owner),
        )
        _save(lead)
        return lead


# ---------------------------------------------------------------- defeat and reactivation


def request_defeat(
    *, lead: Lead, by: Staff, reason: str, note: str = "", at: datetime | None = None
) -> Lead:
    """The owner says the customer is lost; a supervisor decides."""
    at = at or timezone.now()
    with transaction.atomic():
        lead, _stage = _begin(lead, by, Action.REQUEST_DEFEAT)
        reason = _reason(lead.dealer, ReasonKind.DEFEAT, reason)
        ledger.append(lead, EventKind.DEFEAT_REQUESTED, actor=by, at=at, reason=reason, note=note)
        lead.defeat_pending = True
        lead.exit_reason = reason
        _save(lead)
        return lead


def _requester(lead: Lead) -> int | None:
    return (
        Event.objects.filter(lead=lead, kind=EventKind.DEFEAT_REQUESTED)
        .order_by("-seq")
        .values_list("actor_id", flat=True)
        .first()
    )


def approve_defeat(*, lead: Lead, by: Staff, note: str = "", at: datetime | None = None) -> Lead:
    at = at or timezone.now()
    with transaction.atomic():
        lead, to_stage = _begin(lead, by, Action.APPROVE_DEFEAT)
        if _requester(lead) == by.pk:
            raise NotPermitted(
                _("A defeat must be approved by someone other than who requested it."),
                code="own_request",
            )
        _step(
            lead,
            EventKind.DEFEAT_APPROVED,
            by=by,
            at=at,
            to_stage=to_stage,
            reason=lead.exit_reason,
            note=note,
        )
        lead.defeat_pending = False
        _close(lead, at, TaskOutcome.CANCELLED)
        _save(lead)
        return lead


def reject_defeat(*, lead: Lead, by: Staff, note: str = "", at: datetime | None = None) -> Lead:
    """Not lost yet: the owner keeps following up."""
    at = at or timezone.now()
    with transaction.atomic():
        lead, _stage = _begin(lead, by, Action.REJECT_DEFEAT)
        ledger.append(
            lead, EventKind.DEFEAT_REJECTED, actor=by, at=at, reason=lead.exit_reason, note=note
        )
        lead.defeat_pending = False
        lead.exit_reason = ""
        followups.schedule_follow_up(
            lead, due_at=followups.next_follow_up(lead.dealer, lead.grade or Grade.N, at)
        )
        _save(lead)
        return lead


def reactivate_lead(*, lead: Lead, by: Staff, note: str = "", at: datetime | None = None) -> Lead:
    """Bring an invalid or defeated lead back into follow-up (contacted)."""
    at = at or timezone.now()
    try:
        with transaction.atomic():
            lead, to_stage = _begin(lead, by, Action.REACTIVATE)
            _step(lead, EventKind.REACTIVATED, by=by, at=at, to_stage=to_stage, note=note)
            lead.closed_at = None
            lead.exit_reason = ""
            if lead.owner_id in absent_staff_ids(lead.dealer, at) or not lead.owner.is_active:
                _transfer(
                    lead,
                    by=by,
                    note="",
                    at=at,
                    reason=HandoffReason.REACTIVATION,
                    to=pick_owner(
                        lead.dealer,
                        team=TeamKind.DCC,
                        channel=lead.channel,
                        car_model=lead.car_model,
                        at=at,
                    ),
                )
            followups.schedule_follow_up(
                lead, due_at=followups.next_follow_up(lead.dealer, lead.grade or Grade.N, at)
            )
            _save(lead)
            return lead
    except IntegrityError as error:
        raise Conflict(
            _("This customer already has another open lead."), code="customer_has_open_lead"
        ) from error


def record_return_visit(
    *,
    lead: Lead,
    by: Staff,
    reached: bool,
    satisfaction: int | None = None,
    note: str = "",
    at: datetime | None = None,
) -> Lead:
    """Owner operations' call to a new owner after delivery: reached or not, how satisfied
    (1–5). It completes the open return-visit task."""
    at = at or timezone.now()
    if satisfaction is not None and not 1 <= satisfaction <= 5:
        raise InvalidInput(_("Satisfaction is from 1 to 5."), field="satisfaction")
    if satisfaction is not None and not reached:
        raise InvalidInput(_("Only a customer who was reached can rate us."), field="satisfaction")
    with transaction.atomic():
        lead, _stage = _begin(lead, by, Action.RETURN_VISIT)
        ledger.append(
            lead,
            EventKind.RETURN_VISIT,
            actor=by,
            at=at,
            note=note,
            data={"reached": reached, "satisfaction": satisfaction},
        )
        if reached:
            followups.close(lead, TaskKind.RETURN_VISIT, outcome=TaskOutcome.DONE, at=at)
        _save(lead)
        return lead


def settle_imported_history(*, lead: Lead, now: datetime | None = None) -> Lead:
    """After a backdated import, what fell due long ago is nobody's work today: tasks due
    before now close as superseded (old return visits included), and an open lead that had one
    overdue gets a single follow-up due now, so it surfaces in its owner's queue. Its
    first-response SLA is judged from its history alone (leads.sla.settled_deadline)."""
    now = now or timezone.now()
    with transaction.atomic():
        lead = Lead.objects.select_for_update().select_related("dealer").get(pk=lead.pk)
        deadline = settled_deadline(
            created_at=lead.created_at,
            deadline=lead.sla_deadline,
            first_response_at=lead.first_response_at,
            now=now,
        )
        changed = ["sla_deadline"] if deadline != lead.sla_deadline else []
        lead.sla_deadline = deadline
        overdue = followups.open_tasks(lead).filter(due_at__lt=now)
        had_overdue = overdue.update(closed_at=now, outcome=TaskOutcome.SUPERSEDED) > 0
        if had_overdue and lead.is_open:
            followups.schedule_follow_up(lead, due_at=now)
            changed.append("next_follow_up_at")
        if changed:
            lead.save(update_fields=changed)
        return lead


def reveal_phone(*, lead: Lead, by: Staff) -> str:
    """Show a masked number in full; the reveal is recorded in the ledger."""
    authorize_reveal(by, lead)
    with transaction.atomic():
        lead = Lead.objects.select_for_update().select_related("customer").get(pk=lead.pk)
        ledger.append(lead, EventKind.PHONE_REVEALED, actor=by)
        lead.save(update_fields=["last_event_seq", "last_event_hash"])
        return lead.customer.phone
