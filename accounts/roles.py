"""The roles a person can hold at a dealer (accounts.models.Role), the teams they form along
the DCC line, and who holds which roles where."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from accounts.models import Dealer, Membership, Role, Staff
from dcc.errors import NotPermitted

# Who sees the whole dealer's leads (what each may do to them: leads.stages.SPECS).
DEALER_MANAGERS = frozenset(
    {Role.GM, Role.SALES_MANAGER, Role.MARKETING_MANAGER, Role.SHOWROOM_MANAGER, Role.AUDITOR}
)
DCC_TEAM = frozenset({Role.DCC_SUPERVISOR, Role.DCC_AGENT})
SHOWROOM_TEAM = frozenset({Role.SHOWROOM_MANAGER, Role.CONSULTANT})
# Supervisors approve defeats and reassign leads of their team.
SUPERVISORS = frozenset({Role.GM, Role.SALES_MANAGER, Role.DCC_SUPERVISOR, Role.SHOWROOM_MANAGER})
# Who changes a dealer's settings (channels, grades, rules, reasons), and who its staff and
# roles.
SETTINGS_EDITORS = SUPERVISORS
STAFF_EDITORS = frozenset({Role.GM, Role.SALES_MANAGER})


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


def member_dealer_ids(staff: Staff, roles: Iterable[str] | None = None) -> list[int]:
    wanted = set(roles) if roles is not None else None
    return [
        dealer_id
        for dealer_id, held in roles_by_dealer(staff).items()
        if wanted is None or held & wanted
    ]


def may_configure(staff: Staff, dealer: Dealer) -> bool:
    return bool(roles_at(staff, dealer.pk) & SETTINGS_EDITORS)


def check_configure(staff: Staff, dealer: Dealer) -> None:
    """NotPermitted unless `staff` may change `dealer`'s settings (may_configure)."""
    if not may_configure(staff, dealer):
        raise NotPermitted(_("Only supervisors and managers change the dealer's settings."))


def may_edit_staff(staff: Staff, dealer: Dealer) -> bool:
    return bool(roles_at(staff, dealer.pk) & STAFF_EDITORS)
