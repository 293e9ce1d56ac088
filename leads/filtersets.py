"""The lead list's filters: read from the query string (so a filtered list is a link to keep
or share), checked, and applied to the leads the person may see. The page and its export
select the same leads through this one form."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Dealer, Staff
from dcc.dates import in_window, outside_window
from leads.forms import StyledForm
from leads.models import Channel, Lead
from leads.sla import breached
from leads.stages import Grade, Stage

FILTERS = ("owner", "channel", "stage", "grade", "created_from", "created_to", "sla")


class LeadFilterForm(StyledForm):
    """Choices are matched as text against the dealer's own lists: an id that is not one of
    them (or no number at all) is an error on its field, never a database lookup."""

    owner = forms.ChoiceField(label=gettext_lazy("Owner"), required=False)
    channel = forms.ChoiceField(label=gettext_lazy("Channel"), required=False)
    stage = forms.ChoiceField(label=gettext_lazy("Stage"), required=False)
    grade = forms.ChoiceField(label=gettext_lazy("Grade"), required=False)
    created_from = forms.DateField(
        label=gettext_lazy("Created from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    created_to = forms.DateField(
        label=gettext_lazy("Created to"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    sla = forms.ChoiceField(
        label=gettext_lazy("First-response SLA"),
        required=False,
        choices=[
            ("", gettext_lazy("Any")),
            ("breached", gettext_lazy("Breached")),
        ],
    )

    def __init__(self, data, *, dealer: Dealer, **kwargs):
        super().__init__(data, **kwargs)
        people = (
            Staff.objects.filter(memberships__dealer=dealer, memberships__is_active=True)
            .distinct()
            .order_by("display_name", "username")
        )
        self.fields["owner"].choices = [("", _("Everyone"))] + [
            (str(person.pk), str(person)) for person in people
        ]
        channels = Channel.objects.filter(dealer=dealer).order_by("name")
        self.fields["channel"].choices = [("", _("All channels"))] + [
            (str(channel.pk), _(channel.name)) for channel in channels
        ]
        self.fields["stage"].choices = [("", _("All stages")), *Stage.choices]
        self.fields["grade"].choices = [("", _("All grades")), *Grade.choices]
        for field in self.fields.values():  # small controls, to fit the bar
            css = field.widget.attrs["class"]
            small = "form-select-sm" if css.startswith("form-select") else "form-control-sm"
            field.widget.attrs["class"] = f"{css} {small}"

    def clean(self) -> dict:
        data = super().clean()
        for name in ("created_from", "created_to"):
            day = data.get(name)
            if day and not in_window(day):
                self.add_error(name, outside_window(day))
        start, end = data.get("created_from"), data.get("created_to")
        if start and end and start > end and not self.errors:
            self.add_error("created_to", _("The last day comes before the first."))
        return data

    def apply(self, leads: QuerySet[Lead]) -> QuerySet[Lead]:
        """`leads` narrowed by the valid filters (all of them when the form has errors: the
        page then shows the errors rather than a list that looks filtered)."""
        if not self.is_valid():
            return leads
        data = self.cleaned_data
        for name in ("owner", "channel"):
            if data[name]:
                leads = leads.filter(**{f"{name}_id": int(data[name])})
        for name in ("stage", "grade"):
            if data[name]:
                leads = leads.filter(**{name: data[name]})
        if data["created_from"]:
            leads = leads.filter(created_at__gte=_start_of(data["created_from"]))
        if data["created_to"]:
            leads = leads.filter(created_at__lt=_start_of(data["created_to"] + timedelta(days=1)))
        if data["sla"] == "breached":
            leads = leads.filter(breached())
        return leads

    def is_filtered(self) -> bool:
        return self.is_valid() and any(self.cleaned_data[name] for name in FILTERS)


def _start_of(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))
