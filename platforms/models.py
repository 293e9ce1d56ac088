"""Platform operations (平台运营): the dealer's accounts on the lead platforms, each account's
daily checklist and its ticks, and the scores the platforms give the dealer (or that we compute
from our own calls and leads), against the account's threshold."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Dealer, Staff
from leads.models import Channel


class Platform(models.TextChoices):
    AUTOHOME = "autohome", _("Autohome · Dealer Hub")
    YICHE = "yiche", _("Yiche · Dealer Link")
    DONGCHEDI = "dongchedi", _("Dongchedi")
    OTHER = "other", _("Other platform")


# The line each platform draws under its score (车商汇 > 85, 车易通 > 90): an account starts with
# its platform's, and the dealer may change it.
DEFAULT_THRESHOLDS: dict[str, Decimal] = {
    Platform.AUTOHOME: Decimal("85"),
    Platform.YICHE: Decimal("90"),
    Platform.DONGCHEDI: Decimal("85"),
    Platform.OTHER: Decimal("85"),
}


class PlatformAccount(models.Model):
    """One account of the dealer's on a platform, the channel its leads arrive on, and the
    specialist who runs it."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="+")
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    name = models.CharField(_("account name"), max_length=100)
    channel = models.ForeignKey(
        Channel, on_delete=models.PROTECT, related_name="+", verbose_name=_("channel")
    )
    specialist = models.ForeignKey(
        Staff,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("platform specialist"),
    )
    threshold = models.DecimalField(_("score threshold"), max_digits=5, decimal_places=2)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("platform account")
        verbose_name_plural = _("platform accounts")
        constraints = [
            models.UniqueConstraint(
                fields=["dealer", "platform", "name"], name="platform_account_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} · {self.name}"


# The items every new account starts with (code, name): what the platforms check a dealer for.
DEFAULT_ITEMS: tuple[tuple[str, object], ...] = (
    ("logged_in", _("Logged in to the platform")),
    ("prices_updated", _("Prices updated")),
    ("articles_published", _("Articles published")),
    ("promotion_used", _("Promotion slots used")),
    ("leads_handed_over", _("Every lead handed over")),
)
_DEFAULT_NAMES = dict(DEFAULT_ITEMS)


class ChecklistItem(models.Model):
    """Something the specialist does on the account every day. The default items have a
    `code` and are named in the reader's language; an item the dealer adds has a `label`."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(
        PlatformAccount, on_delete=models.CASCADE, related_name="checklist_items"
    )
    code = models.SlugField(max_length=32, blank=True)
    label = models.CharField(_("item"), max_length=100, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        """The dealer's own label, else the default item's name in the reader's language."""
        return self.label or str(_DEFAULT_NAMES.get(self.code, self.code))


class ChecklistTick(models.Model):
    """An item done on a day (the dealer's local day), by whom and when. Unticking keeps the
    row and says who took the tick back and when; at most one standing tick per item and day."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(PlatformAccount, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(ChecklistItem, on_delete=models.CASCADE, related_name="ticks")
    day = models.DateField()
    ticked_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    ticked_at = models.DateTimeField()
    unticked_by = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    unticked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["item", "day", "dealer"],
                condition=Q(unticked_at__isnull=True),
                name="checklist_tick_standing_uniq",
            )
        ]
        indexes = [models.Index(fields=["account", "day"])]


class ScoreKind(models.TextChoices):
    PLATFORM = "platform", _("Platform score")
    ANSWER = "answer", _("400 answer score")
    RESPONSE = "response", _("First response on time")


class ScoreSource(models.TextChoices):
    ENTERED = "entered", _("Entered")
    IMPORTED = "imported", _("Imported")
    COMPUTED = "computed", _("Computed")


class PlatformScore(models.Model):
    """A score of an account on a day, out of 100: the platform's own (entered or imported as
    the platform publishes it), or one we compute from our calls and leads. Rows are kept: the
    latest of each kind (by day, then by when it was recorded) is the account's standing."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(PlatformAccount, on_delete=models.CASCADE, related_name="scores")
    kind = models.CharField(
        _("score"), max_length=16, choices=ScoreKind.choices, default=ScoreKind.PLATFORM
    )
    day = models.DateField(_("date"))
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=2)
    source = models.CharField(_("source"), max_length=16, choices=ScoreSource.choices)
    # None: computed by the daily upkeep (platforms.actions.compute_due), not by a person.
    recorded_by = models.ForeignKey(
        Staff,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    recorded_at = models.DateTimeField(_("at"), default=timezone.now)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("platform score")
        verbose_name_plural = _("platform scores")
        indexes = [models.Index(fields=["account", "kind", "day"])]
