"""Each lead action's entry, declared once: its inputs, its API path and summary, its button on
the lead page, and the `leads.actions` function it performs with the inputs as keyword
arguments. The lead page's form (`Entry.form`) and the API's input schema and endpoint
(`Entry.schema`, registered by leads.api) are generated from it, so neither can get an input
without the other unless the input says which one it is for (`only`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from typing import Any, Literal

from django import forms
from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from pydantic import Field, create_model

from accounts.models import Staff
from dcc.errors import InvalidInput
from dcc.schema import Id, Input, Moment, Version
from leads import actions
from leads.assignment import TEAM_WORKER, lead_owners, may_own
from leads.forms import DATETIME_WIDGET, ActionForm, OwnerChoiceField, with_owner_roles
from leads.models import CallDirection, CallOutcome, Lead, ReasonCode, ReasonKind
from leads.stages import Action, Grade

FORM, API = "form", "api"  # the two surfaces of an entry: the lead page, the REST API


class Kind(StrEnum):
    TEXT = "text"
    CHOICE = "choice"  # one of `choices`: a TextChoices class, or some of its members
    MOMENT = "datetime"
    DECIMAL = "decimal"
    INT = "int"
    BOOL = "bool"  # a yes/no list on the form
    REASON = "reason"  # a code of the dealer's active reasons of the kind `reasons`
    PERSON = "person"  # on the form, one of the people who can take the lead; in the API, an id


API_TYPES = {
    Kind.MOMENT: Moment,
    Kind.DECIMAL: Decimal,
    Kind.INT: int,
    Kind.BOOL: bool,
    Kind.PERSON: Id,
}


@dataclass(frozen=True)
class In:
    """One input. Without a default it is required; a default other than None or "" is shown
    on the form, which then asks for a value."""

    name: str
    kind: Kind
    label: Any = ""
    default: Any = ...
    max_length: int | None = None
    min: int | None = None
    max: int | None = None
    digits: tuple[int, int] | None = None  # (max_digits, decimal_places)
    choices: Any = ()
    blank: Any = "—"  # the empty choice of an optional list
    select: bool = False  # an INT offered as a list, highest first
    rows: int = 0  # a TEXT written in a box of this many rows
    reasons: ReasonKind | None = None
    help: Any = ""
    only: str = ""  # FORM or API: the one surface that has it
    passed: bool = True  # False: not an argument of the action, read by the entry's `then`
    # API: the value as the action takes it, or InvalidInput on the field: (lead, value, name).
    resolve: Callable[[Lead, Any, str], Any] | None = None
    form: dict = field(default_factory=dict)  # more arguments of the form field
    api: dict = field(default_factory=dict)  # more arguments of the schema's Field

    def on(self, surface: str) -> bool:
        return self.only in ("", surface)

    @property
    def optional(self) -> bool:
        return self.default is not ...

    def form_field(self) -> forms.Field:
        shown = self.default not in (..., None, "")
        common = {
            "label": self.label,
            "required": not self.optional or shown,
            "help_text": self.help,
            "initial": self.default if shown else None,
            **self.form,
        }
        blank = [("", self.blank)] if self.optional else []
        match self.kind:
            case Kind.TEXT:
                box = forms.Textarea(attrs={"rows": self.rows}) if self.rows else None
                return forms.CharField(max_length=self.max_length, widget=box, **common)
            case Kind.CHOICE:
                members = [(c.value, c.label) for c in self.choices]
                return forms.TypedChoiceField(choices=blank + members, empty_value=None, **common)
            case Kind.MOMENT:
                return forms.DateTimeField(widget=DATETIME_WIDGET, **common)
            case Kind.DECIMAL:
                digits, places = self.digits
                return forms.DecimalField(max_digits=digits, decimal_places=places, **common)
            case Kind.INT if self.select:
                numbers = [(str(n), str(n)) for n in range(self.max, self.min - 1, -1)]
                choices = blank + numbers
                return forms.TypedChoiceField(
                    choices=choices, coerce=int, empty_value=None, **common
                )
            case Kind.INT:
                return forms.IntegerField(min_value=self.min, max_value=self.max, **common)
            case Kind.BOOL:
                yes_no = [("yes", _("Yes")), ("no", _("No"))]
                return forms.TypedChoiceField(choices=yes_no, coerce=lambda v: v == "yes", **common)
            case Kind.REASON:
                return forms.ChoiceField(**common)  # its choices: EntryForm, from the lead
            case Kind.PERSON:
                return OwnerChoiceField(queryset=Staff.objects.none(), **common)
        raise ValueError(self.kind)

    def api_field(self) -> tuple[Any, Any]:
        """The schema's (type, Field); the type or None when the default is None."""
        if self.kind is not Kind.CHOICE:
            kind = API_TYPES.get(self.kind, str)
        elif isinstance(self.choices, type):
            kind = self.choices
        else:
            kind = Literal[tuple(c.value for c in self.choices)]
        limits = {"max_length": self.max_length, "ge": self.min, "le": self.max, **self.api}
        if kind is str and not self.optional:
            limits["min_length"] = 1
        if self.digits:
            limits |= {"max_digits": self.digits[0], "decimal_places": self.digits[1]}
        limits = {key: value for key, value in limits.items() if value is not None}
        return (kind | None if self.default is None else kind), Field(self.default, **limits)


