"""Campaign pages for marketing (the list with each campaign's return, a new campaign, a
campaign with its capture codes as printable QR codes and each code's figures) and the public
capture page a code opens. Views parse and show; campaigns.campaigns and campaigns.capture
decide and write."""

from __future__ import annotations

import json

import segno
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.throttle import client_address
from campaigns import campaigns, capture, selectors, stand, subsidy
from campaigns.forms import CampaignForm, CaptureForm, CodeForm, SubsidyEnrolForm
from campaigns.models import Campaign, CampaignKind, SubsidyMonth
from campaigns.permissions import (
    may_see_campaigns,
    may_use_stand,
    runs_campaigns,
    runs_subsidies,
)
from dcc.errors import DomainError, InvalidInput, NotFound
from dcc.forms import save_form
from leads.views.common import workbench


def qr_svg(address: str) -> str:
    """The QR code of `address`, as inline SVG (scales to its box; prints sharp)."""
    qr = segno.make(address, error="m", micro=False)
    return qr.svg_inline(scale=6, border=2, omitsize=True, svgclass="dcc-qr", dark="#000")


def _campaign(request: HttpRequest, campaign_id: int) -> Campaign:
    here = Campaign.objects.filter(dealer=request.dealer).select_related("channel", "line")
    return get_object_or_404(here, pk=campaign_id)


@workbench(may_see_campaigns)
def campaign_list(request: HttpRequest) -> HttpResponse:
    found = selectors.campaigns_of(request.dealer.pk)
    figures = selectors.campaign_figures(found)
    today = timezone.localdate()
    for campaign in found:
        campaign.figures = figures[campaign.pk]
        campaign.running = campaign.starts_on <= today <= campaign.ends_on
    return render(
        request,
        "campaigns/list.html",
        {"campaigns": found, "may_run": runs_campaigns(request.user, request.dealer.pk)},
    )


@workbench(runs_campaigns)
def campaign_new(request: HttpRequest) -> HttpResponse:
    form = CampaignForm(request.POST or None, dealer=request.dealer)
    created: list[Campaign] = []
    if request.method == "POST" and save_form(
        form,
        lambda: created.append(
            campaigns.create_campaign(dealer=request.dealer, by=request.user, fields=form.fields_())
        ),
    ):
        messages.success(request, _("Campaign created: print its QR code or issue staff codes."))
        return redirect("campaign", created[0].pk)
    return render(
        request,
        "campaigns/edit.html",
        {"form": form, "campaign": None},
        status=422 if form.errors else 200,
    )


