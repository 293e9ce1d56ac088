"""What measurement stores beside the ledger: the dealer's monthly targets."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Dealer, Staff
from accounts.roles import Role


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


class ScoreEvent(models.TextChoices):
    """What earns (or costs) points on a scorecard, and who it is credited to."""

    CALL = "call", _("Call made")
    CONTACT = "contact", _("Call that reached the customer")
    APPOINTMENT = "appointment", _("Appointment booked")
    ARRIVAL = "arrival", _("Arrival (credited to who booked it)")
    ORDER = "order", _("Order")
    DELIVERY = "delivery", _("Delivery")
    RETURN_VISIT = "return_visit", _("Return visit that reached the owner")
    OVERDUE_FOLLOW_UP = "overdue_follow_up", _("Follow-up done late or still overdue")
    AUDIT_PASSED = "audit_passed", _("Audit passed")
    AUDIT_FAILED = "audit_failed", _("Audit failed or overturned")


class PointRule(models.Model):
    """A dealer's points for one thing people of one role do (appointment +2, arrival +5,
    overdue follow-up −1 …)."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="point_rules")
    role = models.CharField(_("role"), max_length=24, choices=Role.choices)
    event = models.CharField(_("for"), max_length=24, choices=ScoreEvent.choices)
    points = models.SmallIntegerField(_("points"))

    class Meta:
        verbose_name = _("point rule")
        verbose_name_plural = _("point rules")
        constraints = [
            models.UniqueConstraint(fields=["dealer", "role", "event"], name="point_rule_uniq")
        ]


class DailyReport(models.Model):
    """The dealer's report for one day (日报表) as generated that evening: kept as it was
    sent, so the morning's figures do not shift when late data arrives; any day can be
    generated again on request."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="daily_reports")
    day = models.DateField(_("day"))
    generated_at = models.DateTimeField(_("generated at"), default=timezone.now)
    content = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("daily report")
        verbose_name_plural = _("daily reports")
        constraints = [
            models.UniqueConstraint(fields=["dealer", "day"], name="daily_report_day_uniq")
        ]
