"""A dealer's own settings: channels, follow-up interval per grade, assignment rules and
reason codes. Every change goes through one of these functions, which checks that the person
may configure the dealer, validates, writes and logs who changed what.

Staff and roles are changed in accounts.actions (revoking one: leads.staffing).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from accounts.audit import record_change
from accounts.models import Dealer, Membership, Staff
from accounts.roles import check_configure
from dcc.errors import InvalidInput, whole_number_in
from leads.assignment import GROUP_KINDS, TEAM_WORKER
from leads.models import (
    AssignmentRule,
    Channel,
    ChannelGroup,
    GradePolicy,
    ReasonCode,
    ReasonKind,
    Team,
    TeamKind,
)
from leads.stages import DEFAULT_FOLLOW_UP_DAYS, Grade

CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
CODE_MAX_LENGTH = 32
NAME_MAX_LENGTH = 100
SLA_MINUTES_RANGE = (1, 24 * 60)
MAX_MONTHLY_SPEND = Decimal("9999999999.99")
FOLLOW_UP_DAYS_RANGE = (1, 365)
# How far ahead appointments and follow-ups may be set: up to the two years dcc.dates accepts.
HORIZON_DAYS_RANGE = (1, 730)
PRIORITY_RANGE = (0, 32767)
# From how many seconds of talk a call counts as effective (the call KPIs).
EFFECTIVE_CALL_SECONDS_RANGE = (1, 3600)


def _code(raw: str) -> str:
    """A short identifier used by integrations and stored on past events."""
    code = (raw or "").strip().lower()
    if not code:
        raise InvalidInput(_("Enter a code."), code="code_required", field="code")
    if len(code) > CODE_MAX_LENGTH or not CODE_PATTERN.match(code):
        raise InvalidInput(
            _(
                "Use up to %(max)d lower-case letters, digits, “_” or “-”, "
                "starting with a letter or digit."
            )
            % {"max": CODE_MAX_LENGTH},
            code="bad_code",
            field="code",
        )
    return code


def _text(raw: str, *, field: str, required_message: str) -> str:
    text = " ".join((raw or "").split())
    if not text:
        raise InvalidInput(required_message, code=f"{field}_required", field=field)
    if len(text) > NAME_MAX_LENGTH:
        raise InvalidInput(
            _("At most %(max)d characters.") % {"max": NAME_MAX_LENGTH},
            code=f"{field}_too_long",
            field=field,
        )
    return text


# ---------------------------------------------------------------- channels


@dataclass(frozen=True)
class _ChannelFields:
    name: str
    group: str
    sla_minutes: int
    monthly_spend: Decimal


def _channel_fields(
    *, name: str, group: str, sla_minutes: int, monthly_spend: Decimal
) -> _ChannelFields:
    if group not in ChannelGroup.values:
        raise InvalidInput(_("Choose a channel group."), code="bad_group", field="group")
    try:
        spend = Decimal(monthly_spend).quantize(Decimal("0.01"))
    except (InvalidOperation, TypeError, ValueError) as error:
        raise InvalidInput(
            _("Enter an amount in CNY."), code="bad_amount", field="monthly_spend"
        ) from error
    if not Decimal(0) <= spend <= MAX_MONTHLY_SPEND:
        raise InvalidInput(
            _("The monthly spend cannot be negative."), code="bad_amount", field="monthly_spend"
        )
    return _ChannelFields(
        name=_text(name, field="name", required_message=_("Enter the channel's name.")),
        group=group,
        sla_minutes=whole_number_in(sla_minutes, SLA_MINUTES_RANGE, field="sla_minutes"),
        monthly_spend=spend,
    )


def create_channel(
    *,
    dealer: Dealer,
    by: Staff,
    code: str,
    name: str,
    group: str,
    sla_minutes: int,
    monthly_spend: Decimal = Decimal(0),
    is_active: bool = True,
) -> Channel:
    """A new lead source. Its code is fixed from now on: integrations and past events use it."""
    check_configure(by, dealer)
    code = _code(code)
    fields = _channel_fields(
        name=name, group=group, sla_minutes=sla_minutes, monthly_spend=monthly_spend
    )
    taken = InvalidInput(
        _("This dealer already has a channel with the code “%(code)s”.") % {"code": code},
        code="code_taken",
        field="code",
    )
    if Channel.objects.filter(dealer=dealer, code=code).exists():
        raise taken
    try:
        with transaction.atomic():
            channel = Channel.objects.create(
                dealer=dealer,
                code=code,
                name=fields.name,
                group=fields.group,
                sla_minutes=fields.sla_minutes,
                monthly_spend=fields.monthly_spend,
                is_active=is_active,
            )
    except IntegrityError as error:
        raise taken from error
    record_change(dealer=dealer, by=by, what="channel_created", subject=code)
    return channel


def update_channel(
    *,
    channel: Channel,
    by: Staff,
    name: str,
    group: str,
    sla_minutes: int,
    monthly_spend: Decimal,
    is_active: bool,
) -> Channel:
    """Change a channel's name, group, SLA, spend or whether new leads may come from it.
    A new SLA applies to leads created from now on."""
    check_configure(by, channel.dealer)
    fields = _channel_fields(
        name=name, group=group, sla_minutes=sla_minutes, monthly_spend=monthly_spend
    )
    channel.name = fields.name
    channel.group = fields.group
    channel.sla_minutes = fields.sla_minutes
    channel.monthly_spend = fields.monthly_spend
    channel.is_active = is_active
    channel.save(update_fields=["name", "group", "sla_minutes", "monthly_spend", "is_active"])
    record_change(
        dealer=channel.dealer,
        by=by,
        what="channel_updated",
        subject=channel.code,
        detail={
            "name": channel.name,
            "sla_minutes": channel.sla_minutes,
            "monthly_spend": str(channel.monthly_spend),
            "is_active": channel.is_active,
        },
    )
    return channel


# ---------------------------------------------------------------- grade follow-up intervals


@dataclass(frozen=True)
class GradeInterval:
    grade: Grade
    days: int
    default_days: int

    @property
    def is_default(self) -> bool:
        return self.days == self.default_days


def grade_intervals(dealer: Dealer) -> list[GradeInterval]:
    """Each grade's follow-up interval at `dealer`: its override, else the default."""
    overrides = dict(
        GradePolicy.objects.filter(dealer=dealer).values_list("grade", "follow_up_days")
    )
    return [
        GradeInterval(
            grade=grade,
            days=overrides.get(grade.value, DEFAULT_FOLLOW_UP_DAYS[grade]),
            default_days=DEFAULT_FOLLOW_UP_DAYS[grade],
        )
        for grade in Grade
    ]


