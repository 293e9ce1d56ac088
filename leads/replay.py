"""Actions replayed in memory, for writing many leads at once (file imports).

`Replayer` has the intake and history actions of leads.actions under the same names and
arguments (`create_lead`, `log_call`, `book_appointment` …). Each checks what the action
checks (the stage machine, the performer table, reasons, owners) and records what it records
(ledger events hash-chained by leads.ledger.compose, tasks, lead fields), but on a `Draft` in
memory; `write` then stores a batch of drafts with a handful of statements. The tests replay
the same rows both ways and compare leads, events and tasks, so the two cannot drift apart.

A row is replayed inside `row()`: when a step refuses, everything the row changed is undone,
as a rolled-back transaction would.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Dealer, Membership, Staff
from accounts.roles import Role
from dcc.bulk import insert_rows, reserve_ids, update_rows
from dcc.errors import InvalidInput, NotPermitted
from leads import ledger, tallies
from leads.actions import Intake, IntakeOutcome
from leads.assignment import Assigner, absent_staff_ids, may_own
from leads.followups import REMIND_BEFORE_APPOINTMENT, return_visit_due
from leads.models import (
    CallOutcome,
    Channel,
    Customer,
    Event,
    EventKind,
    GradePolicy,
    Lead,
    ReasonCode,
    ReasonKind,
    Task,
    TaskKind,
    TaskOutcome,
    TeamKind,
)
from leads.permissions import authorize_create, roles_at
from leads.phone import NormalisedPhone, normalise_phone
from leads.search import name_initials
from leads.sla import first_response_deadline, in_business_hours, settled_deadline
from leads.stages import (
    DEFAULT_FOLLOW_UP_DAYS,
    OPEN_STAGES,
    Action,
    Grade,
    Stage,
    check_performer,
    check_stage,
)
from leads.tallies import MILESTONE_COLUMNS

_initials = functools.lru_cache(maxsize=65_536)(name_initials)

LEAD_COLUMNS = (
    "id",
    "dealer_id",
    "customer_id",
    "channel_id",
    "car_model",
    "grade",
    "stage",
    "owner_id",
    "created_by_id",
    "created_at",
    "external_id",
    "sla_deadline",
    "first_response_at",
    "appointment_at",
    "next_follow_up_at",
    "defeat_pending",
    "exit_reason",
    "closed_at",
    "touch_count",
    "last_touched_at",
    "version",
    "last_event_seq",
    "last_event_hash",
    "first_owner_id",
    "consultant_id",
    *MILESTONE_COLUMNS.values(),
)
# What a touch changes on a lead that was already stored.
TOUCH_COLUMNS = ("touch_count", "last_touched_at", "version", "last_event_seq", "last_event_hash")
EVENT_COLUMNS = (
    "dealer_id",
    "lead_id",
    "seq",
    "kind",
    "actor_id",
    "occurred_at",
    "recorded_at",
    "from_stage",
    "to_stage",
    "from_owner_id",
    "to_owner_id",
    "reason",
    "note",
    "data",
    "prev_hash",
    "hash",
)
TASK_COLUMNS = (
    "dealer_id",
    "lead_id",
    "assignee_id",
    "kind",
    "due_at",
    "created_at",
    "closed_at",
    "outcome",
)
# dealer_id is the Replayer's; the rest are CustomerDraft's.
CUSTOMER_COLUMNS = (
    "id",
    "dealer_id",
    "phone",
    "phone_kind",
    "name",
    "name_initials",
    "city",
    "created_at",
)


@dataclass(slots=True)
class CustomerDraft:
    id: int
    phone: str
    phone_kind: str
    name: str
    name_initials: str = ""
    city: str = ""
    created_at: datetime | None = None
    stored: bool = False  # already in the database (only its name may change)
    renamed: bool = False


@dataclass(slots=True)
class TaskDraft:
    kind: str
    assignee_id: int
    due_at: datetime
    created_at: datetime
    closed_at: datetime | None = None
    outcome: str = ""


@dataclass(slots=True, eq=False)
class Draft:
    """A lead as leads.actions would leave it, with the events and tasks written since."""

    pk: int
    dealer_id: int
    customer_id: int
    channel_id: int
    owner_id: int
    created_at: datetime
    sla_deadline: datetime | None = None
    car_model: str = ""
    grade: str = ""
    stage: str = Stage.NEW
    created_by_id: int | None = None
    external_id: str = ""
    first_response_at: datetime | None = None
    appointment_at: datetime | None = None
    next_follow_up_at: datetime | None = None
    defeat_pending: bool = False
    exit_reason: str = ""
    closed_at: datetime | None = None
    touch_count: int = 0
    last_touched_at: datetime | None = None
    version: int = 0
    last_event_seq: int = 0
    last_event_hash: str = ""
    first_owner_id: int | None = None
    consultant_id: int | None = None
    first_contacted_at: datetime | None = None
    first_appointed_at: datetime | None = None
    first_arrived_at: datetime | None = None
    first_ordered_at: datetime | None = None
    first_delivered_at: datetime | None = None
    first_defeated_at: datetime | None = None
    first_closed_at: datetime | None = None
    stored: bool = False  # already in the database: only a touch changes it
    events: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[TaskDraft] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.stage in OPEN_STAGES

    def row(self) -> tuple[Any, ...]:
        return tuple(getattr(self, "pk" if name == "id" else name) for name in LEAD_COLUMNS)


# A platform id that a dry run's earlier batch would have stored: any lead will do.
_ASSUMED = Draft(
    pk=0, dealer_id=0, customer_id=0, channel_id=0, owner_id=0, created_at=datetime.min
)


class Replayer:
    """The actions of leads.actions for one dealer, replayed in memory. Between `begin` and
    `write` one batch is open: the customers and open leads it needs are read at `begin`, and
    `write` stores what its rows did (inside the caller's transaction)."""

    def __init__(
        self, dealer: Dealer, *, now: datetime | None = None, dry_run: bool = False
    ) -> None:
        self.dealer = dealer
        self.dry_run = dry_run
        # A dry run writes nothing: what its earlier batches would have left open (numbers
        # with an open lead, platform ids) is carried here for the batches after.
        self._assumed_open: set[str] = set()
        self._assumed_external: set[tuple[int, str]] = set()
        self._fake_ids = itertools.count(-1, -1)
        self.now = now or timezone.now()
        self.assigner = Assigner(dealer, team=TeamKind.DCC)
        days = dict(
            GradePolicy.objects.filter(dealer=dealer).values_list("grade", "follow_up_days")
        )
        self.follow_up_days = {
            grade: days.get(grade, DEFAULT_FOLLOW_UP_DAYS[grade]) for grade in Grade.values
        }
        self.reasons = set(
            ReasonCode.objects.filter(dealer=dealer, is_active=True).values_list("kind", "code")
        )
        self._owners: dict[int, bool] = {}
        self._specialists: dict[int, int] | None = None
        self._undo: list[Callable[[], None]] | None = None
        self._reset()

    def _reset(self) -> None:
        self.customers: dict[str, CustomerDraft] = {}
        self.open_leads: dict[int, Draft] = {}  # customer id → their open lead
        # (channel, platform id) → the lead: its id when stored, its draft when in this batch
        self.external_ids: dict[tuple[int, str], int | Draft] = {}
        self.drafts: list[Draft] = []  # new leads, and stored ones touched
        self._lead_ids: list[int] = []
        self._customer_ids: list[int] = []

    # ------------------------------------------------------------ batches and rows

    def begin(
        self, *, phones: Iterable[str], external_ids: Iterable[tuple[int, str]], size: int
    ) -> None:
        """Open a batch of up to `size` rows: read their customers, open leads and platform
        ids (locking the open leads), and reserve ids for what they may create."""
        self._reset()
        phones = set(phones)
        for pk, phone, kind, name in Customer.objects.filter(
            dealer=self.dealer, phone__in=phones
        ).values_list("pk", "phone", "phone_kind", "name"):
            self.customers[phone] = CustomerDraft(pk, phone, kind, name, stored=True)
        stored = {customer.id for customer in self.customers.values()}
        open_leads = Lead.objects.filter(
            dealer=self.dealer, customer_id__in=stored, stage__in=OPEN_STAGES
        ).select_for_update()
        for lead in open_leads.only(
            "pk", "customer_id", "channel_id", "owner_id", "stage", "created_at", *TOUCH_COLUMNS
        ):
            self.open_leads[lead.customer_id] = Draft(
                pk=lead.pk,
                dealer_id=self.dealer.pk,
                customer_id=lead.customer_id,
                channel_id=lead.channel_id,
                owner_id=lead.owner_id,
                created_at=lead.created_at,
                stage=lead.stage,
                touch_count=lead.touch_count,
                last_touched_at=lead.last_touched_at,
                version=lead.version,
                last_event_seq=lead.last_event_seq,
                last_event_hash=lead.last_event_hash,
                stored=True,
            )
        wanted = {key for key in external_ids if key[1]}
        if wanted:
            for pk, channel_id, external_id in Lead.objects.filter(
                dealer=self.dealer, external_id__in={ext for _c, ext in wanted}
            ).values_list("pk", "channel_id", "external_id"):
                self.external_ids[(channel_id, external_id)] = pk
        if self.dry_run:
            self._assume(phones, wanted)
            self._lead_ids = [next(self._fake_ids) for _ in range(size)]
            self._customer_ids = [next(self._fake_ids) for _ in range(size)]
        else:
            self._lead_ids = reserve_ids(Lead, size)[::-1]
            self._customer_ids = reserve_ids(Customer, size)[::-1]

    def _assume(self, phones: set[str], external_ids: set[tuple[int, str]]) -> None:
        """A dry run: stand-ins for the open leads and platform ids its earlier batches made."""
        for phone in phones & self._assumed_open:
            customer = self.customers.get(phone)
            if customer is None:
                customer = CustomerDraft(next(self._fake_ids), phone, "", "", stored=True)
                self.customers[phone] = customer
            if customer.id not in self.open_leads:
                self.open_leads[customer.id] = Draft(
                    pk=next(self._fake_ids),
                    dealer_id=self.dealer.pk,
                    customer_id=customer.id,
                    channel_id=0,
                    owner_id=0,
                    created_at=self.now,
                    stored=True,
                )
        for key in external_ids & self._assumed_external:
            self.external_ids.setdefault(key, _ASSUMED)

    @contextmanager
    def row(self) -> Iterator[None]:
        """One row: all of it, or (when anything in it raises) none of it."""
        self._undo = []
        try:
            yield
        except BaseException:
            for undo in reversed(self._undo):
                undo()
            raise
        finally:
            self._undo = None

    def _on_undo(self, undo: Callable[[], None]) -> None:
        if self._undo is not None:
            self._undo.append(undo)

    def write(self) -> None:
        """Store the batch: new customers and leads, names given to nameless customers, touched
        leads, events and tasks, round-robin marks. A dry run stores nothing: it keeps what
        later batches must know."""
        if self.dry_run:
            phones = {c.id: c.phone for c in self.customers.values()}
            for draft in self.drafts:
                if not draft.stored:
                    if draft.is_open:
                        self._assumed_open.add(phones[draft.customer_id])
                    if draft.external_id:
                        self._assumed_external.add((draft.channel_id, draft.external_id))
            self.assigner.marked.clear()
            self._reset()
            return
        new = [c for c in self.customers.values() if not c.stored]
        insert_rows(
            Customer,
            CUSTOMER_COLUMNS,
            (tuple(getattr(c, name, self.dealer.pk) for name in CUSTOMER_COLUMNS) for c in new),
        )
        update_rows(
            Customer,
            ("name", "name_initials"),
            ((c.id, c.name, c.name_initials) for c in self.customers.values() if c.renamed),
        )
        insert_rows(Lead, LEAD_COLUMNS, (d.row() for d in self.drafts if not d.stored))
        update_rows(
            Lead,
            TOUCH_COLUMNS,
            (
                (d.pk, *(getattr(d, name) for name in TOUCH_COLUMNS))
                for d in self.drafts
                if d.stored
            ),
        )
        tallies.apply(self._tallied())
        recorded = timezone.now()
        insert_rows(
            Event,
            EVENT_COLUMNS,
            (
                tuple(recorded if name == "recorded_at" else e[name] for name in EVENT_COLUMNS)
                for d in self.drafts
                for e in d.events
            ),
        )
        insert_rows(
            Task,
            TASK_COLUMNS,
            (
                (d.dealer_id, d.pk, *(getattr(t, name) for name in TASK_COLUMNS[2:]))
                for d in self.drafts
                for t in d.tasks
            ),
        )
        self.assigner.flush()
        self._reset()

    def _tallied(self) -> tallies.Deltas:
        """What the batch adds to the dealer's daily tallies: its new leads, its touches."""
        deltas: tallies.Deltas = {}
        for draft in self.drafts:
            if not draft.stored:
                values = {name: getattr(draft, name) for name in tallies.COUNTED_FIELDS}
                tallies.merge(deltas, draft.dealer_id, tallies.contributions(values))
            for event in draft.events:
                if event["kind"] == EventKind.TOUCHED:
                    touch = tallies.touch_contributions(draft.created_at, event["occurred_at"])
                    tallies.merge(deltas, draft.dealer_id, touch)
        return deltas

    # ------------------------------------------------------------ intake

    def create_lead(
        self,
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
        """As actions.create_lead: a new lead, a touch on the open lead, or a duplicate."""
        if by is not None:
            authorize_create(by, dealer.pk)
        if channel.dealer_id != dealer.pk:
            raise InvalidInput(_("Unknown channel."), code="unknown_channel", field="channel")
        number = phone if isinstance(phone, NormalisedPhone) else normalise_phone(phone)
        at = at or timezone.now()
        name = name.strip()[:100]
        if external_id and (channel.pk, external_id) in self.external_ids:
            known = self.external_ids[(channel.pk, external_id)]
            existing = known if isinstance(known, Draft) else Lead.objects.get(pk=known)
            return Intake(existing, IntakeOutcome.DUPLICATE)  # type: ignore[arg-type]
        customer = self._customer(number, name=name, city=city, at=at)
        open_lead = self.open_leads.get(customer.id)
        if open_lead is None:
            lead = self._new_lead(
                customer,
                channel,
                by=by,
                owner=owner,
                car_model=car_model,
                note=note,
                external_id=external_id,
                at=at,
            )
            return Intake(lead, IntakeOutcome.CREATED)  # type: ignore[arg-type]
        self._touch(open_lead, channel, by=by, car_model=car_model, note=note, at=at)
        return Intake(open_lead, IntakeOutcome.TOUCHED)  # type: ignore[arg-type]

    def _customer(
        self, number: NormalisedPhone, *, name: str, city: str, at: datetime
    ) -> CustomerDraft:
        customer = self.customers.get(number.number)
        if customer is None:
            customer = CustomerDraft(
                id=self._customer_ids.pop(),
                phone=number.number,
                phone_kind=number.kind,
                name=name,
                name_initials=_initials(name),
                city=city,
                created_at=at,
            )
            self.customers[number.number] = customer

            def forget() -> None:
                del self.customers[number.number]
                self._customer_ids.append(customer.id)  # as a rollback leaves no gap

            self._on_undo(forget)
        elif name and not customer.name:
            renamed = customer.renamed
            customer.name, customer.name_initials, customer.renamed = name, _initials(name), True

            def unname() -> None:
                customer.name, customer.name_initials, customer.renamed = "", "", renamed

            self._on_undo(unname)
        return customer

    def _may_own(self, owner: Staff) -> bool:
        if owner.pk not in self._owners:
            self._owners[owner.pk] = may_own(owner, self.dealer)
        return self._owners[owner.pk]

    def _new_lead(
        self,
        customer: CustomerDraft,
        channel: Channel,
        *,
        by: Staff | None,
        owner: Staff | None,
        car_model: str,
        note: str,
        external_id: str,
        at: datetime,
    ) -> Draft:
        if owner is not None and not self._may_own(owner):
            raise InvalidInput(
                _("This person cannot own leads here."), code="bad_owner", field="owner"
            )
        by_rules = owner is None
        chosen = owner or self.assigner.pick(channel=channel, car_model=car_model, at=at)
        lead = Draft(
            pk=self._lead_ids.pop(),
            dealer_id=self.dealer.pk,
            customer_id=customer.id,
            channel_id=channel.pk,
            owner_id=chosen.pk,
            created_at=at,
            car_model=car_model[:100],
            created_by_id=by.pk if by else None,
            external_id=external_id,
            sla_deadline=first_response_deadline(self.dealer, channel, at),
        )
        self._append(
            lead,
            EventKind.CREATED,
            by=by,
            at=at,
            to_stage=Stage.NEW,
            to_owner_id=chosen.pk,
            note=note,
            data={"channel": channel.code, "car_model": lead.car_model, "by_rules": by_rules},
        )
        self._schedule(lead, TaskKind.FIRST_CALL, due_at=lead.sla_deadline)
        self.drafts.append(lead)
        self.open_leads[customer.id] = lead
        if external_id:
            self.external_ids[(channel.pk, external_id)] = lead
        self._load(chosen.pk, +1, by_rules=by_rules)

        def forget() -> None:
            self.drafts.remove(lead)
            self._lead_ids.append(lead.pk)
            self.open_leads.pop(customer.id, None)
            self.external_ids.pop((channel.pk, external_id), None)

        self._on_undo(forget)
        return lead

    def _load(self, owner_id: int, change: int, *, by_rules: bool = False) -> None:
        """Keep the assigner's open loads (and round-robin marks) as the database would."""
        member = self.assigner.workers.get(owner_id)
        if member is None:
            return
        loads, before, marked = self.assigner.loads, member.last_assigned_at, self.assigner.marked
        was_marked = owner_id in marked
        if by_rules:
            self.assigner.assigned(owner_id)
        else:
            loads[owner_id] = loads.get(owner_id, 0) + change

        def restore() -> None:
            loads[owner_id] -= change
            member.last_assigned_at = before
            if not was_marked:
                marked.discard(owner_id)

        self._on_undo(restore)

    def _touch(
        self,
        lead: Draft,
        channel: Channel,
        *,
        by: Staff | None,
        car_model: str,
        note: str,
        at: datetime,
    ) -> None:
        before = (lead.touch_count, lead.last_touched_at, lead.version)
        head = (lead.last_event_seq, lead.last_event_hash)
        listed = any(d is lead for d in self.drafts)
        lead.touch_count += 1
        lead.last_touched_at = at
        self._append(
            lead,
            EventKind.TOUCHED,
            by=by,
            at=at,
            note=note,
            data={"channel": channel.code, "car_model": car_model},
        )
        lead.version += 1
        if not listed:
            self.drafts.append(lead)

        def untouch() -> None:
            lead.touch_count, lead.last_touched_at, lead.version = before
            lead.last_event_seq, lead.last_event_hash = head
            lead.events.pop()
            if not listed:
                self.drafts.remove(lead)

        self._on_undo(untouch)

    # ------------------------------------------------------------ the steps of a lead's history

    def _begin(self, lead: Draft, by: Staff, action: Action) -> Stage | None:
        roles = roles_at(by, lead.dealer_id) - {Role.HEADQUARTERS}
        check_performer(action, roles=roles, is_owner=lead.owner_id == by.pk)
        return check_stage(action, stage=lead.stage, defeat_pending=lead.defeat_pending)

    def _append(
        self,
        lead: Draft,
        kind: EventKind,
        *,
        by: Staff | None,
        at: datetime,
        from_stage: str = "",
        to_stage: str = "",
        to_owner_id: int | None = None,
        reason: str = "",
        note: str = "",
        data: dict[str, Any] | None = None,
    ) -> None:
        event = ledger.compose(
            dealer_id=lead.dealer_id,
            lead_id=lead.pk,
            last_seq=lead.last_event_seq,
            last_hash=lead.last_event_hash,
            kind=kind,
            actor_id=by.pk if by else None,
            occurred_at=at,
            from_stage=from_stage,
            to_stage=to_stage,
            to_owner_id=to_owner_id,
            reason=reason,
            note=note,
            data=data,
        )
        lead.events.append(event)
        lead.last_event_seq, lead.last_event_hash = event["seq"], event["hash"]
        if not lead.stored:  # a stored lead is only touched: its milestones stay as they are
            tallies.note_event(lead, **event)

    def _step(
        self,
        lead: Draft,
        kind: EventKind,
        *,
        by: Staff,
        at: datetime,
        to_stage: Stage | None = None,
        reason: str = "",
        data: dict[str, Any] | None = None,
    ) -> None:
        self._append(
            lead,
            kind,
            by=by,
            at=at,
            from_stage=lead.stage if to_stage else "",
            to_stage=to_stage or "",
            reason=reason,
            data=data,
        )
        if to_stage:
            lead.stage = to_stage

    def _close_tasks(
        self, lead: Draft, *kinds: TaskKind, outcome: TaskOutcome, at: datetime
    ) -> None:
        for task in lead.tasks:
            if task.closed_at is None and (not kinds or task.kind in kinds):
                task.closed_at, task.outcome = at, outcome
                if task.kind == TaskKind.RETURN_VISIT:
                    self._specialist_load(task.assignee_id, -1)

    def _schedule(
        self, lead: Draft, kind: TaskKind, *, due_at: datetime, assignee_id: int | None = None
    ) -> None:
        # Superseded at the wall clock, as followups.schedule does.
        self._close_tasks(lead, kind, outcome=TaskOutcome.SUPERSEDED, at=self.now)
        lead.tasks.append(TaskDraft(kind, assignee_id or lead.owner_id, due_at, self.now))

    def _follow_up(self, lead: Draft, *, due_at: datetime) -> None:
        lead.next_follow_up_at = due_at
        self._schedule(lead, TaskKind.FOLLOW_UP, due_at=due_at)

    def _next_follow_up(self, grade: str, after: datetime) -> datetime:
        return in_business_hours(
            self.dealer, after + timedelta(days=self.follow_up_days[grade or Grade.N])
        )

    def _close(self, lead: Draft, at: datetime, outcome: TaskOutcome) -> None:
        """The lead left the funnel: no longer its customer's open lead, nor its owner's load."""
        if self.open_leads.get(lead.customer_id) is lead:
            del self.open_leads[lead.customer_id]
            self._on_undo(lambda: self.open_leads.__setitem__(lead.customer_id, lead))
        self._load(lead.owner_id, -1)
        lead.closed_at = at
        lead.next_follow_up_at = None
        if lead.stage != Stage.DELIVERED:
            lead.appointment_at = None
        self._close_tasks(lead, outcome=outcome, at=at)

    def _reason(self, kind: ReasonKind, code: str) -> str:
        if not code:
            raise InvalidInput(_("A reason is required."), code="reason_required", field="reason")
        if (kind, code) not in self.reasons:
            raise InvalidInput(
                _("“%(code)s” is not one of this dealer's reasons.") % {"code": code},
                code="unknown_reason",
                field="reason",
            )
        return code

    def log_call(
        self,
        *,
        lead: Draft,
        by: Staff,
        outcome: CallOutcome,
        grade: Grade | None = None,
        at: datetime,
    ) -> Draft:
        self._begin(lead, by, Action.LOG_CALL)
        if grade and grade != lead.grade:
            self._begin(lead, by, Action.GRADE)
        from_stage = lead.stage
        if lead.first_response_at is None:
            lead.first_response_at = at
        if outcome == CallOutcome.REACHED and lead.stage == Stage.NEW:
            lead.stage = Stage.CONTACTED
        moved = lead.stage != from_stage
        self._append(
            lead,
            EventKind.CALLED,
            by=by,
            at=at,
            from_stage=from_stage if moved else "",
            to_stage=lead.stage if moved else "",
            data={
                "outcome": str(outcome),
                "direction": "outbound",
                "duration_seconds": 0,
                "recording_url": "",
            },
        )
        self._close_tasks(
            lead, TaskKind.FIRST_CALL, TaskKind.FOLLOW_UP, outcome=TaskOutcome.DONE, at=at
        )
        if grade and grade != lead.grade:
            self._grade(lead, by, grade, at=at)
        self._follow_up(lead, due_at=self._next_follow_up(lead.grade, at))
        lead.version += 1
        return lead

    def _grade(self, lead: Draft, by: Staff, grade: Grade, *, at: datetime) -> None:
        self._append(
            lead, EventKind.GRADED, by=by, at=at, data={"from": lead.grade, "to": str(grade)}
        )
        lead.grade = grade

    def set_grade(self, *, lead: Draft, by: Staff, grade: Grade, at: datetime) -> Draft:
        self._begin(lead, by, Action.GRADE)
        self._grade(lead, by, Grade(grade), at=at)
        self._follow_up(lead, due_at=self._next_follow_up(grade, at))
        lead.version += 1
        return lead

    def book_appointment(
        self, *, lead: Draft, by: Staff, appointment_at: datetime | None, at: datetime
    ) -> Draft:
        if appointment_at is None:
            raise InvalidInput(
                _("An appointment needs a date and time."),
                code="appointment_required",
                field="appointment_at",
            )
        to_stage = self._begin(lead, by, Action.APPOINT)
        moved = lead.stage == Stage.APPOINTED and lead.appointment_at is not None
        self._append(
            lead,
            EventKind.APPOINTMENT_MOVED if moved else EventKind.APPOINTMENT_SET,
            by=by,
            at=at,
            from_stage="" if moved else lead.stage,
            to_stage="" if moved else to_stage,
            data={
                "appointment_at": appointment_at.isoformat(),
                "previous": lead.appointment_at.isoformat() if moved else None,
            },
        )
        if lead.first_response_at is None:
            lead.first_response_at = at
        lead.stage = to_stage
        lead.appointment_at = appointment_at
        self._close_tasks(lead, TaskKind.FIRST_CALL, outcome=TaskOutcome.DONE, at=at)
        self._schedule(
            lead,
            TaskKind.APPOINTMENT_REMINDER,
            due_at=max(appointment_at - REMIND_BEFORE_APPOINTMENT, at),
        )
        lead.version += 1
        return lead

    def record_arrival(self, *, lead: Draft, by: Staff, at: datetime) -> Draft:
        to_stage = self._begin(lead, by, Action.ARRIVE)
        self._step(
            lead,
            EventKind.ARRIVED,
            by=by,
            at=at,
            to_stage=to_stage,
            data={"with_appointment": lead.appointment_at is not None},
        )
        if lead.first_response_at is None:
            lead.first_response_at = at
        self._close_tasks(
            lead,
            TaskKind.FIRST_CALL,
            TaskKind.APPOINTMENT_REMINDER,
            outcome=TaskOutcome.DONE,
            at=at,
        )
        lead.version += 1
        return lead

    def record_order(self, *, lead: Draft, by: Staff, at: datetime) -> Draft:
        to_stage = self._begin(lead, by, Action.ORDER)
        data = {"car_model": lead.car_model, "amount": None}
        self._step(lead, EventKind.ORDERED, by=by, at=at, to_stage=to_stage, data=data)
        lead.version += 1
        return lead

    def record_delivery(self, *, lead: Draft, by: Staff, at: datetime) -> Draft:
        to_stage = self._begin(lead, by, Action.DELIVER)
        self._step(lead, EventKind.DELIVERED, by=by, at=at, to_stage=to_stage)
        self._close(lead, at, TaskOutcome.DONE)
        specialist = self._return_visit_specialist(fallback=lead.owner_id)
        self._schedule(
            lead,
            TaskKind.RETURN_VISIT,
            due_at=return_visit_due(self.dealer, at),
            assignee_id=specialist,
        )
        self._specialist_load(specialist, +1)
        lead.version += 1
        return lead

    def request_defeat(self, *, lead: Draft, by: Staff, reason: str, at: datetime) -> Draft:
        self._begin(lead, by, Action.REQUEST_DEFEAT)
        reason = self._reason(ReasonKind.DEFEAT, reason)
        self._append(lead, EventKind.DEFEAT_REQUESTED, by=by, at=at, reason=reason)
        lead.defeat_pending = True
        lead.exit_reason = reason
        lead.version += 1
        return lead

    def approve_defeat(self, *, lead: Draft, by: Staff, at: datetime) -> Draft:
        to_stage = self._begin(lead, by, Action.APPROVE_DEFEAT)
        requests = [e for e in lead.events if e["kind"] == EventKind.DEFEAT_REQUESTED]
        if requests and requests[-1]["actor_id"] == by.pk:
            raise NotPermitted(
                _("A defeat must be approved by someone other than who requested it."),
                code="own_request",
            )
        self._step(
            lead,
            EventKind.DEFEAT_APPROVED,
            by=by,
            at=at,
            to_stage=to_stage,
            reason=lead.exit_reason,
        )
        lead.defeat_pending = False
        self._close(lead, at, TaskOutcome.CANCELLED)
        lead.version += 1
        return lead

    def invalidate_lead(self, *, lead: Draft, by: Staff, reason: str, at: datetime) -> Draft:
        to_stage = self._begin(lead, by, Action.INVALIDATE)
        reason = self._reason(ReasonKind.INVALID, reason)
        self._step(lead, EventKind.INVALIDATED, by=by, at=at, to_stage=to_stage, reason=reason)
        lead.exit_reason = reason
        self._close(lead, at, TaskOutcome.CANCELLED)
        lead.version += 1
        return lead

    def settle_imported_history(self, *, lead: Draft) -> Draft:
        """As actions.settle_imported_history: what fell due before now is nobody's work, and
        the first-response SLA is judged from the history alone."""
        deadline = lead.sla_deadline
        lead.sla_deadline = settled_deadline(
            created_at=lead.created_at,
            deadline=deadline,
            first_response_at=lead.first_response_at,
            now=self.now,
        )

        def unsettle() -> None:
            lead.sla_deadline = deadline

        self._on_undo(unsettle)
        overdue = [t for t in lead.tasks if t.closed_at is None and t.due_at < self.now]
        for task in overdue:
            task.closed_at, task.outcome = self.now, TaskOutcome.SUPERSEDED
            if task.kind == TaskKind.RETURN_VISIT:
                self._specialist_load(task.assignee_id, -1)
        if overdue and lead.is_open:
            self._follow_up(lead, due_at=self.now)
        return lead

    # ------------------------------------------------------------ owner operations

    def _return_visit_specialist(self, *, fallback: int) -> int:
        """As followups.return_visit_specialist: present now, fewest open tasks."""
        if self._specialists is None:
            absent = absent_staff_ids(self.dealer)
            ids = list(
                Membership.objects.filter(dealer=self.dealer, role=Role.OWNER_OPS, is_active=True)
                .exclude(staff_id__in=absent)
                .values_list("staff_id", flat=True)
            )
            loads = dict(
                Task.objects.filter(dealer=self.dealer, assignee_id__in=ids, closed_at=None)
                .values_list("assignee_id")
                .annotate(n=Count("id"))
            )
            self._specialists = {pk: loads.get(pk, 0) for pk in ids}
        if not self._specialists:
            return fallback
        return min(self._specialists, key=lambda pk: (self._specialists[pk], pk))

    def _specialist_load(self, staff_id: int, change: int) -> None:
        if self._specialists is not None and staff_id in self._specialists:
            self._specialists[staff_id] += change
            specialists = self._specialists

            def restore() -> None:
                specialists[staff_id] -= change

            self._on_undo(restore)
