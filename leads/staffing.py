"""Staff changes that depend on leads: a role is revoked only once the person's open leads
have another owner. (The rest of who works where is accounts.actions.)"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.actions import check_role
from accounts.audit import record_change
from accounts.models import Membership, Staff
from accounts.roles import STAFF_EDITORS
from dcc.errors import InvalidInput
from leads.assignment import may_own
from leads.models import Lead
from leads.stages import OPEN_STAGES


def revoke_role(*, membership: Membership, by: Staff) -> Membership:
    """Take a role away (the row stays, inactive, so history keeps its meaning). Refused while
    the person would keep open leads they could no longer work, and for the dealer's last
    person who manages staff."""
    dealer, staff = membership.dealer, membership.staff
    check_role(by, dealer, membership.role, field="role")
    if not membership.is_active:
        raise InvalidInput(_("This role is already revoked."), code="already_revoked")
    with transaction.atomic():
        locked = Membership.objects.select_for_update().get(pk=membership.pk)
        if locked.role in STAFF_EDITORS:
            editors = Membership.objects.filter(
                dealer=dealer, role__in=STAFF_EDITORS, is_active=True, staff__is_active=True
            ).exclude(pk=locked.pk)
            if not editors.exists():
                raise InvalidInput(
                    _(
                        "%(name)s is the last person here who manages staff; "
                        "grant that role to someone else first."
                    )
                    % {"name": staff},
                    code="last_staff_editor",
                )
        locked.is_active = False
        locked.save(update_fields=["is_active"])
        open_leads = Lead.objects.filter(dealer=dealer, owner=staff, stage__in=OPEN_STAGES).count()
        if open_leads and not may_own(staff, dealer):
            raise InvalidInput(
                ngettext(
                    "%(name)s still owns %(count)d open lead. Reassign it first "
                    "(hand it off, or record an absence with a cover), then revoke the role.",
                    "%(name)s still owns %(count)d open leads. Reassign them first "
                    "(hand them off, or record an absence with a cover), then revoke the role.",
                    open_leads,
                )
                % {"name": staff, "count": open_leads},
                code="owns_open_leads",
            )
    membership.is_active = False
    record_change(
        dealer=dealer,
        by=by,
        what="role_revoked",
        subject=staff.username,
        detail={"role": membership.role},
    )
    return membership
