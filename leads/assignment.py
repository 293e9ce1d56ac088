"""Assignment rules: who gets a lead. The one place that decides owners for new leads,
handoffs to a team, and leads of people on leave.

A lead goes to the first matching rule's members (by channel, then car model, by priority:
the people it names and whoever is in its group at the time), or the whole team when no rule
matches; among those present, the one with the lowest open load per unit of weight wins, ties
to whoever was assigned longest ago (round-robin). When nobody on the team is present, the
team's supervisor holds the lead (the pool), then the dealer's managers: no lead is ever
without an owner.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Absence, Dealer, Membership, Staff
from accounts.roles import Role
from dcc.errors import Conflict, InvalidInput
from leads.models import AssignmentRule, Lead, TeamKind, TeamMembership
from leads.stages import OPEN_STAGES

TEAM_WORKER = {TeamKind.DCC: Role.DCC_AGENT, TeamKind.SHOWROOM: Role.CONSULTANT}
# The groups a rule of each team may route to: direct-sales staff of field sales are
# consultants too.
GROUP_KINDS = {
    TeamKind.DCC: (TeamKind.DCC,),
    TeamKind.SHOWROOM: (TeamKind.SHOWROOM, TeamKind.FIELD_SALES),
}
TEAM_HOLDERS = {
    TeamKind.DCC: (Role.DCC_SUPERVISOR, Role.SALES_MANAGER, Role.GM),
    TeamKind.SHOWROOM: (Role.SHOWROOM_MANAGER, Role.SALES_MANAGER, Role.GM),
}


def absent_staff_ids(dealer: Dealer, at: datetime | None = None) -> set[int]:
    at = at or timezone.now()
    return set(
        Absence.objects.filter(dealer=dealer, starts_at__lte=at, ends_at__gt=at).values_list(
            "staff_id", flat=True
        )
    )


class Assigner:
    """Picks owners for a team of one dealer: the team, its rules, absences and open loads are
    read once and kept up to date in memory, so an import can assign thousands of leads
    without a query each. `pick_owner` is the same for one lead."""

    def __init__(
        self,
        dealer: Dealer,
        *,
        team: TeamKind = TeamKind.DCC,
        exclude: frozenset[int] = frozenset(),
    ) -> None:
        if team not in TEAM_WORKER:
            raise InvalidInput(
                _("Leads go by rule to the DCC team or the showroom; name a person instead."),
                code="bad_team",
                field="team",
            )
        self.dealer, self.team = dealer, TeamKind(team)
        workers = Membership.objects.filter(
            dealer=dealer, role=TEAM_WORKER[team], is_active=True, staff__is_active=True
        ).exclude(staff_id__in=exclude)
        self.workers = {m.staff_id: m for m in workers.select_related("staff")}
        self.exclude = set(exclude)
        rules = AssignmentRule.objects.filter(dealer=dealer, team=team).prefetch_related("members")
        self.rules = [
            (
                rule.channel_id,
                rule.car_model.casefold(),
                {m.pk for m in rule.members.all()},
                rule.to_team_id,
            )
            for rule in rules
        ]
        # Who was in the rules' groups when: a lead goes to the group as it was at its time.
        groups = {team_id for *_rule, team_id in self.rules if team_id}
        self.periods = (
            list(
                TeamMembership.objects.filter(team_id__in=groups).values_list(
                    "team_id", "staff_id", "starts_at", "ends_at"
                )
            )
            if groups
            else []
        )
        self.absences = list(
            Absence.objects.filter(dealer=dealer).values_list("staff_id", "starts_at", "ends_at")
        )
        self.loads: dict[int, int] = dict(
            Lead.objects.filter(dealer=dealer, owner_id__in=self.workers, stage__in=OPEN_STAGES)
            .values_list("owner_id")
            .annotate(n=Count("id"))
        )
        self._epoch = datetime.min.replace(tzinfo=timezone.get_current_timezone())
        self.marked: set[int] = set()
        self._holders: dict[frozenset[int], Staff] = {}

    def absent(self, at: datetime) -> set[int]:
        return {staff for staff, starts, ends in self.absences if starts <= at < ends}

    def _rule_members(
        self, channel_id: int | None, car_model: str, at: datetime
    ) -> set[int] | None:
        for rule_channel, rule_model, named, team_id in self.rules:
            if rule_channel and rule_channel != channel_id:
                continue
            if rule_model and rule_model != car_model.casefold():
                continue
            members = named | {
                staff
                for team, staff, starts, ends in self.periods
                if team == team_id and starts <= at and (ends is None or at < ends)
            }
            if members:
                return members
        return None

    def pick(
        self,
        *,
        channel_id: int | None = None,
        car_model: str = "",
        at: datetime | None = None,
        exclude: frozenset[int] = frozenset(),
    ) -> Staff:
        """Who gets the next lead; nothing is noted until `assigned` (or `mark`)."""
        at = at or timezone.now()
        absent = self.absent(at) | self.exclude | exclude
        present = [m for pk, m in self.workers.items() if pk not in absent]
        members = self._rule_members(channel_id, car_model, at)
        if members is not None:
            chosen = [m for m in present if m.staff_id in members]
            present = chosen or present
        if present:
            best = min(
                present,
                key=lambda m: (
                    self.loads.get(m.staff_id, 0) / max(m.weight, 1),
                    m.last_assigned_at or self._epoch,
                    m.staff_id,
                ),
            )
            return best.staff
        key = frozenset(absent)
        if key not in self._holders:
            self._holders[key] = pool_holder(self.dealer, team=self.team, absent=absent)
        return self._holders[key]

    def assigned(self, staff_id: int) -> None:
        """Note that `staff_id` was given a lead: their turn, and one more open lead."""
        if self.mark(staff_id):
            self.loads[staff_id] = self.loads.get(staff_id, 0) + 1

    def mark(self, staff_id: int) -> bool:
        """Note `staff_id`'s turn in the round-robin; False when they are not in it."""
        member = self.workers.get(staff_id)
        if member is None:
            return False  # a pool holder or a named owner outside the team: no round-robin
        now = timezone.now()
        last = member.last_assigned_at
        # Strictly later than the previous mark, so that ties go round in order.
        member.last_assigned_at = max(now, last + timedelta(microseconds=1)) if last else now
        self.marked.add(staff_id)
        return True

    def flush(self) -> None:
        """Write the round-robin marks of those assigned since the last flush, in id order:
        writers lock the same rows in the same order (see leads.batch on the tallies)."""
        for staff_id in sorted(self.marked):
            member = self.workers[staff_id]
            Membership.objects.filter(pk=member.pk).update(last_assigned_at=member.last_assigned_at)
        self.marked.clear()


