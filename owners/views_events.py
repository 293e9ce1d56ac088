"""Owner events' pages: the list, an event (its figures, invitations and guests), the printable
invitation with its QR code, the door where codes are scanned, and the check-in page the QR
code opens. Views parse and show; owners.events decides and writes."""

from __future__ import annotations

import segno
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from dcc.errors import DomainError, InvalidInput
from dcc.forms import save_form
from dcc.phone import mask_phone
from leads.forms import StyledForm
from leads.permissions import visible_leads
from leads.views.common import workbench
from owners import events
from owners.forms import DoorForm, EventForm, GuestForm, InvitationForm, InviteForm, SignUpForm
from owners.models import Invitation, OwnerEvent
from owners.permissions import may_see_events, works_owners
from privacy import consent

# Invitations shown a page at a time: an event may invite every owner of a big dealer.
PAGE_SIZE = 100


def _may_run(request: HttpRequest) -> bool:
    return works_owners(request.user, request.dealer.pk)


def _event(request: HttpRequest, event_id: int) -> OwnerEvent:
    events_here = OwnerEvent.objects.filter(dealer=request.dealer).select_related("created_by")
    return get_object_or_404(events_here, pk=event_id)


@workbench(may_see_events)
def event_list(request: HttpRequest) -> HttpResponse:
    upcoming, past = events.upcoming_and_past(request.dealer.pk, now=timezone.now())
    results = events.results_for(upcoming + past)
    for event in upcoming + past:
        event.results = results[event.pk]
    return render(
        request,
        "owners/events.html",
        {"upcoming": upcoming, "past": past, "may_run": _may_run(request)},
    )


@workbench(works_owners)
def event_new(request: HttpRequest) -> HttpResponse:
    form = EventForm(request.POST or None)
    created: list[OwnerEvent] = []
    if request.method == "POST" and save_form(
        form,
        lambda: created.append(
            events.create_event(dealer=request.dealer, by=request.user, fields=form.fields_())
        ),
    ):
        messages.success(request, _("Event created: now invite the owners."))
        return redirect("owner_event", created[0].pk)
    return render(
        request, "owners/event_new.html", {"form": form}, status=422 if form.errors else 200
    )


