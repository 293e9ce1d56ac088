"""The audit group's requests, parsed: the draw, an audit's scores, an overturn, an appeal and
its decision. The rules are in audit.actions."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Dealer, Membership, Staff
from audit.models import AppealDecision, AuditForm, AuditResult
from leads.forms import StyledForm
from leads.stages import FRONT_LINE


class DrawForm(StyledForm):
    week = forms.DateField(label=_("Week (its Monday)"))
    seed = forms.IntegerField(
        label=_("Seed"),
        required=False,
        min_value=0,
        max_value=2**62,
        help_text=_("Empty: chosen at random. The same seed draws the same items."),
    )
    redraw = forms.BooleanField(
        label=_("Draw this week again (supervisors; recorded)"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    note = forms.CharField(label=_("Why"), required=False, max_length=200)


def scoring_form(form: AuditForm, *, may_overturn: bool, data=None) -> StyledForm:
    """A form of the audit form's check items (each 0 to its points; an optional one may be
    left empty: not applicable), the result and the finding."""
    fields: dict[str, forms.Field] = {}
    for item in form.items.all():
        fields[f"item_{item.pk}"] = forms.IntegerField(
            label=item.shown_text,
            required=item.required,
            min_value=0,
            max_value=item.points,
            help_text=_("0 to %(points)d points") % {"points": item.points},
        )
    results = [
        (value, label)
        for value, label in AuditResult.choices
        if may_overturn or value != AuditResult.OVERTURN
    ]
    fields["result"] = forms.ChoiceField(label=_("Result"), choices=results)
    fields["finding"] = forms.CharField(
        label=_("Finding"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    return type("ScoringForm", (StyledForm,), fields)(data)


def scores_of(form: AuditForm, cleaned: dict) -> dict[int, int | None]:
    return {item.pk: cleaned.get(f"item_{item.pk}") for item in form.items.all()}


class OverturnForm(StyledForm):
    to = forms.ModelChoiceField(
        label=_("Give the lead to"),
        queryset=Staff.objects.none(),
        required=False,
        empty_label=_("Its owner at the exit"),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=500)

    def __init__(self, *args, dealer: Dealer, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        front_line = Membership.objects.filter(
            dealer=dealer, role__in=FRONT_LINE, is_active=True
        ).values("staff_id")
        self.fields["to"].queryset = Staff.objects.filter(
            pk__in=front_line, is_active=True
        ).order_by("username")


class AppealForm(StyledForm):
    reason = forms.CharField(
        label=_("Why you appeal"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class DecisionForm(StyledForm):
    decision = forms.ChoiceField(label=_("Decision"), choices=AppealDecision.choices)
    corrected = forms.DecimalField(
        label=_("Corrected score (%)"),
        required=False,
        min_value=0,
        max_value=100,
        decimal_places=1,
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=500)
