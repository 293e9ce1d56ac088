"""Web forms for the lead actions. A form only parses and validates input; the action
function decides (stage, permission, reason codes) and its DomainError lands on the field."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Dealer, Membership, Staff
from accounts.roles import Role
from leads import actions
from leads.assignment import OWNER_ROLES, TEAM_WORKER, lead_owners, may_own, on_duty
from leads.models import CallOutcome, Channel, Lead, ReasonCode, ReasonKind, TeamKind
from leads.stages import Action, Grade

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
NOTE = forms.CharField(
    label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
)


class StyledForm(forms.Form):
    """Bootstrap classes on every widget, and the invalid look on fields with errors."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)

    def add_error(self, field: str | None, error) -> None:
        super().add_error(field, error)
        # Also for errors the actions raise after validation (DomainError.field).
        for name in [field] if field else []:
            widget = self.fields[name].widget if name in self.fields else None
            if widget and "is-invalid" not in widget.attrs.get("class", ""):
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()


class ActionForm(StyledForm):
    # The lead version the person saw: a handoff or claim of a lead changed meanwhile fails.
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, lead: Lead, **kwargs):
        self.lead = lead
        kwargs.setdefault("initial", {})["version"] = lead.version
        super().__init__(*args, **kwargs)


class NoteForm(ActionForm):
    note = NOTE


class CallForm(ActionForm):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=CallOutcome.choices)
    duration_seconds = forms.IntegerField(
        label=_("Talk time (seconds)"), min_value=0, max_value=86_400, initial=0
    )
    grade = forms.ChoiceField(
        label=_("Grade"), required=False, choices=[("", _("unchanged")), *Grade.choices]
    )
    next_follow_up_at = forms.DateTimeField(
        label=_("Next follow-up"),
        required=False,
        widget=DATETIME_WIDGET,
        help_text=_("Empty: scheduled by the grade."),
    )
    appointment_at = forms.DateTimeField(
        label=_("Book a showroom visit"), required=False, widget=DATETIME_WIDGET
    )
    note = NOTE


class GradeForm(ActionForm):
    grade = forms.ChoiceField(label=_("Grade"), choices=Grade.choices)
    note = NOTE


class AppointmentForm(ActionForm):
    appointment_at = forms.DateTimeField(label=_("Visit at"), widget=DATETIME_WIDGET)
    note = NOTE


class CarForm(ActionForm):
    car_model = forms.CharField(label=_("Model"), required=False, max_length=100)
    note = NOTE


class QuoteForm(CarForm):
    amount = forms.DecimalField(
        label=_("Price (CNY)"), min_value=1, max_digits=12, decimal_places=2
    )


class OrderForm(CarForm):
    amount = forms.DecimalField(
        label=_("Price (CNY)"), required=False, min_value=1, max_digits=12, decimal_places=2
    )


class ReasonForm(ActionForm):
    reason_kind = ReasonKind.INVALID
    reason = forms.ChoiceField(label=_("Reason"))
    note = NOTE

    def __init__(self, *args, lead: Lead, **kwargs):
        super().__init__(*args, lead=lead, **kwargs)
        codes = ReasonCode.objects.filter(
            dealer_id=lead.dealer_id, kind=self.reason_kind, is_active=True
        )
        self.fields["reason"].choices = [("", "—")] + [(c.code, _(c.label)) for c in codes]


class DefeatForm(ReasonForm):
    reason_kind = ReasonKind.DEFEAT


class OwnerChoiceField(forms.ModelChoiceField):
    """A person who can take leads, shown with their roles at the dealer ("王芳 · DCC agent")."""

    def label_from_instance(self, obj: Staff) -> str:
        roles = sorted(str(Role(m.role).label) for m in getattr(obj, "owner_memberships", []))
        return " · ".join([str(obj), ", ".join(roles)]) if roles else str(obj)


def with_owner_roles(people: QuerySet[Staff], dealer: Dealer) -> QuerySet[Staff]:
    """`people` with the roles that let each take leads at `dealer`, read in one more query."""
    return people.prefetch_related(
        Prefetch(
            "memberships",
            queryset=Membership.objects.filter(
                dealer=dealer, role__in=OWNER_ROLES, is_active=True
            ).order_by("role"),
            to_attr="owner_memberships",
        )
    )


