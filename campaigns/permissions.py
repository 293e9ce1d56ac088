"""Who may do what with campaigns (docs/permissions.md, "Campaigns").

- The marketing manager, the GM and the sales manager run them: create, edit, issue capture
  codes, and read their figures.
- Headquarters reads them for the dealers it is granted.
- The capture page is public: whoever has a code's address may leave their details there.
- The stand screen (direct sales, 直销) is for the people who work stands: consultants (the
  field sales among them) and marketing; each enters visitors under their own code of a
  running campaign (one is issued to them by marketing).
- A car-sticker fuel subsidy's members are enrolled, checked each month and marked paid by
  the campaign's runners and owner operations (who run the members).
Another dealer's campaign is not found.
"""

from __future__ import annotations

from accounts.models import Staff
from accounts.roles import Role, roles_at

CAMPAIGN_RUNNERS = frozenset({Role.MARKETING_MANAGER, Role.GM, Role.SALES_MANAGER})
CAMPAIGN_READERS = CAMPAIGN_RUNNERS | {Role.HEADQUARTERS}


def runs_campaigns(staff: Staff, dealer_id: int) -> bool:
    return bool(roles_at(staff, dealer_id) & CAMPAIGN_RUNNERS)


def may_see_campaigns(staff: Staff, dealer_id: int) -> bool:
    """The campaign pages (the list, a campaign with its codes and figures)."""
    return bool(roles_at(staff, dealer_id) & CAMPAIGN_READERS)


STAND_WORKERS = frozenset({Role.CONSULTANT, Role.MARKETING_MANAGER, Role.PLATFORM_SPECIALIST})


def may_use_stand(staff: Staff, dealer_id: int) -> bool:
    """The stand screen (it says when the person has no code of a running campaign)."""
    return bool(roles_at(staff, dealer_id) & STAND_WORKERS)


SUBSIDY_WORKERS = CAMPAIGN_RUNNERS | {Role.OWNER_OPS}


def runs_subsidies(staff: Staff, dealer_id: int) -> bool:
    """Enrol members in a fuel subsidy, record their monthly checks, mark payments paid."""
    return bool(roles_at(staff, dealer_id) & SUBSIDY_WORKERS)