def set_follow_up_days(*, dealer: Dealer, by: Staff, days: Mapping[str, int]) -> None:
    """Follow up a lead of each given grade at least every so many days. Follow-ups already
    scheduled keep their date; the next call or grading uses the new interval."""
    check_configure(by, dealer)
    checked: dict[str, int] = {}
    for grade, value in days.items():
        if grade not in Grade.values:
            raise InvalidInput(_("Unknown grade."), code="unknown_grade", field=str(grade))
        checked[grade] = whole_number_in(value, FOLLOW_UP_DAYS_RANGE, field=grade)
    with transaction.atomic():
        for grade, value in checked.items():
            GradePolicy.objects.update_or_create(
                dealer=dealer, grade=grade, defaults={"follow_up_days": value}
            )
    record_change(
        dealer=dealer, by=by, what="follow_up_days_set", subject="grades", detail=dict(checked)
    )


def set_horizon_days(*, dealer: Dealer, by: Staff, days: int) -> None:
    """Appointments and follow-ups are set at most this many days ahead (those already set
    keep their date)."""
    check_configure(by, dealer)
    days = whole_number_in(days, HORIZON_DAYS_RANGE, field="horizon_days")
    if days == dealer.horizon_days:
        return
    dealer.horizon_days = days
    dealer.save(update_fields=["horizon_days"])
    record_change(
        dealer=dealer, by=by, what="horizon_days_set", subject="dealer", detail={"days": days}
    )


def set_effective_call_seconds(*, dealer: Dealer, by: Staff, seconds: int) -> None:
    """A call counts as effective from this many seconds of talk (in every call KPI, past
    calls included: the threshold is read when counting)."""
    check_configure(by, dealer)
    seconds = whole_number_in(seconds, EFFECTIVE_CALL_SECONDS_RANGE, field="effective_call_seconds")
    if seconds == dealer.effective_call_seconds:
        return
    dealer.effective_call_seconds = seconds
    dealer.save(update_fields=["effective_call_seconds"])
    record_change(
        dealer=dealer,
        by=by,
        what="effective_call_seconds_set",
        subject="dealer",
        detail={"seconds": seconds},
    )


