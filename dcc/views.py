"""Frame views: the home page that sends each person to their workbench, dealer switch."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.roles import SUPERVISORS, Role
from dcc.middleware import SESSION_KEY
from leads.permissions import LEAD_CREATORS, roles_by_dealer


@login_required
def home(request: HttpRequest) -> HttpResponse:
    roles = request.roles
    if roles & {Role.DCC_AGENT, Role.OWNER_OPS}:
        return redirect("queue")
    if roles & {Role.CONSULTANT, Role.SHOWROOM_MANAGER}:  # the manager runs the floor
        return redirect("showroom")
    if roles & SUPERVISORS:
        return redirect("team")
    if roles & {Role.MARKETING_MANAGER, Role.PLATFORM_SPECIALIST} and roles & LEAD_CREATORS:
        return redirect("lead_new")
    if roles:
        return redirect("lead_list")
    return render(request, "no_dealer.html", status=403)


@login_required
@require_POST
def switch_dealer(request: HttpRequest) -> HttpResponse:
    try:
        dealer_id = int(request.POST.get("dealer", ""))
    except ValueError:
        dealer_id = None
    if dealer_id in roles_by_dealer(request.user):
        request.session[SESSION_KEY] = dealer_id
    return redirect("home")
