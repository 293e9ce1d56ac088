"""Consent and personal data pages: the lead page's consent panel, the personal-data pages
(find a customer, their consent and requests, export, erase), the do-not-call list, and the
retention period in the settings. Views parse and show; privacy.consent and privacy.rights
decide and write."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from dcc.errors import Conflict, NotFound
from dcc.forms import save_form
from dcc.phone import mask_phone
from leads.models import Customer
from leads.permissions import get_visible_lead, may_change_settings
from leads.setup.views import SECTIONS
from leads.views.common import workbench
from privacy import consent, rights
from privacy.forms import (
    ConsentForm,
    CustomerSearchForm,
    DoNotCallForm,
    EraseForm,
    RetentionForm,
)
from privacy.models import DataRequest, DoNotCall, Purpose
from privacy.permissions import (
    answers_requests,
    keeps_do_not_call,
    may_record_consent,
    may_see_privacy,
)

PAGE_SIZE = 50


def _statuses(customer: Customer) -> list[tuple[str, object]]:
    latest = consent.latest_by_purpose(customer)
    return [(Purpose(purpose).label, latest[purpose]) for purpose in Purpose.values]


# ---------------------------------------------------------------- the lead page's panel


def _visible_lead(request: HttpRequest, lead_id: int):
    try:
        return get_visible_lead(request.user, lead_id)
    except NotFound as error:
        raise Http404(error.message) from error


def _may_record(request: HttpRequest, lead) -> bool:
    return may_record_consent(request.user, lead) and lead.customer.erased_at is None


def _panel(request: HttpRequest, lead, form: ConsentForm) -> HttpResponse:
    customer = lead.customer
    return render(
        request,
        "privacy/_lead_consent.html",
        {
            "lead": lead,
            "statuses": _statuses(customer),
            "do_not_call": customer.erased_at is None
            and consent.is_do_not_call(lead.dealer, customer.phone),
            "form": form,
            "may_record": _may_record(request, lead),
            "may_open": answers_requests(request.user, lead.dealer_id),
        },
        status=422 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@workbench()
def lead_consent(request: HttpRequest, lead_id: int) -> HttpResponse:
    """What the lead's customer agreed to, per purpose, and a form to record what they say."""
    lead = _visible_lead(request, lead_id)
    form = ConsentForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not _may_record(request, lead):
            raise PermissionDenied
        if save_form(
            form,
            lambda: consent.record(customer=lead.customer, by=request.user, **form.cleaned_data),
        ):
            form = ConsentForm()
    return _panel(request, lead, form)


@require_POST
@workbench()
def lead_do_not_call(request: HttpRequest, lead_id: int) -> HttpResponse:
    """The customer asks not to be called for marketing: their number on the list."""
    lead = _visible_lead(request, lead_id)
    if not _may_record(request, lead):
        raise PermissionDenied
    consent.add_do_not_call(
        dealer=lead.dealer,
        phone=lead.customer.phone,
        reason=_("Asked on lead #%(id)s") % {"id": lead.pk},
        by=request.user,
    )
    return _panel(request, lead, ConsentForm())


# ---------------------------------------------------------------- personal-data pages


@workbench(may_see_privacy)
def privacy_home(request: HttpRequest) -> HttpResponse:
    """Find a customer (by full number or name) and the requests answered lately."""
    form = CustomerSearchForm(request.GET or None)
    found: list[Customer] = []
    officer = answers_requests(request.user, request.dealer.pk)
    if officer and form.is_valid():
        found = rights.find_customers(request.dealer, form.cleaned_data["q"])
        for customer in found:
            customer.masked = mask_phone(customer.phone)
    requests = Paginator(
        DataRequest.objects.filter(dealer=request.dealer)
        .select_related("by", "customer")
        .order_by("-at", "-pk"),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "privacy/home.html",
        {
            "form": form,
            "found": found,
            "searched": bool(form.is_bound and form.data.get("q")),
            "requests": requests,
            "officer": officer,
            "keeps_list": keeps_do_not_call(request.user, request.dealer.pk),
        },
    )


def _customer(request: HttpRequest, customer_id: int) -> Customer:
    return get_object_or_404(Customer, pk=customer_id, dealer=request.dealer)


