"""The dealer's SMS set-up: its settings and templates, each change noted (accounts.audit)."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.audit import record_change
from accounts.models import Dealer, Staff
from accounts.roles import check_configure
from dcc.errors import Conflict, InvalidInput, NotPermitted
from sms import texts
from sms.models import Kind, SmsSettings, Template, new_push_token
from sms.permissions import may_bulk_send

SETTINGS_FIELDS = (
    "provider",
    "signature",
    "access_key_id",
    "region_id",
    "api_url",
    "dealer_phone",
    "dealer_address",
    "quiet_from",
    "quiet_until",
    "marketing_per_day",
    "messages_per_day",
    "seconds_between",
    "max_parts",
    "reminder_template",
    "return_visit_template",
)


def save_settings(
    *, dealer: Dealer, by: Staff, access_key_secret: str = "", **fields: Any
) -> SmsSettings:
    """Change the dealer's SMS settings; an empty secret keeps the one stored. The automatic
    messages' templates must be the dealer's notifications."""
    check_configure(by, dealer)
    settings = SmsSettings.of(dealer)
    for name in ("reminder_template", "return_visit_template"):
        template = fields.get(name)
        if template is not None and (
            template.dealer_id != dealer.pk or template.kind != Kind.NOTIFICATION
        ):
            raise InvalidInput(_("Choose one of the dealer's notification templates."), field=name)
    signature = fields.get("signature", settings.signature).strip().strip("【】[]")
    if signature and not 2 <= len(signature) <= 12:
        raise InvalidInput(_("A signature has 2 to 12 characters."), field="signature")
    fields["signature"] = signature
    for name in SETTINGS_FIELDS:
        if name in fields:
            setattr(settings, name, fields[name])
    if access_key_secret:
        settings.access_key_secret = access_key_secret.strip()
    settings.save()
    record_change(
        dealer=dealer,
        by=by,
        what="sms_settings",
        subject=settings.get_provider_display(),
        detail={"provider": settings.provider, "signature": settings.signature},
    )
    return settings


def renew_push_token(*, dealer: Dealer, by: Staff) -> SmsSettings:
    check_configure(by, dealer)
    settings = SmsSettings.of(dealer)
    settings.push_token = new_push_token()
    settings.save(update_fields=["push_token"])
    record_change(dealer=dealer, by=by, what="sms_push_token_renewed", subject="sms")
    return settings


def save_template(
    *,
    dealer: Dealer,
    by: Staff,
    template: Template | None = None,
    name: str,
    kind: str,
    text: str,
    provider_code: str = "",
    is_active: bool = True,
) -> Template:
    """Create or change a template, refused (naming the field) when its wording would be
    refused at sending: an unknown variable, a marketing text without the opt-out, too long."""
    if not may_bulk_send(by, dealer.pk):
        raise NotPermitted(_("Only marketing and supervisors write SMS templates."))
    name = name.strip()
    if not name:
        raise InvalidInput(_("Name the template."), field="name")
    settings = SmsSettings.of(dealer)
    texts.check_wording(text=text, kind=kind, settings=settings)
    template = template or Template(dealer=dealer)
    template.name, template.kind, template.text = name, kind, text.strip()
    template.provider_code, template.is_active = provider_code.strip(), is_active
    try:
        with transaction.atomic():
            template.save()
    except IntegrityError:
        raise Conflict(_("The dealer has a template of this name."), code="name_taken") from None
    record_change(
        dealer=dealer, by=by, what="sms_template", subject=template.name, detail={"kind": kind}
    )
    return template
