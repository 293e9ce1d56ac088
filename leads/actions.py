"""Everything a person can do to a lead, carried out live: the UI, the API, the command line
and webhooks call these. What each action does is decided in leads.decisions; here the lead
is locked, the decision made on it as stored, and its change written in one transaction (the
ledger event through leads.ledger, the tasks through leads.followups, the lead saved). Many
leads at once (imports, demo data, benchmarks) go through leads.batch instead, which carries
out the same decisions in memory.

`at` backdates an action (history imports); by default it is now.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Absence, Dealer, Staff
from accounts.roles import SUPERVISORS, roles_at
from dcc.errors import Conflict, DomainError, InvalidInput, NotPermitted
from dcc.phone import NormalisedPhone
from leads import decisions, followers, followups, ledger
from leads.assignment import (
    absent_staff_ids,
    is_pool_lead,
    may_own,
    pick_owner,
)
from leads.decisions import (
    Change,
    CloseTasks,
    Decision,
    Intake,
    IntakeOutcome,
    MoveTasks,
    OpenTask,
    SetFields,
)
from leads.ledger import Entry
from leads.models import (
    Channel,
    Customer,
    Event,
    EventKind,
    HandoffReason,
    Lead,
    ReasonCode,
    ReasonKind,
    Task,
    TeamKind,
)
from leads.search import name_initials
from leads.stages import INVITE_STAGES, OPEN_STAGES

__all__ = ["Intake", "IntakeOutcome"]


class LiveContext:
    """What decisions look up, read from the database as it is now."""

    def __init__(self, dealer: Dealer, *, now: datetime, checks_ahead: bool = False) -> None:
        self.dealer = dealer
        self.now = now
        self.checks_ahead = checks_ahead

    def person(self, staff_id: int) -> Staff:
        return Staff.objects.get(pk=staff_id)

    def reason_is_active(self, kind: ReasonKind, code: str) -> bool:
        return ReasonCode.objects.filter(
            dealer=self.dealer, kind=kind, code=code, is_active=True
        ).exists()

    def follow_up_due(self, grade: str, after: datetime) -> datetime:
        return followups.next_follow_up(self.dealer, grade, after)

    def may_own(self, staff: Staff) -> bool:
        return may_own(staff, self.dealer)

    def pick_owner(
        self,
        team: TeamKind,
        *,
        channel_id: int | None,
        car_model: str,
        at: datetime,
        exclude: frozenset[int] = frozenset(),
    ) -> Staff:
        return pick_owner(
            self.dealer,
            team=team,
            channel_id=channel_id,
            car_model=car_model,
            at=at,
            exclude=exclude,
        )

    def return_visit_specialist(self, fallback_id: int) -> int:
        return followups.return_visit_specialist(self.dealer, fallback_id=fallback_id)

    def defeat_requester(self, lead: Lead) -> int | None:
        return (
            Event.objects.filter(lead=lead, kind=EventKind.DEFEAT_REQUESTED)
            .order_by("-seq")
            .values_list("actor_id", flat=True)
            .first()
        )

    def absent_ids(self, at: datetime) -> set[int]:
        return absent_staff_ids(self.dealer, at)

    def is_pool_lead(self, lead: Lead) -> bool:
        return is_pool_lead(lead)

    def has_other_open_lead(self, lead: Lead) -> bool:
        others = Lead.objects.filter(customer_id=lead.customer_id, stage__in=OPEN_STAGES)
        return others.exclude(pk=lead.pk).exists()

    def has_tasks_due_before(self, lead: Lead, moment: datetime) -> bool:
        return followups.open_tasks(lead).filter(due_at__lt=moment).exists()


def carry_out(lead: Lead, change: Change, *, now: datetime) -> Lead:
    """Write `change` on `lead` (locked, or just created, in the caller's transaction)."""
    for step in change.steps:
        if isinstance(step, SetFields):
            for name, value in step.values.items():
                setattr(lead, name, value)
        elif isinstance(step, Entry):
            ledger.append(lead, step)
        elif isinstance(step, CloseTasks):
            followups.close(
                lead,
                *step.kinds,
                outcome=step.outcome,
                at=step.at or now,
                due_before=step.due_before,
            )
        elif isinstance(step, OpenTask):
            followups.schedule(lead, step.kind, due_at=step.due_at, assignee_id=step.assignee_id)
        elif isinstance(step, MoveTasks):
            followups.move_open_tasks(lead, step.from_id, step.to_id, task_id=step.task_id)
    if change.counts_as_edit:
        lead.version += 1
    lead.save()
    followers.tell(lead, (step for step in change.steps if isinstance(step, Entry)))
    return lead


def _lock(lead: Lead, expected_version: int | None) -> Lead:
    locked = Lead.objects.select_for_update().select_related("dealer").get(pk=lead.pk)
    if expected_version is not None and locked.version != expected_version:
        raise Conflict(
            _("Someone else changed this lead a moment ago; reload and try again."),
            code="stale_version",
        )
    return locked


def _live(decide: Decision) -> Callable[..., Lead]:
    """`decide` as a live action: lock the lead (checking the version the person saw), decide
    on it as stored, write the change. Returns the lead as saved."""

    def act(
        *,
        lead: Lead,
        by: Staff,
        at: datetime | None = None,
        expected_version: int | None = None,
        **request,
    ) -> Lead:
        now = timezone.now()
        try:
            with transaction.atomic():
                locked = _lock(lead, expected_version)
                context = LiveContext(locked.dealer, now=now, checks_ahead=at is None)
                change = decide(locked, context, by=by, at=at or now, **request)
                return carry_out(locked, change, now=now)
        except IntegrityError as error:
            # The one constraint a change of an existing lead can meet: a customer has at most
            # one open lead (two of theirs reactivated at once).
            raise Conflict(
                _("This customer already has another open lead."), code="customer_has_open_lead"
            ) from error

    act.__name__, act.__qualname__, act.__doc__ = decide.__name__, decide.__name__, decide.__doc__
    return act


# Each decision of leads.decisions, live.
log_call = _live(decisions.log_call)
phone_call = _live(decisions.phone_call)
set_grade = _live(decisions.set_grade)
book_appointment = _live(decisions.book_appointment)
cancel_appointment = _live(decisions.cancel_appointment)
invalidate_lead = _live(decisions.invalidate_lead)
hand_off = _live(decisions.hand_off)
claim_lead = _live(decisions.claim_lead)
record_arrival = _live(decisions.record_arrival)
record_test_drive = _live(decisions.record_test_drive)
record_quote = _live(decisions.record_quote)
record_order = _live(decisions.record_order)
record_delivery = _live(decisions.record_delivery)
request_defeat = _live(decisions.request_defeat)
approve_defeat = _live(decisions.approve_defeat)
reject_defeat = _live(decisions.reject_defeat)
reactivate_lead = _live(decisions.reactivate_lead)
record_return_visit = _live(decisions.record_return_visit)
record_fact = _live(decisions.record_fact)
overturn_exit = _live(decisions.overturn_exit)
_reveal_phone = _live(decisions.reveal_phone)
listen_to_recording = _live(decisions.listen_to_recording)


def reveal_phone(*, lead: Lead, by: Staff, at: datetime | None = None) -> str:
    """Show a masked number in full; the reveal is recorded in the ledger."""
    revealed = _reveal_phone(lead=lead, by=by, at=at)
    return Customer.objects.values_list("phone", flat=True).get(pk=revealed.customer_id)


def settle_imported_history(*, lead: Lead, now: datetime | None = None) -> Lead:
    """leads.decisions.settle_imported_history, live."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(lead, None)
        change = decisions.settle_imported_history(locked, LiveContext(locked.dealer, now=now))
        return carry_out(locked, change, now=now)


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
    number = decisions.check_enquiry(dealer=dealer, phone=phone, channel=channel, by=by)
    now = timezone.now()
    at = at or now
    name = name.strip()[:100]
    context = LiveContext(dealer, now=now)
    with transaction.atomic():
        if external_id and (existing := _by_platform_id(channel, external_id)):
            return Intake(existing, IntakeOutcome.DUPLICATE)
        customer = _customer(dealer, number.number, number.kind, name=name, city=city, at=at)
        open_lead = _open_lead_of(customer)
        if open_lead is None:
            try:
                with transaction.atomic():
                    change = decisions.new_lead(
                        context,
                        customer_id=customer.pk,
                        channel=channel,
                        by=by,
                        owner=owner,
                        car_model=car_model,
                        note=note,
                        external_id=external_id,
                        at=at,
                    )
                    lead = Lead.objects.create(**change.created)
                    return Intake(carry_out(lead, change, now=now), IntakeOutcome.CREATED)
            except IntegrityError:
                # Another enquiry won the race: the same platform lead (a duplicate), or the
                # same customer (then this one is a touch).
                if external_id and (existing := _by_platform_id(channel, external_id)):
                    return Intake(existing, IntakeOutcome.DUPLICATE)
                open_lead = _open_lead_of(customer)
        change = decisions.touch(
            open_lead, context, channel=channel, by=by, car_model=car_model, note=note, at=at
        )
        return Intake(carry_out(open_lead, change, now=now), IntakeOutcome.TOUCHED)


def _by_platform_id(channel: Channel, external_id: str) -> Lead | None:
    return Lead.objects.filter(
        dealer_id=channel.dealer_id, channel=channel, external_id=external_id
    ).first()


def _open_lead_of(customer: Customer, stages: tuple = OPEN_STAGES) -> Lead | None:
    return (
        Lead.objects.select_for_update()
        .select_related("dealer")
        .filter(customer=customer, stage__in=stages)
        .first()
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
    """leads.decisions.check_in, live."""
    now = timezone.now()
    with transaction.atomic():
        return decisions.check_in(
            _Reception(dealer, now),
            LiveContext(dealer, now=now),
            dealer=dealer,
            phone=phone,
            by=by,
            consultant=consultant,
            name=name,
            car_model=car_model,
            note=note,
            at=at or now,
        )


class _Reception:
    """What decisions.check_in asks of the live executor."""

    create_lead = staticmethod(create_lead)

    def __init__(self, dealer: Dealer, now: datetime) -> None:
        self.dealer, self.now = dealer, now

    def invited_lead(self, number: NormalisedPhone, *, name: str, at: datetime) -> Lead | None:
        customer = _customer(self.dealer, number.number, number.kind, name=name, city="", at=at)
        return _open_lead_of(customer, INVITE_STAGES)

    def relock(self, lead: Lead) -> Lead:
        return _lock(lead, None)

    def carry(self, lead: Lead, change: Change) -> Lead:
        return carry_out(lead, change, now=self.now)


# ---------------------------------------------------------------- many leads, absences


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


def apply_absence(absence: Absence) -> int:
    """Move the absent person's open leads and tasks to the cover; return how many leads."""
    moved = 0
    now = timezone.now()
    context = LiveContext(absence.dealer, now=now)
    supervisor = absence.created_by
    with transaction.atomic():
        leads = Lead.objects.select_for_update().filter(
            dealer_id=absence.dealer_id, owner_id=absence.staff_id, stage__in=OPEN_STAGES
        )
        for lead in leads:
            change = Change(lead)
            decisions.transfer(
                change,
                context,
                by=supervisor,
                to=absence.cover,
                reason=HandoffReason.ABSENCE,
                note=absence.reason,
                at=now,
            )
            carry_out(lead, change, now=now)
            moved += 1
        # Tasks on leads they do not own (return visits) move too, noted on each lead.
        stray = Task.objects.filter(
            dealer_id=absence.dealer_id, assignee_id=absence.staff_id, closed_at__isnull=True
        )
        for task in stray:
            lead = _lock(Lead(pk=task.lead_id), None)
            change = Change(lead)
            change.record(
                EventKind.HANDED_OFF,
                by=supervisor,
                at=now,
                from_owner_id=absence.staff_id,
                to_owner_id=absence.cover_id,
                reason=HandoffReason.ABSENCE,
                note=absence.reason,
                data={"task": task.kind},
            )
            change.move_tasks(absence.staff_id, absence.cover_id, task_id=task.pk)
            carry_out(lead, change, now=now)
    return moved


def apply_due_absences(now: datetime | None = None) -> int:
    """Run periodically: absences that have started move what their people still hold."""
    now = now or timezone.now()
    moved = 0
    for absence in Absence.objects.filter(starts_at__lte=now, ends_at__gt=now):
        moved += apply_absence(absence)
    return moved
