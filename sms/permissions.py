"""Who may do what with text messages (docs/permissions.md, "SMS").

- A message from a lead's page: whoever follows the lead up (its owner: a DCC agent, a
  consultant, an owner-ops specialist), supervisors and the marketing manager on the leads
  they see. Headquarters and auditors read; they do not write to customers.
- Bulk sends to a segment, and the templates: marketing (the marketing manager) and the
  supervisors (GM, sales manager, DCC supervisor, showroom manager).
- The SMS page (messages, replies, templates): those, and auditors, who read it.
- The provider, keys, signature, quiet hours and limits: whoever changes the dealer's settings.
Another dealer's messages and templates are not found.
"""

from __future__ import annotations

from accounts.models import Staff
from accounts.roles import SUPERVISORS, Role, roles_at
from leads.models import Lead

BULK_SENDERS = SUPERVISORS | {Role.MARKETING_MANAGER}
SMS_READERS = BULK_SENDERS | {Role.AUDITOR}
NOT_WRITERS = frozenset({Role.HEADQUARTERS, Role.AUDITOR})


def may_see_sms(staff: Staff, dealer_id: int) -> bool:
    """The SMS page: messages sent, replies, templates."""
    return bool(roles_at(staff, dealer_id) & SMS_READERS)


def may_bulk_send(staff: Staff, dealer_id: int) -> bool:
    """Send to a segment, write templates, answer as a customer in the outbox (the demo)."""
    return bool(roles_at(staff, dealer_id) & BULK_SENDERS)


def may_send_to_lead(staff: Staff, lead: Lead) -> bool:
    """Send one message from the lead's page (the lead must also be one `staff` sees)."""
    roles = roles_at(staff, lead.dealer_id) - NOT_WRITERS
    return bool(roles & BULK_SENDERS) or (bool(roles) and lead.owner_id == staff.pk)