# ---------------------------------------------------------------- assignment rules


@dataclass(frozen=True)
class _RuleFields:
    team: TeamKind
    channel: Channel | None
    car_model: str
    priority: int
    members: list[Staff]
    to_team: Team | None


def rule_groups(dealer: Dealer, team: str) -> QuerySet[Team]:
    """The dealer's teams a rule of `team` may route leads to (its DCC groups; for the
    showroom, showroom and field-sales groups)."""
    kinds = GROUP_KINDS.get(TeamKind(team), ()) if team in TeamKind.values else ()
    return Team.objects.filter(dealer=dealer, kind__in=kinds).order_by("name", "pk")


def team_workers(dealer: Dealer, team: str) -> QuerySet[Staff]:
    """The people a rule of `team` may route leads to: active holders of its worker role."""
    return Staff.objects.filter(
        memberships__dealer=dealer,
        memberships__role=TEAM_WORKER[TeamKind(team)],
        memberships__is_active=True,
        is_active=True,
    ).order_by("display_name", "username")


def _rule_fields(
    dealer: Dealer,
    *,
    team: str,
    channel: Channel | None,
    car_model: str,
    priority: int,
    members: Iterable[Staff],
    rule: AssignmentRule | None,
    to_team: Team | None = None,
) -> _RuleFields:
    if team not in TEAM_WORKER:
        raise InvalidInput(_("Choose a team."), code="bad_team", field="team")
    team = TeamKind(team)
    if to_team is not None and not rule_groups(dealer, team).filter(pk=to_team.pk).exists():
        raise InvalidInput(
            _("Choose one of the groups offered."),
            code="bad_group",
            field="to_team",
        )
    if channel is not None and channel.dealer_id != dealer.pk:
        raise InvalidInput(_("Unknown channel."), code="unknown_channel", field="channel")
    car_model = " ".join((car_model or "").split())
    if len(car_model) > NAME_MAX_LENGTH:
        raise InvalidInput(
            _("At most %(max)d characters.") % {"max": NAME_MAX_LENGTH},
            code="car_model_too_long",
            field="car_model",
        )
    priority = whole_number_in(priority, PRIORITY_RANGE, field="priority")
    people = {person.pk: person for person in members}
    if not people and to_team is None:
        raise InvalidInput(
            _("Choose at least one person or a group."), code="members_required", field="members"
        )
    workers = set(
        Membership.objects.filter(
            dealer=dealer,
            role=TEAM_WORKER[team],
            is_active=True,
            staff__is_active=True,
            staff_id__in=people,
        ).values_list("staff_id", flat=True)
    )
    strangers = [str(person) for pk, person in people.items() if pk not in workers]
    if strangers:
        raise InvalidInput(
            _("Not in the %(team)s here: %(names)s.")
            % {"team": team.label, "names": ", ".join(sorted(strangers))},
            code="not_team_worker",
            field="members",
        )
    same = AssignmentRule.objects.filter(
        dealer=dealer, team=team, channel=channel, car_model__iexact=car_model
    )
    if rule is not None:
        same = same.exclude(pk=rule.pk)
    twin = same.first()
    if twin is not None:
        raise InvalidInput(
            _(
                "A rule for this team, channel and model already exists (priority %(priority)d); "
                "change that one instead."
            )
            % {"priority": twin.priority},
            code="duplicate_rule",
        )
    return _RuleFields(
        team=team,
        channel=channel,
        car_model=car_model,
        priority=priority,
        members=list(people.values()),
        to_team=to_team,
    )


def create_assignment_rule(
    *,
    dealer: Dealer,
    by: Staff,
    team: str,
    members: Iterable[Staff],
    channel: Channel | None = None,
    car_model: str = "",
    priority: int = 100,
    to_team: Team | None = None,
) -> AssignmentRule:
    """Route new leads of a channel and/or model to some people of a team, or to whoever is
    in one of its groups when a lead comes."""
    check_configure(by, dealer)
    fields = _rule_fields(
        dealer,
        team=team,
        channel=channel,
        car_model=car_model,
        priority=priority,
        members=members,
        rule=None,
        to_team=to_team,
    )
    with transaction.atomic():
        rule = AssignmentRule.objects.create(
            dealer=dealer,
            team=fields.team,
            channel=fields.channel,
            car_model=fields.car_model,
            priority=fields.priority,
            to_team=fields.to_team,
        )
        rule.members.set(fields.members)
    record_change(dealer=dealer, by=by, what="assignment_rule_created", subject=str(rule.pk))
    return rule


