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

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from accounts.models import Dealer, Staff
from accounts.roles import (
    DCC_TEAM,
    DEALER_MANAGERS,
    SETTINGS_EDITORS,
    STAFF_EDITORS,
    SUPERVISORS,
    Role,
    member_dealer_ids,
    roles_at,
    roles_by_dealer,
)
from dcc.errors import NotFound, NotPermitted, TransitionNotAllowed
from dcc.phone import mask_phone
from leads.assignment import is_pool_lead
from leads.models import Event, Lead, Task
from leads.stages import (
    EXIT_STAGES,
    INVITE_STAGES,
    SHOWROOM_WORKERS,
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
# Who sees every customer's full phone number; others see it masked.
FULL_PHONE_ROLES = DEALER_MANAGERS - {Role.AUDITOR} | SUPERVISORS


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
    if not may_enter_leads(staff, dealer_id):
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


def shown_phone(staff: Staff, lead: Lead) -> str:
    """The customer's number as `staff` sees it on every page, file and API answer: in full
    (`may_see_phone`) or masked; nothing once erased."""
    if lead.customer.erased_at is not None:
        return str(lead.customer)
    return lead.customer.phone if may_see_phone(staff, lead) else mask_phone(lead.customer.phone)


def visible_tasks(staff: Staff) -> QuerySet[Task]:
    """Own tasks everywhere; supervisors and managers also those on leads they can see."""
    overseen = member_dealer_ids(staff, SUPERVISORS | DEALER_MANAGERS)
    on_visible_leads = Q(dealer_id__in=overseen, lead_id__in=visible_leads(staff).values("pk"))
    return Task.objects.filter(Q(assignee=staff) | on_visible_leads)


def may_claim_from_pool(staff: Staff, dealer_id: int) -> bool:
    """Whether the queue shows `staff` the pool: those the stage machine lets claim."""
    roles = roles_at(staff, dealer_id) - {Role.HEADQUARTERS}
    return may_perform(Action.CLAIM, roles=roles, is_owner=False)


def available_actions(staff: Staff, lead: Lead) -> list[Action]:
    """The actions `staff` may take on `lead` right now: what the UI offers."""
    roles = roles_at(staff, lead.dealer_id) - {Role.HEADQUARTERS}
    offered = []
    for action in Action:
        if action is Action.OVERTURN:  # it comes from an audit's finding (audit), not this page
            continue
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


def may_see_headquarters(staff: Staff, dealer_id: int) -> bool:
    """The headquarters page, opened at a dealer whose KPIs `staff` reads: headquarters
    users, and anyone who reads the KPIs of more than one dealer."""
    if not may_see_kpis(staff, dealer_id):
        return False
    held = roles_by_dealer(staff)
    if any(Role.HEADQUARTERS in roles for roles in held.values()):
        return True
    return sum(1 for dealer in held if may_see_kpis(staff, dealer)) > 1


# Who imports files of leads (with history entered in other people's names).
IMPORTERS = SUPERVISORS


def may_import(staff: Staff, dealer_id: int) -> bool:
    return bool(roles_at(staff, dealer_id) & IMPORTERS)


# Who sets the dealer's monthly order target.
TARGET_SETTERS = frozenset({Role.GM, Role.SALES_MANAGER})


def may_set_targets(staff: Staff, dealer_id: int) -> bool:
    return bool(roles_at(staff, dealer_id) & TARGET_SETTERS)


# ---------------------------------------------------------------- pages
# Each page of the web UI asks one of these (its view's decorator, the menu and the home page
# alike), so that the menu never offers a page that refuses the person, nor hides one they may
# open. All take the person and the dealer they are working at.

# Who works through the queue: the people with calls and follow-ups of their own to make.
QUEUE_USERS = DCC_TEAM | {Role.CONSULTANT, Role.OWNER_OPS}
# Who reads the lead list: managers, the DCC team and headquarters (the others reach their own
# leads from their workbench and the search).
LEAD_LIST_READERS = DEALER_MANAGERS | DCC_TEAM | {Role.HEADQUARTERS}


def may_use_queue(staff: Staff, dealer_id: int) -> bool:
    return bool(roles_at(staff, dealer_id) & QUEUE_USERS)


def may_use_showroom(staff: Staff, dealer_id: int) -> bool:
    return bool(roles_at(staff, dealer_id) & SHOWROOM_WORKERS)


def sees_whole_showroom(staff: Staff, dealer_id: int) -> bool:
    """The showroom manager's day shows every consultant's customers, not only their own."""
    return Role.SHOWROOM_MANAGER in roles_at(staff, dealer_id)


def may_list_leads(staff: Staff, dealer_id: int) -> bool:
    return bool(roles_at(staff, dealer_id) & LEAD_LIST_READERS)


def may_enter_leads(staff: Staff, dealer_id: int) -> bool:
    return bool(roles_at(staff, dealer_id) & LEAD_CREATORS)


def may_see_dashboard(staff: Staff, dealer_id: int) -> bool:
    """The dealer's dashboard and its daily report and scorecards: its KPI readers."""
    return may_see_kpis(staff, dealer_id)


def may_see_own_scorecard_page(staff: Staff, dealer_id: int) -> bool:
    """ "My scorecard": people on the line; those who read the dealer's KPIs are sent to
    everyone's scorecards instead."""
    return may_see_own_scorecard(staff, dealer_id) and not may_see_kpis(staff, dealer_id)


def may_change_settings(staff: Staff, dealer_id: int) -> bool:
    return bool(roles_at(staff, dealer_id) & SETTINGS_EDITORS)


def works_at(staff: Staff, dealer_id: int) -> bool:
    """Holds an active role at the dealer (even one that grants nothing on this page)."""
    return bool(roles_at(staff, dealer_id))


def home_page(staff: Staff, dealer_id: int) -> str | None:
    """The page a person starts on at a dealer (its URL name): the workbench of their main
    job (a DCC supervisor and a consultant may use the queue too, but their day starts on the
    team board and in the showroom); None for someone with no role there."""
    roles = roles_at(staff, dealer_id)
    if roles & {Role.DCC_AGENT, Role.OWNER_OPS}:
        return "queue"
    if may_use_showroom(staff, dealer_id):  # the showroom manager runs the floor
        return "showroom"
    if may_see_team_board(staff, dealer_id):
        return "team"
    # Marketing's pages live in the apps above (URL names only here): the platform
    # specialist's day starts on the platforms' checklist, the marketing manager's on the
    # campaigns and their return.
    if Role.PLATFORM_SPECIALIST in roles:
        return "platforms"
    if Role.MARKETING_MANAGER in roles:
        return "campaigns"
    if roles:
        return "lead_list"
    return None


# Who puts people in teams and names their leaders: the general and sales managers, as for
# staff and roles (supervisors see the teams in the settings).
TEAM_EDITORS = STAFF_EDITORS


def may_edit_teams(staff: Staff, dealer: Dealer) -> bool:
    return bool(roles_at(staff, dealer.pk) & TEAM_EDITORS)
