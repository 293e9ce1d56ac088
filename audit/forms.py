"""The audit group's requests, parsed: the draw, an audit's scores, an overturn, an appeal and
its decision, a sampling plan, an audit form's check items. The rules are in audit.actions."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Dealer, Membership, Staff
from audit.actions import MAX_POINTS, TEXT_LENGTH, EditedItem
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


def _checkbox() -> forms.CheckboxInput:
    return forms.CheckboxInput(attrs={"class": "form-check-input"})


class PlanForm(StyledForm):
    """One source's plan; the ranges are audit.actions.set_plan's, said on the field."""

    share_percent = forms.IntegerField(
        label=_("Share (%)"), widget=forms.NumberInput(attrs={"min": 1, "max": 100})
    )
    min_per_person = forms.IntegerField(
        label=_("At least per person a week"), widget=forms.NumberInput(attrs={"min": 0})
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, widget=_checkbox())


POINTS_RANGE = _("An item is worth 1 to 100 points.")


class CheckItemForm(StyledForm):
    """One row of the form editor: an item kept or changed, removed (its text emptied), or
    added (a blank row filled)."""

    item = forms.CharField(widget=forms.HiddenInput, required=False)  # the item edited
    text = forms.CharField(label=_("Check"), max_length=TEXT_LENGTH, required=False)
    points = forms.IntegerField(
        label=_("Points (1–100)"),
        required=False,
        min_value=1,
        max_value=MAX_POINTS,
        error_messages={"min_value": POINTS_RANGE, "max_value": POINTS_RANGE},
    )
    required = forms.BooleanField(
        label=_("Required"), required=False, initial=True, widget=_checkbox()
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("text") and cleaned.get("points") is None and "points" not in self.errors:
            self.add_error("points", POINTS_RANGE)
        return cleaned

    def edited(self) -> EditedItem:
        raw = self.cleaned_data.get("item") or ""
        # Only an id as the page wrote it; anything else is a new item.
        item_id = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 18 else None
        data = self.cleaned_data
        return (item_id, data.get("text") or "", data.get("points"), bool(data.get("required")))


# A form of more items than this is a mistake, not an audit.
MAX_ITEMS = 40
# Blank rows below the items, to add some.
BLANK_ROWS = 3
CheckItemFormSet = forms.formset_factory(
    CheckItemForm,
    extra=BLANK_ROWS,
    max_num=MAX_ITEMS,
    validate_max=True,
    absolute_max=MAX_ITEMS + BLANK_ROWS,
)


class FormVersionForm(StyledForm):
    """The version the editor was shown (a newer one saved meanwhile is not overwritten
    unseen); a refusal of the whole form is shown on it."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