@workbench(may_see_events)
def event_detail(request: HttpRequest, event_id: int) -> HttpResponse:
    event = _event(request, event_id)
    may_run = _may_run(request)
    forms_: dict = {
        "edit": EventForm(prefix="edit", initial=EventForm.initial_of(event)),
        "invite": InviteForm(prefix="invite", dealer=request.dealer),
        "sign_up": SignUpForm(prefix="sign_up"),
        "decline": InvitationForm(prefix="decline"),
    }
    status = 200
    if request.method == "POST":
        if not may_run:
            raise PermissionDenied
        step = request.POST.get("step")
        if step not in forms_:
            raise Http404
        extra = {"dealer": request.dealer} if step == "invite" else {}
        form = forms_[step].__class__(request.POST, prefix=step, **extra)
        forms_[step] = form
        done: list = []

        def invitation() -> Invitation:
            found = Invitation.objects.filter(event=event, code=form.cleaned_data["code"]).first()
            if found is None:
                raise InvalidInput(_("No invitation has this code."), field="code")
            return found

        perform = {
            "edit": lambda: events.edit_event(event=event, by=request.user, fields=form.fields_()),
            "invite": lambda: done.append(
                events.invite(event=event, segment=form.segment(), by=request.user)
            ),
            "sign_up": lambda: events.sign_up(
                invitation=invitation(),
                by=request.user,
                party_size=form.cleaned_data["party_size"],
            ),
            "decline": lambda: events.decline(invitation=invitation(), by=request.user),
        }[step]
        if save_form(form, perform):
            messages.success(request, _saved_message(step, done))
            return redirect("owner_event", event.pk)
        status = 422
    answer, query = request.GET.get("answer", ""), request.GET.get("q", "")
    page = Paginator(events.invitations_of(event, answer=answer, query=query), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    invitations = list(page)
    events.count_guests(invitations)
    callable_ = consent.callable_for_marketing(
        request.dealer.pk, [invitation.customer_id for invitation in invitations]
    )
    for invitation in invitations:
        invitation.phone = mask_phone(invitation.customer.phone)
        invitation.may_call = invitation.customer_id in callable_
    guests = events.guests_of(event)
    results = events.event_results(event)
    seen = set(
        visible_leads(request.user, dealer_id=request.dealer.pk)
        .filter(pk__in=[g.lead_id for g in guests if g.lead_id])
        .values_list("pk", flat=True)
    )
    for guest in guests:
        guest.shown_phone = mask_phone(guest.phone)
        guest.may_open_lead = guest.lead_id in seen
    return render(
        request,
        "owners/event.html",
        {
            "event": event,
            "results": results,
            "places_left": max(0, event.capacity - results.people_expected),
            "invitations": invitations,
            "page": page,
            "answer": answer if answer in events.ANSWERS else "",
            "query": query.strip()[:50],
            "guests": guests,
            "forms": forms_,
            "open_form": request.POST.get("step") if status != 200 else None,
            "may_run": may_run,
            "over": event.ends_at < timezone.now(),
        },
        status=status,
    )


@require_POST
@workbench(works_owners)
def invitation_dial(request: HttpRequest, code: str) -> HttpResponse:
    """Ring the invited owner from the person's seat; a refusal (no consent, do-not-call, no
    seat) is said on the event page."""
    invitation = get_object_or_404(Invitation, dealer=request.dealer, code=code[:32])
    try:
        events.call_to_invite(invitation=invitation, by=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Calling: your phone rings first."))
    return redirect("owner_event", invitation.event_id)


def _saved_message(step: str, done: list) -> str:
    if step == "invite":
        invited = done[0]
        if not invited.invited and not invited.already:
            return _("No owner fits these conditions.")
        return ngettext(
            "%(n)d owner invited (%(already)d invited before).",
            "%(n)d owners invited (%(already)d invited before).",
            invited.invited,
        ) % {"n": invited.invited, "already": invited.already}
    return {
        "edit": _("Event saved."),
        "sign_up": _("Signed up."),
        "decline": _("Declined."),
    }[step]


class CodeRefused(Exception):
    """A code in an address that finds no invitation here: the page says why (404)."""


def _invitation(request: HttpRequest, code: str) -> Invitation:
    try:
        return events.find_invitation(dealer=request.dealer, code=code)
    except InvalidInput as error:
        raise CodeRefused(error.message) from error


def _code_refused(request: HttpRequest, error: CodeRefused) -> HttpResponse:
    context = {"status": 404, "title": _("Invitation not found"), "message": str(error)}
    return render(request, "refused.html", context, status=404)


def qr_svg(address: str) -> str:
    """The QR code of `address`, as inline SVG (scales to its box; prints sharp)."""
    qr = segno.make(address, error="m", micro=False)
    return qr.svg_inline(scale=6, border=2, omitsize=True, svgclass="dcc-qr", dark="#000")


@workbench(may_see_events)
def invitation_page(request: HttpRequest, code: str) -> HttpResponse:
    """The invitation to print or send: the event, the owner, and the QR code the door scans
    (it opens the check-in page of this code)."""
    try:
        invitation = _invitation(request, code)
    except CodeRefused as error:
        return _code_refused(request, error)
    address = request.build_absolute_uri(reverse("owner_check_in", args=[invitation.code]))
    return render(
        request,
        "owners/invitation.html",
        {
            "invitation": invitation,
            "event": invitation.event,
            "phone": mask_phone(invitation.customer.phone),
            "qr": qr_svg(address),
            "address": address,
            "shown_code": events.shown_code(invitation.code),
        },
    )


@workbench(may_see_events)
def door(request: HttpRequest, event_id: int) -> HttpResponse:
    """Where staff type or scan the codes of the owners coming in."""
    event = _event(request, event_id)
    may_run = _may_run(request)
    form = DoorForm(request.POST or None)
    checked: list[events.CheckedIn] = []
    if request.method == "POST":
        if not may_run:
            raise PermissionDenied
        if save_form(
            form,
            lambda: checked.append(
                events.check_in(
                    dealer=request.dealer,
                    code=form.cleaned_data["code"],
                    by=request.user,
                    event=event,
                )
            ),
        ):
            _say_checked_in(request, checked[0])
            return redirect("owner_check_in", checked[0].invitation.code)
    return render(
        request,
        "owners/door.html",
        {
            "event": event,
            "form": form,
            "results": events.event_results(event),
            "may_run": may_run,
        },
        status=422 if form.errors else 200,
    )


def _say_checked_in(request: HttpRequest, checked: events.CheckedIn) -> None:
    invitation = checked.invitation
    name = invitation.customer.name or _("The owner")
    if checked.already:
        messages.info(
            request,
            _("%(owner)s was checked in already, at %(when)s.")
            % {
                "owner": name,
                "when": timezone.localtime(invitation.checked_in_at).strftime("%H:%M"),
            },
        )
    else:
        messages.success(request, _("%(owner)s checked in.") % {"owner": name})


@workbench(may_see_events)
def check_in_page(request: HttpRequest, code: str) -> HttpResponse:
    """What the QR code opens: the owner and a button to check them in (a GET changes
    nothing), then the people they brought along."""
    try:
        invitation = _invitation(request, code)
    except CodeRefused as error:
        return _code_refused(request, error)
    may_run = _may_run(request)
    check_form = StyledForm()
    guest_form = GuestForm(prefix="guest")
    status = 200
    if request.method == "POST":
        if not may_run:
            raise PermissionDenied
        step = request.POST.get("step")
        if step == "check_in":
            check_form = StyledForm(request.POST)  # nothing to parse: the code is the address
            checked: list[events.CheckedIn] = []
            if save_form(
                check_form,
                lambda: checked.append(
                    events.check_in(dealer=request.dealer, code=invitation.code, by=request.user)
                ),
            ):
                _say_checked_in(request, checked[0])
                return redirect("owner_check_in", invitation.code)
            status = 422
        elif step == "guest":
            guest_form = GuestForm(request.POST, prefix="guest")
            added: list[events.GuestAdded] = []
            if save_form(
                guest_form,
                lambda: added.append(
                    events.add_guest(
                        invitation=invitation,
                        by=request.user,
                        name=guest_form.cleaned_data["name"],
                        phone=guest_form.cleaned_data["phone"],
                    )
                ),
            ):
                result = added[0]
                if result.credited:
                    messages.success(
                        request,
                        _("Guest added: a lead credited to %(owner)s.")
                        % {"owner": invitation.customer.name or _("the owner")},
                    )
                else:
                    messages.warning(
                        request, _("Guest added; not credited: %(why)s") % {"why": result.why_not}
                    )
                return redirect("owner_check_in", invitation.code)
            status = 422
        else:
            raise Http404
    guests = list(invitation.guests.select_related("added_by").order_by("added_at", "pk"))
    for guest in guests:
        guest.shown_phone = mask_phone(guest.phone)
    return render(
        request,
        "owners/check_in.html",
        {
            "invitation": invitation,
            "event": invitation.event,
            "phone": mask_phone(invitation.customer.phone),
            "guests": guests,
            "check_form": check_form,
            "guest_form": guest_form,
            "may_run": may_run,
            "shown_code": events.shown_code(invitation.code),
        },
        status=status,
    )
