"""The consent ledger (what each customer agreed to, per purpose, with its evidence) and the
dealer's do-not-call list."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Dealer, Staff
from leads.models import Customer


class Purpose(models.TextChoices):
    MARKETING_CALLS = "marketing_calls", _("Marketing calls")
    SMS = "sms", _("Marketing SMS")
    WECHAT = "wechat", _("WeChat messages")
    RECORDING_NOTICE = "recording_notice", _("Call recording notice")


class ConsentSource(models.TextChoices):
    CAPTURE_PAGE = "capture_page", _("Capture page")
    CALL = "call", _("Call")
    FORM = "form", _("Paper or web form")
    REPLY = "reply", _("Reply to a message")
    IMPORT = "import", _("Import")


class AppendOnly(Exception):
    """A consent record is evidence: it is never changed or removed, only followed by another."""


class ConsentRecord(models.Model):
    """One statement of a customer's about one purpose: given or withdrawn, when, how, with the
    evidence (the wording shown, the page, the address). The latest record per customer and
    purpose is what holds (privacy.consent.current). Append-only."""

    dealer = models.ForeignKey(Dealer, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="consents")
    purpose = models.CharField(_("purpose"), max_length=24, choices=Purpose.choices)
    given = models.BooleanField(_("given"))
    at = models.DateTimeField(_("when"))
    how = models.CharField(_("how"), max_length=16, choices=ConsentSource.choices)
    evidence = models.TextField(_("evidence"), blank=True)
    by = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )  # None: the customer themselves (a capture page, a reply)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")
        indexes = [models.Index(fields=["customer", "purpose", "at"])]

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise AppendOnly("consent records are never changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("consent records are never deleted")


class DoNotCall(models.Model):
    """A number the dealer must not call for marketing, whoever's it is (a customer's request,
    a complaint, a regulator's list)."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="+")
    phone = models.CharField(_("phone"), max_length=20)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    at = models.DateTimeField(_("since"))
    by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("do-not-call number")
        verbose_name_plural = _("do-not-call list")
        constraints = [models.UniqueConstraint(fields=["dealer", "phone"], name="do_not_call_uniq")]


class RequestKind(models.TextChoices):
    EXPORT = "export", _("Export")
    ERASURE = "erasure", _("Erasure")


class ErasureCause(models.TextChoices):
    REQUEST = "request", _("The customer's request")
    RETENTION = "retention", _("Retention period ended")


class DataRequest(models.Model):
    """An export or an erasure of a customer's personal data: who, when, why, in what form,
    and what it covered (counts per section). Kept after the erasure it records."""

    dealer = models.ForeignKey(Dealer, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("what"), max_length=8, choices=RequestKind.choices)
    at = models.DateTimeField(_("when"))
    by = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )  # None: the retention run
    cause = models.CharField(_("why"), max_length=10, choices=ErasureCause.choices, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    file_format = models.CharField(_("format"), max_length=8, blank=True)
    counts = models.JSONField(_("records"), default=dict)

    class Meta:
        verbose_name = _("personal data request")
        verbose_name_plural = _("personal data requests")
        indexes = [models.Index(fields=["dealer", "at"])]


class PrivacySettings(models.Model):
    """How long the dealer keeps a customer's personal data after their last contact; empty:
    until the customer asks."""

    dealer = models.OneToOneField(Dealer, on_delete=models.CASCADE, related_name="+")
    retention_days = models.PositiveIntegerField(
        _("keep personal data for (days after the last contact)"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("privacy settings")
        verbose_name_plural = _("privacy settings")
