"""Assignment rules: who gets a lead. The one place that decides owners for new leads,
handoffs to a team, and leads of people on leave.

A lead goes to the first matching rule's members (by channel, then car model, by priority),
or the whole team when no rule matches; among those present, the one with the lowest open
load per unit of weight wins, ties to whoever was assigned longest ago (round-robin). When
nobody on the team is present, the team's supervisor holds the lead (the pool), then the
dealer's managers: no lead is ever without an owner.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Absence, Dealer, Membership, Staff
from accounts.roles import Role
from dcc.errors import Conflict
from leads.models import AssignmentRule, Channel, Lead, Team
from leads.stages import OPEN_STAGES

TEAM_WORKER = {Team.DCC: Role.DCC_AGENT, Team.SHOWROOM: Role.CONSULTANT}
TEAM_HOLDERS = {
    Team.DCC: (Role.DCC_SUPERVISOR, Role.SALES_MANAGER, Role.GM),
    Team.SHOWROOM: (Role.SHOWROOM_MANAGER, Role.SALES_MANAGER, Role.GM),
}


def absent_staff_ids(dealer: Dealer, at: datetime | None = None) -> set[int]:
    at = at or timezone.now()
    return set(
        Absence.objects.filter(dealer=dealer, starts_at__lte=at, ends_at__gt=at).values_list(
            "staff_id", flat=True
        )
    )


def is_absent(staff: Staff, dealer: Dealer, at: datetime | None = None) -> bool:
    return staff.pk in absent_staff_ids(dealer, at)


def _rule_members(
    dealer: Dealer, team: Team, channel: Channel | None, car_model: str
) -> list[int] | None:
    for rule in AssignmentRule.objects.filter(dealer=dealer, team=team).prefetch_related("members"):
        if rule.channel_id and (channel is None or rule.channel_id != channel.pk):
            continue
        if rule.car_model and rule.car_model.casefold() != car_model.casefold():
            continue
        members = [member.pk for member in rule.members.all()]
        if members:
            return members
    return None


def pick_owner(
    dealer: Dealer,
    *,
    team: Team = Team.DCC,
    channel: Channel | None = None,
    car_model: str = "",
    at: datetime | None = None,
    exclude: set[int] | frozenset[int] = frozenset(),
) -> Staff:
    """Choose who gets a lead now, and note the assignment for round-robin."""
    absent = absent_staff_ids(dealer, at) | set(exclude)
    workers = Membership.objects.filter(
        dealer=dealer, role=TEAM_WORKER[team], is_active=True, staff__is_active=True
    ).exclude(staff_id__in=absent)
    members = _rule_members(dealer, team, channel, car_model)
    if members is not None and workers.filter(staff_id__in=members).exists():
        workers = workers.filter(staff_id__in=members)
    candidates = list(workers.select_related("staff"))
    if candidates:
        loads = dict(
            Lead.objects.filter(
                dealer=dealer, owner_id__in=[m.staff_id for m in candidates], stage__in=OPEN_STAGES
            )
            .values_list("owner_id")
            .annotate(n=Count("id"))
        )
        epoch = datetime.min.replace(tzinfo=timezone.get_current_timezone())
        chosen = min(
            candidates,
            key=lambda m: (
                loads.get(m.staff_id, 0) / max(m.weight, 1),
                m.last_assigned_at or epoch,
                m.staff_id,
            ),
        )
        Membership.objects.filter(pk=chosen.pk).update(last_assigned_at=timezone.now())
        return chosen.staff
    return pool_holder(dealer, team=team, absent=absent)


def pool_holder(dealer: Dealer, *, team: Team, absent: set[int]) -> Staff:
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


def is_pool_lead(lead: Lead) -> bool:
    """A new lead held by someone who is not a DCC agent waits in the pool to be claimed."""
    return not Membership.objects.filter(
        dealer_id=lead.dealer_id, staff_id=lead.owner_id, role=Role.DCC_AGENT, is_active=True
    ).exists()


def may_own(staff: Staff, dealer: Dealer) -> bool:
    """Whether `staff` can be handed leads at `dealer` (works the line, not HQ or audit)."""
    return Membership.objects.filter(
        Q(role__in=[*TEAM_WORKER.values(), *TEAM_HOLDERS[Team.DCC], *TEAM_HOLDERS[Team.SHOWROOM]])
        | Q(role=Role.OWNER_OPS),
        dealer=dealer,
        staff=staff,
        is_active=True,
        staff__is_active=True,
    ).exists()