def pick_owner(
    dealer: Dealer,
    *,
    team: TeamKind = TeamKind.DCC,
    channel_id: int | None = None,
    car_model: str = "",
    at: datetime | None = None,
    exclude: set[int] | frozenset[int] = frozenset(),
) -> Staff:
    """Choose who gets a lead now, and note the assignment for round-robin."""
    assigner = Assigner(dealer, team=team, exclude=frozenset(exclude))
    chosen = assigner.pick(channel_id=channel_id, car_model=car_model, at=at)
    assigner.assigned(chosen.pk)
    assigner.flush()
    return chosen


def pool_holder(dealer: Dealer, *, team: TeamKind, absent: set[int]) -> Staff:
    """Who holds a team's leads while no worker is present: supervisor, then managers."""
    for role in TEAM_HOLDERS[team]:
        holder = (
            Staff.objects.filter(
                memberships__dealer=dealer,
                memberships__role=role,
                memberships__is_active=True,
                is_active=True,
            )
            .exclude(pk__in=absent)
            .order_by("pk")
            .first()
        )
        if holder:
            return holder
    raise Conflict(
        _("Nobody at %(dealer)s can take leads: add staff or end an absence.")
        % {"dealer": dealer.name},
        code="no_assignee",
    )


def on_duty(dealer: Dealer, *, team: TeamKind, at: datetime | None = None) -> QuerySet[Staff]:
    """The team's workers at work now: active, not on leave."""
    return (
        Staff.objects.filter(
            memberships__dealer=dealer,
            memberships__role=TEAM_WORKER[team],
            memberships__is_active=True,
            is_active=True,
        )
        .exclude(pk__in=absent_staff_ids(dealer, at))
        .distinct()
        .order_by("display_name", "username")
    )


def showroom_receiver(
    dealer: Dealer,
    *,
    by: Staff,
    owner: Staff | None = None,
    channel_id: int | None = None,
    car_model: str = "",
    at: datetime | None = None,
    pick: Callable[..., Staff] | None = None,
) -> Staff:
    """Who receives a visitor when reception names nobody: the customer's own consultant when
    on duty, else the consultant at reception, else the next consultant on duty in turn (the
    showroom's rules; its manager holds the customer only when no consultant is at work).
    `pick` picks that next one (a batch keeps its own turns); by default `pick_owner`."""
    present = set(on_duty(dealer, team=TeamKind.SHOWROOM, at=at).values_list("pk", flat=True))
    for candidate in (owner, by):
        if candidate is not None and candidate.pk in present:
            return candidate
    if pick is not None:
        return pick(TeamKind.SHOWROOM, channel_id=channel_id, car_model=car_model, at=at)
    return pick_owner(
        dealer, team=TeamKind.SHOWROOM, channel_id=channel_id, car_model=car_model, at=at
    )


def is_pool_lead(lead: Lead) -> bool:
    """A new lead held by someone who is not a DCC agent waits in the pool to be claimed."""
    return not Membership.objects.filter(
        dealer_id=lead.dealer_id, staff_id=lead.owner_id, role=Role.DCC_AGENT, is_active=True
    ).exists()


# Who can be handed leads: the line and those who hold its pool, not headquarters, audit or
# marketing.
OWNER_ROLES = frozenset(
    {
        *TEAM_WORKER.values(),
        *TEAM_HOLDERS[TeamKind.DCC],
        *TEAM_HOLDERS[TeamKind.SHOWROOM],
        Role.OWNER_OPS,
    }
)


def lead_owners(dealer: Dealer) -> QuerySet[Staff]:
    """The people who can be handed leads at `dealer`, by name."""
    members = Membership.objects.filter(dealer=dealer, role__in=OWNER_ROLES, is_active=True)
    return Staff.objects.filter(pk__in=members.values("staff_id"), is_active=True).order_by(
        "display_name", "username"
    )


def may_own(staff: Staff, dealer: Dealer) -> bool:
    """Whether `staff` can be handed leads at `dealer`."""
    return lead_owners(dealer).filter(pk=staff.pk).exists()
