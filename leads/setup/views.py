"""The dealer's settings, for supervisors and managers: channels, follow-up interval per grade,
assignment rules, reason codes, staff and roles, teams. The views parse and show; the
functions in leads.setup.configuration, leads.teams and accounts.actions check, decide and
write."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from accounts import actions as staff_actions
from accounts.models import Membership, Staff
from accounts.roles import Role, may_edit_staff
from dcc.errors import DomainError, NotPermitted
from dcc.forms import save_form
from leads import staffing, teams
from leads.assignment import TEAM_WORKER
from leads.models import (
    AssignmentRule,
    Channel,
    Lead,
    ReasonCode,
    ReasonKind,
    Team,
    TeamKind,
    TeamMembership,
)
from leads.permissions import may_change_settings, may_edit_teams
from leads.setup import configuration
from leads.setup.forms import (
    AssignmentRuleForm,
    ChannelForm,
    GradeIntervalsForm,
    GrantRoleForm,
    ReasonCodeForm,
    ReasonRenameForm,
    StaffForm,
    TeamForm,
    TeamMemberForm,
    WeightForm,
)
from leads.stages import OPEN_STAGES
from leads.views.common import is_htmx, workbench

# (url name, tab label, what a manager sets there)
SECTIONS = [
    (
        "settings_channels",
        gettext_lazy("Channels"),
        gettext_lazy("Where leads come from: first-response SLA and monthly spend."),
    ),
    (
        "settings_grades",
        gettext_lazy("Follow-up by grade"),
        gettext_lazy(
            "How often leads of each intent grade are followed up, and how far ahead "
            "appointments and follow-ups may be set."
        ),
    ),
    (
        "settings_rules",
        gettext_lazy("Assignment rules"),
        gettext_lazy("Who gets the new leads of a channel or model."),
    ),
    (
        "settings_reasons",
        gettext_lazy("Reason codes"),
        gettext_lazy("Why leads are marked invalid or defeated."),
    ),
    (
        "settings_staff",
        gettext_lazy("Staff and roles"),
        gettext_lazy("Who works here, in which roles, and their share of new leads."),
    ),
    (
        "settings_teams",
        gettext_lazy("Teams"),
        gettext_lazy("The groups people work in (DCC, showroom, field sales), and who leads them."),
    ),
]


def _page(
    request: HttpRequest, template: str, context: dict, *, section: str, status: int = 200
) -> HttpResponse:
    context = {"sections": SECTIONS, "section": section, **context}
    return render(request, f"leads/settings/{template}", context, status=status)


def _form_page(
    request: HttpRequest,
    form: forms.Form,
    *,
    section: str,
    title: str,
    submit: str,
    intro: str = "",
) -> HttpResponse:
    """A settings form on its own page: 422 with the errors in place when it failed."""
    return _page(
        request,
        "form.html",
        {"form": form, "title": title, "submit": submit, "intro": intro, "back": section},
        section=section,
        status=422 if form.errors else 200,
    )


# ---------------------------------------------------------------- landing page


@workbench(may_change_settings)
def dealer_settings(request: HttpRequest) -> HttpResponse:
    """The sections, each with a one-line summary of where the dealer stands."""
    dealer = request.dealer
    channels = Channel.objects.filter(dealer=dealer).aggregate(
        total=Count("id"), active=Count("id", filter=Q(is_active=True))
    )
    reasons = dict(
        ReasonCode.objects.filter(dealer=dealer, is_active=True)
        .values_list("kind")
        .annotate(n=Count("id"))
    )
    staff = (
        Membership.objects.filter(dealer=dealer, is_active=True)
        .exclude(role=Role.HEADQUARTERS)
        .values("staff_id")
        .distinct()
        .count()
    )
    rules = AssignmentRule.objects.filter(dealer=dealer).count()
    team_count = Team.objects.filter(dealer=dealer).count()
    summaries = {
        "settings_channels": _("%(active)d of %(total)d channels active")
        % {"active": channels["active"], "total": channels["total"]},
        "settings_grades": " · ".join(
            [
                *(
                    f"{interval.grade.value} {interval.days}"
                    for interval in configuration.grade_intervals(dealer)
                ),
                ngettext(
                    "at most %(days)d day ahead", "at most %(days)d days ahead", dealer.horizon_days
                )
                % {"days": dealer.horizon_days},
            ]
        ),
        "settings_rules": ngettext("%(count)d rule", "%(count)d rules", rules) % {"count": rules},
        "settings_reasons": _("%(invalid)d invalid and %(defeat)d defeat reasons active")
        % {
            "invalid": reasons.get(ReasonKind.INVALID.value, 0),
            "defeat": reasons.get(ReasonKind.DEFEAT.value, 0),
        },
        "settings_staff": ngettext("%(count)d person", "%(count)d people", staff)
        % {"count": staff},
        "settings_teams": ngettext("%(count)d team", "%(count)d teams", team_count)
        % {"count": team_count},
    }
    cards = [(name, label, description, summaries[name]) for name, label, description in SECTIONS]
    return _page(request, "index.html", {"cards": cards}, section="")


# ---------------------------------------------------------------- channels


@workbench(may_change_settings)
def channel_list(request: HttpRequest) -> HttpResponse:
    channels = Channel.objects.filter(dealer=request.dealer).order_by("-is_active", "group", "code")
    return _page(request, "channels.html", {"channels": channels}, section="settings_channels")


@workbench(may_change_settings)
def channel_new(request: HttpRequest) -> HttpResponse:
    form = ChannelForm(request.POST or None)
    if request.method == "POST" and save_form(
        form,
        lambda: configuration.create_channel(
            dealer=request.dealer, by=request.user, **form.action_kwargs()
        ),
    ):
        messages.success(request, _("Channel added."))
        return redirect("settings_channels")
    return _form_page(
        request,
        form,
        section="settings_channels",
        title=_("New channel"),
        submit=_("Add channel"),
    )


@workbench(may_change_settings)
def channel_edit(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = get_object_or_404(
        Channel.objects.select_related("dealer"), pk=channel_id, dealer=request.dealer
    )
    form = ChannelForm(request.POST or None, channel=channel)
    if request.method == "POST" and save_form(
        form,
        lambda: configuration.update_channel(
            channel=channel, by=request.user, **form.action_kwargs()
        ),
    ):
        messages.success(request, _("Channel saved."))
        return redirect("settings_channels")
    return _form_page(
        request,
        form,
        section="settings_channels",
        title=_("Channel %(name)s") % {"name": _(channel.name)},
        submit=_("Save channel"),
        intro=_("A new SLA applies to leads that arrive from now on."),
    )


# ---------------------------------------------------------------- grades


@workbench(may_change_settings)
def grade_intervals(request: HttpRequest) -> HttpResponse:
    dealer = request.dealer
    intervals = configuration.grade_intervals(dealer)
    form = GradeIntervalsForm(
        request.POST or None,
        intervals=intervals,
        horizon_days=dealer.horizon_days,
        effective_call_seconds=dealer.effective_call_seconds,
    )

    def save() -> None:
        with transaction.atomic():
            configuration.set_follow_up_days(dealer=dealer, by=request.user, days=form.days())
            configuration.set_horizon_days(
                dealer=dealer, by=request.user, days=form.cleaned_data["horizon_days"]
            )
            configuration.set_effective_call_seconds(
                dealer=dealer,
                by=request.user,
                seconds=form.cleaned_data["effective_call_seconds"],
            )

    if request.method == "POST" and save_form(form, save):
        messages.success(request, _("Follow-up intervals saved."))
        return redirect("settings_grades")
    rows = [(form[interval.grade.value], interval) for interval in intervals]
    return _page(
        request,
        "grades.html",
        {
            "form": form,
            "rows": rows,
            "horizon": form["horizon_days"],
            "effective_call": form["effective_call_seconds"],
        },
        section="settings_grades",
        status=422 if form.errors else 200,
    )


# ---------------------------------------------------------------- assignment rules


@workbench(may_change_settings)
def rule_list(request: HttpRequest) -> HttpResponse:
    dealer = request.dealer
    rules = (
        AssignmentRule.objects.filter(dealer=dealer)
        .select_related("channel", "to_team")
        .prefetch_related("members")
        .order_by("priority", "id")
    )
    working = set(
        Membership.objects.filter(
            dealer=dealer,
            role__in=TEAM_WORKER.values(),
            is_active=True,
            staff__is_active=True,
        ).values_list("staff_id", "role")
    )
    rows = [
        (
            rule,
            [
                (person, (person.pk, TEAM_WORKER[TeamKind(rule.team)].value) in working)
                for person in rule.members.all()
            ],
        )
        for rule in rules
    ]
    return _page(request, "rules.html", {"rows": rows}, section="settings_rules")


def _rule_form(request: HttpRequest, rule: AssignmentRule | None) -> HttpResponse:
    dealer = request.dealer
    if is_htmx(request) and request.method == "GET" and "team" in request.GET:
        # The team changed: only the people to choose from are redrawn.
        form = AssignmentRuleForm(
            initial={"team": request.GET["team"]}, dealer=dealer, refresh_url=request.path
        )
        return render(request, "leads/settings/_rule_members.html", {"form": form})
    form = AssignmentRuleForm(
        request.POST or None, dealer=dealer, rule=rule, refresh_url=request.path
    )
    if request.method == "POST":
        if rule is None:
            saved = save_form(
                form,
                lambda: configuration.create_assignment_rule(
                    dealer=dealer, by=request.user, **form.action_kwargs()
                ),
            )
        else:
            saved = save_form(
                form,
                lambda: configuration.update_assignment_rule(
                    rule=rule, by=request.user, **form.action_kwargs()
                ),
            )
        if saved:
            messages.success(request, _("Assignment rule saved."))
            return redirect("settings_rules")
    return _page(
        request,
        "rule_form.html",
        {"form": form, "rule": rule},
        section="settings_rules",
        status=422 if form.errors else 200,
    )


def _dealer_rule(request: HttpRequest, rule_id: int) -> AssignmentRule:
    return get_object_or_404(
        AssignmentRule.objects.select_related("dealer", "channel"),
        pk=rule_id,
        dealer=request.dealer,
    )


@workbench(may_change_settings)
def rule_new(request: HttpRequest) -> HttpResponse:
    return _rule_form(request, None)


@workbench(may_change_settings)
def rule_edit(request: HttpRequest, rule_id: int) -> HttpResponse:
    return _rule_form(request, _dealer_rule(request, rule_id))


@workbench(may_change_settings)
def rule_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    """GET asks to confirm; POST deletes."""
    rule = _dealer_rule(request, rule_id)
    if request.method == "POST":
        try:
            configuration.delete_assignment_rule(rule=rule, by=request.user)
        except NotPermitted as error:
            raise PermissionDenied(error.message) from error
        messages.success(request, _("Assignment rule deleted."))
        return redirect("settings_rules")
    return _page(request, "rule_delete.html", {"rule": rule}, section="settings_rules")


# ---------------------------------------------------------------- reason codes


def _reasons_page(
    request: HttpRequest,
    *,
    bound: ReasonCodeForm | None = None,
    bound_kind: str = "",
    errors: dict[int, str] | None = None,
) -> HttpResponse:
    reasons = ReasonCode.objects.filter(dealer=request.dealer).order_by(
        "kind", "-is_active", "code"
    )
    groups = []
    for kind in ReasonKind:
        form = bound if kind.value == bound_kind else ReasonCodeForm(prefix=kind.value)
        groups.append(
            {
                "kind": kind,
                "reasons": [reason for reason in reasons if reason.kind == kind.value],
                "form": form,
            }
        )
    failed = bool(errors) or bool(bound is not None and bound.errors)
    return _page(
        request,
        "reasons.html",
        {"groups": groups, "errors": errors or {}},
        section="settings_reasons",
        status=422 if failed else 200,
    )


@workbench(may_change_settings)
def reason_list(request: HttpRequest) -> HttpResponse:
    return _reasons_page(request)


@workbench(may_change_settings)
@require_POST
def reason_new(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in ReasonKind.values:
        raise Http404
    form = ReasonCodeForm(request.POST, prefix=kind)
    if save_form(
        form,
        lambda: configuration.create_reason_code(
            dealer=request.dealer, by=request.user, kind=kind, **form.cleaned_data
        ),
    ):
        messages.success(request, _("Reason added."))
        return redirect("settings_reasons")
    return _reasons_page(request, bound=form, bound_kind=kind)


def _dealer_reason(request: HttpRequest, reason_id: int) -> ReasonCode:
    return get_object_or_404(
        ReasonCode.objects.select_related("dealer"), pk=reason_id, dealer=request.dealer
    )


@workbench(may_change_settings)
def reason_edit(request: HttpRequest, reason_id: int) -> HttpResponse:
    reason = _dealer_reason(request, reason_id)
    form = ReasonRenameForm(request.POST or None, reason=reason)
    if request.method == "POST" and save_form(
        form,
        lambda: configuration.rename_reason_code(
            reason=reason, by=request.user, label=form.cleaned_data["label"]
        ),
    ):
        messages.success(request, _("Reason renamed."))
        return redirect("settings_reasons")
    return _form_page(
        request,
        form,
        section="settings_reasons",
        title=_("Rename reason “%(code)s”") % {"code": reason.code},
        submit=_("Save reason"),
        intro=_("Past leads keep this reason and show the new wording."),
    )


@workbench(may_change_settings)
@require_POST
def reason_active(request: HttpRequest, reason_id: int) -> HttpResponse:
    """Stop offering a reason, or offer it again (reasons are never deleted)."""
    reason = _dealer_reason(request, reason_id)
    active = request.POST.get("active") == "1"
    try:
        configuration.set_reason_code_active(reason=reason, by=request.user, is_active=active)
    except NotPermitted as error:
        raise PermissionDenied(error.message) from error
    except DomainError as error:
        return _reasons_page(request, errors={reason.pk: error.message})
    messages.success(
        request,
        (_("“%(reason)s” is offered again.") if active else _("“%(reason)s” is no longer offered."))
        % {"reason": _(reason.label)},
    )
    return redirect("settings_reasons")


# ---------------------------------------------------------------- staff and roles


@dataclass
class RoleRow:
    membership: Membership
    weighted: bool
    may_revoke: bool
    weight_form: WeightForm | None
    error: str = ""


@dataclass
class PersonRow:
    staff: Staff
    open_leads: int
    roles: list[RoleRow] = field(default_factory=list)


def _staff_page(
    request: HttpRequest,
    *,
    grant_form: GrantRoleForm | None = None,
    weight_forms: dict[int, WeightForm] | None = None,
    errors: dict[int, str] | None = None,
) -> HttpResponse:
    """Everyone with a role here, in two queries however many people there are."""
    dealer = request.dealer
    editor = may_edit_staff(request.user, dealer)
    grantable = set(staff_actions.grantable_roles(request.user, dealer))
    weight_forms, errors = weight_forms or {}, errors or {}
    memberships = (
        Membership.objects.filter(dealer=dealer)
        .exclude(role=Role.HEADQUARTERS)
        .select_related("staff")
        .order_by("staff__display_name", "staff__username", "-is_active", "role")
    )
    open_leads = dict(
        Lead.objects.filter(dealer=dealer, stage__in=OPEN_STAGES)
        .values_list("owner_id")
        .annotate(n=Count("id"))
    )
    people: dict[int, PersonRow] = {}
    for membership in memberships:
        row = people.setdefault(
            membership.staff_id,
            PersonRow(membership.staff, open_leads.get(membership.staff_id, 0)),
        )
        weighted = membership.is_active and membership.role in staff_actions.WEIGHTED_ROLES
        weight_form = None
        if weighted and editor:
            weight_form = weight_forms.get(membership.pk) or WeightForm(
                prefix=f"m{membership.pk}", initial={"weight": membership.weight}
            )
        row.roles.append(
            RoleRow(
                membership=membership,
                weighted=weighted,
                may_revoke=membership.is_active and Role(membership.role) in grantable,
                weight_form=weight_form,
                error=errors.get(membership.pk, ""),
            )
        )
    if editor and grant_form is None:
        grant_form = GrantRoleForm(roles=staff_actions.grantable_roles(request.user, dealer))
    failed = bool(errors) or bool(grant_form is not None and grant_form.errors)
    failed = failed or any(form.errors for form in weight_forms.values())
    return _page(
        request,
        "staff.html",
        {"people": list(people.values()), "editor": editor, "grant_form": grant_form},
        section="settings_staff",
        status=422 if failed else 200,
    )


def _check_staff_editor(request: HttpRequest) -> None:
    if not may_edit_staff(request.user, request.dealer):
        raise PermissionDenied


def _dealer_membership(request: HttpRequest, membership_id: int) -> Membership:
    return get_object_or_404(
        Membership.objects.select_related("staff", "dealer").exclude(role=Role.HEADQUARTERS),
        pk=membership_id,
        dealer=request.dealer,
    )


@workbench(may_change_settings)
def staff_list(request: HttpRequest) -> HttpResponse:
    return _staff_page(request)


@workbench(may_change_settings)
def staff_new(request: HttpRequest) -> HttpResponse:
    _check_staff_editor(request)
    form = StaffForm(
        request.POST or None,
        roles=staff_actions.grantable_roles(request.user, request.dealer),
    )
    if request.method == "POST" and save_form(
        form,
        lambda: staff_actions.add_staff(
            dealer=request.dealer, by=request.user, **form.action_kwargs()
        ),
    ):
        messages.success(
            request,
            _("%(name)s can now log in as “%(username)s”.")
            % {
                "name": form.cleaned_data["display_name"],
                "username": form.cleaned_data["username"],
            },
        )
        return redirect("settings_staff")
    return _form_page(
        request,
        form,
        section="settings_staff",
        title=_("Add a person"),
        submit=_("Add person"),
        intro=_("To give someone who already has a login a role here, grant it on the staff page."),
    )


@workbench(may_change_settings)
@require_POST
def staff_grant(request: HttpRequest) -> HttpResponse:
    _check_staff_editor(request)
    form = GrantRoleForm(
        request.POST, roles=staff_actions.grantable_roles(request.user, request.dealer)
    )
    if save_form(
        form,
        lambda: staff_actions.grant_role(
            dealer=request.dealer,
            by=request.user,
            username=form.cleaned_data["username"],
            role=form.cleaned_data["role"],
        ),
    ):
        messages.success(
            request,
            _("%(username)s is now %(role)s here.")
            % {
                "username": form.cleaned_data["username"],
                "role": Role(form.cleaned_data["role"]).label,
            },
        )
        return redirect("settings_staff")
    return _staff_page(request, grant_form=form)


@workbench(may_change_settings)
@require_POST
def membership_revoke(request: HttpRequest, membership_id: int) -> HttpResponse:
    _check_staff_editor(request)
    membership = _dealer_membership(request, membership_id)
    try:
        staffing.revoke_role(membership=membership, by=request.user)
    except NotPermitted as error:
        raise PermissionDenied(error.message) from error
    except DomainError as error:
        return _staff_page(request, errors={membership.pk: error.message})
    messages.success(
        request,
        _("%(name)s is no longer %(role)s here.")
        % {"name": membership.staff, "role": membership.get_role_display()},
    )
    return redirect(reverse("settings_staff") + f"#person-{membership.staff_id}")


@workbench(may_change_settings)
@require_POST
def membership_weight(request: HttpRequest, membership_id: int) -> HttpResponse:
    _check_staff_editor(request)
    membership = _dealer_membership(request, membership_id)
    form = WeightForm(request.POST, prefix=f"m{membership.pk}")
    if save_form(
        form,
        lambda: staff_actions.set_assignment_weight(
            membership=membership, by=request.user, weight=form.cleaned_data["weight"]
        ),
    ):
        messages.success(
            request,
            _("%(name)s now gets new leads with weight %(weight)d.")
            % {"name": membership.staff, "weight": membership.weight},
        )
        return redirect(reverse("settings_staff") + f"#person-{membership.staff_id}")
    if membership.role not in staff_actions.WEIGHTED_ROLES or not membership.is_active:
        # No weight field is shown for this role: say it next to the role instead.
        problems = " ".join(message for errors in form.errors.values() for message in errors)
        return _staff_page(request, errors={membership.pk: problems})
    return _staff_page(request, weight_forms={membership.pk: form})


# ---------------------------------------------------------------- teams


@dataclass
class TeamRow:
    team: Team
    members: list[TeamMembership]
    form: TeamMemberForm | None
    error: str = ""


def _teams_page(
    request: HttpRequest,
    *,
    bound: TeamMemberForm | None = None,
    bound_team: int | None = None,
    errors: dict[int, str] | None = None,
) -> HttpResponse:
    """Each team with its leader and the people in it now (since when), and who is in none."""
    dealer = request.dealer
    editor = may_edit_teams(request.user, dealer)
    errors = errors or {}
    current = (
        TeamMembership.objects.filter(dealer=dealer, ends_at__isnull=True)
        .select_related("staff")
        .order_by("staff__display_name", "staff__username")
    )
    by_team: dict[int, list[TeamMembership]] = {}
    for membership in current:
        by_team.setdefault(membership.team_id, []).append(membership)
    rows = []
    for team in teams.dealer_teams(dealer):
        form = None
        if editor:
            form = bound if team.pk == bound_team else TeamMemberForm(dealer=dealer, team=team)
        rows.append(TeamRow(team, by_team.get(team.pk, []), form, errors.get(team.pk, "")))
    placed = {membership.staff_id for membership in current}
    failed = bool(errors) or bool(bound is not None and bound.errors)
    return _page(
        request,
        "teams.html",
        {
            "rows": rows,
            "editor": editor,
            "unplaced": teams.team_candidates(dealer).exclude(pk__in=placed),
            "from_the_start": teams.FROM_THE_START,
        },
        section="settings_teams",
        status=422 if failed else 200,
    )


def _check_team_editor(request: HttpRequest) -> None:
    if not may_edit_teams(request.user, request.dealer):
        raise PermissionDenied


def _dealer_team(request: HttpRequest, team_id: int) -> Team:
    return get_object_or_404(
        Team.objects.select_related("dealer"), pk=team_id, dealer=request.dealer
    )


@workbench(may_change_settings)
def team_list(request: HttpRequest) -> HttpResponse:
    return _teams_page(request)


def _team_form(request: HttpRequest, team: Team | None) -> HttpResponse:
    _check_team_editor(request)
    dealer = request.dealer
    form = TeamForm(request.POST or None, dealer=dealer, team=team)

    def perform() -> Team:
        if team is None:
            return teams.create_team(dealer=dealer, by=request.user, **form.action_kwargs())
        return teams.update_team(team=team, by=request.user, **form.action_kwargs())

    if request.method == "POST" and save_form(form, perform):
        messages.success(request, _("Team saved."))
        return redirect("settings_teams")
    return _form_page(
        request,
        form,
        section="settings_teams",
        title=_("New team") if team is None else _("Team %(name)s") % {"name": team},
        submit=_("Add team") if team is None else _("Save team"),
        intro=_("People are put in the team on the teams page; its history stays with it."),
    )


@workbench(may_change_settings)
def team_new(request: HttpRequest) -> HttpResponse:
    return _team_form(request, None)


@workbench(may_change_settings)
def team_edit(request: HttpRequest, team_id: int) -> HttpResponse:
    return _team_form(request, _dealer_team(request, team_id))


def _start_of(day: date | None) -> datetime | None:
    """The start of a local day; None (now) when no day is given."""
    if day is None:
        return None
    return timezone.make_aware(datetime.combine(day, time.min))


@workbench(may_change_settings)
@require_POST
def team_member_add(request: HttpRequest, team_id: int) -> HttpResponse:
    """Put a person in the team, or move them here from their team."""
    _check_team_editor(request)
    team = _dealer_team(request, team_id)
    form = TeamMemberForm(request.POST, dealer=request.dealer, team=team)
    if save_form(
        form,
        lambda: teams.place_in_team(
            team=team,
            staff=form.cleaned_data["staff"],
            by=request.user,
            at=_start_of(form.cleaned_data["starts_on"]),
        ),
    ):
        messages.success(
            request,
            _("%(name)s is now in %(team)s.") % {"name": form.cleaned_data["staff"], "team": team},
        )
        return redirect(reverse("settings_teams") + f"#team-{team.pk}")
    return _teams_page(request, bound=form, bound_team=team.pk)


@workbench(may_change_settings)
@require_POST
def team_member_leave(request: HttpRequest, team_id: int, staff_id: int) -> HttpResponse:
    """Take a person out of the team from now; what they did in it still counts for it."""
    _check_team_editor(request)
    team = _dealer_team(request, team_id)
    membership = get_object_or_404(
        TeamMembership.objects.select_related("staff"),
        team=team,
        staff_id=staff_id,
        ends_at__isnull=True,
    )
    try:
        teams.leave_team(staff=membership.staff, dealer=request.dealer, by=request.user)
    except NotPermitted as error:
        raise PermissionDenied(error.message) from error
    except DomainError as error:
        return _teams_page(request, errors={team.pk: error.message})
    messages.success(
        request, _("%(name)s has left %(team)s.") % {"name": membership.staff, "team": team}
    )
    return redirect(reverse("settings_teams") + f"#team-{team.pk}")
