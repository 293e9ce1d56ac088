"""Request parsing for owner operations' pages; the rules are in the service modules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leads.forms import DATETIME_WIDGET, StyledForm
from owners import events, questionnaires
from owners.models import (
    ComplaintCategory,
    ComplaintSource,
    MemberTier,
    OwnerEventKind,
    Performer,
    QuestionKind,
    Questionnaire,
    ReturnedCarRule,
    RewardKind,
    Severity,
    Vehicle,
)

YES_NO = [("yes", gettext_lazy("Yes")), ("no", gettext_lazy("No"))]


class VisitForm(StyledForm):
    """One attempt: reached or not, the questionnaire's answers when reached, a note."""

    reached = forms.TypedChoiceField(
        label=gettext_lazy("Reached the customer?"),
        choices=YES_NO,
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
    )

    def __init__(self, *args, questions: list[dict[str, Any]] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.questions = questions or []
        for question in self.questions:
            self.fields[question["key"]] = _answer_field(question)

    def answers(self) -> dict[str, Any]:
        return {q["key"]: self.cleaned_data.get(q["key"]) for q in self.questions}


def _answer_field(question: dict[str, Any]) -> forms.Field:
    """A field that takes any answer: whether it fits is the questionnaire's to say, for the
    form and the API alike (owners.questionnaires.check_answers)."""
    label = questionnaires.label(question)
    kind = question["kind"]
    if kind == QuestionKind.SCORE:
        choices = [(str(n), str(n)) for n in range(1, 6)]
    elif kind == QuestionKind.NPS:
        choices = [(str(n), str(n)) for n in range(11)]
    elif kind == QuestionKind.YES_NO:
        choices = YES_NO
    elif kind == QuestionKind.CHOICE:
        choices = [(o, o) for o in question.get("options", [])]
    else:
        return forms.CharField(
            label=label,
            required=False,
            widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
        )
    return forms.ChoiceField(
        label=label,
        choices=[("", "—"), *choices],
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )


class ComplaintForm(StyledForm):
    source = forms.ChoiceField(label=gettext_lazy("Source"), choices=ComplaintSource.choices)
    category = forms.ChoiceField(label=gettext_lazy("Category"), choices=ComplaintCategory.choices)
    severity = forms.ChoiceField(
        label=gettext_lazy("Severity"), choices=Severity.choices, initial=Severity.MEDIUM
    )
    description = forms.CharField(
        label=gettext_lazy("What the customer says"),
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
    )


class ResolveForm(StyledForm):
    resolution = forms.CharField(
        label=gettext_lazy("How it was resolved"),
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
    )


class ConfirmForm(StyledForm):
    satisfied = forms.TypedChoiceField(
        label=gettext_lazy("Is the customer satisfied with the resolution?"),
        choices=YES_NO,
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    note = forms.CharField(label=gettext_lazy("Note"), required=False)


class AssignForm(StyledForm):
    to = forms.ModelChoiceField(label=gettext_lazy("Handled by"), queryset=None)

    def __init__(self, *args, people=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to"].queryset = people


class PlanForm(StyledForm):
    attempts = forms.IntegerField(
        label=gettext_lazy("Attempts before a visit is unreachable"), min_value=1, max_value=10
    )
    retry_hours = forms.IntegerField(
        label=gettext_lazy("Business hours between attempts"), min_value=1, max_value=72
    )


class DeadlinesForm(StyledForm):
    """How long a complaint of each severity may take, in hours (business hours under a day)."""

    critical_hours = forms.IntegerField(
        label=gettext_lazy("Critical (hours)"), min_value=1, max_value=24 * 60
    )
    high_hours = forms.IntegerField(
        label=gettext_lazy("High (hours)"), min_value=1, max_value=24 * 60
    )
    medium_hours = forms.IntegerField(
        label=gettext_lazy("Medium (hours)"), min_value=1, max_value=24 * 60
    )
    low_hours = forms.IntegerField(
        label=gettext_lazy("Low (hours)"), min_value=1, max_value=24 * 60
    )


class StepForm(StyledForm):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    offset_hours = forms.IntegerField(
        label=gettext_lazy("Hours after delivery"), min_value=0, max_value=24 * 366
    )
    performer = forms.ChoiceField(label=gettext_lazy("Performed by"), choices=Performer.choices)
    questionnaire = forms.ModelChoiceField(
        label=gettext_lazy("Questionnaire"),
        queryset=Questionnaire.objects.none(),
        required=False,
        empty_label=gettext_lazy("None: a call with a note"),
    )
    sample_percent = forms.IntegerField(
        label=gettext_lazy("Share of deliveries (%)"), min_value=1, max_value=100, initial=100
    )
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)

    def __init__(self, *args, dealer, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["questionnaire"].queryset = Questionnaire.objects.filter(dealer=dealer)


QUESTION_HELP = gettext_lazy(
    "One question a line: key | kind | question | options (for a choice, separated by commas) "
    "| the answers that open a complaint (a score or NPS at most this, yes or no, or options) "
    "| complaint category. Kinds: yes_no, score, nps, choice, text."
)


class QuestionnaireForm(StyledForm):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    questions = forms.CharField(
        label=gettext_lazy("Questions"),
        widget=forms.Textarea(attrs={"rows": 14, "class": "form-control font-monospace"}),
        help_text=QUESTION_HELP,
    )

    @staticmethod
    def as_text(questions: list[dict[str, Any]]) -> str:
        lines = []
        for q in questions:
            rule = q.get("complaint_if")
            rule = ",".join(rule) if isinstance(rule, list) else ("" if rule is None else rule)
            lines.append(
                " | ".join(
                    [
                        q["key"],
                        q["kind"],
                        q["label"],
                        ",".join(q.get("options", [])),
                        str(rule),
                        q.get("category", ""),
                    ]
                )
            )
        return "\n".join(lines)

    def clean_questions(self) -> list[dict[str, Any]]:
        parsed = []
        for number, line in enumerate(self.cleaned_data["questions"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = [part.strip() for part in line.split("|")] + [""] * 6
            key, kind, label, options, rule, category = parts[:6]
            options_list = [o.strip() for o in options.split(",") if o.strip()]
            if kind == QuestionKind.CHOICE:
                rule_value: Any = [r.strip() for r in rule.split(",") if r.strip()]
            else:
                rule_value = rule or None
            parsed.append(
                {
                    "key": key,
                    "kind": kind,
                    "label": label or key,
                    "options": options_list,
                    "complaint_if": rule_value,
                    "category": category or "other",
                }
            )
            if not key:
                raise forms.ValidationError(_("Line %(n)d has no key.") % {"n": number})
        return parsed


# ---------------------------------------------------------------- members and referrals


class RedeemForm(StyledForm):
    points = forms.IntegerField(label=gettext_lazy("Points"), min_value=1)
    note = forms.CharField(label=gettext_lazy("For what"), max_length=200)


class ServiceVisitForm(StyledForm):
    repair_order = forms.CharField(label=gettext_lazy("Repair order number"), max_length=48)


class AdjustForm(StyledForm):
    points = forms.IntegerField(label=gettext_lazy("Points"), min_value=1)
    note = forms.CharField(label=gettext_lazy("Why"), max_length=200)


class ReferrerForm(StyledForm):
    referrer_phone = forms.CharField(
        label=gettext_lazy("Referrer's phone"),
        max_length=32,
        help_text=gettext_lazy("An owner or member of this dealer."),
    )


class ProgrammeForm(StyledForm):
    """The member programme; `level_rewards` typed as "2000, 500" (the referrer, then who
    referred them)."""

    purchase_points = forms.IntegerField(
        label=gettext_lazy("Points for a purchase"), min_value=0, max_value=1_000_000
    )
    event_points = forms.IntegerField(
        label=gettext_lazy("Points for attending an event"), min_value=0, max_value=1_000_000
    )
    service_points = forms.IntegerField(
        label=gettext_lazy("Points for a service visit"), min_value=0, max_value=1_000_000
    )
    idle_days = forms.IntegerField(
        label=gettext_lazy("Usable points expire after this many idle days"),
        min_value=1,
        max_value=3650,
    )
    reward_kind = forms.ChoiceField(
        label=gettext_lazy("Referral reward"), choices=RewardKind.choices
    )
    level_rewards = forms.CharField(
        label=gettext_lazy("Reward per level"),
        max_length=100,
        required=False,
        help_text=gettext_lazy(
            "Points or yuan for the referrer, then for whoever referred them, separated by "
            "commas (e.g. 2000, 500)."
        ),
    )
    returned_car_rule = forms.ChoiceField(
        label=gettext_lazy("When a referred car is returned"), choices=ReturnedCarRule.choices
    )

    def clean_level_rewards(self) -> list[int]:
        text = self.cleaned_data["level_rewards"].replace("，", ",")
        parts = [part.strip() for part in text.split(",") if part.strip()]
        try:
            rewards = [int(part) for part in parts]
        except ValueError:
            raise forms.ValidationError(_("Whole numbers separated by commas.")) from None
        if any(not 0 <= reward <= 1_000_000 for reward in rewards):
            raise forms.ValidationError(_("Each reward is from 0 to 1,000,000."))
        if len(rewards) > 5:
            raise forms.ValidationError(_("At most 5 levels."))
        return rewards


class TierForm(forms.ModelForm):
    class Meta:
        model = MemberTier
        fields = ["name", "min_points"]
        widgets = {
            "name": forms.TextInput(attrs={"class": "form-control form-control-sm"}),
            "min_points": forms.NumberInput(attrs={"class": "form-control form-control-sm"}),
        }


# ---------------------------------------------------------------- owner events


class EventForm(StyledForm):
    title = forms.CharField(label=gettext_lazy("Event title"), max_length=100)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=OwnerEventKind.choices)
    starts_at = forms.DateTimeField(label=gettext_lazy("Starts"), widget=DATETIME_WIDGET)
    ends_at = forms.DateTimeField(label=gettext_lazy("Ends"), widget=DATETIME_WIDGET)
    place = forms.CharField(label=gettext_lazy("Place"), max_length=200, required=False)
    capacity = forms.IntegerField(
        label=gettext_lazy("Capacity (people)"), min_value=1, max_value=events.MAX_CAPACITY
    )
    budget = forms.DecimalField(
        label=gettext_lazy("Budget (CNY)"),
        min_value=0,
        max_digits=12,
        decimal_places=2,
        initial=0,
    )
    cost = forms.DecimalField(
        label=gettext_lazy("Cost so far (CNY)"),
        min_value=0,
        max_digits=12,
        decimal_places=2,
        initial=0,
    )

    @classmethod
    def initial_of(cls, event) -> dict[str, Any]:
        return {
            name: timezone.localtime(getattr(event, name))
            if name in ("starts_at", "ends_at")
            else getattr(event, name)
            for name in cls.base_fields
        }

    def fields_(self) -> events.EventFields:
        return events.EventFields(**self.cleaned_data)


class InviteForm(StyledForm):
    """Which owners to invite; nothing chosen: every owner."""

    # Choices, not a queryset: what is sent is compared with them, never put into a query.
    tiers = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Member tiers"),
        coerce=int,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )
    models = forms.MultipleChoiceField(
        label=gettext_lazy("Car models"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )
    delivered_from = forms.DateField(
        label=gettext_lazy("Delivered from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    delivered_to = forms.DateField(
        label=gettext_lazy("Delivered until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, dealer, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tiers"].choices = [
            (tier.pk, str(tier)) for tier in MemberTier.objects.filter(dealer=dealer)
        ]
        models = (
            Vehicle.objects.filter(dealer=dealer, returned_at__isnull=True)
            .exclude(car_model="")
            .values_list("car_model", flat=True)
            .distinct()
            .order_by("car_model")
        )
        self.fields["models"].choices = [(m, m) for m in models]

    def segment(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "tiers": data["tiers"],
            "models": data["models"],
            "delivered_from": data["delivered_from"],
            "delivered_to": data["delivered_to"],
        }


class SignUpForm(StyledForm):
    code = forms.CharField(widget=forms.HiddenInput, max_length=64)
    party_size = forms.IntegerField(
        label=gettext_lazy("People coming"), min_value=1, max_value=events.MAX_PARTY, initial=1
    )


class InvitationForm(StyledForm):
    """Which invitation a button is about (decline)."""

    code = forms.CharField(widget=forms.HiddenInput, max_length=64)


class DoorForm(StyledForm):
    code = forms.CharField(
        label=gettext_lazy("Invitation code"),
        max_length=300,
        help_text=gettext_lazy("Type the code on the invitation, or scan its QR code."),
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}),
    )


class GuestForm(StyledForm):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100, required=False)
    phone = forms.CharField(label=gettext_lazy("Mobile"), max_length=40)
