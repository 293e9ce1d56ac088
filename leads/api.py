"""REST endpoints for leads, their actions, events and tasks. Thin: parse, call an action or
a selector, shape the answer."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime
from typing import Annotated, Literal

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Header, Query, Router, Schema
from ninja.responses import Status

from accounts.models import Dealer, Staff
from accounts.requests import current_staff
from accounts.roles import roles_by_dealer
from dcc.errors import InvalidInput, NotFound
from dcc.schema import MAX_INT, Id, Input, Moment, Text
from leads import actions
from leads.entries import ENTRIES, Entry
from leads.models import Channel, Event, IdempotencyKey, Lead
from leads.permissions import (
    get_visible_lead,
    may_see_phone,
    shown_phone,
    visible_leads,
    visible_tasks,
)
from leads.sla import breached, is_breached
from leads.stages import Grade, Stage

router = Router(tags=["leads"])


# ---------------------------------------------------------------- schemas


class PersonOut(Schema):
    id: int
    name: str


class CustomerOut(Schema):
    name: str
    phone: str = Field(description="Full number for the owner and managers, masked otherwise.")
    phone_masked: bool
    phone_kind: str


class LeadOut(Schema):
    id: int
    dealer: str
    customer: CustomerOut
    channel: str
    car_model: str
    grade: str
    stage: str
    owner: PersonOut
    created_at: datetime
    sla_deadline: datetime
    sla_breached: bool
    first_response_at: datetime | None
    appointment_at: datetime | None
    next_follow_up_at: datetime | None
    defeat_pending: bool
    exit_reason: str
    touch_count: int
    external_id: str
    version: int


class IntakeOut(Schema):
    outcome: Literal["created", "touched", "duplicate"]
    lead: LeadOut | None = Field(
        description="The lead; null when the enquiry was a touch on a lead you may not see."
    )


class LeadIn(Input):
    dealer: str = Field(description="Dealer code.")
    mobile: str = Field(description="Customer's phone; +86, spaces and dashes are fine.")
    channel: str = Field(description="Channel code at the dealer.")
    name: str = Field("", max_length=100)
    car_model: str = Field("", max_length=100)
    city: str = Field("", max_length=64)
    note: str = Field("", max_length=2000)
    external_id: str = Field("", max_length=100, description="The platform's id of the lead.")


class LeadPage(Schema):
    items: list[LeadOut]
    next_cursor: str | None


class EventOut(Schema):
    seq: int
    kind: str
    actor: PersonOut | None
    occurred_at: datetime
    from_stage: str
    to_stage: str
    from_owner: PersonOut | None
    to_owner: PersonOut | None
    reason: str
    note: str
    data: dict
    hash: str


class TaskOut(Schema):
    id: int
    lead_id: int
    kind: str
    assignee: PersonOut
    due_at: datetime
    overdue: bool
    closed_at: datetime | None
    outcome: str


class PhoneOut(Schema):
    phone: str


# ---------------------------------------------------------------- shaping


def _person(staff: Staff | None) -> dict | None:
    return {"id": staff.pk, "name": str(staff)} if staff else None


def lead_out(lead: Lead, viewer: Staff, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    full = may_see_phone(viewer, lead)
    first = lead.first_response_at
    return {
        "id": lead.pk,
        "dealer": lead.dealer.code,
        "customer": {
            "name": lead.customer.name,
            "phone": shown_phone(viewer, lead),
            "phone_masked": not full,
            "phone_kind": lead.customer.phone_kind,
        },
        "channel": lead.channel.code,
        "car_model": lead.car_model,
        "grade": lead.grade,
        "stage": lead.stage,
        "owner": _person(lead.owner),
        "created_at": lead.created_at,
        "sla_deadline": lead.sla_deadline,
        "sla_breached": is_breached(lead, now),
        "first_response_at": first,
        "appointment_at": lead.appointment_at,
        "next_follow_up_at": lead.next_follow_up_at,
        "defeat_pending": lead.defeat_pending,
        "exit_reason": lead.exit_reason,
        "touch_count": lead.touch_count,
        "external_id": lead.external_id,
        "version": lead.version,
    }


def _with_related(leads):
    return leads.select_related("dealer", "customer", "channel", "owner")


def _lead(request: HttpRequest, lead_id: int) -> tuple[Staff, Lead]:
    staff = current_staff(request)
    return staff, get_visible_lead(staff, lead_id)


def _answer(staff: Staff, lead: Lead) -> dict:
    return lead_out(_with_related(Lead.objects.filter(pk=lead.pk)).get(), staff)


# ---------------------------------------------------------------- leads


def _dealer_for(staff: Staff, code: str) -> Dealer:
    dealer = Dealer.objects.filter(code=code, pk__in=roles_by_dealer(staff).keys()).first()
    if dealer is None:
        raise NotFound(_("Unknown dealer “%(code)s”.") % {"code": code}, field="dealer")
    return dealer


@router.post("/leads", response={200: IntakeOut, 201: IntakeOut}, summary="Create a lead")
def create_lead(
    request: HttpRequest,
    payload: LeadIn,
    idempotency_key: Annotated[Text | None, Header(alias="Idempotency-Key", max_length=200)] = None,
):
    """Record an enquiry. A number with an open lead becomes a touch on it (200, outcome
    `touched`); a repeated `external_id` of the channel returns the existing lead (200,
    `duplicate`). With an `Idempotency-Key`, repeating the request repeats the first answer."""
    staff = current_staff(request)
    dealer = _dealer_for(staff, payload.dealer)
    digest = hashlib.sha256(payload.model_dump_json().encode()).hexdigest()
    if idempotency_key:
        earlier = _replay(staff, dealer, idempotency_key, digest)
        if earlier:
            return earlier
    channel = Channel.objects.filter(dealer=dealer, code=payload.channel, is_active=True).first()
    if channel is None:
        raise InvalidInput(
            _("Unknown channel “%(code)s”.") % {"code": payload.channel}, field="channel"
        )
    try:
        with transaction.atomic():
            intake = actions.create_lead(
                dealer=dealer,
                phone=payload.mobile,
                channel=channel,
                by=staff,
                name=payload.name,
                car_model=payload.car_model,
                city=payload.city,
                note=payload.note,
                external_id=payload.external_id,
            )
            status = 201 if intake.created else 200
            if idempotency_key:
                IdempotencyKey.objects.create(
                    dealer=dealer,
                    staff=staff,
                    key=idempotency_key,
                    request_digest=digest,
                    lead=intake.lead,
                    status_code=status,
                    outcome=intake.outcome.value,
                )
    except IntegrityError:
        # A concurrent request with the same key won; ours is rolled back, give its answer.
        if idempotency_key and (earlier := _replay(staff, dealer, idempotency_key, digest)):
            return earlier
        raise
    return Status(status, _intake_answer(staff, intake.lead, intake.outcome.value))


def _replay(staff: Staff, dealer: Dealer, key: str, digest: str):
    row = IdempotencyKey.objects.filter(staff=staff, key=key).first()
    if row is None:
        return None
    if row.request_digest != digest or row.dealer_id != dealer.pk:
        raise InvalidInput(
            _("This Idempotency-Key was already used for a different request."),
            code="idempotency_key_reused",
            field="Idempotency-Key",
        )
    return Status(row.status_code, _intake_answer(staff, row.lead, row.outcome))


def _intake_answer(staff: Staff, lead: Lead, outcome: str) -> dict:
    """A touch may land on a lead the caller may not see: then say so, and no more."""
    visible = visible_leads(staff).filter(pk=lead.pk).exists()
    return {"outcome": outcome, "lead": _answer(staff, lead) if visible else None}


def _encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"before": last_id}).encode()).decode()


def _decode_cursor(cursor: str) -> int:
    """The id a cursor of _encode_cursor holds; anything else is refused, not guessed at."""
    try:
        before = json.loads(base64.urlsafe_b64decode(cursor.encode()))["before"]
    except (ValueError, KeyError, TypeError, RecursionError):
        before = None
    if type(before) is not int or not 1 <= before <= MAX_INT:
        raise InvalidInput(_("Invalid cursor."), field="cursor")
    return before


class LeadFilters(Input):
    dealer: str | None = None
    stage: Stage | None = None
    grade: Grade | None = None
    owner: Id | None = None
    channel: str | None = None
    created_from: Moment | None = None
    created_to: Moment | None = None
    sla_breached: bool | None = None
    defeat_pending: bool | None = None
    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(50, ge=1, le=200)


@router.get("/leads", response=LeadPage, summary="List leads")
def list_leads(request: HttpRequest, filters: Query[LeadFilters]):
    """Newest first; pass `next_cursor` back as `cursor` for the next page."""
    staff = current_staff(request)
    leads = visible_leads(staff)
    if filters.dealer:
        leads = leads.filter(dealer__code=filters.dealer)
    for field in ("stage", "grade", "defeat_pending"):
        value = getattr(filters, field)
        if value is not None:
            leads = leads.filter(**{field: value})
    if filters.owner is not None:
        leads = leads.filter(owner_id=filters.owner)
    if filters.channel:
        leads = leads.filter(channel__code=filters.channel)
    if filters.created_from:
        leads = leads.filter(created_at__gte=filters.created_from)
    if filters.created_to:
        leads = leads.filter(created_at__lt=filters.created_to)
    if filters.sla_breached is not None:
        leads = leads.filter(breached()) if filters.sla_breached else leads.exclude(breached())
    if filters.cursor:
        leads = leads.filter(pk__lt=_decode_cursor(filters.cursor))
    page = list(_with_related(leads).order_by("-pk")[: filters.limit + 1])
    more = len(page) > filters.limit
    page = page[: filters.limit]
    now = timezone.now()
    return {
        "items": [lead_out(lead, staff, now) for lead in page],
        "next_cursor": _encode_cursor(page[-1].pk) if more else None,
    }


@router.get("/leads/{lead_id}", response=LeadOut, summary="Get a lead")
def get_lead(request: HttpRequest, lead_id: Id):
    staff, lead = _lead(request, lead_id)
    return _answer(staff, lead)


@router.get("/leads/{lead_id}/events", response=list[EventOut], summary="A lead's events")
def lead_events(request: HttpRequest, lead_id: Id):
    """The handoff record: every event of the lead, oldest first, with who, when and what."""
    _staff, lead = _lead(request, lead_id)
    events = Event.objects.filter(lead=lead).select_related("actor", "from_owner", "to_owner")
    return [
        {
            "seq": e.seq,
            "kind": e.kind,
            "actor": _person(e.actor),
            "occurred_at": e.occurred_at,
            "from_stage": e.from_stage,
            "to_stage": e.to_stage,
            "from_owner": _person(e.from_owner),
            "to_owner": _person(e.to_owner),
            "reason": e.reason,
            "note": e.note,
            "data": e.data,
            "hash": e.hash,
        }
        for e in events.order_by("seq")
    ]


# ---------------------------------------------------------------- stage actions
# One endpoint per lead action, made from its entry (leads.entries): path, summary, input.


def _endpoint(entry: Entry) -> None:
    """POST /leads/{lead_id}<path>: the entry's input, its action, the lead as it is now."""

    def endpoint(request: HttpRequest, lead_id: Id, payload) -> dict:
        staff, lead = _lead(request, lead_id)
        return _answer(staff, entry.perform(lead, staff, entry.resolved(lead, payload)))

    endpoint.__annotations__["payload"] = entry.schema
    endpoint.__name__ = endpoint.__qualname__ = entry.name  # its operation id: leads_api_<name>
    path = f"/leads/{{lead_id}}{entry.path}"
    router.add_api_operation(path, ["POST"], endpoint, response=LeadOut, summary=entry.summary)


