"""Request parsing for the platform pages; the rules are in platforms.actions and
platforms.imports."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Dealer, Membership, Staff
from accounts.roles import Role
from leads.forms import StyledForm
from leads.models import Channel
from platforms.models import Platform

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AccountForm(StyledForm):
    platform = forms.ChoiceField(label=_("Platform"), choices=Platform.choices)
    name = forms.CharField(label=_("Account name"), max_length=100)
    channel = forms.ModelChoiceField(label=_("Channel its leads arrive on"), queryset=None)
    specialist = forms.ModelChoiceField(
        label=_("Platform specialist"), queryset=None, required=False
    )
    threshold = forms.DecimalField(
        label=_("Score threshold"),
        max_digits=5,
        decimal_places=2,
        required=False,
        help_text=_("Empty: the platform's own line (Autohome 85, Yiche 90)."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, dealer: Dealer, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].queryset = Channel.objects.filter(
            dealer=dealer, is_active=True
        ).order_by("name")
        self.fields["specialist"].queryset = Staff.objects.filter(
            pk__in=Membership.objects.filter(
                dealer=dealer, role=Role.PLATFORM_SPECIALIST, is_active=True
            ).values("staff_id")
        ).order_by("display_name", "username")
        if editing:
            del self.fields["platform"]
            self.fields["threshold"].required = True
            self.fields["threshold"].help_text = ""
        else:
            del self.fields["is_active"]


class ScoreForm(StyledForm):
    day = forms.DateField(label=_("Date"), widget=DATE_WIDGET)
    score = forms.DecimalField(
        label=_("Platform score"), max_digits=5, decimal_places=2, min_value=0, max_value=100
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class ComputeForm(StyledForm):
    day = forms.DateField(label=_("Date"), widget=DATE_WIDGET)


class ItemForm(StyledForm):
    label = forms.CharField(label=_("New item"), max_length=100)


class ImportForm(StyledForm):
    file = forms.FileField(label=_("File (CSV or XLSX)"))