class HandoffForm(ActionForm):
    to = OwnerChoiceField(label=_("Hand to"), queryset=Staff.objects.none(), required=False)
    team = forms.ChoiceField(
        label=_("or let the rules pick in"),
        required=False,
        choices=[("", "—"), *((kind.value, kind.label) for kind in TEAM_WORKER)],
    )
    note = NOTE

    def __init__(self, *args, lead: Lead, **kwargs):
        super().__init__(*args, lead=lead, **kwargs)
        # Only people who can take leads: nobody is offered to be refused afterwards.
        self.fields["to"].queryset = with_owner_roles(
            lead_owners(lead.dealer).exclude(pk=lead.owner_id), lead.dealer
        )

    def clean(self):
        data = super().clean()
        if not data.get("to") and not data.get("team"):
            raise forms.ValidationError(_("Choose a person or a team."))
        if data.get("to") and not may_own(data["to"], self.lead.dealer):
            self.add_error("to", _("This person cannot take leads."))
        return data


class ReturnVisitForm(ActionForm):
    reached = forms.TypedChoiceField(
        label=_("Reached the customer"),
        choices=[("yes", _("Yes")), ("no", _("No"))],
        coerce=lambda value: value == "yes",
    )
    satisfaction = forms.TypedChoiceField(
        label=_("Satisfaction"),
        required=False,
        choices=[("", "—"), *[(str(n), str(n)) for n in range(5, 0, -1)]],
        coerce=int,
        empty_value=None,
    )
    note = NOTE


def _call(lead: Lead, by: Staff, data: dict) -> Lead:
    """A call, and the visit booked in it: both or, when either is refused, neither."""
    with transaction.atomic():
        return _call_and_book(lead, by, data)


def _call_and_book(lead: Lead, by: Staff, data: dict) -> Lead:
    lead = actions.log_call(
        lead=lead,
        by=by,
        outcome=data["outcome"],
        duration_seconds=data["duration_seconds"] or 0,
        grade=data["grade"] or None,
        next_follow_up_at=data["next_follow_up_at"],
        note=data["note"],
    )
    if data["appointment_at"]:
        lead = actions.book_appointment(lead=lead, by=by, appointment_at=data["appointment_at"])
    return lead


@dataclass(frozen=True)
class ActionUI:
    form: type[ActionForm]
    perform: Callable[[Lead, Staff, dict], Lead]
    style: str = "primary"


