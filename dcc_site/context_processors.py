"""What every page's frame needs: the navigation this person gets and their dealers."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.roles import DCC_TEAM, DEALER_MANAGERS, SUPERVISORS, Role, dealers_of
from leads.permissions import IMPORTERS, KPI_VIEWERS, LEAD_CREATORS

# (url name, label, roles that see it)
NAVIGATION = [
    ("queue", _("My queue"), DCC_TEAM | {Role.OWNER_OPS}),
    ("showroom", _("Showroom"), frozenset({Role.CONSULTANT, Role.SHOWROOM_MANAGER})),
    ("team", _("Team board"), SUPERVISORS),
    ("lead_list", _("Leads"), DEALER_MANAGERS | {Role.HEADQUARTERS} | DCC_TEAM),
    ("lead_new", _("New lead"), LEAD_CREATORS),
    ("dashboard", _("Dashboard"), KPI_VIEWERS),
    ("dashboard_hq", _("Headquarters"), frozenset({Role.HEADQUARTERS})),
    ("imports", _("Imports"), IMPORTERS),
    ("dealer_settings", _("Settings"), SUPERVISORS),
]


def workbench(request: HttpRequest) -> dict:
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    roles = getattr(request, "roles", frozenset())
    return {
        "nav_items": [(name, label) for name, label, allowed in NAVIGATION if roles & allowed],
        "my_dealers": list(dealers_of(request.user).order_by("code")),
        "current_dealer": getattr(request, "dealer", None),
        "my_roles": sorted(Role(r).label for r in roles),
    }