TEXT, CHOICE, MOMENT, DECIMAL, INT, BOOL, REASON, PERSON = Kind
NOTE = In("note", TEXT, _("Note"), "", max_length=2000, rows=2)


def _book_visit(lead: Lead, by: Staff, data: dict) -> Lead:
    """The showroom visit booked in the call: both or, when either is refused, neither."""
    at = data["appointment_at"]
    return actions.book_appointment(lead=lead, by=by, appointment_at=at) if at else lead


def _person_or_team(form: EntryForm, data: dict) -> None:
    """A handoff names a person or a team; the person can take leads (the list may be old)."""
    if not data.get("to") and not data.get("team"):
        raise forms.ValidationError(_("Choose a person or a team."))
    if data.get("to") and not may_own(data["to"], form.lead.dealer):
        form.add_error("to", _("This person cannot take leads."))


def _person_of_dealer(lead: Lead, staff_id: int, name: str) -> Staff:
    """The API's staff id as a person of the lead's dealer (the decision checks the rest)."""
    staff = Staff.objects.filter(pk=staff_id, memberships__dealer_id=lead.dealer_id).first()
    if staff is None:
        raise InvalidInput(gettext("Unknown person."), code="unknown_staff", field=name)
    return staff


_SCHEMAS: dict[str, type[Input]] = {}


@dataclass(frozen=True)
class Entry:
    action: Action
    does: Callable[..., Lead]  # a function of leads.actions
    path: str  # of the API endpoint, under /leads/{lead_id}
    summary: str  # of the API endpoint
    inputs: tuple[In, ...] = (NOTE,)
    schema_name: str = "NoteIn"  # entries with the same API inputs share their schema
    style: str = "primary"  # of the button on the lead page
    versioned: bool = False  # the lead version the person saw is checked: changed, 409
    operation: str = ""  # the endpoint's name (operation id), when not the path's
    then: Callable[[Lead, Staff, dict], Lead] | None = None  # reads the inputs not `passed`
    check: Callable[[EntryForm, dict], None] | None = None  # the form's clean()

    def on(self, surface: str) -> tuple[In, ...]:
        return tuple(i for i in self.inputs if i.on(surface))

    @property
    def name(self) -> str:
        return self.operation or self.path.strip("/").replace("-", "_").replace("/", "_")

    @cached_property
    def form(self) -> type[EntryForm]:
        fields = {i.name: i.form_field() for i in self.on(FORM)}
        title = "".join(word.title() for word in self.action.value.split("_"))
        # Made by the forms' metaclass, which collects the fields in their declared order.
        return type(EntryForm)(f"{title}Form", (EntryForm,), {"entry": self, **fields})

    def build_schema(self) -> type[Input]:
        # The note first, as the API has always listed it; the version last.
        inputs = sorted(self.on(API), key=lambda i: i.name != "note")
        fields = {i.name: i.api_field() for i in inputs}
        if self.versioned:
            about = "The lead version you saw; 409 if changed."
            fields["version"] = (Version | None, Field(None, description=about))
        return create_model(self.schema_name, __base__=Input, __module__=__name__, **fields)

    @property
    def schema(self) -> type[Input]:
        if self.schema_name not in _SCHEMAS:
            _SCHEMAS[self.schema_name] = self.build_schema()
        return _SCHEMAS[self.schema_name]

    def resolved(self, lead: Lead, payload: Input) -> dict:
        """The API's input as the action takes it (a staff id as the person)."""
        data = dict(payload)
        for i in self.on(API):
            if i.resolve and data[i.name] is not None:
                data[i.name] = i.resolve(lead, data[i.name], i.name)
        return data

    def perform(self, lead: Lead, by: Staff, data: dict) -> Lead:
        """The action with the inputs in `data`; then `then`, in the same transaction, when
        `data` has inputs for it."""
        kwargs = {i.name: data[i.name] for i in self.inputs if i.passed and i.name in data}
        if self.versioned:
            kwargs["expected_version"] = data.get("version")
        if not any(i.name in data for i in self.inputs if not i.passed):
            return self.does(lead=lead, by=by, **kwargs)
        with transaction.atomic():
            return self.then(self.does(lead=lead, by=by, **kwargs), by, data)


class EntryForm(ActionForm):
    """An entry's form: the fields that depend on the lead are filled in here."""

    entry: Entry

    def __init__(self, *args, lead: Lead, **kwargs):
        super().__init__(*args, lead=lead, **kwargs)
        for i in self.entry.on(FORM):
            if i.kind is Kind.REASON:
                codes = ReasonCode.objects.filter(
                    dealer_id=lead.dealer_id, kind=i.reasons, is_active=True
                )
                self.fields[i.name].choices = [("", "—")] + [(c.code, _(c.label)) for c in codes]
            elif i.kind is Kind.PERSON:
                # Only people who can take leads: nobody is offered to be refused afterwards.
                others = lead_owners(lead.dealer).exclude(pk=lead.owner_id)
                self.fields[i.name].queryset = with_owner_roles(others, lead.dealer)

    def clean(self):
        data = super().clean()
        if self.entry.check:
            self.entry.check(self, data)
        return data


