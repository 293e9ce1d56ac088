"""Who does what in the audit group's pages (docs/permissions.md, "Audit"): the audit group and
the supervisors draw, audit and see every audit of their dealer; headquarters reads them; the
audited person sees their own and may appeal; a DCC supervisor, the sales manager or the GM
decides appeals. Another dealer's audits do not exist for anyone (404)."""

from __future__ import annotations

from accounts.models import Staff
from accounts.roles import SUPERVISORS, Role, roles_at

AUDIT_GROUP = frozenset({Role.AUDITOR}) | SUPERVISORS
AUDIT_READERS = AUDIT_GROUP | {Role.HEADQUARTERS}
# A second draw of a week replaces the first: a supervisor's decision, recorded.
REDRAWERS = SUPERVISORS
APPEAL_DECIDERS = frozenset({Role.DCC_SUPERVISOR, Role.SALES_MANAGER, Role.GM})


def _acting_roles(staff: Staff, dealer_id: int) -> frozenset[str]:
    """Headquarters reads; it never acts at a dealer."""
    return roles_at(staff, dealer_id) - {Role.HEADQUARTERS}


def may_audit(staff: Staff, dealer_id: int) -> bool:
    """Draw samples, audit drawn work, overturn an exit found wrong."""
    return bool(_acting_roles(staff, dealer_id) & AUDIT_GROUP)


def may_see_audits(staff: Staff, dealer_id: int) -> bool:
    """The workbench 监察 and every audit of the dealer."""
    return bool(roles_at(staff, dealer_id) & AUDIT_READERS)


def may_redraw(staff: Staff, dealer_id: int) -> bool:
    return bool(_acting_roles(staff, dealer_id) & REDRAWERS)


def may_name_owner(staff: Staff, dealer_id: int) -> bool:
    """An overturned lead goes back to its owner; a supervisor may name another."""
    return bool(_acting_roles(staff, dealer_id) & SUPERVISORS)


def may_decide_appeals(staff: Staff, dealer_id: int) -> bool:
    return bool(_acting_roles(staff, dealer_id) & APPEAL_DECIDERS)


def may_see_own_audits(staff: Staff, dealer_id: int) -> bool:
    """Anyone working at the dealer reads the audits of their own work (mostly none)."""
    return bool(_acting_roles(staff, dealer_id))
