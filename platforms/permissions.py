"""Who may do what in platform operations (docs/permissions.md, "Platform operations").

- Platform specialists see and work the accounts they run: tick the day's checklist, enter,
  import and compute scores.
- The marketing manager runs the platforms: sets up accounts and their checklists, and works
  any account (covering for a specialist who is away).
- The GM and the DCC supervisor oversee: every account's checklist, history, scores and alerts;
  the GM also sets up accounts.
- Headquarters reads every granted dealer's accounts side by side (its own page, reached from
  headquarters' dashboard; the same people and dealers as that dashboard).
Another dealer's account, or an account a specialist does not run, is not found.
"""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Staff
from accounts.roles import Role, roles_at
from leads.permissions import may_see_headquarters
from platforms.models import PlatformAccount

PLATFORM_MANAGERS = frozenset({Role.MARKETING_MANAGER, Role.GM})
PLATFORM_OVERSEERS = PLATFORM_MANAGERS | {Role.DCC_SUPERVISOR}
PLATFORM_WORKERS = frozenset({Role.PLATFORM_SPECIALIST, Role.MARKETING_MANAGER})


def may_use_platforms(staff: Staff, dealer_id: int) -> bool:
    """The platforms page (平台运营): specialists, and those who oversee them."""
    return bool(roles_at(staff, dealer_id) & (PLATFORM_OVERSEERS | {Role.PLATFORM_SPECIALIST}))


def oversees_platforms(staff: Staff, dealer_id: int) -> bool:
    """Every account of the dealer, and the alerts on the dashboard."""
    return bool(roles_at(staff, dealer_id) & PLATFORM_OVERSEERS)


def may_manage_accounts(staff: Staff, dealer_id: int) -> bool:
    """Set up accounts: who runs them, their channel, threshold and checklist."""
    return bool(roles_at(staff, dealer_id) & PLATFORM_MANAGERS)


def visible_accounts(staff: Staff, dealer_id: int) -> QuerySet[PlatformAccount]:
    accounts = PlatformAccount.objects.filter(dealer_id=dealer_id)
    if oversees_platforms(staff, dealer_id):
        return accounts
    if Role.PLATFORM_SPECIALIST in roles_at(staff, dealer_id):
        return accounts.filter(specialist=staff)
    return accounts.none()


def may_work_account(staff: Staff, account: PlatformAccount) -> bool:
    """Tick its checklist and record its scores: its specialist, or the marketing manager."""
    roles = roles_at(staff, account.dealer_id)
    if Role.MARKETING_MANAGER in roles:
        return True
    return Role.PLATFORM_SPECIALIST in roles and account.specialist_id == staff.pk


def may_see_platforms_hq(staff: Staff, dealer_id: int) -> bool:
    """The dealers' platform scores side by side: whoever opens headquarters' dashboard (the
    same rule, over the same dealers: kpi.headquarters.kpi_dealer_ids)."""
    return may_see_headquarters(staff, dealer_id)