CAR = In("car_model", TEXT, _("Model"), "", max_length=100)
PRICE = In("amount", DECIMAL, _("Price (CNY)"), digits=(12, 2),
           api={"gt": 0}, form={"min_value": 1})  # fmt: skip
GRADE = In("grade", CHOICE, _("Grade"), choices=Grade)
INVALID = In("reason", REASON, _("Reason"), max_length=32, reasons=ReasonKind.INVALID)
DEFEAT = replace(INVALID, reasons=ReasonKind.DEFEAT)
CALL = (
    In("outcome", CHOICE, _("Outcome"), choices=CallOutcome),
    In("direction", CHOICE, default=CallDirection.OUTBOUND, choices=CallDirection, only=API),
    In("duration_seconds", INT, _("Talk time (seconds)"), 0, min=0, max=86_400),
    In("recording_url", TEXT, default="", max_length=500, only=API),
    replace(GRADE, default=None, blank=_("unchanged")),
    In("next_follow_up_at", MOMENT, _("Next follow-up"), None,
       help=_("Empty: scheduled by the grade.")),
    In("appointment_at", MOMENT, _("Book a showroom visit"), None, only=FORM, passed=False),
    NOTE,
)  # fmt: skip
HANDOFF = (
    In("to", PERSON, _("Hand to"), None, resolve=_person_of_dealer,
       api={"description": "Staff id; or give `team` to let the rules pick."}),
    In("team", CHOICE, _("or let the rules pick in"), None, choices=TEAM_WORKER),
    In("reason", TEXT, default="", max_length=32, only=API),
    NOTE,
)  # fmt: skip
VISIT = (
    In("reached", BOOL, _("Reached the customer")),
    In("satisfaction", INT, _("Satisfaction"), None, min=1, max=5, select=True),
    NOTE,
)

# The lead page offers them in this order, and the API lists them so.
DECLARED = (
    Entry(Action.LOG_CALL, actions.log_call, "/calls", "Log a call", CALL, "CallIn",
          operation="log_call", then=_book_visit),
    Entry(Action.GRADE, actions.set_grade, "/grade", "Grade intent", (GRADE, NOTE), "GradeIn"),
    Entry(Action.APPOINT, actions.book_appointment, "/appointment", "Book or move appointment",
          (In("appointment_at", MOMENT, _("Visit at")), NOTE), "AppointmentIn"),
    Entry(Action.CANCEL_APPOINTMENT, actions.cancel_appointment, "/appointment/cancel",
          "Cancel appointment", style="secondary", operation="cancel_appointment"),
    Entry(Action.ARRIVE, actions.record_arrival, "/arrival", "Check in arrival"),
    Entry(Action.TEST_DRIVE, actions.record_test_drive, "/test-drive", "Record test drive",
          (CAR, NOTE), "CarIn"),
    Entry(Action.QUOTE, actions.record_quote, "/quote", "Record quote",
          (CAR, NOTE, PRICE), "QuoteIn"),
    Entry(Action.ORDER, actions.record_order, "/order", "Record order",
          (CAR, NOTE, replace(PRICE, default=None)), "OrderIn"),
    Entry(Action.DELIVER, actions.record_delivery, "/delivery", "Record delivery"),
    Entry(Action.INVALIDATE, actions.invalidate_lead, "/invalidate", "Mark invalid",
          (INVALID, NOTE), "ReasonIn", "danger"),
    Entry(Action.REQUEST_DEFEAT, actions.request_defeat, "/defeat-request", "Request defeat",
          (DEFEAT, NOTE), "ReasonIn", "danger"),
    Entry(Action.APPROVE_DEFEAT, actions.approve_defeat, "/defeat-approval", "Approve defeat",
          style="danger"),
    Entry(Action.REJECT_DEFEAT, actions.reject_defeat, "/defeat-rejection", "Reject defeat",
          style="secondary"),
    Entry(Action.REACTIVATE, actions.reactivate_lead, "/reactivation", "Reactivate"),
    Entry(Action.HAND_OFF, actions.hand_off, "/handoff", "Hand off", HANDOFF, "HandoffIn",
          versioned=True, check=_person_or_team),
    Entry(Action.CLAIM, actions.claim_lead, "/claim", "Claim from the pool", (), "ClaimIn",
          versioned=True),
    Entry(Action.RETURN_VISIT, actions.record_return_visit, "/return-visit",
          "Record return visit", VISIT, "ReturnVisitIn"),
)  # fmt: skip
ENTRIES: dict[Action, Entry] = {entry.action: entry for entry in DECLARED}

# The invalid-reason form, by the name it has always had.
ReasonForm = ENTRIES[Action.INVALIDATE].form
