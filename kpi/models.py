"""What measurement stores beside the ledger: the dealer's monthly targets."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Dealer, Staff


class OrderTarget(models.Model):
    """A dealer's order target for a calendar month; kpi.targets decomposes it back through
    the funnel into the leads, appointments and arrivals it takes."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="order_targets")
    month = models.DateField(_("month"))  # its first day
    orders = models.PositiveIntegerField(_("orders"))
    set_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("order target")
        verbose_name_plural = _("order targets")
        constraints = [
            models.UniqueConstraint(fields=["dealer", "month"], name="order_target_month_uniq")
        ]
