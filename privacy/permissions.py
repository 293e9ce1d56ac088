"""Who may do what with consent and personal data (docs/permissions.md, "Personal data").

- Whoever works a lead records what its customer says about consent (on a call, on a form)
  and puts their number on the do-not-call list when they ask; auditors and headquarters read.
- The GM and the sales manager answer customers' requests: export, erasure; they and the
  marketing manager and the supervisors keep the do-not-call list (take numbers off it too).
- The retention period is a dealer setting (those who change settings).
"""

from __future__ import annotations

from accounts.models import Staff
from accounts.roles import SUPERVISORS, Role, roles_at
from leads.models import Lead

PRIVACY_OFFICERS = frozenset({Role.GM, Role.SALES_MANAGER})
LIST_KEEPERS = PRIVACY_OFFICERS | SUPERVISORS | {Role.MARKETING_MANAGER}
READ_ONLY = frozenset({Role.AUDITOR, Role.HEADQUARTERS})


def answers_requests(staff: Staff, dealer_id: int) -> bool:
    """Export and erase customers' data; the personal-data pages."""
    return bool(roles_at(staff, dealer_id) & PRIVACY_OFFICERS)


def keeps_do_not_call(staff: Staff, dealer_id: int) -> bool:
    return bool(roles_at(staff, dealer_id) & LIST_KEEPERS)


def may_see_privacy(staff: Staff, dealer_id: int) -> bool:
    """The personal-data pages (the do-not-call list, the requests)."""
    return answers_requests(staff, dealer_id) or keeps_do_not_call(staff, dealer_id)


def may_record_consent(staff: Staff, lead: Lead) -> bool:
    """On a lead `staff` can see (the caller checked): anyone but the read-only roles."""
    return bool(roles_at(staff, lead.dealer_id) - READ_ONLY)
