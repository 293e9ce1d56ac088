"""A dealer's teams (DCC invitation groups, the showroom, field sales, marketing and network)
and who was in which when. A person is in at most one team of a dealer at a time; moving
ends one membership and starts the next, so history keeps the team a person was in when an
event happened (`team_of`, and `team_at` for queries that count).

Every change goes through a function here, which checks that the person may change the
dealer's teams, validates, writes and records who changed what.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.db.models import BigIntegerField, Case, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.audit import record_change
from accounts.models import Dealer, Membership, Staff
from accounts.roles import Role
from dcc.errors import InvalidInput, NotPermitted
from leads.models import Team, TeamKind, TeamMembership
from leads.permissions import may_edit_teams

NAME_MAX_LENGTH = 100
# People placed in a default team when their dealer is set up count in it for all their
# history before: before teams were kept, the line's roles were its teams.
FROM_THE_START = datetime(2000, 1, 1, tzinfo=UTC)
# The teams every dealer starts with: kind, name, the role that leads it, the roles in it.
DEFAULT_TEAMS: list[tuple[TeamKind, str, Role, tuple[Role, ...]]] = [
    (
        TeamKind.DCC,
        gettext_noop("DCC invitation group"),
        Role.DCC_SUPERVISOR,
        (Role.DCC_SUPERVISOR, Role.DCC_AGENT),
    ),
    (
        TeamKind.SHOWROOM,
        gettext_noop("Showroom group"),
        Role.SHOWROOM_MANAGER,
        (Role.SHOWROOM_MANAGER, Role.CONSULTANT),
    ),
]


# ---------------------------------------------------------------- who was in which team


def _in_team_at(at: datetime | OuterRef) -> Q:
    return Q(starts_at__lte=at) & (Q(ends_at__isnull=True) | Q(ends_at__gt=at))


def team_of(staff: Staff, dealer: Dealer, at: datetime | None = None) -> Team | None:
    """The team `staff` was in at `dealer` at the instant `at` (default: now), if any."""
    at = at or timezone.now()
    membership = (
        TeamMembership.objects.filter(_in_team_at(at), dealer=dealer, staff=staff)
        .select_related("team")
        .order_by("-starts_at")
        .first()
    )
    return membership.team if membership else None


# Up to this many memberships, team_at spells them out as a CASE; past it (headquarters
# over many dealers) each row looks its team up.
TEAM_CASE_LIMIT = 200


def team_at(
    staff: str, dealer: str, at: str, *, dealer_ids: list[int] | None = None
) -> Subquery | Case:
    """The id of the team the person in field `staff` of the outer query was in at its
    dealer (`dealer`) at the instant in field `at`: a query expression for counting.

    Given the dealers the rows belong to, their few memberships become a CASE over the row's
    own columns: a subquery per row costs more than the rest of a month's count."""
    if dealer_ids is not None:
        spans = list(
            TeamMembership.objects.filter(dealer_id__in=dealer_ids)
            .order_by("-starts_at", "-pk")
            .values_list("staff_id", "dealer_id", "starts_at", "ends_at", "team_id")[
                : TEAM_CASE_LIMIT + 1
            ]
        )
        if len(spans) <= TEAM_CASE_LIMIT:
            cases = [
                When(
                    Q(**{staff: staff_id, dealer: dealer_id, f"{at}__gte": starts_at})
                    & (Q() if ends_at is None else Q(**{f"{at}__lt": ends_at})),
                    then=Value(team_id),
                )
                for staff_id, dealer_id, starts_at, ends_at, team_id in spans
            ]
            return Case(*cases, default=None, output_field=BigIntegerField())
    found = TeamMembership.objects.filter(
        _in_team_at(OuterRef(at)), staff_id=OuterRef(staff), dealer_id=OuterRef(dealer)
    )
    return Subquery(found.order_by("-starts_at").values("team_id")[:1])


def teams_at(dealer: Dealer, at: datetime | None = None) -> dict[int, Team]:
    """Each person's team at `dealer` at `at` (default: now), by staff id: one query."""
    at = at or timezone.now()
    found = (
        TeamMembership.objects.filter(_in_team_at(at), dealer=dealer)
        .select_related("team")
        .order_by("starts_at")
    )
    return {membership.staff_id: membership.team for membership in found}


def members_at(team: Team, at: datetime | None = None) -> QuerySet[Staff]:
    """The people in `team` at `at` (default: now), by name."""
    at = at or timezone.now()
    here = TeamMembership.objects.filter(_in_team_at(at), team=team).values("staff_id")
    return Staff.objects.filter(pk__in=here).order_by("display_name", "username")


