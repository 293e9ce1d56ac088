"""Template tags for the measurement pages: which of them this person may open (asked of
leads.permissions, so that a link never leads to a refusal)."""

from __future__ import annotations

from django import template

from leads.permissions import may_see_dcc_board as _may_see_dcc_board

register = template.Library()


@register.simple_tag(takes_context=True)
def may_see_dcc_board(context: template.Context) -> bool:
    request = context.get("request")
    dealer = getattr(request, "dealer", None)
    return dealer is not None and _may_see_dcc_board(request.user, dealer.pk)
