"""What every page's frame needs: the navigation this person gets and their dealers."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.roles import Role, dealers_of
from audit.permissions import may_see_audits
from calls.selectors import has_seat
from calls.views import POLL_MS
from campaigns.permissions import may_see_campaigns, may_use_stand
from leads.permissions import (
    may_change_settings,
    may_enter_leads,
    may_import,
    may_list_leads,
    may_see_dashboard,
    may_see_headquarters,
    may_see_own_scorecard_page,
    may_see_team_board,
    may_use_queue,
    may_use_showroom,
)
from owners.permissions import (
    may_see_complaints,
    may_see_events,
    may_use_visits,
    reads_everything,
)
from platforms.permissions import may_use_platforms
from privacy.permissions import may_see_privacy
from sms.permissions import may_see_sms

# (url name, label, the page's rule: the one its view asks)
NAVIGATION = [
    ("queue", _("My queue"), may_use_queue),
    ("showroom", _("Showroom"), may_use_showroom),
    ("team", _("Team board"), may_see_team_board),
    ("lead_list", _("Leads"), may_list_leads),
    ("lead_new", _("New lead"), may_enter_leads),
    ("return_visits", _("Return visits"), may_use_visits),
    ("complaints", _("Complaints"), may_see_complaints),
    ("members", pgettext_lazy("member programme", "Members"), reads_everything),
    ("owner_events", _("Owner events"), may_see_events),
    ("campaigns", _("Campaigns"), may_see_campaigns),
    ("sms", _("SMS"), may_see_sms),
    ("stand", _("At the stand"), may_use_stand),
    ("platforms", _("Platforms"), may_use_platforms),
    ("dashboard", _("Dashboard"), may_see_dashboard),
    ("dashboard_hq", _("Headquarters"), may_see_headquarters),
    ("audit_workbench", _("Audit"), may_see_audits),
    ("imports", _("Imports"), may_import),
    ("privacy", _("Personal data"), may_see_privacy),
    ("dealer_settings", _("Settings"), may_change_settings),
    ("dashboard_my_scores", _("My scorecard"), may_see_own_scorecard_page),
]


def menu(request: HttpRequest) -> list[tuple[str, str]]:
    """The pages this person may open at their current dealer, as (url name, label)."""
    dealer = getattr(request, "dealer", None)
    if dealer is None:
        return []
    return [(name, label) for name, label, may in NAVIGATION if may(request.user, dealer.pk)]


def workbench(request: HttpRequest) -> dict:
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    roles = getattr(request, "roles", frozenset())
    dealer = getattr(request, "dealer", None)
    return {
        "nav_items": menu(request),
        "my_dealers": list(dealers_of(request.user).order_by("code")),
        "current_dealer": dealer,
        "my_roles": sorted(Role(r).label for r in roles),
        # People at a phone seat get the call panel (the screen pop) on every page.
        "call_panel": dealer is not None and has_seat(request.user, dealer.pk),
        "call_poll_ms": POLL_MS,
    }