def update_assignment_rule(
    *,
    rule: AssignmentRule,
    by: Staff,
    team: str,
    members: Iterable[Staff],
    channel: Channel | None = None,
    car_model: str = "",
    priority: int = 100,
    to_team: Team | None = None,
) -> AssignmentRule:
    """Change a rule; leads already assigned keep their owners."""
    dealer = rule.dealer
    check_configure(by, dealer)
    fields = _rule_fields(
        dealer,
        team=team,
        channel=channel,
        car_model=car_model,
        priority=priority,
        members=members,
        rule=rule,
        to_team=to_team,
    )
    with transaction.atomic():
        rule.team = fields.team
        rule.channel = fields.channel
        rule.car_model = fields.car_model
        rule.priority = fields.priority
        rule.to_team = fields.to_team
        rule.save(update_fields=["team", "channel", "car_model", "priority", "to_team"])
        rule.members.set(fields.members)
    record_change(dealer=rule.dealer, by=by, what="assignment_rule_updated", subject=str(rule.pk))
    return rule


def delete_assignment_rule(*, rule: AssignmentRule, by: Staff) -> None:
    """Remove a rule; its leads then go to the whole team (or the next matching rule)."""
    check_configure(by, rule.dealer)
    pk = rule.pk
    rule.delete()
    record_change(dealer=rule.dealer, by=by, what="assignment_rule_deleted", subject=str(pk))


# ---------------------------------------------------------------- reason codes


def _reason_label(label: str) -> str:
    return _text(label, field="label", required_message=_("Enter the reason as people say it."))


def create_reason_code(
    *, dealer: Dealer, by: Staff, kind: str, code: str, label: str
) -> ReasonCode:
    """A new reason to mark leads invalid or defeated."""
    check_configure(by, dealer)
    if kind not in ReasonKind.values:
        raise InvalidInput(_("Unknown kind of reason."), code="bad_kind", field="kind")
    code = _code(code)
    label = _reason_label(label)
    taken = InvalidInput(
        _("There already is a reason with the code “%(code)s”.") % {"code": code},
        code="code_taken",
        field="code",
    )
    if ReasonCode.objects.filter(dealer=dealer, kind=kind, code=code).exists():
        raise taken
    try:
        with transaction.atomic():
            reason = ReasonCode.objects.create(dealer=dealer, kind=kind, code=code, label=label)
    except IntegrityError as error:
        raise taken from error
    record_change(dealer=dealer, by=by, what="reason_created", subject=f"{kind}/{code}")
    return reason


def rename_reason_code(*, reason: ReasonCode, by: Staff, label: str) -> ReasonCode:
    """Change what people read; the code that past events refer to stays."""
    check_configure(by, reason.dealer)
    reason.label = _reason_label(label)
    reason.save(update_fields=["label"])
    record_change(
        dealer=reason.dealer,
        by=by,
        what="reason_renamed",
        subject=f"{reason.kind}/{reason.code}",
        detail={"label": reason.label},
    )
    return reason


def set_reason_code_active(*, reason: ReasonCode, by: Staff, is_active: bool) -> ReasonCode:
    """Offer a reason again, or stop offering it. Reasons are never deleted: past events
    refer to them. At least one reason of each kind stays on offer."""
    check_configure(by, reason.dealer)
    if not is_active and reason.is_active:
        others = ReasonCode.objects.filter(
            dealer_id=reason.dealer_id, kind=reason.kind, is_active=True
        ).exclude(pk=reason.pk)
        if not others.exists():
            raise InvalidInput(
                _("Keep at least one active reason of this kind, or nobody can use it."),
                code="last_reason",
            )
    reason.is_active = is_active
    reason.save(update_fields=["is_active"])
    record_change(
        dealer=reason.dealer,
        by=by,
        what="reason_activated" if is_active else "reason_deactivated",
        subject=f"{reason.kind}/{reason.code}",
    )
    return reason
