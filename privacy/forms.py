from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from leads.forms import StyledForm
from privacy.models import ConsentSource, Purpose
from privacy.rights import MAX_RETENTION_DAYS, MIN_RETENTION_DAYS

# What staff record by hand: a capture page and a reply record themselves.
STAFF_SOURCES = [
    (ConsentSource.CALL, ConsentSource.CALL.label),
    (ConsentSource.FORM, ConsentSource.FORM.label),
]


class ConsentForm(StyledForm):
    purpose = forms.ChoiceField(label=_("purpose"), choices=Purpose.choices)
    given = forms.TypedChoiceField(
        label=_("the customer"),
        choices=[("1", _("agrees")), ("0", _("refuses or withdraws"))],
        coerce=lambda value: value == "1",
    )
    how = forms.ChoiceField(label=_("how"), choices=STAFF_SOURCES)
    evidence = forms.CharField(
        label=_("evidence"),
        required=False,
        max_length=500,
        help_text=_("What was said or signed, e.g. the form's number."),
    )


class DoNotCallForm(StyledForm):
    phone = forms.CharField(label=_("phone"), max_length=32)
    reason = forms.CharField(label=_("reason"), max_length=200, required=False)


class EraseForm(StyledForm):
    reason = forms.CharField(label=_("reason"), max_length=200)
    confirmed = forms.BooleanField(
        label=_("I understand: the open lead stays, without a name or a number"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )


class RetentionForm(StyledForm):
    retention_days = forms.IntegerField(
        label=_("keep personal data for (days after the last contact)"),
        min_value=MIN_RETENTION_DAYS,
        max_value=MAX_RETENTION_DAYS,
        required=False,
        help_text=_(
            "Empty: until the customer asks. Customers with an open lead are never erased by time."
        ),
    )


class CustomerSearchForm(StyledForm):
    q = forms.CharField(label=_("phone or name"), max_length=50, required=False)
