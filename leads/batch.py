"""The batch executor: the actions of leads.decisions carried out for many leads at once
(file imports, the demo data, benchmarks).

`Batch` offers the actions of leads.actions under the same names and arguments
(`create_lead`, `log_call`, `hand_off` …): each is decided by the same function of
leads.decisions, and its change is kept on a `Draft` in memory (ledger events hash-chained by
leads.ledger.compose, tasks, lead fields, milestones); `write` then stores a batch of drafts
with a handful of statements, and adds what they count to the daily tallies. What the
decisions look up (owners, reasons, loads, absences) is read once and kept up to date here.

Between `begin` and `write` one batch is open. A row is carried out inside `row()`: when a
step refuses, everything the row changed is undone, as a rolled-back transaction would. A
batch creates leads and changes them; a lead stored before the batch it only touches (a
repeat enquiry).
"""

from __future__ import annotations

import copy
import functools
import itertools
import operator
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count
from django.utils import timezone

from accounts.models import Dealer, Membership, Staff
from accounts.roles import Role
from dcc.bulk import insert_rows, reserve_ids, update_rows
from dcc.phone import NormalisedPhone
from leads import decisions, followers, ledger, tallies
from leads.assignment import (
    TEAM_WORKER,
    Assigner,
    lead_owners,
)
from leads.decisions import (
    Change,
    CloseTasks,
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
    GradePolicy,
    Lead,
    ReasonCode,
    ReasonKind,
    Task,
    TeamKind,
)
from leads.search import name_initials
from leads.sla import in_business_hours
from leads.stages import DEFAULT_FOLLOW_UP_DAYS, INVITE_STAGES, OPEN_STAGES, Grade, Stage
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
    "note_salt",
    "note_seal",
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
# dealer_id is the Batch's; the rest are CustomerDraft's.
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
        return _lead_row(self)


def _entry(event: dict[str, Any]) -> Entry:
    """A written event of the batch as the entry it was."""
    return Entry(
        kind=event["kind"],
        actor_id=event["actor_id"],
        at=event["occurred_at"],
        from_stage=event["from_stage"],
        to_stage=event["to_stage"],
        from_owner_id=event["from_owner_id"],
        to_owner_id=event["to_owner_id"],
        reason=event["reason"],
        note=event["note"],
        data=event["data"],
    )


_lead_row = operator.attrgetter(*("pk" if name == "id" else name for name in LEAD_COLUMNS))
DRAFT_FIELDS = tuple(f.name for f in fields(Draft) if f.name not in ("events", "tasks"))

# A platform id that a dry run's earlier batch would have stored: any lead will do.
_ASSUMED = Draft(
    pk=0, dealer_id=0, customer_id=0, channel_id=0, owner_id=0, created_at=datetime.min
)


