"""Request parsing for the SMS pages; the rules are in sms.texts, sms.rules and sms.sending."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext, gettext_lazy

from accounts.models import Dealer
from leads.forms import StyledForm
from leads.models import Channel
from leads.stages import Grade, Stage
from owners.models import MemberTier
from sms import texts
from sms.models import MAX_PARTS_CEILING, Kind, Provider, Template
from sms.segments import Segment


def _check(widget: forms.Widget) -> forms.Widget:
    widget.attrs["class"] = "form-check-input"
    return widget


def _templates(dealer: Dealer, kind: str | None = None):
    found = Template.objects.filter(dealer=dealer, is_active=True).order_by("kind", "name")
    return found.filter(kind=kind) if kind else found


class SendForm(StyledForm):
    template = forms.ModelChoiceField(
        label=gettext_lazy("Template"), queryset=Template.objects.none()
    )

    def __init__(self, *args: Any, dealer: Dealer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = _templates(dealer)


class SegmentForm(SendForm):
    stages = forms.MultipleChoiceField(
        label=gettext_lazy("Stage"),
        choices=Stage.choices,
        required=False,
        widget=_check(forms.CheckboxSelectMultiple()),
    )
    grades = forms.MultipleChoiceField(
        label=gettext_lazy("Grade"),
        choices=Grade.choices,
        required=False,
        widget=_check(forms.CheckboxSelectMultiple()),
    )
    # Choices of ids (not a queryset): an id no database holds is refused as not a choice.
    channels = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Channel"),
        coerce=int,
        required=False,
        widget=_check(forms.CheckboxSelectMultiple()),
    )
    car_model = forms.CharField(
        label=gettext_lazy("Model of interest"), max_length=100, required=False
    )
    owners_only = forms.BooleanField(
        label=gettext_lazy("Owners only (a car delivered)"),
        required=False,
        widget=_check(forms.CheckboxInput()),
    )
    tiers = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Member tier"),
        coerce=int,
        required=False,
        widget=_check(forms.CheckboxSelectMultiple()),
    )

    def __init__(self, *args: Any, dealer: Dealer, **kwargs: Any) -> None:
        super().__init__(*args, dealer=dealer, **kwargs)
        self.fields["channels"].choices = [
            (channel.pk, gettext(channel.name))
            for channel in Channel.objects.filter(dealer=dealer, is_active=True).order_by("name")
        ]
        self.fields["tiers"].choices = [
            (tier.pk, gettext(tier.name))
            for tier in MemberTier.objects.filter(dealer=dealer).order_by("min_points")
        ]

    def segment(self) -> Segment:
        data = self.cleaned_data
        return Segment(
            stages=tuple(data["stages"]),
            grades=tuple(data["grades"]),
            channel_ids=tuple(data["channels"]),
            car_model=data["car_model"].strip(),
            owners_only=data["owners_only"],
            tier_ids=tuple(data["tiers"]),
        )


class TemplateForm(StyledForm):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=60)
    kind = forms.ChoiceField(label=gettext_lazy("Type"), choices=Kind.choices)
    text = forms.CharField(
        label=gettext_lazy("Text"),
        max_length=texts.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy(
            "Variables: %(variables)s. Marketing messages end with “%(opt_out)s”."
        ),
    )
    provider_code = forms.CharField(
        label=gettext_lazy("Provider's template code"), max_length=32, required=False
    )
    is_active = forms.BooleanField(
        label=gettext_lazy("In use"),
        required=False,
        initial=True,
        widget=_check(forms.CheckboxInput()),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["text"]
        field.help_text = field.help_text % {
            "variables": ", ".join(
                f"${{{name}}} ({variable.label})" for name, variable in texts.VARIABLES.items()
            ),
            "opt_out": texts.OPT_OUT,
        }


TIME_WIDGET = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class SettingsForm(StyledForm):
    provider = forms.ChoiceField(label=gettext_lazy("Provider"), choices=Provider.choices)
    signature = forms.CharField(
        label=gettext_lazy("Signature"),
        max_length=14,
        required=False,
        help_text=gettext_lazy(
            "As registered with the provider, e.g. 某某4S店 (shown as 【某某4S店】)."
        ),
    )
    access_key_id = forms.CharField(
        label=gettext_lazy("AccessKey ID"), max_length=64, required=False
    )
    access_key_secret = forms.CharField(
        label=gettext_lazy("AccessKey secret"),
        max_length=128,
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=gettext_lazy("Empty: keep the one stored."),
    )
    region_id = forms.CharField(label=gettext_lazy("Region"), max_length=32, initial="cn-hangzhou")
    api_url = forms.URLField(
        label=gettext_lazy("API address"),
        assume_scheme="https",
        required=False,
        help_text=gettext_lazy("Empty: the provider's."),
    )
    dealer_phone = forms.CharField(
        label=gettext_lazy("Dealer's phone"), max_length=20, required=False
    )
    dealer_address = forms.CharField(
        label=gettext_lazy("Dealer's address"), max_length=60, required=False
    )
    quiet_from = forms.TimeField(label=gettext_lazy("No marketing from"), widget=TIME_WIDGET)
    quiet_until = forms.TimeField(label=gettext_lazy("No marketing until"), widget=TIME_WIDGET)
    marketing_per_day = forms.IntegerField(
        label=gettext_lazy("Marketing messages per number per day"), min_value=1, max_value=10
    )
    messages_per_day = forms.IntegerField(
        label=gettext_lazy("Messages per number per day"), min_value=1, max_value=50
    )
    seconds_between = forms.IntegerField(
        label=gettext_lazy("Seconds between two messages to one number"),
        min_value=0,
        max_value=3600,
    )
    max_parts = forms.IntegerField(
        label=gettext_lazy("Parts per message at most"),
        min_value=1,
        max_value=MAX_PARTS_CEILING,
        help_text=gettext_lazy(
            "A message up to 70 characters (signature included) is one part; longer ones go in "
            "parts of 67. Alibaba Cloud takes at most 500 characters (8 parts)."
        ),
    )
    reminder_template = forms.ModelChoiceField(
        label=gettext_lazy("Appointment reminder (the day before)"),
        queryset=Template.objects.none(),
        required=False,
    )
    return_visit_template = forms.ModelChoiceField(
        label=gettext_lazy("Return-visit notice (the day it is due)"),
        queryset=Template.objects.none(),
        required=False,
    )

    def __init__(self, *args: Any, dealer: Dealer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        notifications = _templates(dealer, Kind.NOTIFICATION)
        self.fields["reminder_template"].queryset = notifications
        self.fields["return_visit_template"].queryset = notifications


class ReplyForm(StyledForm):
    """A reply typed in as the customer would send it (the outbox only)."""

    message = forms.IntegerField(widget=forms.HiddenInput)
    content = forms.CharField(label=gettext_lazy("Reply"), max_length=200)
