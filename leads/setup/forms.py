"""Web forms for the dealer's settings. A form parses the input; the functions in
leads.setup.configuration and accounts.actions validate and decide, and their InvalidInput lands on
the field it names."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.actions import WEIGHT_RANGE
from accounts.models import DEFAULT_EFFECTIVE_CALL_SECONDS, Dealer, Staff
from accounts.roles import Role
from dcc import dates
from leads.assignment import TEAM_WORKER
from leads.forms import StyledForm
from leads.models import AssignmentRule, Channel, ChannelGroup, ReasonCode, Team, TeamKind
from leads.setup.configuration import (
    EFFECTIVE_CALL_SECONDS_RANGE,
    FOLLOW_UP_DAYS_RANGE,
    HORIZON_DAYS_RANGE,
    PRIORITY_RANGE,
    SLA_MINUTES_RANGE,
    GradeInterval,
    rule_groups,
    team_workers,
)
from leads.stages import Grade
from leads.teams import team_candidates

CHECKBOX = {"class": "form-check-input"}
CODE_HELP = _("Lower-case letters, digits, “_” or “-”. Cannot be changed later.")


def _keep_stored(value: str, stored: str) -> str:
    """Default names are stored in English and shown translated: an unchanged translated name
    keeps the stored one, so it stays translatable."""
    return stored if stored and value == gettext(stored) else value


class ChannelForm(StyledForm):
    code = forms.CharField(label=_("Code"), max_length=32, help_text=CODE_HELP)
    name = forms.CharField(label=_("Channel name"), max_length=100)
    group = forms.ChoiceField(label=_("Group"), choices=[("", "—"), *ChannelGroup.choices])
    sla_minutes = forms.IntegerField(
        label=_("First-response SLA (minutes)"),
        min_value=SLA_MINUTES_RANGE[0],
        max_value=SLA_MINUTES_RANGE[1],
        help_text=_("Minutes of business hours within which a new lead gets its first call."),
    )
    monthly_spend = forms.DecimalField(
        label=_("Monthly spend (CNY)"), min_value=0, max_digits=12, decimal_places=2, initial=0
    )
    is_active = forms.BooleanField(
        label=_("Active: new leads may come from this channel"),
        required=False,
        initial=True,
        widget=forms.CheckboxInput(attrs=CHECKBOX),
    )

    def __init__(self, *args, channel: Channel | None = None, **kwargs):
        self.channel = channel
        if channel is not None:
            kwargs.setdefault(
                "initial",
                {
                    "code": channel.code,
                    "name": gettext(channel.name),
                    "group": channel.group,
                    "sla_minutes": channel.sla_minutes,
                    "monthly_spend": channel.monthly_spend,
                    "is_active": channel.is_active,
                },
            )
        super().__init__(*args, **kwargs)
        if channel is not None:
            self.fields["code"].disabled = True
            self.fields["code"].help_text = _("Used by integrations and past events.")
        self.fields["code"].widget.attrs.update(autocomplete="off", spellcheck="false")
        self.fields["sla_minutes"].widget.attrs.update(inputmode="numeric")
        self.fields["monthly_spend"].widget.attrs.update(inputmode="decimal")

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        return _keep_stored(name, self.channel.name) if self.channel else name

    def action_kwargs(self) -> dict:
        data = self.cleaned_data
        fields = {
            "name": data["name"],
            "group": data["group"],
            "sla_minutes": data["sla_minutes"],
            "monthly_spend": data["monthly_spend"],
            "is_active": data["is_active"],
        }
        if self.channel is None:
            fields["code"] = data["code"]
        return fields


class GradeIntervalsForm(StyledForm):
    """One field per grade, named by the grade, prefilled with the dealer's interval; and how
    far ahead appointments and follow-ups may be set."""

    def __init__(
        self,
        *args,
        intervals: list[GradeInterval],
        horizon_days: int,
        effective_call_seconds: int = DEFAULT_EFFECTIVE_CALL_SECONDS,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        low, high = FOLLOW_UP_DAYS_RANGE
        for interval in intervals:
            self.fields[interval.grade.value] = forms.IntegerField(
                label=interval.grade.label,
                min_value=low,
                max_value=high,
                initial=interval.days,
                help_text=ngettext(
                    "Default: %(days)d day.", "Default: %(days)d days.", interval.default_days
                )
                % {"days": interval.default_days},
            )
            self.fields[interval.grade.value].widget.attrs.update(
                {"class": "form-control", "inputmode": "numeric"}
            )

        low, high = HORIZON_DAYS_RANGE
        self.fields["horizon_days"] = forms.IntegerField(
            label=_("Appointments and follow-ups at most this many days ahead"),
            min_value=low,
            max_value=high,
            initial=horizon_days,
            help_text=_("Default: 180 days. A date further ahead is refused as a typo."),
        )
        self.fields["horizon_days"].widget.attrs.update(
            {"class": "form-control", "inputmode": "numeric"}
        )
        low, high = EFFECTIVE_CALL_SECONDS_RANGE
        self.fields["effective_call_seconds"] = forms.IntegerField(
            label=_("A call is effective from this many seconds of talk"),
            min_value=low,
            max_value=high,
            initial=effective_call_seconds,
            help_text=_(
                "Default: %(seconds)d seconds. The call KPIs count effective calls with it."
            )
            % {"seconds": DEFAULT_EFFECTIVE_CALL_SECONDS},
        )
        self.fields["effective_call_seconds"].widget.attrs.update(
            {"class": "form-control", "inputmode": "numeric"}
        )

    def days(self) -> dict[str, int]:
        return {grade: days for grade, days in self.cleaned_data.items() if grade in Grade.values}


class MemberChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Staff) -> str:
        return f"{obj} ({obj.username})" if obj.display_name else obj.username


class AssignmentRuleForm(StyledForm):
    team = forms.ChoiceField(
        label=_("Team"),
        choices=[(kind.value, kind.label) for kind in TEAM_WORKER],
        initial=TeamKind.DCC,
    )
    channel = forms.ModelChoiceField(
        label=_("Channel"),
        queryset=Channel.objects.none(),
        required=False,
        empty_label=_("Any channel"),
    )
    car_model = forms.CharField(
        label=_("Model of interest"),
        required=False,
        max_length=100,
        help_text=_("Empty: any model. Matched without regard to upper or lower case."),
    )
    priority = forms.IntegerField(
        label=_("Priority"),
        min_value=PRIORITY_RANGE[0],
        max_value=PRIORITY_RANGE[1],
        initial=100,
        help_text=_("Lower numbers are tried first."),
    )
    to_team = forms.ModelChoiceField(
        label=_("Group"),
        queryset=Team.objects.none(),
        required=False,
        empty_label=_("No group: only the people ticked below"),
        help_text=_("Whoever is in the group when a lead comes, besides the people ticked."),
    )
    members = MemberChoiceField(
        label=_("Members"),
        queryset=Staff.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs=CHECKBOX),
        help_text=_("Leads matching this rule go to these people when one of them is present."),
    )

    def __init__(
        self,
        *args,
        dealer: Dealer,
        refresh_url: str,
        rule: AssignmentRule | None = None,
        **kwargs,
    ):
        if rule is not None:
            kwargs.setdefault(
                "initial",
                {
                    "team": rule.team,
                    "channel": rule.channel_id,
                    "car_model": rule.car_model,
                    "priority": rule.priority,
                    "to_team": rule.to_team_id,
                    "members": [member.pk for member in rule.members.all()],
                },
            )
        super().__init__(*args, **kwargs)
        self.dealer = dealer
        self.fields["channel"].queryset = Channel.objects.filter(dealer=dealer).order_by("name")
        self.fields["channel"].label_from_instance = lambda channel: gettext(channel.name)
        self.chosen_team = self._chosen_team()
        self.fields["members"].queryset = team_workers(dealer, self.chosen_team)
        self.fields["to_team"].queryset = rule_groups(dealer, self.chosen_team)
        # Changing the team reloads the people to choose from (the page answers htmx GETs).
        self.fields["team"].widget.attrs.update(
            {
                "hx-get": refresh_url,
                "hx-trigger": "change",
                "hx-target": "#rule-members",
                "hx-swap": "outerHTML",
                "hx-include": "this",
            }
        )

    def _chosen_team(self) -> TeamKind:
        raw = self.data.get(self.add_prefix("team")) if self.is_bound else None
        raw = raw or self.initial.get("team") or self.fields["team"].initial
        return TeamKind(raw) if raw in TEAM_WORKER else TeamKind.DCC

    def action_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "team": data["team"],
            "channel": data["channel"],
            "car_model": data["car_model"],
            "priority": data["priority"],
            "to_team": data["to_team"],
            "members": list(data["members"]),
        }


class ReasonCodeForm(StyledForm):
    code = forms.CharField(label=_("Code"), max_length=32, help_text=CODE_HELP)
    label = forms.CharField(label=_("Reason"), max_length=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].widget.attrs.update(autocomplete="off", spellcheck="false")


class ReasonRenameForm(StyledForm):
    label = forms.CharField(label=_("Reason"), max_length=100)

    def __init__(self, *args, reason: ReasonCode, **kwargs):
        self.reason = reason
        kwargs.setdefault("initial", {"label": gettext(reason.label)})
        super().__init__(*args, **kwargs)

    def clean_label(self) -> str:
        return _keep_stored(self.cleaned_data["label"], self.reason.label)


class StaffForm(StyledForm):
    username = forms.CharField(label=_("Username"), max_length=150)
    display_name = forms.CharField(label=_("Name"), max_length=100)
    mobile = forms.CharField(label=_("Mobile"), required=False, max_length=40)
    password = forms.CharField(
        label=_("Initial password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Tell the person in private; they should change it after logging in."),
    )
    roles = forms.MultipleChoiceField(
        label=_("Roles"), widget=forms.CheckboxSelectMultiple(attrs=CHECKBOX)
    )

    def __init__(self, *args, roles: list[Role], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["roles"].choices = [(role.value, role.label) for role in roles]
        self.fields["username"].widget.attrs.update(autocomplete="off", spellcheck="false")
        self.fields["mobile"].widget.attrs.update(inputmode="tel", autocomplete="off")

    def action_kwargs(self) -> dict:
        return dict(self.cleaned_data)


class GrantRoleForm(StyledForm):
    username = forms.CharField(label=_("Username"), max_length=150)
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args, roles: list[Role], **kwargs):
        super().__init__(*args, prefix="grant", **kwargs)
        self.fields["role"].choices = [("", "—")] + [(role.value, role.label) for role in roles]
        self.fields["username"].widget.attrs.update(autocomplete="off", spellcheck="false")


class WeightForm(StyledForm):
    weight = forms.IntegerField(
        label=_("Assignment weight"), min_value=WEIGHT_RANGE[0], max_value=WEIGHT_RANGE[1]
    )


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Staff) -> str:
        return MemberChoiceField.label_from_instance(self, obj)


class TeamForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=TeamKind.choices, initial=TeamKind.DCC)
    leader = PersonChoiceField(
        label=_("Leader"), queryset=Staff.objects.none(), required=False, empty_label=_("No leader")
    )

    def __init__(self, *args, dealer: Dealer, team: Team | None = None, **kwargs):
        if team is not None:
            kwargs.setdefault(
                "initial", {"name": str(team), "kind": team.kind, "leader": team.leader_id}
            )
        super().__init__(*args, **kwargs)
        self.team = team
        self.fields["leader"].queryset = team_candidates(dealer)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        return _keep_stored(name, self.team.name) if self.team is not None else name

    def action_kwargs(self) -> dict:
        return dict(self.cleaned_data)


class TeamMemberForm(StyledForm):
    staff = PersonChoiceField(label=_("Person"), queryset=Staff.objects.none())
    starts_on = forms.DateField(
        label=_("In the team from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty: from now. Until then, what they did counts for their team then."),
    )

    def __init__(self, *args, dealer: Dealer, team: Team, **kwargs):
        super().__init__(*args, prefix=f"team{team.pk}", **kwargs)
        self.fields["staff"].queryset = team_candidates(dealer).exclude(
            team_memberships__team=team, team_memberships__ends_at__isnull=True
        )

    def clean_starts_on(self):
        day = self.cleaned_data["starts_on"]
        if day is not None and not dates.in_window(day):
            raise forms.ValidationError(dates.outside_window(day))
        return day