class Batch:
    """The actions for one dealer, carried out in memory (see the module's docstring). It is
    also the decisions' context: what they look up is answered from what it read once."""

    checks_ahead = False  # history is backdated: no "in the future" checks

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
        self.assigners = {team: Assigner(dealer, team=team) for team in TEAM_WORKER}
        days = dict(
            GradePolicy.objects.filter(dealer=dealer).values_list("grade", "follow_up_days")
        )
        self.follow_up_days = {
            grade: days.get(grade, DEFAULT_FOLLOW_UP_DAYS[grade]) for grade in Grade.values
        }
        self.reasons = set(
            ReasonCode.objects.filter(dealer=dealer, is_active=True).values_list("kind", "code")
        )
        self._people: dict[int, Staff] = {}
        self._owners: set[int] | None = None
        self._agents: set[int] | None = None
        self._specialists: dict[int, int] | None = None
        self._undo: list[Callable[[], None]] | None = None
        self._kept: set[int] = set()  # drafts whose state this row can restore
        self._reset()

    @property
    def assigner(self) -> Assigner:
        """The DCC's assigner (new leads go to the DCC)."""
        return self.assigners[TeamKind.DCC]

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
        self._undo, self._kept = [], set()
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
        leads, events and tasks, tallies, round-robin marks. A dry run stores nothing: it keeps
        what later batches must know."""
        if self.dry_run:
            phones = {c.id: c.phone for c in self.customers.values()}
            for draft in self.drafts:
                if not draft.stored:
                    if draft.is_open:
                        self._assumed_open.add(phones[draft.customer_id])
                    if draft.external_id:
                        self._assumed_external.add((draft.channel_id, draft.external_id))
            for assigner in self.assigners.values():
                assigner.marked.clear()
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
        # The round-robin marks before the tallies, the order a single lead's creation takes
        # them in (assignment, then the lead and its tallies): an import and a webhook writing
        # at the same time would otherwise each hold what the other waits for.
        for assigner in self.assigners.values():
            assigner.flush()
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
        self._tell_followers()
        self._reset()

    def _tell_followers(self) -> None:
        """As the live executor does, for the events someone follows (few: deliveries, orders),
        with each lead as stored."""
        told = [
            (draft.pk, event)
            for draft in self.drafts
            for event in draft.events
            if followers.followed(event["kind"])
        ]
        if not told:
            return
        leads = Lead.objects.in_bulk({pk for pk, _event in told})
        for pk, event in told:
            followers.tell(leads[pk], [_entry(event)])

    def _tallied(self) -> tallies.Deltas:
        """What the batch adds to the dealer's daily tallies: its new leads, its touches (summed
        as (day, column) first, then grouped by day once)."""
        counted: Counter = Counter()
        for draft in self.drafts:
            if not draft.stored:
                values = {name: getattr(draft, name) for name in tallies.COUNTED_FIELDS}
                counted.update(tallies.contributions(values))
            for event in draft.events:
                if event["kind"] == EventKind.TOUCHED:
                    counted.update(
                        tallies.touch_contributions(draft.created_at, event["occurred_at"])
                    )
        deltas: tallies.Deltas = {}
        tallies.merge(deltas, self.dealer.pk, counted)
        return deltas

    # ------------------------------------------------------------ the actions

    def __getattr__(self, name: str) -> Callable[..., Draft]:
        """Each decision of leads.decisions (log_call, hand_off …), carried out here."""
        decide = decisions.LEAD_ACTIONS.get(name)
        if decide is None:
            raise AttributeError(name)

        def act(*, lead: Draft, by: Staff, at: datetime | None = None, **request: Any) -> Draft:
            change = decide(lead, self, by=by, at=at or timezone.now(), **request)
            return self._carry_out(lead, change)

        act.__name__ = name
        return act

    def settle_imported_history(self, *, lead: Draft) -> Draft:
        """leads.decisions.settle_imported_history, in memory."""
        return self._carry_out(lead, decisions.settle_imported_history(lead, self))

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
        number = decisions.check_enquiry(dealer=dealer, phone=phone, channel=channel, by=by)
        at = at or timezone.now()
        name = name.strip()[:100]
        if external_id and (channel.pk, external_id) in self.external_ids:
            known = self.external_ids[(channel.pk, external_id)]
            existing = known if isinstance(known, Draft) else Lead.objects.get(pk=known)
            return Intake(existing, IntakeOutcome.DUPLICATE)
        customer = self._customer(number, name=name, city=city, at=at)
        open_lead = self.open_leads.get(customer.id)
        if open_lead is not None:
            change = decisions.touch(
                open_lead, self, channel=channel, by=by, car_model=car_model, note=note, at=at
            )
            return Intake(self._carry_out(open_lead, change), IntakeOutcome.TOUCHED)
        change = decisions.new_lead(
            self,
            customer_id=customer.id,
            channel=channel,
            by=by,
            owner=owner,
            car_model=car_model,
            note=note,
            external_id=external_id,
            at=at,
        )
        lead = Draft(pk=self._lead_ids.pop(), **change.created)
        self.drafts.append(lead)
        if external_id:
            self.external_ids[(channel.pk, external_id)] = lead

        def forget() -> None:
            self.drafts.remove(lead)
            self._lead_ids.append(lead.pk)  # as a rollback leaves no gap
            self.external_ids.pop((channel.pk, external_id), None)

        self._on_undo(forget)
        self._kept.add(id(lead))  # forgetting it undoes it all: nothing to restore
        return Intake(self._carry_out(lead, change, new=True), IntakeOutcome.CREATED)

    def check_in_visitor(
        self,
        *,
        dealer: Dealer,
        phone: str,
        by: Staff,
        consultant: Staff | None = None,
        name: str = "",
        car_model: str = "",
        note: str = "",
        at: datetime | None = None,
    ) -> Draft:
        """leads.decisions.check_in, for customers of this batch."""
        return decisions.check_in(
            self,
            self,
            dealer=dealer,
            phone=phone,
            by=by,
            consultant=consultant,
            name=name,
            car_model=car_model,
            note=note,
            at=at or timezone.now(),
        )

    def invited_lead(self, number: NormalisedPhone, *, name: str, at: datetime) -> Draft | None:
        """The customer's open lead in the invite stages (the customer noted)."""
        customer = self._customer(number, name=name, city="", at=at)
        lead = self.open_leads.get(customer.id)
        return lead if lead is not None and lead.stage in INVITE_STAGES else None

    def relock(self, lead: Draft) -> Draft:
        return lead

    def carry(self, lead: Draft, change: Change) -> Draft:
        return self._carry_out(lead, change)

    # ------------------------------------------------------------ carrying a change out

    def _carry_out(self, lead: Draft, change: Change, *, new: bool = False) -> Draft:
        """Apply `change` to `lead` in memory, keeping the loads and open leads the decisions
        read as the database would have them."""
        if lead.stored and any(
            not isinstance(step, Entry) or step.kind != EventKind.TOUCHED
            for step in change.steps
            if not isinstance(step, SetFields)
        ):
            raise RuntimeError("a batch only touches the leads stored before it")
        self._keep(lead)
        was_open, owner_before = (False, None) if new else (lead.is_open, lead.owner_id)
        for step in change.steps:
            if isinstance(step, SetFields):
                for name, value in step.values.items():
                    setattr(lead, name, value)
            elif isinstance(step, Entry):
                self._append(lead, step)
            elif isinstance(step, CloseTasks):
                for task in lead.tasks:
                    if _closes(step, task):
                        self._close_task(task, step.outcome, step.at or self.now)
            elif isinstance(step, OpenTask):
                for task in lead.tasks:
                    if task.closed_at is None and task.kind == step.kind:
                        self._close_task(task, "superseded", self.now)
                assignee = step.assignee_id or lead.owner_id
                lead.tasks.append(TaskDraft(step.kind, assignee, step.due_at, self.now))
                self._specialist_load(assignee, +1)
            elif isinstance(step, MoveTasks):
                for task in lead.tasks:
                    if task.closed_at is None and task.assignee_id == step.from_id:
                        task.assignee_id = step.to_id
                        self._specialist_load(step.from_id, -1)
                        self._specialist_load(step.to_id, +1)
        if change.counts_as_edit:
            lead.version += 1
        if lead.stored:
            if not any(d is lead for d in self.drafts):
                self.drafts.append(lead)
                self._on_undo(lambda: self.drafts.remove(lead))
            return lead
        if was_open:
            self._load(owner_before, -1)
        if lead.is_open:
            self._load(lead.owner_id, +1)
        current = self.open_leads.get(lead.customer_id)
        if lead.is_open and current is None:
            self.open_leads[lead.customer_id] = lead
            self._on_undo(lambda: self.open_leads.pop(lead.customer_id, None))
        elif not lead.is_open and current is lead:
            del self.open_leads[lead.customer_id]
            self._on_undo(lambda: self.open_leads.__setitem__(lead.customer_id, lead))
        return lead

    def _keep(self, lead: Draft) -> None:
        """Be able to put `lead` back as it was when this row began."""
        if self._undo is None or id(lead) in self._kept:
            return
        self._kept.add(id(lead))
        before = copy.copy(lead)
        events = len(lead.events)
        tasks = [(task, task.closed_at, task.outcome, task.assignee_id) for task in lead.tasks]

        def restore() -> None:
            for name in DRAFT_FIELDS:
                setattr(lead, name, getattr(before, name))
            lead.events = lead.events[:events]
            lead.tasks = [task for task, *_ in tasks]
            for task, closed_at, outcome, assignee_id in tasks:
                task.closed_at, task.outcome, task.assignee_id = closed_at, outcome, assignee_id

        self._on_undo(restore)

    def _append(self, lead: Draft, entry: Entry) -> None:
        event = ledger.compose_entry(
            dealer_id=lead.dealer_id,
            lead_id=lead.pk,
            last_seq=lead.last_event_seq,
            last_hash=lead.last_event_hash,
            entry=entry,
        )
        lead.events.append(event)
        lead.last_event_seq, lead.last_event_hash = event["seq"], event["hash"]
        if not lead.stored:  # a stored lead is only touched: its milestones stay as they are
            tallies.note_event(lead, **event)

    def _close_task(self, task: TaskDraft, outcome: str, at: datetime) -> None:
        task.closed_at, task.outcome = at, outcome
        self._specialist_load(task.assignee_id, -1)

    def _load(self, owner_id: int | None, change: int) -> None:
        """Keep each team's open loads as the database would."""
        for assigner in self.assigners.values():
            if owner_id in assigner.workers:
                loads = assigner.loads
                loads[owner_id] = loads.get(owner_id, 0) + change

                def restore(loads: dict[int, int] = loads) -> None:
                    loads[owner_id] -= change

                self._on_undo(restore)

    def _specialist_load(self, staff_id: int, change: int) -> None:
        if self._specialists is not None and staff_id in self._specialists:
            self._specialists[staff_id] += change
            specialists = self._specialists

            def restore() -> None:
                specialists[staff_id] -= change

            self._on_undo(restore)

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

    # ------------------------------------------------------------ what decisions look up

    def person(self, staff_id: int) -> Staff:
        if staff_id not in self._people:
            self._people[staff_id] = Staff.objects.get(pk=staff_id)
        return self._people[staff_id]

    def reason_is_active(self, kind: ReasonKind, code: str) -> bool:
        return (kind, code) in self.reasons

    def follow_up_due(self, grade: str, after: datetime) -> datetime:
        return in_business_hours(
            self.dealer, after + timedelta(days=self.follow_up_days[grade or Grade.N])
        )

    def may_own(self, staff: Staff) -> bool:
        if self._owners is None:
            self._owners = set(lead_owners(self.dealer).values_list("pk", flat=True))
        return staff.pk in self._owners

    def pick_owner(
        self,
        team: TeamKind,
        *,
        channel_id: int | None,
        car_model: str,
        at: datetime,
        exclude: frozenset[int] = frozenset(),
    ) -> Staff:
        assigner = self.assigners[TeamKind(team)]
        chosen = assigner.pick(channel_id=channel_id, car_model=car_model, at=at, exclude=exclude)
        member = assigner.workers.get(chosen.pk)
        before, was_marked = (
            (member.last_assigned_at if member else None),
            chosen.pk in assigner.marked,
        )
        if assigner.mark(chosen.pk):

            def unmark() -> None:
                member.last_assigned_at = before
                if not was_marked:
                    assigner.marked.discard(chosen.pk)

            self._on_undo(unmark)
        return chosen

    def return_visit_specialist(self, fallback_id: int) -> int:
        """As followups.return_visit_specialist: present now, fewest open tasks."""
        if self._specialists is None:
            absent = self.assigner.absent(timezone.now())
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
            for draft in self.drafts:  # the batch's own open tasks count too
                for task in draft.tasks:
                    if task.closed_at is None and task.assignee_id in self._specialists:
                        self._specialists[task.assignee_id] += 1
        if not self._specialists:
            return fallback_id
        return min(self._specialists, key=lambda pk: (self._specialists[pk], pk))

    def defeat_requester(self, lead: Draft) -> int | None:
        requests = [e for e in lead.events if e["kind"] == EventKind.DEFEAT_REQUESTED]
        return requests[-1]["actor_id"] if requests else None

    def absent_ids(self, at: datetime) -> set[int]:
        return self.assigner.absent(at)

    def is_pool_lead(self, lead: Draft) -> bool:
        if self._agents is None:
            self._agents = set(
                Membership.objects.filter(
                    dealer=self.dealer, role=Role.DCC_AGENT, is_active=True
                ).values_list("staff_id", flat=True)
            )
        return lead.owner_id not in self._agents

    def has_other_open_lead(self, lead: Draft) -> bool:
        return self.open_leads.get(lead.customer_id) not in (None, lead)

    def has_tasks_due_before(self, lead: Draft, moment: datetime) -> bool:
        return any(t.closed_at is None and t.due_at < moment for t in lead.tasks)


def _closes(step: CloseTasks, task: TaskDraft) -> bool:
    return (
        task.closed_at is None
        and (not step.kinds or task.kind in step.kinds)
        and (step.due_before is None or task.due_at < step.due_before)
    )
