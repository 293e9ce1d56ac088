"""The lead page (customer card, stage, owner, SLA clock, next task, timeline, the actions
this person may take now), search and manual entry (the lead list is in views.lists)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dcc.errors import DomainError, NotFound, NotPermitted
from leads import actions
from leads.entries import ENTRIES
from leads.forms import ActionForm, LeadEntryForm
from leads.models import Channel, Event, Lead, ReasonCode, Task
from leads.permissions import (
    available_actions,
    get_visible_lead,
    may_enter_leads,
    may_reveal,
    may_see_phone,
    shown_phone,
    visible_leads,
)
from leads.selectors import search_leads
from leads.sla import is_on_time, lead_has_sla
from leads.stages import Action, Stage
from leads.views.common import is_htmx, workbench


def _visible_lead(request: HttpRequest, lead_id: int) -> Lead:
    try:
        lead = get_visible_lead(request.user, lead_id)
    except NotFound as error:
        raise Http404(error.message) from error
    return (
        Lead.objects.select_related("dealer", "customer", "channel", "owner")
        .filter(pk=lead.pk)
        .get()
    )


def lead_context(request: HttpRequest, lead: Lead, bound: dict | None = None) -> dict:
    """Everything the lead page shows; `bound` is the failed form to show again."""
    bound = bound or {}
    offered = available_actions(request.user, lead)
    # A refused action has no form on the page any more: say why at the top instead.
    refusals = [
        error
        for action, form in bound.items()
        if action not in offered
        for errors in form.errors.values()
        for error in errors
    ]
    forms = []
    for action in offered:
        entry = ENTRIES[action]
        form = bound.get(action) or entry.form(lead=lead, prefix=action.value)
        forms.append(
            {"action": action, "form": form, "style": entry.style, "open": action in bound}
        )
    events = list(
        Event.objects.filter(lead=lead)
        .select_related("actor", "from_owner", "to_owner")
        .order_by("-seq")
    )
    reasons = dict(ReasonCode.objects.filter(dealer_id=lead.dealer_id).values_list("code", "label"))
    channels = dict(Channel.objects.filter(dealer_id=lead.dealer_id).values_list("code", "name"))
    full_phone = may_see_phone(request.user, lead)
    return {
        "lead": lead,
        "phone": shown_phone(request.user, lead),
        "phone_masked": not full_phone,
        "events": events,
        # Calls the phone system saw may have recordings: the timeline fetches their players.
        "has_phone_calls": any("call_id" in event.data for event in events),
        "reasons": reasons,
        "channels": channels,
        "stages": Stage,
        "tasks": Task.objects.filter(lead=lead, closed_at__isnull=True)
        .select_related("assignee")
        .order_by("due_at"),
        "action_forms": forms,
        "refusals": refusals,
        "may_reveal": full_phone is False and may_reveal(request.user, lead),
        "has_sla": lead_has_sla(lead),
        "on_time": is_on_time(lead),
    }


@workbench()
def lead_detail(request: HttpRequest, lead_id: int) -> HttpResponse:
    lead = _visible_lead(request, lead_id)
    return render(request, "leads/lead_detail.html", lead_context(request, lead))


@workbench()
@require_POST
def lead_action(request: HttpRequest, lead_id: int, action: str) -> HttpResponse:
    """Perform one action from the lead page; errors are shown in place on its form."""
    lead = _visible_lead(request, lead_id)
    try:
        chosen = Action(action)
    except ValueError as error:
        raise Http404 from error
    entry = ENTRIES[chosen]
    form: ActionForm = entry.form(request.POST, lead=lead, prefix=chosen.value)
    if form.is_valid():
        try:
            lead = entry.perform(lead, request.user, form.cleaned_data)
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
            status = 409 if error.status in (403, 409) else 422
        else:
            done = _("%(action)s: done.") % {"action": chosen.label}
            if not visible_leads(request.user).filter(pk=lead.pk).exists():
                # The lead has moved on out of this person's view (e.g. arrived, for DCC).
                messages.success(request, done)
                return _navigate(request, reverse("home"))
            if not is_htmx(request):
                messages.success(request, done)
                return redirect("lead_detail", lead_id=lead.pk)
            lead = _visible_lead(request, lead.pk)
            context = lead_context(request, lead) | {"notice": done}
            return render(request, "leads/_lead_body.html", context)
    else:
        status = 422
    template = "leads/_lead_body.html" if is_htmx(request) else "leads/lead_detail.html"
    context = lead_context(request, lead, {chosen: form})
    return render(request, template, context, status=status)


def _navigate(request: HttpRequest, url: str) -> HttpResponse:
    """Go to another page, from a plain form post or an htmx one."""
    if is_htmx(request):
        return HttpResponse(headers={"HX-Redirect": url})
    return redirect(url)


@workbench()
@require_POST
def reveal_phone(request: HttpRequest, lead_id: int) -> HttpResponse:
    """Show the full number, recorded in the ledger."""
    lead = _visible_lead(request, lead_id)
    try:
        phone = actions.reveal_phone(lead=lead, by=request.user)
    except NotPermitted as error:
        raise PermissionDenied(error.message) from error
    if is_htmx(request):
        return HttpResponse(format_html('<a href="tel:{0}" class="fw-semibold">{0}</a>', phone))
    messages.info(request, _("Full number: %(phone)s") % {"phone": phone})
    return redirect("lead_detail", lead_id=lead.pk)


@workbench()
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    leads = search_leads(visible_leads(request.user, dealer_id=request.dealer.pk), query)
    results = list(
        leads.select_related("customer", "channel", "owner").order_by("-created_at")[:50]
    )
    if len(results) == 1 and query:
        return redirect("lead_detail", lead_id=results[0].pk)
    rows = [(lead, shown_phone(request.user, lead)) for lead in results]
    return render(request, "leads/search.html", {"query": query, "rows": rows})


@workbench(may_enter_leads)
def lead_new(request: HttpRequest) -> HttpResponse:
    """Manual entry; says at once when the number already has an open lead."""
    form = LeadEntryForm(request.POST or None, dealer=request.dealer)
    if request.method == "POST" and form.is_valid():
        try:
            intake = actions.create_lead(
                by=request.user, dealer=request.dealer, **form.action_kwargs()
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            lead = intake.lead
            if intake.created:
                messages.success(
                    request,
                    _("Lead created and assigned to %(owner)s.") % {"owner": lead.owner},
                )
            else:
                messages.warning(
                    request,
                    _(
                        "This number already has an open lead: recorded as a touch "
                        "on the lead owned by %(owner)s."
                    )
                    % {"owner": lead.owner},
                )
            if lead in visible_leads(request.user, dealer_id=request.dealer.pk):
                return redirect(reverse("lead_detail", args=[lead.pk]))
            return redirect("lead_new")
    status = 422 if form.errors else 200
    return render(request, "leads/lead_new.html", {"form": form}, status=status)