for entry in ENTRIES.values():
    _endpoint(entry)


@router.post("/leads/{lead_id}/reveal-phone", response=PhoneOut, summary="Reveal phone")
def reveal_phone(request: HttpRequest, lead_id: Id):
    """Show a masked number in full; recorded in the lead's events."""
    staff, lead = _lead(request, lead_id)
    return {"phone": actions.reveal_phone(lead=lead, by=staff)}


# ---------------------------------------------------------------- tasks


class TaskFilters(Input):
    dealer: str | None = None
    assignee: Id | None = None
    mine: bool = False
    open: bool = True
    overdue: bool | None = None
    limit: int = Field(100, ge=1, le=500)


@router.get("/tasks", response=list[TaskOut], summary="List tasks", tags=["tasks"])
def list_tasks(request: HttpRequest, filters: Query[TaskFilters]):
    """Your own tasks; supervisors and managers also see their dealer's, due first."""
    staff = current_staff(request)
    now = timezone.now()
    tasks = visible_tasks(staff).select_related("assignee")
    if filters.dealer:
        tasks = tasks.filter(dealer__code=filters.dealer)
    if filters.mine:
        tasks = tasks.filter(assignee=staff)
    if filters.assignee is not None:
        tasks = tasks.filter(assignee_id=filters.assignee)
    if filters.open:
        tasks = tasks.filter(closed_at__isnull=True)
    if filters.overdue is not None:
        overdue = {"closed_at__isnull": True, "due_at__lt": now}
        tasks = tasks.filter(**overdue) if filters.overdue else tasks.exclude(**overdue)
    return [
        {
            "id": t.pk,
            "lead_id": t.lead_id,
            "kind": t.kind,
            "assignee": _person(t.assignee),
            "due_at": t.due_at,
            "overdue": t.closed_at is None and t.due_at < now,
            "closed_at": t.closed_at,
            "outcome": t.outcome,
        }
        for t in tasks.order_by("due_at", "pk")[: filters.limit]
    ]
