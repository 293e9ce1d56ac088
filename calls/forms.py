"""Request parsing for the call panel: an unknown caller's details (留资)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from leads.forms import DATETIME_WIDGET, NOTE, StyledForm
from leads.stages import Grade


class CaptureForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    car_model = forms.CharField(label=_("Model of interest"), required=False, max_length=100)
    grade = forms.ChoiceField(label=_("Grade"), required=False, choices=[("", "—"), *Grade.choices])
    appointment_at = forms.DateTimeField(
        label=_("Book a showroom visit"), required=False, widget=DATETIME_WIDGET
    )
    note = NOTE
