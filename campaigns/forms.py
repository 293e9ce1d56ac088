"""Request parsing for the campaign pages and the public capture page; the rules are in
campaigns.campaigns and campaigns.capture."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext, gettext_lazy

from accounts.models import Dealer
from calls.models import Line
from campaigns import campaigns, capture
from campaigns.models import Campaign, CampaignKind
from leads.forms import StyledForm
from leads.models import Channel

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CampaignForm(StyledForm):
    name = forms.CharField(label=gettext_lazy("Campaign name"), max_length=campaigns.NAME_LENGTH)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=CampaignKind.choices)
    starts_on = forms.DateField(label=gettext_lazy("First day"), widget=DATE_WIDGET)
    ends_on = forms.DateField(label=gettext_lazy("Last day"), widget=DATE_WIDGET)
    channel = forms.ModelChoiceField(
        label=gettext_lazy("Channel"),
        queryset=Channel.objects.none(),
        help_text=gettext_lazy("The leads the campaign brings count under this channel too."),
    )
    budget = forms.DecimalField(
        label=gettext_lazy("Budget (CNY)"), min_value=0, max_digits=12, decimal_places=2, initial=0
    )
    cost = forms.DecimalField(
        label=gettext_lazy("Cost so far (CNY)"),
        min_value=0,
        max_digits=12,
        decimal_places=2,
        initial=0,
    )
    monthly_subsidy = forms.DecimalField(
        label=gettext_lazy("Monthly fuel subsidy per member (CNY)"),
        min_value=0,
        max_digits=12,
        decimal_places=2,
        initial=0,
        required=False,
        help_text=gettext_lazy("Car-sticker fuel subsidies only: paid for each month checked."),
    )
    line = forms.ModelChoiceField(
        label=gettext_lazy("Own phone line"),
        queryset=Line.objects.none(),
        required=False,
        empty_label=gettext_lazy("None"),
    )
    offer = forms.CharField(
        label=gettext_lazy("Offer on the capture page"),
        max_length=campaigns.OFFER_LENGTH,
        required=False,
        help_text=gettext_lazy("For example: a free ticket to the car show."),
    )
    consent_wording = forms.CharField(
        label=gettext_lazy("Consent wording"),
        required=False,
        max_length=campaigns.WORDING_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "Shown beside the consent box: it must say that the dealer may call and send SMS. "
            "Empty: the standard wording."
        ),
    )
    car_models = forms.CharField(
        label=gettext_lazy("Models offered"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("One a line; empty: visitors type the model themselves."),
    )

    def __init__(self, *args, dealer: Dealer, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["channel"].queryset = Channel.objects.filter(dealer=dealer, is_active=True)
        self.fields["channel"].label_from_instance = lambda channel: gettext(channel.name)
        self.fields["line"].queryset = Line.objects.filter(dealer=dealer, is_active=True)

    @classmethod
    def initial_of(cls, campaign: Campaign) -> dict[str, Any]:
        initial = {name: getattr(campaign, name) for name in cls.base_fields}
        initial["channel"], initial["line"] = campaign.channel_id, campaign.line_id
        return initial

    def fields_(self) -> campaigns.CampaignFields:
        return campaigns.CampaignFields(**self.cleaned_data)


class CodeForm(StyledForm):
    staff = forms.ModelChoiceField(label=gettext_lazy("Staff member"), queryset=None)

    def __init__(self, *args, dealer: Dealer, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = campaigns.code_staff_choices(dealer)


class CaptureForm(StyledForm):
    """What a visitor fills in. Lengths are checked by campaigns.capture; the form's caps only
    bound what is read."""

    name = forms.CharField(label=gettext_lazy("Your name"), max_length=200)
    mobile = forms.CharField(label=gettext_lazy("Mobile"), max_length=40)
    car_model = forms.CharField(
        label=gettext_lazy("Model of interest"), required=False, max_length=200
    )
    consent = forms.BooleanField(required=False)
    token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=500)
    # The honeypot: hidden from people (and screen readers); bots fill in every field.
    website = forms.CharField(required=False, max_length=200)

    def __init__(self, *args, campaign: Campaign, code: str, **kwargs) -> None:
        kwargs.setdefault("initial", {})["token"] = capture.form_token(code)
        super().__init__(*args, **kwargs)
        self.fields["consent"].label = campaign.consent_wording
        self.fields["consent"].widget.attrs["class"] = "form-check-input"
        self.fields["name"].widget.attrs.update(autocomplete="name")
        self.fields["mobile"].widget.attrs.update(
            inputmode="tel", autocomplete="tel-national", type="tel"
        )
        self.fields["website"].widget.attrs.update(tabindex="-1", autocomplete="off")
        if campaign.model_choices:
            self.fields["car_model"] = forms.ChoiceField(
                label=gettext_lazy("Model of interest"),
                required=False,
                choices=[("", gettext_lazy("Not decided yet"))]
                + [(m, m) for m in campaign.model_choices],
                widget=forms.Select(attrs={"class": "form-select"}),
            )

    def renew_token(self, code: str) -> None:
        """A refused form is shown again with a fresh token (and the human check's clock
        restarted)."""
        self.data = self.data.copy()
        self.data["token"] = capture.form_token(code)


class SubsidyEnrolForm(StyledForm):
    member = forms.CharField(label=gettext_lazy("Member card number or mobile"), max_length=24)
    months = forms.IntegerField(
        label=gettext_lazy("Months"), min_value=1, max_value=12, initial=3, required=False
    )
