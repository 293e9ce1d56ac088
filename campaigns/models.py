"""Campaigns, their capture codes, and which leads (and repeat enquiries) each brought."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Dealer, Staff
from calls.models import Call, Line
from leads.models import Channel, Lead
from owners.models import Member


class CampaignKind(models.TextChoices):
    CAR_SHOW = "car_show", _("Car show")
    ROADSHOW = "roadshow", _("Roadshow")
    IN_STORE_DAY = "in_store_day", _("In-store day")
    ONLINE_PROMOTION = "online_promotion", _("Online promotion")
    FUEL_SUBSIDY = "fuel_subsidy", _("Car-sticker fuel subsidy")
    OTHER = "other", _("Other")


class Campaign(models.Model):
    """A marketing campaign: its days, the channel its leads count under, what it costs, its
    own line if it has one, and what its capture page offers and asks consent for."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=24, choices=CampaignKind.choices)
    starts_on = models.DateField(_("first day"))
    ends_on = models.DateField(_("last day"))
    channel = models.ForeignKey(
        Channel, on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("channel")
    )
    budget = models.DecimalField(_("budget"), max_digits=12, decimal_places=2, default=Decimal(0))
    cost = models.DecimalField(_("cost"), max_digits=12, decimal_places=2, default=Decimal(0))
    # A car-sticker fuel subsidy's monthly amount per enrolled member (0 for other kinds).
    monthly_subsidy = models.DecimalField(
        _("monthly fuel subsidy"), max_digits=12, decimal_places=2, default=Decimal(0)
    )
    line = models.ForeignKey(
        Line,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="campaigns",
        verbose_name=_("phone line"),
    )
    offer = models.CharField(_("offer"), max_length=200, blank=True)
    consent_wording = models.TextField(_("consent wording"))
    # The models the capture page offers to choose from, one a line (empty: typed freely).
    car_models = models.TextField(_("models offered"), blank=True)
    created_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        indexes = [models.Index(fields=["dealer", "ends_on"])]

    def __str__(self) -> str:
        return self.name

    @property
    def model_choices(self) -> list[str]:
        return [m.strip() for m in self.car_models.splitlines() if m.strip()]


class CaptureCode(models.Model):
    """A code leading to the campaign's capture page (printed as a QR code): the campaign's
    own (no person), or a staff member's, so that the leads it brings are credited to them."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="codes")
    staff = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    code = models.CharField(max_length=24, unique=True)
    created_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("capture code")
        verbose_name_plural = _("capture codes")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "staff"], name="capture_code_per_staff_uniq"
            ),
            models.UniqueConstraint(
                fields=["campaign"], condition=Q(staff=None), name="capture_code_own_uniq"
            ),
        ]


class CampaignLead(models.Model):
    """The campaign (and code, or call on its line) that brought a lead: set once, when the
    capture or the call created it."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="+")
    lead = models.OneToOneField(Lead, on_delete=models.CASCADE, related_name="campaign_lead")
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="leads")
    capture_code = models.ForeignKey(
        CaptureCode, on_delete=models.PROTECT, null=True, blank=True, related_name="leads"
    )
    # The call on the campaign's line the lead was captured from (留资), if it came that way.
    call = models.OneToOneField(
        Call, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("campaign lead")
        verbose_name_plural = _("campaign leads")
        indexes = [models.Index(fields=["dealer", "campaign"])]


class CampaignTouch(models.Model):
    """A capture by someone who already had an open lead, or a call on the campaign's line
    from someone who already had a lead: a repeat enquiry on that lead, counted for the
    campaign without taking the lead from its channel (or from the campaign that brought it)."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="+")
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="touches")
    capture_code = models.ForeignKey(
        CaptureCode, on_delete=models.PROTECT, null=True, blank=True, related_name="touches"
    )
    # The call on the campaign's line it was (one touch per call, however often it is pushed).
    call = models.OneToOneField(
        Call, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("campaign repeat enquiry")
        verbose_name_plural = _("campaign repeat enquiries")
        indexes = [models.Index(fields=["dealer", "campaign"])]


def sticker_storage() -> Storage:
    """Where sticker photos are kept: the "stickers" storage when the settings name one (S3 at
    scale), else a folder under var/ (not under the public static files: photos are shown
    only through campaigns.views.sticker_photo, to staff)."""
    if "stickers" in settings.STORAGES:
        return storages["stickers"]
    return FileSystemStorage(location=settings.VAR_DIR / "stickers")


class SubsidyEnrolment(models.Model):
    """A member taking part in a car-sticker fuel subsidy (车贴油补): the campaign's sticker on
    their car for a number of months, paid the campaign's monthly amount for each month the
    sticker is shown still on the car."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="enrolments")
    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="+", verbose_name=_("member")
    )
    first_month = models.DateField(_("first month"))  # its first day
    months = models.PositiveSmallIntegerField(_("months"), default=3)
    monthly_amount = models.DecimalField(_("monthly amount"), max_digits=12, decimal_places=2)
    enrolled_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    enrolled_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("fuel subsidy enrolment")
        verbose_name_plural = _("fuel subsidy enrolments")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "member"], name="subsidy_member_uniq")
        ]


class SubsidyMonth(models.Model):
    """One month of an enrolment: the check (a photo of the sticker on the car) and the
    payment due for it."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="+")
    enrolment = models.ForeignKey(
        SubsidyEnrolment, on_delete=models.CASCADE, related_name="month_rows"
    )
    month = models.DateField(_("month"))  # its first day
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    photo = models.FileField(
        _("sticker photo"), storage=sticker_storage, upload_to="%Y/%m/", blank=True
    )
    checked_at = models.DateTimeField(_("checked"), null=True, blank=True)
    checked_by = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    paid_by = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("fuel subsidy month")
        verbose_name_plural = _("fuel subsidy months")
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "month"], name="subsidy_month_uniq")
        ]
        indexes = [models.Index(fields=["dealer", "month"])]