def dealer_teams(dealer: Dealer) -> list[Team]:
    """The dealer's teams in the order of the line (DCC groups first), then by name."""
    order = {kind.value: rank for rank, kind in enumerate(TeamKind)}
    teams = list(Team.objects.filter(dealer=dealer).select_related("leader"))
    teams.sort(key=lambda team: (order.get(team.kind, len(order)), str(team), team.pk))
    return teams


def board_teams(dealer: Dealer, *, kinds: tuple[TeamKind, ...] = ()) -> list[Team]:
    """The teams a board offers to cut by (of `kinds`, when given)."""
    return [team for team in dealer_teams(dealer) if not kinds or team.kind in kinds]


def board_team(staff: Staff, wanted: str | None, offered: list[Team]) -> Team | None:
    """The team of `offered` a board is cut by: the one asked for by id, none for "all" (or
    a team not offered), and when nothing is asked, the one DCC group `staff` leads (a
    supervisor of one DCC group sees that group)."""
    if wanted is None:
        led = [t for t in offered if t.kind == TeamKind.DCC and t.leader_id == staff.pk]
        return led[0] if len(led) == 1 else None
    return next((team for team in offered if str(team.pk) == wanted), None)


def team_candidates(dealer: Dealer) -> QuerySet[Staff]:
    """Who can be put in a team or lead one: active people with a role here (not
    headquarters), by name."""
    working = (
        Membership.objects.filter(dealer=dealer, is_active=True)
        .exclude(role=Role.HEADQUARTERS)
        .values("staff_id")
    )
    return Staff.objects.filter(pk__in=working, is_active=True).order_by("display_name", "username")


# ---------------------------------------------------------------- changing teams


def _check_editor(by: Staff, dealer: Dealer) -> None:
    if not may_edit_teams(by, dealer):
        raise NotPermitted(_("Only the general manager and the sales manager change teams."))


def _fields(
    dealer: Dealer, *, kind: str, name: str, leader: Staff | None, team: Team | None
) -> tuple[TeamKind, str]:
    if kind not in TeamKind.values:
        raise InvalidInput(_("Choose a kind of team."), code="bad_kind", field="kind")
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput(_("Enter a name."), code="name_required", field="name")
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInput(
            _("At most %(max)d characters.") % {"max": NAME_MAX_LENGTH},
            code="name_too_long",
            field="name",
        )
    twins = Team.objects.filter(dealer=dealer, name__iexact=name)
    if team is not None:
        twins = twins.exclude(pk=team.pk)
    if twins.exists():
        raise InvalidInput(
            _("Another team here has this name."), code="duplicate_team", field="name"
        )
    if leader is not None and not _works_here(leader, dealer):
        raise InvalidInput(
            _("%(name)s does not work here.") % {"name": leader}, code="bad_leader", field="leader"
        )
    return TeamKind(kind), name


def _works_here(staff: Staff, dealer: Dealer) -> bool:
    return team_candidates(dealer).filter(pk=staff.pk).exists()


def create_team(
    *, dealer: Dealer, by: Staff, kind: str, name: str, leader: Staff | None = None
) -> Team:
    """A new team at `dealer`, empty until people are placed in it."""
    _check_editor(by, dealer)
    kind, name = _fields(dealer, kind=kind, name=name, leader=leader, team=None)
    try:
        with transaction.atomic():
            team = Team.objects.create(dealer=dealer, kind=kind, name=name, leader=leader)
    except IntegrityError as error:  # the same name, added at the same moment
        raise InvalidInput(
            _("Another team here has this name."), code="duplicate_team", field="name"
        ) from error
    record_change(
        dealer=dealer,
        by=by,
        what="team_created",
        subject=name,
        detail={"kind": kind.value, "leader": leader.username if leader else None},
    )
    return team


def update_team(
    *, team: Team, by: Staff, kind: str, name: str, leader: Staff | None = None
) -> Team:
    """Rename a team, change its kind or its leader; its history stays with it."""
    dealer = team.dealer
    _check_editor(by, dealer)
    kind, name = _fields(dealer, kind=kind, name=name, leader=leader, team=team)
    team.kind, team.name, team.leader = kind, name, leader
    team.save(update_fields=["kind", "name", "leader"])
    record_change(
        dealer=dealer,
        by=by,
        what="team_changed",
        subject=name,
        detail={"kind": kind.value, "leader": leader.username if leader else None},
    )
    return team


