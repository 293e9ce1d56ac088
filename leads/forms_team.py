"""Forms of the supervisors' pages: they parse and validate; the actions decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Dealer, Staff
from leads import selectors_team
from leads.forms import DATETIME_WIDGET, NOTE, OwnerChoiceField, StyledForm, with_owner_roles
from leads.models import Lead
from leads.permissions import visible_leads
from leads.stages import OPEN_STAGES, Stage

CHOOSE = gettext_lazy("Choose a person")


class DecisionForm(StyledForm):
    note = NOTE


class ReassignFilter(StyledForm):
    owner = forms.ModelChoiceField(
        label=gettext_lazy("Owner"),
        queryset=Staff.objects.none(),
        required=False,
        empty_label=gettext_lazy("Everyone"),
    )
    stage = forms.ChoiceField(label=gettext_lazy("Stage"), required=False)

    def __init__(self, *args, dealer: Dealer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = selectors_team.team_people(dealer)
        self.fields["stage"].choices = [("", _("All open stages"))] + [
            (stage.value, stage.label) for stage in map(Stage, OPEN_STAGES)
        ]
        for field in self.fields.values():
            field.widget.attrs["class"] += " form-select-sm"


class ReassignForm(StyledForm):
    leads = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Leads"),
        queryset=Lead.objects.none(),
        error_messages={"required": gettext_lazy("Tick the leads to move.")},
    )
    to = OwnerChoiceField(
        label=gettext_lazy("Move to"), queryset=Staff.objects.none(), empty_label=CHOOSE
    )
    note = NOTE

    def __init__(self, *args, staff: Staff, dealer: Dealer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["leads"].queryset = visible_leads(staff, dealer_id=dealer.pk).select_related(
            "customer"
        )
        self.fields["to"].queryset = with_owner_roles(
            selectors_team.available_people(dealer), dealer
        )
        self.fields["to"].help_text = _("People on leave now are not offered.")


class AbsenceForm(StyledForm):
    staff = forms.ModelChoiceField(
        label=gettext_lazy("Person"), queryset=Staff.objects.none(), empty_label=CHOOSE
    )
    cover = forms.ModelChoiceField(
        label=gettext_lazy("Cover"),
        queryset=Staff.objects.none(),
        empty_label=CHOOSE,
        help_text=gettext_lazy("Takes over the person's open leads and tasks."),
    )
    starts_at = forms.DateTimeField(label=gettext_lazy("From"), widget=DATETIME_WIDGET)
    ends_at = forms.DateTimeField(label=gettext_lazy("Until"), widget=DATETIME_WIDGET)
    reason = forms.CharField(label=gettext_lazy("Reason"), required=False, max_length=200)

    def __init__(self, *args, dealer: Dealer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = selectors_team.team_people(dealer)
        self.fields["cover"].queryset = selectors_team.line_people(dealer)