ACTION_UI: dict[Action, ActionUI] = {
    Action.LOG_CALL: ActionUI(CallForm, _call),
    Action.GRADE: ActionUI(
        GradeForm,
        lambda lead, by, d: actions.set_grade(lead=lead, by=by, grade=d["grade"], note=d["note"]),
    ),
    Action.APPOINT: ActionUI(
        AppointmentForm,
        lambda lead, by, d: actions.book_appointment(
            lead=lead, by=by, appointment_at=d["appointment_at"], note=d["note"]
        ),
    ),
    Action.CANCEL_APPOINTMENT: ActionUI(
        NoteForm,
        lambda lead, by, d: actions.cancel_appointment(lead=lead, by=by, note=d["note"]),
        "secondary",
    ),
    Action.ARRIVE: ActionUI(
        NoteForm, lambda lead, by, d: actions.record_arrival(lead=lead, by=by, note=d["note"])
    ),
    Action.TEST_DRIVE: ActionUI(
        CarForm,
        lambda lead, by, d: actions.record_test_drive(
            lead=lead, by=by, car_model=d["car_model"], note=d["note"]
        ),
    ),
    Action.QUOTE: ActionUI(
        QuoteForm,
        lambda lead, by, d: actions.record_quote(
            lead=lead, by=by, amount=d["amount"], car_model=d["car_model"], note=d["note"]
        ),
    ),
    Action.ORDER: ActionUI(
        OrderForm,
        lambda lead, by, d: actions.record_order(
            lead=lead, by=by, amount=d["amount"], car_model=d["car_model"], note=d["note"]
        ),
    ),
    Action.DELIVER: ActionUI(
        NoteForm, lambda lead, by, d: actions.record_delivery(lead=lead, by=by, note=d["note"])
    ),
    Action.INVALIDATE: ActionUI(
        ReasonForm,
        lambda lead, by, d: actions.invalidate_lead(
            lead=lead, by=by, reason=d["reason"], note=d["note"]
        ),
        "danger",
    ),
    Action.REQUEST_DEFEAT: ActionUI(
        DefeatForm,
        lambda lead, by, d: actions.request_defeat(
            lead=lead, by=by, reason=d["reason"], note=d["note"]
        ),
        "danger",
    ),
    Action.APPROVE_DEFEAT: ActionUI(
        NoteForm,
        lambda lead, by, d: actions.approve_defeat(lead=lead, by=by, note=d["note"]),
        "danger",
    ),
    Action.REJECT_DEFEAT: ActionUI(
        NoteForm,
        lambda lead, by, d: actions.reject_defeat(lead=lead, by=by, note=d["note"]),
        "secondary",
    ),
    Action.REACTIVATE: ActionUI(
        NoteForm, lambda lead, by, d: actions.reactivate_lead(lead=lead, by=by, note=d["note"])
    ),
    Action.HAND_OFF: ActionUI(
        HandoffForm,
        lambda lead, by, d: actions.hand_off(
            lead=lead,
            by=by,
            to=d["to"],
            team=d["team"] or None,
            note=d["note"],
            expected_version=d.get("version"),
        ),
    ),
    Action.RETURN_VISIT: ActionUI(
        ReturnVisitForm,
        lambda lead, by, d: actions.record_return_visit(
            lead=lead, by=by, reached=d["reached"], satisfaction=d["satisfaction"], note=d["note"]
        ),
    ),
    Action.CLAIM: ActionUI(
        NoteForm,
        lambda lead, by, d: actions.claim_lead(lead=lead, by=by, expected_version=d.get("version")),
    ),
}


class LeadEntryForm(StyledForm):
    """Manual entry by marketing (or anyone who may enter leads)."""

    mobile = forms.CharField(label=_("Mobile"), max_length=40)
    name = forms.CharField(
        label=_("Name"),
        required=False,
        max_length=100,
        help_text=_("Up to 100 characters."),
        error_messages={
            "max_length": _(
                "The name is too long: at most %(limit_value)d characters (it has %(show_value)d)."
            )
        },
    )
    channel = forms.ModelChoiceField(label=_("Channel"), queryset=Channel.objects.none())
    car_model = forms.CharField(label=_("Model of interest"), required=False, max_length=100)
    city = forms.CharField(label=_("City"), required=False, max_length=64)
    note = NOTE

    def __init__(self, *args, dealer: Dealer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].queryset = Channel.objects.filter(dealer=dealer, is_active=True)
        # Default names are stored as their English source and shown translated.
        self.fields["channel"].label_from_instance = lambda channel: gettext(channel.name)
        self.fields["mobile"].widget.attrs.update(inputmode="tel", autocomplete="off")

    def action_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "phone": data["mobile"],
            "name": data["name"],
            "channel": data["channel"],
            "car_model": data["car_model"],
            "city": data["city"],
            "note": data["note"],
        }


class CheckInForm(StyledForm):
    """Showroom reception: a visitor by mobile number, and the consultant who receives them."""

    mobile = forms.CharField(label=_("Mobile"), max_length=40)
    name = forms.CharField(label=_("Name"), required=False, max_length=100)
    car_model = forms.CharField(label=_("Model of interest"), required=False, max_length=100)
    consultant = forms.ModelChoiceField(
        label=_("Received by"),
        queryset=Staff.objects.none(),
        required=False,
        empty_label=_("Next consultant on duty"),
        help_text=_(
            "Empty: the customer's own consultant if on duty, else you if you are a "
            "consultant, else the next consultant in turn."
        ),
    )
    note = NOTE

    def __init__(self, *args, dealer: Dealer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mobile"].widget.attrs.update(inputmode="tel", autocomplete="off")
        self.fields["consultant"].queryset = on_duty(dealer, team=TeamKind.SHOWROOM)
