"""Text messages (SMS): the dealer's SMS settings, its templates, every message sent and every
reply received. Rules live in sms.texts (wording and length), sms.rules (consent, quiet hours,
limits) and sms.sending (the actions)."""

from __future__ import annotations

import secrets
from datetime import time

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Dealer, Staff
from leads.models import Customer, Lead

# Aliyun (and the carriers) take a long message of at most 500 characters, signature included:
# 8 parts of 67. A dealer may cap it lower to keep costs down (default 5 parts).
MAX_PARTS_CEILING = 8


class Provider(models.TextChoices):
    OUTBOX = "outbox", _("Outbox (kept here, not sent)")
    ALIYUN = "aliyun", _("Alibaba Cloud SMS")


class Kind(models.TextChoices):
    NOTIFICATION = "notification", _("Notification")
    MARKETING = "marketing", _("Marketing")


class Trigger(models.TextChoices):
    """Why a message went: someone sent it, or the system did."""

    MANUAL = "manual", _("Sent from the lead")
    BULK = "bulk", _("Bulk send")
    REMINDER = "reminder", _("Appointment reminder")
    RETURN_VISIT = "return_visit", _("Return-visit notice")


class Status(models.TextChoices):
    SENT = "sent", pgettext_lazy("text message", "Sent")
    DELIVERED = "delivered", pgettext_lazy("text message", "Delivered")
    FAILED = "failed", pgettext_lazy("text message", "Failed")


def new_push_token() -> str:
    return secrets.token_urlsafe(18)


class SmsSettings(models.Model):
    """A dealer's SMS set-up: the provider and its keys, the signature every message carries,
    the dealer's details the templates may quote, quiet hours and per-number limits, and the
    templates the system sends by itself."""

    dealer = models.OneToOneField(Dealer, on_delete=models.CASCADE, related_name="sms_settings")
    provider = models.CharField(
        _("provider"), max_length=16, choices=Provider.choices, default=Provider.OUTBOX
    )
    # The registered signature, without the brackets the phone shows (【…】).
    signature = models.CharField(_("signature"), max_length=12, blank=True)
    access_key_id = models.CharField(_("AccessKey ID"), max_length=64, blank=True)
    # Shared with the provider, so kept as given (like a phone account's keys); never shown.
    access_key_secret = models.CharField(max_length=128, blank=True, editable=False)
    region_id = models.CharField(_("region"), max_length=32, default="cn-hangzhou")
    api_url = models.URLField(_("API address"), blank=True, help_text=_("Empty: the provider's."))
    # Names the dealer in the address receipts and replies are pushed to.
    push_token = models.CharField(
        max_length=32, unique=True, default=new_push_token, editable=False
    )
    dealer_phone = models.CharField(_("dealer's phone"), max_length=20, blank=True)
    dealer_address = models.CharField(_("dealer's address"), max_length=60, blank=True)
    quiet_from = models.TimeField(_("no marketing from"), default=time(21, 0))
    quiet_until = models.TimeField(_("no marketing until"), default=time(8, 0))
    marketing_per_day = models.PositiveSmallIntegerField(
        _("marketing messages per number per day"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
    )
    messages_per_day = models.PositiveSmallIntegerField(
        _("messages per number per day"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
    )
    seconds_between = models.PositiveSmallIntegerField(
        _("seconds between two messages to one number"),
        default=60,
        validators=[MinValueValidator(0), MaxValueValidator(3600)],
    )
    max_parts = models.PositiveSmallIntegerField(
        _("parts per message at most"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_PARTS_CEILING)],
    )
    reminder_template = models.ForeignKey(
        "Template",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("appointment reminder (the day before)"),
    )
    return_visit_template = models.ForeignKey(
        "Template",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("return-visit notice (the day it is due)"),
    )

    class Meta:
        verbose_name = _("SMS settings")
        verbose_name_plural = _("SMS settings")

    @classmethod
    def of(cls, dealer: Dealer) -> SmsSettings:
        return cls.objects.get_or_create(dealer=dealer)[0]

    @property
    def signature_shown(self) -> str:
        return f"【{self.signature}】" if self.signature else ""


class Template(models.Model):
    """A message's wording with `${variable}` placeholders, as the provider approved it
    (`provider_code`: Aliyun's TemplateCode). Marketing wording ends with the opt-out text."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=60)
    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices)
    text = models.TextField(_("text"))
    provider_code = models.CharField(
        _("provider's template code"),
        max_length=32,
        blank=True,
        help_text=_("As the provider approved it, e.g. SMS_153055065. Not needed for the outbox."),
    )
    is_active = models.BooleanField(_("in use"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("SMS template")
        verbose_name_plural = _("SMS templates")
        constraints = [
            models.UniqueConstraint(fields=["dealer", "name"], name="sms_template_name_uniq")
        ]

    def __str__(self) -> str:
        return self.name


class Message(models.Model):
    """One text message to one customer. The phone and text are personal data: an erasure
    blanks them (sms.holdings) and keeps the row, so the counts stay."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, null=True, related_name="+")
    template = models.ForeignKey(
        Template, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("template")
    )
    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices)
    trigger = models.CharField(_("why"), max_length=16, choices=Trigger.choices)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    text = models.TextField(_("text"), blank=True)
    parts = models.PositiveSmallIntegerField(_("parts"), default=1)
    provider = models.CharField(_("provider"), max_length=16, choices=Provider.choices)
    provider_id = models.CharField(max_length=64, blank=True)  # Aliyun's BizId
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    error = models.CharField(_("error"), max_length=200, blank=True)
    sent_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, related_name="+")
    sent_at = models.DateTimeField(_("sent at"))
    reported_at = models.DateTimeField(_("delivery reported at"), null=True, blank=True)
    # What the system sent by itself, once (an appointment's reminder, a visit's notice).
    key = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("text message")
        verbose_name_plural = _("text messages")
        ordering = ["-sent_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["dealer", "key"], condition=~Q(key=""), name="sms_message_key_uniq"
            )
        ]
        indexes = [
            models.Index(fields=["dealer", "sent_at"]),
            models.Index(fields=["dealer", "phone", "sent_at"]),
            models.Index(fields=["dealer", "provider_id"]),
            models.Index(fields=["customer", "sent_at"]),
        ]


class Reply(models.Model):
    """A message a customer sent back (Aliyun's SmsUp, or simulated in the outbox)."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, null=True, related_name="+")
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    content = models.TextField(_("reply"), blank=True)
    received_at = models.DateTimeField(_("received at"))
    opted_out = models.BooleanField(_("opted out"), default=False)

    class Meta:
        verbose_name = _("SMS reply")
        verbose_name_plural = _("SMS replies")
        ordering = ["-received_at", "-pk"]
        indexes = [models.Index(fields=["dealer", "received_at"])]
