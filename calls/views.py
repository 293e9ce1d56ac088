"""The call panel (screen pop): every workbench page of a person with a seat asks, every
POLL_MS, whether a call rang at their seat; only a new call answers with content (else 204,
and the panel stays as it is, with whatever the agent was typing). See docs/calls.md for why
short polling."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from calls import actions, recordings, scripts, selectors
from calls.forms import CaptureForm
from calls.models import Call, Recording
from calls.recordings import recording_hosts
from calls.report import Direction
from calls.selectors import may_listen
from dcc.errors import DomainError
from dcc.phone import mask_phone
from leads import actions as lead_actions
from leads.permissions import shown_phone, visible_leads
from leads.views.common import workbench

POLL_MS = 700
STATUS_POLL_MS = 2000
DISMISSED = "call_panel_dismissed"
NO_CALL = "none"


def _panel(request: HttpRequest, call: Call | None, *, form: CaptureForm | None = None, status=200):
    context: dict = {"call": call, "token": str(call.pk) if call else NO_CALL}
    if call is not None:
        lead = call.lead
        purpose = scripts.purpose_of(call, lead)
        script = scripts.script_for(request.dealer, purpose=purpose, lead=lead)
        context |= {
            "lead": lead,
            "phone": shown_phone(request.user, lead) if lead else mask_phone(call.number),
            "capturable": lead is None
            and call.direction == Direction.INBOUND
            and not call.not_a_lead
            and bool(call.number),
            "form": form or CaptureForm(prefix="capture"),
            "script": script,
            "script_text": scripts.fill(
                script.body,
                agent=request.user,
                dealer=request.dealer.name,
                channel=call.line.channel if call.line else "",
                model=lead.car_model if lead else "",
                appointment=timezone.localtime(lead.appointment_at).strftime("%Y-%m-%d %H:%M")
                if lead and lead.appointment_at
                else "",
            ),
            "status_poll_ms": STATUS_POLL_MS,
        }
    return render(request, "calls/_panel.html", context, status=status)


@workbench()
def call_panel(request: HttpRequest) -> HttpResponse:
    call_id = selectors.call_id_at_seat(
        request.user,
        request.dealer,
        now=timezone.now(),
        dismissed=request.session.get(DISMISSED),
    )
    if request.GET.get("shown") == (str(call_id) if call_id else NO_CALL):
        return HttpResponse(status=204)  # nothing new: the panel stays as it is
    return _panel(request, selectors.call_for_panel(call_id) if call_id else None)


def _my_call(request: HttpRequest, call_id: int) -> Call:
    return get_object_or_404(
        Call.objects.select_related("line__channel", "lead__customer", "lead__owner"),
        pk=call_id,
        dealer=request.dealer,
        agent=request.user,
    )


@workbench()
def call_status(request: HttpRequest, call_id: int) -> HttpResponse:
    call = _my_call(request, call_id)
    return render(request, "calls/_status.html", {"call": call, "status_poll_ms": STATUS_POLL_MS})


@workbench()
@require_POST
def capture(request: HttpRequest, call_id: int) -> HttpResponse:
    call = _my_call(request, call_id)
    form = CaptureForm(request.POST, prefix="capture")
    if not form.is_valid():
        return _panel(request, call, form=form, status=422)
    try:
        actions.capture(call, by=request.user, **form.cleaned_data)
    except DomainError as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return _panel(request, call, form=form, status=422)
    call.refresh_from_db()
    return _panel(request, _my_call(request, call_id))


@workbench()
@require_POST
def dismiss(request: HttpRequest, call_id: int) -> HttpResponse:
    request.session[DISMISSED] = _my_call(request, call_id).pk
    return _panel(request, None)


# ---------------------------------------------------------------- recordings


@workbench()
def lead_recordings(request: HttpRequest, lead_id: int) -> HttpResponse:
    """The players of a lead's recorded calls, each swapped into its call's place in the
    lead's timeline (one request for the whole timeline)."""
    lead = get_object_or_404(visible_leads(request.user, dealer_id=request.dealer.pk), pk=lead_id)
    players = selectors.recordings_by_event(lead)
    return render(request, "calls/_recordings.html", {"players": players})


@workbench()
def play(request: HttpRequest, recording_id: int) -> HttpResponse:
    """A recording, to whoever may see its lead (or, without a lead, took the call or
    supervises the DCC); each play is recorded in the lead's ledger."""
    recording = get_object_or_404(Recording.objects.select_related("call__lead"), pk=recording_id)
    call = recording.call
    if call.dealer_id != request.dealer.pk or not may_listen(request.user, call):
        raise Http404
    try:
        path = recordings.fetch(recording, hosts=recording_hosts(call))
    except recordings.RecordingUnavailable as error:
        raise Http404(str(error)) from error
    starts = request.headers.get("Range", "bytes=0-").startswith("bytes=0-")
    if call.lead_id and starts:  # the start of a play, not the player seeking within it
        lead_actions.listen_to_recording(
            lead=call.lead, by=request.user, call_id=call.call_id, recording_id=recording.pk
        )
    return FileResponse(path.open("rb"), content_type=recording.content_type or None)


# ---------------------------------------------------------------- click-to-call


@workbench()
@require_POST
def dial(request: HttpRequest, lead_id: int) -> HttpResponse:
    """The call button of the lead page and the queue: the phone system rings the person's
    seat, then the customer; the panel shows the call as it starts."""
    lead = get_object_or_404(
        visible_leads(request.user, dealer_id=request.dealer.pk).select_related("customer"),
        pk=lead_id,
    )
    try:
        actions.dial(lead, by=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Calling: your phone rings first, then the customer's."))
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("lead_detail", args=[lead.pk])
    return redirect(back)
