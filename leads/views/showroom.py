"""The consultant's showroom: today's appointments and arrivals, open leads by grade, and the
reception check-in (a known customer's lead is handed to the receiving consultant and
arrives; anyone else is a walk-in of that consultant)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from dcc.errors import DomainError
from leads import actions
from leads.forms import CheckInForm
from leads.models import Event, EventKind
from leads.permissions import may_use_showroom, sees_whole_showroom, visible_leads
from leads.selectors import showroom_day
from leads.views.common import workbench


@workbench(may_use_showroom)
def showroom(request: HttpRequest) -> HttpResponse:
    form = CheckInForm(request.POST or None, dealer=request.dealer)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            lead = actions.check_in_visitor(
                dealer=request.dealer,
                phone=data["mobile"],
                by=request.user,
                consultant=data["consultant"],
                name=data["name"],
                car_model=data["car_model"],
                note=data["note"],
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            name = lead.customer.name or lead.customer.phone
            last = Event.objects.get(lead=lead, seq=lead.last_event_seq)
            if last.kind == EventKind.TOUCHED:
                # Already in a colleague's hands past arrival: the visit is a touch on it.
                messages.warning(
                    request,
                    _("%(name)s is %(owner)s's customer: the visit is recorded on that lead.")
                    % {"name": name, "owner": lead.owner},
                )
                return redirect("showroom")
            if lead.owner_id == request.user.pk:
                messages.success(request, _("%(name)s checked in.") % {"name": name})
            else:
                messages.success(
                    request,
                    _("%(name)s checked in and handed to %(owner)s.")
                    % {"name": name, "owner": lead.owner},
                )
            if visible_leads(request.user, dealer_id=request.dealer.pk).filter(pk=lead.pk):
                return redirect("lead_detail", lead_id=lead.pk)
            return redirect("showroom")
    day = showroom_day(
        staff=request.user,
        dealer=request.dealer,
        whole_showroom=sees_whole_showroom(request.user, request.dealer.pk),
    )
    return render(
        request,
        "leads/showroom.html",
        {"form": form, "day": day},
        status=422 if form.errors else 200,
    )