@workbench(runs_campaigns)
def campaign_edit(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign(request, campaign_id)
    form = CampaignForm(
        request.POST or None, dealer=request.dealer, initial=CampaignForm.initial_of(campaign)
    )
    if request.method == "POST" and save_form(
        form,
        lambda: campaigns.edit_campaign(campaign=campaign, by=request.user, fields=form.fields_()),
    ):
        messages.success(request, _("Campaign saved."))
        return redirect("campaign", campaign.pk)
    return render(
        request,
        "campaigns/edit.html",
        {"form": form, "campaign": campaign},
        status=422 if form.errors else 200,
    )


@workbench(may_see_campaigns)
def campaign_detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign(request, campaign_id)
    may_run = runs_campaigns(request.user, request.dealer.pk)
    form = CodeForm(request.POST or None, dealer=request.dealer)
    status = 200
    if request.method == "POST":
        if not may_run:
            raise PermissionDenied
        issued: list = []
        if save_form(
            form,
            lambda: issued.append(
                campaigns.issue_code(
                    campaign=campaign, staff=form.cleaned_data["staff"], by=request.user
                )
            ),
        ):
            messages.success(
                request, _("Capture code of %(staff)s ready.") % {"staff": issued[0].staff}
            )
            return redirect("campaign", campaign.pk)
        status = 422
    figures = selectors.code_figures(campaign)
    codes = selectors.codes_of(campaign)
    for code in codes:
        code.figures = figures.get(code.pk, selectors.Figures())
        code.address = request.build_absolute_uri(reverse("capture", args=[code.code]))
        code.qr = qr_svg(code.address)
    return render(
        request,
        "campaigns/detail.html",
        {
            "campaign": campaign,
            "figures": selectors.campaign_figures([campaign])[campaign.pk],
            "codes": codes,
            "form": form,
            "may_run": may_run,
            "may_run_subsidy": runs_subsidies(request.user, request.dealer.pk),
        },
        status=status,
    )


# ---------------------------------------------------------------- the public capture page


def _refused(request: HttpRequest, error: DomainError, *, campaign: Campaign | None = None):
    response = render(
        request,
        "campaigns/capture_refused.html",
        {"message": error.message, "campaign": campaign, "status": error.status},
        status=error.status,
    )
    if isinstance(error, capture.RateLimited):
        response["Retry-After"] = str(error.retry_after)
    return response


@require_http_methods(["GET", "POST"])
def capture_page(request: HttpRequest, code: str) -> HttpResponse:
    """What a capture code's QR code opens, for anyone (no login): the campaign's offer and a
    form for name, mobile, model and consent."""
    try:
        found = capture.code_of(code)
    except NotFound as error:
        return _refused(request, error)
    campaign = found.campaign
    try:
        capture.check_running(campaign, timezone.localdate())
    except capture.CampaignNotRunning as error:
        return _refused(request, error, campaign=campaign)
    form = CaptureForm(request.POST or None, campaign=campaign, code=found.code)
    status = 200
    if request.method == "POST":
        address = client_address(request)
        try:
            capture.check_address(address)
        except capture.RateLimited as error:
            return _refused(request, error, campaign=campaign)

        stopped: list[DomainError] = []  # refusals that are a page of their own, not a field's

        def perform() -> None:
            data = form.cleaned_data
            capture.check_form_token(data["token"], found.code, honeypot=data["website"])
            try:
                capture.capture(
                    code=found.code,
                    name=data["name"],
                    mobile=data["mobile"],
                    car_model=data["car_model"],
                    consent_given=data["consent"],
                    address=address,
                    page_url=request.build_absolute_uri(),
                )
            except (capture.RateLimited, capture.CampaignNotRunning) as error:
                stopped.append(error)

        saved = save_form(form, perform)
        if stopped:
            return _refused(request, stopped[0], campaign=campaign)
        if saved:
            return redirect("capture_done", found.code)
        form.renew_token(found.code)
        status = 422
    return render(
        request,
        "campaigns/capture.html",
        {"campaign": campaign, "form": form, "dealer": campaign.dealer},
        status=status,
    )


@require_GET
def capture_done(request: HttpRequest, code: str) -> HttpResponse:
    """After the details are in: the offer is claimed, and what happens next."""
    try:
        found = capture.code_of(code)
    except NotFound as error:
        return _refused(request, error)
    return render(
        request,
        "campaigns/capture_done.html",
        {"campaign": found.campaign, "dealer": found.campaign.dealer},
    )


# ---------------------------------------------------------------- direct sales at the stand


@workbench(may_use_stand)
@require_GET
def stand_page(request: HttpRequest) -> HttpResponse:
    """The phone screen for direct sales at the stand: a visitor's name, mobile, model and
    consent, kept on the phone while the connection is down (static/js/stand.js) and sent to
    stand_send when it is back."""
    codes = stand.stand_codes(request.user, request.dealer.pk)
    offered = [
        {
            "code": code.code,
            "campaign": code.campaign.name,
            "models": code.campaign.model_choices,
            "wording": code.campaign.consent_wording,
        }
        for code in codes
    ]
    return render(
        request,
        "campaigns/stand.html",
        {
            "codes": codes,
            "offered": offered,
            "queue_name": f"dcc.stand.{request.user.pk}",
            "texts": {
                "queued": _("not sent yet"),
                "sending": _("sending"),
                "sent": _("sent"),
                "refused": _("refused"),
                "remove": _("Remove"),
                "name": _("Enter the name."),
                "mobile": _("Enter the mobile number."),
                "none": _("(no model)"),
            },
        },
    )


@workbench(may_use_stand)
@require_http_methods(["POST"])
def stand_send(request: HttpRequest) -> JsonResponse:
    """One entry of the stand's queue, as JSON; the answer tells the phone what became of it:
    sent (201, or 200 when the key was seen: the first answer again), refused (422, 403, 410:
    not kept, the person fixes it), or try later (429)."""
    try:
        entry = json.loads(request.body or b"{}")
        if not isinstance(entry, dict):
            raise ValueError
    except ValueError:
        return JsonResponse({"state": "refused", "message": _("Not an entry.")}, status=400)
    try:
        sent = stand.send(
            staff=request.user,
            dealer_id=request.dealer.pk,
            key=str(entry.get("key", "")),
            code=str(entry.get("code", "")),
            name=str(entry.get("name", "")),
            mobile=str(entry.get("mobile", "")),
            car_model=str(entry.get("car_model", "")),
            consent_given=entry.get("consent") is True,
            entered=str(entry.get("entered_at", "")),
            address=client_address(request),
        )
    except capture.RateLimited as error:
        response = JsonResponse({"state": "queued", "message": error.message}, status=429)
        response["Retry-After"] = str(error.retry_after)
        return response
    except (InvalidInput, capture.CampaignNotRunning) as error:
        field = getattr(error, "field", "") or ""
        return JsonResponse(
            {"state": "refused", "message": error.message, "field": field}, status=error.status
        )
    message = (
        _("Sent: a new lead for the DCC.")
        if sent.outcome == "created"
        else _("Sent: a repeat enquiry on their open lead.")
    )
    return JsonResponse(
        {"state": "sent", "outcome": sent.outcome, "again": sent.again, "message": message},
        status=200 if sent.again else 201,
    )


# ---------------------------------------------------------------- car-sticker fuel subsidy


@workbench()
def running_subsidies(request: HttpRequest) -> HttpResponse:
    """The fuel subsidies running today, as links (loaded into the members page, where owner
    operations work: they do not open the campaign pages); nothing for those who do not run
    them."""
    if not runs_subsidies(request.user, request.dealer.pk):
        return HttpResponse("")
    today = timezone.localdate()
    running = Campaign.objects.filter(
        dealer=request.dealer,
        kind=CampaignKind.FUEL_SUBSIDY,
        starts_on__lte=today,
        ends_on__gte=today,
    ).order_by("starts_on", "pk")
    return render(request, "campaigns/_running_subsidies.html", {"running": running})


@workbench(runs_subsidies)
@require_http_methods(["GET", "POST"])
def subsidy_page(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """A fuel subsidy's members and months: enrol a member (POST), the payments due with
    their checks, and what the sticker brought (its line's calls and leads)."""
    campaign = _campaign(request, campaign_id)
    if campaign.kind != CampaignKind.FUEL_SUBSIDY:
        raise Http404
    form = SubsidyEnrolForm(request.POST or None)
    if request.method == "POST" and save_form(
        form,
        lambda: subsidy.enrol(
            campaign=campaign,
            member=subsidy.find_member(campaign, form.cleaned_data["member"]),
            by=request.user,
            months=form.cleaned_data["months"] or subsidy.DEFAULT_MONTHS,
        ),
    ):
        messages.success(request, _("Member enrolled."))
        return redirect("subsidy", campaign.pk)
    return _subsidy_page(request, campaign, form, status=422 if form.errors else 200)


def _subsidy_page(request, campaign, form, *, status=200, photo_error=None) -> HttpResponse:
    return render(
        request,
        "campaigns/subsidy.html",
        {
            "campaign": campaign,
            "form": form,
            "rows": subsidy.payments(campaign),
            "totals": subsidy.totals(campaign),
            "figures": selectors.campaign_figures([campaign])[campaign.pk],
            "photo_error": photo_error,
            "max_photo_mb": subsidy.MAX_PHOTO_MB,
        },
        status=status,
    )


def _month(request: HttpRequest, month_id: int) -> SubsidyMonth:
    here = SubsidyMonth.objects.filter(dealer=request.dealer).select_related("enrolment__campaign")
    return get_object_or_404(here, pk=month_id)


@workbench(runs_subsidies)
@require_http_methods(["POST"])
def subsidy_check(request: HttpRequest, month_id: int) -> HttpResponse:
    """The month's sticker photo, uploaded; a wrong file is named on the page (422)."""
    month = _month(request, month_id)
    campaign = month.enrolment.campaign
    photo = request.FILES.get("photo")
    try:
        if photo is None:
            raise InvalidInput(_("Choose a photo of the sticker on the car."), field="photo")
        subsidy.record_check(month=month, photo=photo, by=request.user)
    except DomainError as error:
        return _subsidy_page(
            request,
            campaign,
            SubsidyEnrolForm(),
            status=error.status,
            photo_error=(month.pk, error.message),
        )
    messages.success(request, _("Check recorded."))
    return redirect("subsidy", campaign.pk)


@workbench(runs_subsidies)
@require_http_methods(["POST"])
def subsidy_paid(request: HttpRequest, month_id: int) -> HttpResponse:
    month = _month(request, month_id)
    try:
        subsidy.mark_paid(month=month, by=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Marked paid."))
    return redirect("subsidy", month.enrolment.campaign_id)


@workbench(runs_subsidies)
@require_GET
def sticker_photo(request: HttpRequest, month_id: int) -> HttpResponse:
    """A month's sticker photo, to the people who run the subsidy (never a public address)."""
    month = _month(request, month_id)
    if not month.photo:
        raise Http404
    response = FileResponse(month.photo.open("rb"))
    response["Cache-Control"] = "private, no-store"
    return response
