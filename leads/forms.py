"""Web forms: their Bootstrap base, the base of the lead actions' forms (generated from their
entries, leads.entries), manual entry and check-in. A form only parses and validates input; the
action function decides (stage, permission, reason codes) and its DomainError lands on the
field."""

from __future__ import annotations

from django import forms
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Dealer, Membership, Staff
from accounts.roles import Role
from leads.assignment import OWNER_ROLES, on_duty
from leads.models import Channel, Lead, TeamKind

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
