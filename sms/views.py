"""The SMS pages: messages and replies (the outbox, where a reply can be typed in as the
customer would send it), a bulk send with its preview, the templates, the settings, and the
lead page's panel. Views parse and show; sms.sending and sms.setup decide and write."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from dcc.errors import DomainError, NotFound
from dcc.forms import perform_or_403, save_form
from dcc.phone import mask_phone
from leads.permissions import get_visible_lead, may_change_settings
from leads.setup.views import SECTIONS
from leads.views.common import workbench
from sms import setup
from sms.forms import ReplyForm, SegmentForm, SendForm, SettingsForm, TemplateForm
from sms.models import Message, Provider, Reply, SmsSettings, Template
from sms.permissions import may_bulk_send, may_see_sms, may_send_to_lead
from sms.sending import preview_bulk, receive_reply, send_bulk, send_to_lead

PAGE_SIZE = 50


def _common(request: HttpRequest, tab: str) -> dict:
    settings = SmsSettings.of(request.dealer)
    return {
        "tab": tab,
        "sms_settings": settings,
        "may_bulk": may_bulk_send(request.user, request.dealer.pk),
        "may_configure": may_change_settings(request.user, request.dealer.pk),
    }


@workbench(may_see_sms)
def message_list(request: HttpRequest) -> HttpResponse:
    """Every message sent, newest first; under the outbox, the replies and a form to answer a
    message as its customer would."""
    found = Message.objects.filter(dealer=request.dealer).select_related(
        "customer", "template", "sent_by"
    )
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    for message in page:
        message.shown_phone = mask_phone(message.phone) if message.phone else "—"
    replies = list(Reply.objects.filter(dealer=request.dealer).select_related("customer")[:20])
    for reply in replies:
        reply.shown_phone = mask_phone(reply.phone) if reply.phone else "—"
    context = _common(request, "messages")
    context.update(
        page=page,
        replies=replies,
        simulate=context["may_bulk"] and context["sms_settings"].provider == Provider.OUTBOX,
    )
    return render(request, "sms/messages.html", context)


@workbench(may_bulk_send)
@require_POST
def outbox_reply(request: HttpRequest) -> HttpResponse:
    """A reply typed in as the customer of an outbox message (the demo, the tests): taken as
    if the provider had pushed it."""
    if SmsSettings.of(request.dealer).provider != Provider.OUTBOX:
        raise PermissionDenied
    form = ReplyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Type the reply."))
        return redirect("sms")
    message = get_object_or_404(
        Message, dealer=request.dealer, pk=form.cleaned_data["message"], provider=Provider.OUTBOX
    )
    if not message.phone:
        raise Http404
    reply = receive_reply(
        dealer=request.dealer,
        phone=message.phone,
        content=form.cleaned_data["content"],
        at=timezone.now(),
    )
    if reply.opted_out:
        messages.success(request, _("Reply received: the customer opted out of marketing SMS."))
    else:
        messages.success(request, _("Reply received."))
    return redirect("sms")


@workbench(may_bulk_send)
@require_http_methods(["GET", "POST"])
def bulk(request: HttpRequest) -> HttpResponse:
    """A segment and a template: "Preview" counts who would be sent it now and who skipped
    (and why); "Send" sends it to the former."""
    data = request.POST if request.method == "POST" else (request.GET or None)
    form = SegmentForm(data, dealer=request.dealer)
    preview = None
    status = 200
    if data is not None and form.is_valid():
        try:
            if request.method == "POST":
                outcome = send_bulk(
                    dealer=request.dealer,
                    segment=form.segment(),
                    template=form.cleaned_data["template"],
                    by=request.user,
                )
                skipped = sum(outcome.skipped.values())
                messages.success(
                    request,
                    _("%(sent)d sent, %(failed)d failed, %(skipped)d skipped.")
                    % {"sent": outcome.sent, "failed": outcome.failed, "skipped": skipped},
                )
                return redirect("sms")
            preview = preview_bulk(
                dealer=request.dealer,
                segment=form.segment(),
                template=form.cleaned_data["template"],
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
    if form.errors:
        status = 422
    context = _common(request, "bulk")
    context.update(form=form, preview=preview)
    return render(request, "sms/bulk.html", context, status=status)


@workbench(may_see_sms)
def template_list(request: HttpRequest) -> HttpResponse:
    context = _common(request, "templates")
    context["templates"] = Template.objects.filter(dealer=request.dealer).order_by(
        "-is_active", "kind", "name"
    )
    return render(request, "sms/templates.html", context)


@workbench(may_bulk_send)
@require_http_methods(["GET", "POST"])
def template_edit(request: HttpRequest, template_id: int | None = None) -> HttpResponse:
    template = (
        get_object_or_404(Template, dealer=request.dealer, pk=template_id) if template_id else None
    )
    initial = (
        {
            "name": template.name,
            "kind": template.kind,
            "text": template.text,
            "provider_code": template.provider_code,
            "is_active": template.is_active,
        }
        if template
        else {"is_active": True}
    )
    form = TemplateForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and save_form(
        form,
        lambda: setup.save_template(
            dealer=request.dealer, by=request.user, template=template, **form.cleaned_data
        ),
    ):
        messages.success(request, _("Template saved."))
        return redirect("sms_templates")
    context = _common(request, "templates")
    context.update(form=form, template=template)
    return render(request, "sms/template_form.html", context, status=422 if form.errors else 200)


@workbench(may_change_settings)
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    settings = SmsSettings.of(request.dealer)
    initial = {name: getattr(settings, name) for name in setup.SETTINGS_FIELDS}
    form = SettingsForm(
        request.POST if request.method == "POST" else None, dealer=request.dealer, initial=initial
    )
    if request.method == "POST" and save_form(
        form,
        lambda: setup.save_settings(dealer=request.dealer, by=request.user, **form.cleaned_data),
    ):
        messages.success(request, _("SMS settings saved."))
        return redirect("settings_sms")
    push_address = request.build_absolute_uri(reverse("sms_push", args=[settings.push_token]))
    return render(
        request,
        "sms/settings.html",
        {
            "sections": SECTIONS,
            "section": "settings_sms",
            "form": form,
            "push_address": push_address,
            "has_secret": bool(settings.access_key_secret),
        },
        status=422 if form.errors else 200,
    )


@workbench(may_change_settings)
@require_POST
def renew_push_token(request: HttpRequest) -> HttpResponse:
    perform_or_403(lambda: setup.renew_push_token(dealer=request.dealer, by=request.user))
    messages.success(request, _("New push address made: give it to the provider."))
    return redirect("settings_sms")


# ---------------------------------------------------------------- the lead page's panel


@workbench()
@require_http_methods(["GET", "POST"])
def lead_panel(request: HttpRequest, lead_id: int) -> HttpResponse:
    """The lead page's SMS panel (loaded into it): the messages to and from the customer, and a
    form to send one."""
    try:
        lead = get_visible_lead(request.user, lead_id)
    except NotFound as error:
        raise Http404(error.message) from error
    may_send = may_send_to_lead(request.user, lead)
    form = SendForm(request.POST if request.method == "POST" else None, dealer=lead.dealer)
    sent = None
    if request.method == "POST":
        if not may_send:
            raise PermissionDenied
        done: list[Message] = []
        if save_form(
            form,
            lambda: done.append(
                send_to_lead(lead=lead, template=form.cleaned_data["template"], by=request.user)
            ),
        ):
            sent = done[0]
            form = SendForm(dealer=lead.dealer)
    history = list(Message.objects.filter(customer_id=lead.customer_id).order_by("-sent_at")[:5])
    return render(
        request,
        "sms/_lead_panel.html",
        {"lead": lead, "form": form, "may_send": may_send, "history": history, "sent": sent},
        status=422 if form.errors else 200,
    )