@workbench(answers_requests)
def customer_privacy(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = _customer(request, customer_id)
    return render(
        request,
        "privacy/customer.html",
        {
            "customer": customer,
            "statuses": _statuses(customer),
            "history": consent.history(customer),
            "leads": customer.leads.select_related("channel").order_by("-created_at"),
            "requests": DataRequest.objects.filter(customer=customer)
            .select_related("by")
            .order_by("-at"),
            "do_not_call": customer.erased_at is None
            and consent.is_do_not_call(request.dealer, customer.phone),
        },
    )


CONTENT_TYPES = {
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@require_POST
@workbench(answers_requests)
def customer_export(request: HttpRequest, customer_id: int, file_format: str) -> HttpResponse:
    """Everything held about the customer, as a download (recorded: hence a POST)."""
    customer = _customer(request, customer_id)
    if file_format not in CONTENT_TYPES:
        raise Http404
    result = rights.export(customer, by=request.user, file_format=file_format)
    body = result.as_json() if file_format == "json" else result.as_xlsx()
    response = HttpResponse(body, content_type=CONTENT_TYPES[file_format])
    stamp = timezone.localtime(result.at).strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = (
        f'attachment; filename="customer-{customer.pk}-{stamp}.{file_format}"'
    )
    return response


@require_http_methods(["GET", "POST"])
@workbench(answers_requests)
def customer_erase(request: HttpRequest, customer_id: int) -> HttpResponse:
    """What the erasure removes and what stays (counts only); erase when confirmed."""
    customer = _customer(request, customer_id)
    if customer.erased_at is not None:
        messages.info(request, _("This customer's personal data has already been erased."))
        return redirect("privacy_customer", customer.pk)
    plan = rights.plan_erasure(customer)
    form = EraseForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            rights.erase(
                customer,
                by=request.user,
                reason=form.cleaned_data["reason"],
                confirmed=form.cleaned_data["confirmed"],
            )
        except Conflict as error:
            form.add_error("confirmed" if error.code == "confirm_erasure" else None, error.message)
        else:
            messages.success(request, _("The customer's personal data was erased."))
            return redirect("privacy_customer", customer.pk)
    return render(
        request,
        "privacy/erase.html",
        {"customer": customer, "plan": plan, "form": form, "sections": rights.sections()},
        status=422 if form.errors else 200,
    )


# ---------------------------------------------------------------- the do-not-call list


@require_http_methods(["GET", "POST"])
@workbench(keeps_do_not_call)
def do_not_call(request: HttpRequest) -> HttpResponse:
    form = DoNotCallForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and save_form(
        form,
        lambda: consent.add_do_not_call(
            dealer=request.dealer,
            phone=form.cleaned_data["phone"],
            reason=form.cleaned_data["reason"],
            by=request.user,
        ),
    ):
        messages.success(request, _("Number added to the do-not-call list."))
        return redirect("do_not_call")
    entries = DoNotCall.objects.filter(dealer=request.dealer).select_related("by")
    query = request.GET.get("q", "").strip()[:20]
    digits = "".join(ch for ch in query if ch.isdigit())
    if digits:
        entries = entries.filter(phone__contains=digits)
    page = Paginator(entries.order_by("-at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "privacy/do_not_call.html",
        {"form": form, "page": page, "query": query},
        status=422 if form.errors else 200,
    )


@require_POST
@workbench(keeps_do_not_call)
def do_not_call_remove(request: HttpRequest, entry_id: int) -> HttpResponse:
    entry = get_object_or_404(DoNotCall, pk=entry_id, dealer=request.dealer)
    consent.remove_do_not_call(dealer=request.dealer, phone=entry.phone, by=request.user)
    messages.success(request, _("Number taken off the do-not-call list."))
    return redirect("do_not_call")


# ---------------------------------------------------------------- settings


@require_http_methods(["GET", "POST"])
@workbench(may_change_settings)
def privacy_settings(request: HttpRequest) -> HttpResponse:
    form = RetentionForm(
        request.POST if request.method == "POST" else None,
        initial={"retention_days": rights.retention_days(request.dealer)},
    )
    if request.method == "POST" and save_form(
        form,
        lambda: rights.set_retention(
            dealer=request.dealer, by=request.user, days=form.cleaned_data["retention_days"]
        ),
    ):
        messages.success(request, _("Retention period saved."))
        return redirect("settings_privacy")
    return render(
        request,
        "privacy/settings.html",
        {"sections": SECTIONS, "section": "settings_privacy", "form": form},
        status=422 if form.errors else 200,
    )