def place_in_team(
    *, team: Team, staff: Staff, by: Staff, at: datetime | None = None
) -> TeamMembership:
    """Put `staff` in `team` from `at` (default: now). Someone in another team moves: their
    time there ends at `at`, so what they did before still counts for the team they were in."""
    dealer = team.dealer
    _check_editor(by, dealer)
    now = timezone.now()
    at = at or now
    if at > now:
        raise InvalidInput(
            _("A move takes effect now or in the past."), code="future_move", field="starts_at"
        )
    if not _works_here(staff, dealer):
        raise InvalidInput(
            _("%(name)s does not work here.") % {"name": staff}, code="bad_member", field="staff"
        )
    with transaction.atomic():
        # Lock the person's periods so two moves at once cannot both open one.
        periods = list(
            TeamMembership.objects.select_for_update(of=("self",))
            .filter(dealer=dealer, staff=staff)
            .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=at))
            .select_related("team")
        )
        current = next((p for p in periods if p.ends_at is None), None)
        if current is not None and current.team_id == team.pk:
            raise InvalidInput(
                _("%(name)s is already in %(team)s.") % {"name": staff, "team": team},
                code="already_member",
                field="staff",
            )
        later = [p for p in periods if p is not current or p.starts_at >= at]
        if later:
            raise InvalidInput(
                _("%(name)s was in %(team)s after that; choose a later date.")
                % {"name": staff, "team": later[0].team},
                code="overlapping_membership",
                field="starts_at",
            )
        if current is not None:
            current.ends_at = at
            current.save(update_fields=["ends_at"])
        try:
            with transaction.atomic():
                membership = TeamMembership.objects.create(
                    dealer=dealer, team=team, staff=staff, starts_at=at
                )
        except IntegrityError as error:  # placed elsewhere at the same moment
            raise InvalidInput(
                _("%(name)s was just put in a team by someone else; look again.") % {"name": staff},
                code="placed_meanwhile",
                field="staff",
            ) from error
    record_change(
        dealer=dealer,
        by=by,
        what="team_member_placed",
        subject=staff.username,
        detail={
            "team": team.name,
            "from_team": current.team.name if current else None,
            "at": at.isoformat(),
        },
    )
    return membership


def leave_team(*, staff: Staff, dealer: Dealer, by: Staff, at: datetime | None = None) -> None:
    """End `staff`'s time in their current team at `at` (default: now)."""
    _check_editor(by, dealer)
    at = at or timezone.now()
    with transaction.atomic():
        current = (
            TeamMembership.objects.select_for_update(of=("self",))
            .filter(dealer=dealer, staff=staff, ends_at__isnull=True)
            .select_related("team")
            .first()
        )
        if current is None:
            raise InvalidInput(
                _("%(name)s is in no team here.") % {"name": staff}, code="not_member"
            )
        if current.starts_at >= at:
            current.delete()  # placed by mistake a moment ago: it never counted
        else:
            current.ends_at = at
            current.save(update_fields=["ends_at"])
    record_change(
        dealer=dealer,
        by=by,
        what="team_member_left",
        subject=staff.username,
        detail={"team": current.team.name, "at": at.isoformat()},
    )


# ---------------------------------------------------------------- a new dealer's teams


def set_up_teams(dealer: Dealer) -> None:
    """Give `dealer` its default teams (a DCC invitation group led by the DCC supervisor, a
    showroom group led by the showroom manager) when it has none of that kind, and place
    everyone holding their roles who is in no team yet. Run again after people are added,
    it places the newcomers and keeps what was changed since."""
    placed = set(
        TeamMembership.objects.filter(dealer=dealer, ends_at__isnull=True).values_list(
            "staff_id", flat=True
        )
    )
    holders: dict[str, list[int]] = {}
    for staff_id, role in (
        Membership.objects.filter(dealer=dealer, is_active=True, staff__is_active=True)
        .order_by("staff_id")
        .values_list("staff_id", "role")
    ):
        holders.setdefault(role, []).append(staff_id)
    for kind, name, leader_role, roles in DEFAULT_TEAMS:
        team = Team.objects.filter(dealer=dealer, kind=kind).order_by("pk").first()
        if team is None:
            team = Team.objects.create(dealer=dealer, kind=kind, name=name)
        if team.leader_id is None and holders.get(leader_role):
            team.leader_id = holders[leader_role][0]
            team.save(update_fields=["leader"])
        for role in roles:
            for staff_id in holders.get(role, []):
                if staff_id in placed:
                    continue
                TeamMembership.objects.create(
                    dealer=dealer, team=team, staff_id=staff_id, starts_at=FROM_THE_START
                )
                placed.add(staff_id)
