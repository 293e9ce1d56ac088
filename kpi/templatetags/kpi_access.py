"""Template tags for the measurement pages: which of them this person may open (asked of
leads.permissions, so that a link never leads to a refusal)."""

from __future__ import annotations

from django import template

from leads.permissions import may_see_dcc_board as _may_see_dcc_board
from leads.permissions import may_see_kpis as _may_see_kpis
from leads.permissions import may_see_own_scorecard as _may_see_own_scorecard

register = template.Library()


@register.simple_tag(takes_context=True)
def may_see_dcc_board(context: template.Context) -> bool:
    request = context.get("request")
    dealer = getattr(request, "dealer", None)
    return dealer is not None and _may_see_dcc_board(request.user, dealer.pk)


@register.simple_tag(takes_context=True)
def may_see_own_scorecard(context: template.Context) -> bool:
    """The menu's "My scorecard": for people on the line (the dealer's KPI readers have the
    scorecards of everyone on the dashboard)."""
    request = context.get("request")
    dealer = getattr(request, "dealer", None)
    if dealer is None or not request.user.is_authenticated:
        return False
    user = request.user
    return _may_see_own_scorecard(user, dealer.pk) and not _may_see_kpis(user, dealer.pk)
