"""The permission matrix (docs/permissions.md), enforced here and nowhere else.

Who sees which leads:
- GM, sales, marketing and showroom managers, auditors: every lead of their dealer.
- DCC supervisor and agents: their dealer's leads in the invite stages, plus any they own
  or owned.
- Consultants: leads they own or owned. Owner-ops specialists: those plus delivered leads.
  Platform specialists: those plus leads they entered.
- Headquarters: every lead of the dealers they are granted, read-only.
Nobody sees another dealer's data. Who may do what to a lead is the stage machine's
performer/overseer table (leads.stages.SPECS), checked by `authorize`.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from accounts.models import Dealer, Membership, Staff
from accounts.roles import DCC_TEAM, DEALER_MANAGERS, SUPERVISORS, Role
from dcc.errors import NotFound, NotPermitted, TransitionNotAllowed
from leads.assignment import is_pool_lead
from leads.models import Event, Lead, Task
from leads.stages import (
    EXIT_STAGES,
    INVITE_STAGES,
    Action,
    Stage,
    check_performer,
    check_stage,
    may_perform,
)

# Who may enter a lead by hand or through an integration.
LEAD_CREATORS = frozenset(
    {
        Role.GM,
        Role.SALES_MANAGER,
        Role.MARKETING_MANAGER,
        Role.PLATFORM_SPECIALIST,
        Role.DCC_SUPERVISOR,
        Role.DCC_AGENT,
        Role.SHOWROOM_MANAGER,
        Role.CONSULTANT,
    }
)
# Who changes a dealer's settings (channels, grades, rules, reasons), and who its staff and
# roles.
SETTINGS_EDITORS = SUPERVISORS
STAFF_EDITORS = frozenset({Role.GM, Role.SALES_MANAGER})
# Who sees every customer's full phone number; others see it masked.
FULL_PHONE_ROLES = DEALER_MANAGERS - {Role.AUDITOR} | SUPERVISORS


def roles_by_dealer(staff: Staff) -> dict[int, frozenset[str]]:
    """Active roles of `staff`, per dealer id (cached on the instance for the request)."""
    cached = getattr(staff, "_dcc_roles", None)
    if cached is None:
        grouped: dict[int, set[str]] = {}
        for dealer_id, role in Membership.objects.filter(staff=staff, is_active=True).values_list(
            "dealer_id", "role"
        ):
            grouped.setdefault(dealer_id, set()).add(role)
        cached = {dealer_id: frozenset(roles) for dealer_id, roles in grouped.items()}
        staff._dcc_roles = cached
    return cached


def roles_at(staff: Staff, dealer_id: int) -> frozenset[str]:
    return roles_by_dealer(staff).get(dealer_id, frozenset())


def dealers_of(staff: Staff) -> QuerySet[Dealer]:
    return Dealer.objects.filter(pk__in=roles_by_dealer(staff).keys())


def _ever_owned(staff: Staff, dealer_id: int) -> Q:
    return Q(pk__in=Event.objects.filter(dealer_id=dealer_id, to_owner=staff).values("lead_id"))


def _dealer_scope(staff: Staff, dealer_id: int, roles: frozenset[str]) -> Q | None:
    here = Q(dealer_id=dealer_id)
    if roles & (DEALER_MANAGERS | {Role.HEADQUARTERS}):
        return here
    mine = Q(owner=staff) | _ever_owned(staff, dealer_id)
    if Role.DCC_SUPERVISOR in roles:  # also the exits, which supervisors may reactivate
        return here & (Q(stage__in=INVITE_STAGES + EXIT_STAGES) | mine)
    if roles & DCC_TEAM:
        return here & (Q(stage__in=INVITE_STAGES) | mine)
    if Role.OWNER_OPS in roles:
        mine |= Q(stage=Stage.DELIVERED)
    if Role.PLATFORM_SPECIALIST in roles:
        mine |= Q(created_by=staff)
    if roles:
        return here & mine
    return None


def visible_leads(staff: Staff, *, dealer_id: int | None = None) -> QuerySet[Lead]:
    """The leads `staff` may see, at one dealer or at all of theirs."""
    scopes = roles_by_dealer(staff)
    if dealer_id is not None:
        scopes = {dealer_id: scopes[dealer_id]} if dealer_id in scopes else {}
    condition = Q(pk__in=[])
    for dealer, roles in scopes.items():
        scope = _dealer_scope(staff, dealer, roles)
        if scope is not None:
            condition |= scope
    return Lead.objects.filter(condition)


def get_visible_lead(staff: Staff, lead_id: int) -> Lead:
    """The lead, or NotFound when it does not exist or `staff` may not see it (the same answer,
    so that another dealer's ids reveal nothing)."""
    lead = visible_leads(staff).filter(pk=lead_id).first()
    if lead is None:
        raise NotFound(_("Lead %(id)s not found.") % {"id": lead_id}, code="lead_not_found")
    return lead


def authorize(staff: Staff, lead: Lead, action: Action) -> None:
    """Raise NotPermitted unless `staff` may perform `action` on `lead` now."""
    roles = roles_at(staff, lead.dealer_id) - {Role.HEADQUARTERS}
    check_performer(action, roles=roles, is_owner=lead.owner_id == staff.pk)


def authorize_create(staff: Staff, dealer_id: int) -> None:
    if not roles_at(staff, dealer_id) & LEAD_CREATORS:
        raise NotPermitted(_("You may not enter leads at this dealer."), code="not_permitted")


def may_reveal(staff: Staff, lead: Lead) -> bool:
    """Revealing a number is dealer work: headquarters reads, it does not call customers."""
    return bool(roles_at(staff, lead.dealer_id) - {Role.HEADQUARTERS})


def authorize_reveal(staff: Staff, lead: Lead) -> None:
    if not may_reveal(staff, lead):
        raise NotPermitted(
            _("Headquarters cannot reveal customers' numbers."), code="not_permitted"
        )


def may_see_phone(staff: Staff, lead: Lead) -> bool:
    """Full number for the lead's current owner and managers; masked for everyone else."""
    return lead.owner_id == staff.pk or bool(roles_at(staff, lead.dealer_id) & FULL_PHONE_ROLES)


def member_dealer_ids(staff: Staff, roles: Iterable[str] | None = None) -> list[int]:
    wanted = set(roles) if roles is not None else None
    return [
        dealer_id
        for dealer_id, held in roles_by_dealer(staff).items()
        if wanted is None or held & wanted
    ]


def visible_tasks(staff: Staff) -> QuerySet[Task]:
    """Own tasks everywhere; supervisors and managers also those on leads they can see."""
    overseen = member_dealer_ids(staff, SUPERVISORS | DEALER_MANAGERS)
    on_visible_leads = Q(dealer_id__in=overseen, lead_id__in=visible_leads(staff).values("pk"))
    return Task.objects.filter(Q(assignee=staff) | on_visible_leads)


def available_actions(staff: Staff, lead: Lead) -> list[Action]:
    """The actions `staff` may take on `lead` right now: what the UI offers."""
    roles = roles_at(staff, lead.dealer_id) - {Role.HEADQUARTERS}
    offered = []
    for action in Action:
        try:
            check_stage(action, stage=lead.stage, defeat_pending=lead.defeat_pending)
        except TransitionNotAllowed:
            continue
        if not may_perform(action, roles=roles, is_owner=lead.owner_id == staff.pk):
            continue
        if action is Action.CANCEL_APPOINTMENT and lead.appointment_at is None:
            continue
        if action is Action.CLAIM and (lead.owner_id == staff.pk or not is_pool_lead(lead)):
            continue
        offered.append(action)
    return offered


# Who reads a dealer's KPIs: its managers and supervisors, and headquarters for the dealers
# it is granted. (People on the line read their own scorecard: may_see_own_scorecard.)
KPI_VIEWERS = DEALER_MANAGERS | SUPERVISORS | {Role.HEADQUARTERS}


def may_see_kpis(staff: Staff, dealer_id: int) -> bool:
    return bool(roles_at(staff, dealer_id) & KPI_VIEWERS)


# Who reads their own scorecard (their row alone, not their colleagues'): the people on the
# line, who are scored but do not read the dealer's KPIs.
OWN_SCORECARD_READERS = frozenset({Role.DCC_AGENT, Role.CONSULTANT, Role.OWNER_OPS})


def may_see_own_scorecard(staff: Staff, dealer_id: int) -> bool:
    return bool(roles_at(staff, dealer_id) & OWN_SCORECARD_READERS)


# Who reads the DCC supervisor's board (each agent's calls, bookings, arrivals, response
# times): the DCC supervisor, the GM and sales manager, and headquarters for granted dealers.
DCC_BOARD_VIEWERS = frozenset({Role.DCC_SUPERVISOR, Role.GM, Role.SALES_MANAGER, Role.HEADQUARTERS})


def may_see_dcc_board(staff: Staff, dealer_id: int) -> bool:
    return bool(roles_at(staff, dealer_id) & DCC_BOARD_VIEWERS)


def may_see_team_board(staff: Staff, dealer_id: int) -> bool:
    """The team pages (board, defeats, reassignment, absences): the dealer's supervisors."""
    return bool(roles_at(staff, dealer_id) & SUPERVISORS)


def may_see_headquarters(staff: Staff) -> bool:
    """The headquarters page: headquarters users, and anyone who reads the KPIs of more
    than one dealer."""
    held = roles_by_dealer(staff)
    if any(Role.HEADQUARTERS in roles for roles in held.values()):
        return True
    return sum(1 for dealer_id in held if may_see_kpis(staff, dealer_id)) > 1


# Who imports files of leads (with history entered in other people's names).
IMPORTERS = SUPERVISORS


def may_import(staff: Staff, dealer_id: int) -> bool:
    return bool(roles_at(staff, dealer_id) & IMPORTERS)


# Who sets the dealer's monthly order target.
TARGET_SETTERS = frozenset({Role.GM, Role.SALES_MANAGER})


def may_set_targets(staff: Staff, dealer_id: int) -> bool:
    return bool(roles_at(staff, dealer_id) & TARGET_SETTERS)


def may_configure(staff: Staff, dealer: Dealer) -> bool:
    return bool(roles_at(staff, dealer.pk) & SETTINGS_EDITORS)


def may_edit_staff(staff: Staff, dealer: Dealer) -> bool:
    return bool(roles_at(staff, dealer.pk) & STAFF_EDITORS)


# Who puts people in teams and names their leaders: the general and sales managers, as for
# staff and roles (supervisors see the teams in the settings).
TEAM_EDITORS = STAFF_EDITORS


def may_edit_teams(staff: Staff, dealer: Dealer) -> bool:
    return bool(roles_at(staff, dealer.pk) & TEAM_EDITORS)
