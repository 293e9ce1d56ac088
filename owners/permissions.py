"""Who may do what in owner operations (docs/permissions.md, "Owner operations").

- Owner-ops specialists, the GM, sales and showroom managers see and work every return visit
  and complaint of their dealer.
- A consultant (or anyone else) sees and works the visits assigned to them, and reads the
  complaints about them.
- Auditors and headquarters read everything; headquarters may also raise a complaint.
- A lead's referrer is named by the person following the lead up, owner operations, or a
  supervisor; members' points are redeemed by the workers.
- Owner events are run by the workers (create, invite, sign up, check in at the door, add
  guests); auditors and headquarters read them.
Another dealer's visits and complaints are not found.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import Staff
from accounts.roles import SUPERVISORS, Role, roles_at
from leads.models import Lead
from owners.models import Complaint, ReturnVisit

OWNER_WORKERS = frozenset({Role.OWNER_OPS, Role.GM, Role.SALES_MANAGER, Role.SHOWROOM_MANAGER})
OWNER_READERS = frozenset({Role.AUDITOR, Role.HEADQUARTERS})
COMPLAINT_RAISERS = OWNER_WORKERS | {Role.HEADQUARTERS}
# The people a plan's step may fall to besides the workers: consultants, their own steps.
VISIT_PERFORMERS = OWNER_WORKERS | {Role.CONSULTANT}


def works_owners(staff: Staff, dealer_id: int) -> bool:
    return bool(roles_at(staff, dealer_id) & OWNER_WORKERS)


def may_use_visits(staff: Staff, dealer_id: int) -> bool:
    """The return-visit page: the workers, and consultants for their own steps."""
    return bool(roles_at(staff, dealer_id) & VISIT_PERFORMERS)


def may_see_complaints(staff: Staff, dealer_id: int) -> bool:
    return bool(roles_at(staff, dealer_id) & (VISIT_PERFORMERS | OWNER_READERS))


def may_raise_complaint(staff: Staff, dealer_id: int) -> bool:
    return bool(roles_at(staff, dealer_id) & COMPLAINT_RAISERS)


def reads_everything(staff: Staff, dealer_id: int) -> bool:
    return bool(roles_at(staff, dealer_id) & (OWNER_WORKERS | OWNER_READERS))


def may_see_events(staff: Staff, dealer_id: int) -> bool:
    """The owner-event pages: the workers run them, auditors and headquarters read them."""
    return reads_everything(staff, dealer_id)


def visible_visits(staff: Staff, dealer_id: int) -> QuerySet[ReturnVisit]:
    visits = ReturnVisit.objects.filter(dealer_id=dealer_id)
    if reads_everything(staff, dealer_id):
        return visits
    if roles_at(staff, dealer_id):
        return visits.filter(assignee=staff)
    return visits.none()


def may_work_visit(staff: Staff, visit: ReturnVisit) -> bool:
    """Record an attempt or dial the customer: the workers, or the person it is assigned to."""
    return works_owners(staff, visit.dealer_id) or (
        visit.assignee_id == staff.pk and bool(roles_at(staff, visit.dealer_id))
    )


def visible_complaints(staff: Staff, dealer_id: int) -> QuerySet[Complaint]:
    complaints = Complaint.objects.filter(dealer_id=dealer_id)
    if reads_everything(staff, dealer_id):
        return complaints
    if roles_at(staff, dealer_id):
        return complaints.filter(Q(about=staff) | Q(handler=staff) | Q(escalated_to=staff))
    return complaints.none()


def may_work_complaint(staff: Staff, complaint: Complaint) -> bool:
    """Assign, resolve, record the customer's word: the workers, and whom it was given or
    escalated to."""
    return works_owners(staff, complaint.dealer_id) or (
        staff.pk in (complaint.handler_id, complaint.escalated_to_id)
        and bool(roles_at(staff, complaint.dealer_id) - {Role.HEADQUARTERS})
    )


def may_name_referrer(staff: Staff, lead: Lead) -> bool:
    roles = roles_at(staff, lead.dealer_id) - {Role.HEADQUARTERS, Role.AUDITOR}
    return bool(roles & (OWNER_WORKERS | SUPERVISORS)) or (
        bool(roles) and lead.owner_id == staff.pk
    )
