"""Owner operations (保有客户运营): the customers who bought, their vehicles, and the work that
keeps them — the return-visit plan and its questionnaires, the visits, and complaints."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import Dealer, Staff
from leads.models import Customer, Lead

# ---------------------------------------------------------------- vehicles


class Vehicle(models.Model):
    """A car the dealer delivered, with its current owner (VehicleOwnership keeps who owned it
    when)."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="vehicles", verbose_name=_("owner")
    )
    lead = models.ForeignKey(
        Lead, on_delete=models.PROTECT, related_name="+", verbose_name=_("sale")
    )
    car_model = models.CharField(_("model"), max_length=100, blank=True)
    vin = models.CharField(_("VIN"), max_length=17, blank=True)
    plate = models.CharField(_("plate"), max_length=16, blank=True)
    delivered_at = models.DateTimeField(_("delivered"))
    consultant = models.ForeignKey(
        Staff,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("consultant"),
    )

    class Meta:
        verbose_name = _("vehicle")
        verbose_name_plural = _("vehicles")
        constraints = [
            # One vehicle per delivered sale: the follower of deliveries may run again.
            models.UniqueConstraint(fields=["dealer", "lead"], name="vehicle_sale_uniq"),
            models.UniqueConstraint(
                fields=["dealer", "vin"], condition=~Q(vin=""), name="vehicle_vin_uniq"
            ),
        ]
        indexes = [models.Index(fields=["dealer", "owner"])]

    def __str__(self) -> str:
        return " · ".join(part for part in (self.car_model, self.plate or self.vin) if part) or (
            gettext("Vehicle %(id)s") % {"id": self.pk}
        )


class VehicleOwnership(models.Model):
    """Who owned a vehicle from when until when (open: still theirs)."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="+")
    vehicle = models.ForeignKey(Vehicle, on_delete=models.CASCADE, related_name="ownerships")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"), null=True, blank=True)

    class Meta:
        verbose_name = _("ownership")
        verbose_name_plural = _("ownerships")
        constraints = [
            models.UniqueConstraint(
                fields=["vehicle"], condition=Q(ends_at__isnull=True), name="vehicle_one_owner"
            )
        ]
        indexes = [models.Index(fields=["dealer", "customer"])]
        ordering = ["starts_at", "id"]


# ---------------------------------------------------------------- questionnaires


class QuestionKind(models.TextChoices):
    YES_NO = "yes_no", _("Yes / no")
    SCORE = "score", _("Score 1–5")
    NPS = "nps", _("Recommend 0–10 (NPS)")
    CHOICE = "choice", _("Choice")
    TEXT = "text", _("Free text")


class QuestionnairePurpose(models.TextChoices):
    SALES_SATISFACTION = "sales_satisfaction", _("Sales satisfaction")
    CHECKLIST = "checklist", _("Checklist")
    OTHER = "other", _("Other")


class Questionnaire(models.Model):
    """A dealer's questionnaire; what it asks is in its versions (the last is current)."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    purpose = models.CharField(
        _("purpose"),
        max_length=24,
        choices=QuestionnairePurpose.choices,
        default=QuestionnairePurpose.SALES_SATISFACTION,
    )
    is_default = models.BooleanField(default=False, editable=False)

    class Meta:
        verbose_name = _("questionnaire")
        verbose_name_plural = _("questionnaires")
        constraints = [
            models.UniqueConstraint(fields=["dealer", "name"], name="questionnaire_name_uniq")
        ]

    def __str__(self) -> str:
        return gettext(self.name)  # the default's name is stored in English and translated


class QuestionnaireVersion(models.Model):
    """What a questionnaire asks, as of one edit; never changed once written, so that a visit
    keeps the questions it started with. `questions`: a list of
    {key, label, kind, options, complaint_if, category} (owners.questionnaires)."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="+")
    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField()
    questions = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["questionnaire", "number"], name="questionnaire_version_uniq"
            )
        ]
        ordering = ["questionnaire_id", "number"]


# ---------------------------------------------------------------- the return-visit plan


class Performer(models.TextChoices):
    CONSULTANT = "consultant", _("The consultant who sold")
    OWNER_OPS = "owner_ops", _("Owner operations")
    SALES_MANAGER = "sales_manager", _("Sales manager")


class ReturnVisitPlan(models.Model):
    """A dealer's plan of calls after a delivery, and how hard owner operations tries."""

    dealer = models.OneToOneField(Dealer, on_delete=models.CASCADE, related_name="+")
    attempts = models.PositiveSmallIntegerField(
        _("attempts before a visit is unreachable"), default=3
    )
    retry_hours = models.PositiveSmallIntegerField(_("business hours between attempts"), default=3)

    class Meta:
        verbose_name = _("return-visit plan")
        verbose_name_plural = _("return-visit plans")
        constraints = [
            models.CheckConstraint(condition=Q(attempts__gte=1), name="plan_attempts_positive")
        ]


class ReturnVisitStep(models.Model):
    """One call of the plan: so many hours after delivery, by whom, with which questionnaire,
    for which share of deliveries."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="+")
    plan = models.ForeignKey(ReturnVisitPlan, on_delete=models.CASCADE, related_name="steps")
    name = models.CharField(_("name"), max_length=100)
    offset_hours = models.PositiveIntegerField(_("hours after delivery"))
    performer = models.CharField(_("performed by"), max_length=16, choices=Performer.choices)
    questionnaire = models.ForeignKey(
        Questionnaire,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("questionnaire"),
    )
    sample_percent = models.PositiveSmallIntegerField(_("share of deliveries (%)"), default=100)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("return-visit step")
        verbose_name_plural = _("return-visit steps")
        ordering = ["offset_hours", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(sample_percent__lte=100), name="step_sample_percent_max"
            )
        ]

    def __str__(self) -> str:
        return gettext(self.name)


class VisitStatus(models.TextChoices):
    DUE = "due", pgettext_lazy("return visit", "To do")
    DONE = "done", _("Done")
    UNREACHABLE = "unreachable", _("Unreachable")
    CANCELLED = "cancelled", _("Cancelled")


class ReturnVisit(models.Model):
    """One step of the plan for one delivered vehicle: due, then done, unreachable after its
    attempts, or cancelled. `attempts`: [{at, by, reached, note}]; `answers`: {key: answer}."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="+")
    vehicle = models.ForeignKey(Vehicle, on_delete=models.CASCADE, related_name="visits")
    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="+")
    step = models.ForeignKey(
        ReturnVisitStep, on_delete=models.PROTECT, related_name="+", verbose_name=_("step")
    )
    # The step's name and offset when it was scheduled (the plan may change since).
    name = models.CharField(_("step"), max_length=100)
    due_at = models.DateTimeField(_("due"))
    assignee = models.ForeignKey(
        Staff, on_delete=models.PROTECT, related_name="+", verbose_name=_("assignee")
    )
    version = models.ForeignKey(
        QuestionnaireVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The visit that also completes leads' return-visit task (the KPIs count that task).
    is_the_return_visit = models.BooleanField(default=False)
    status = models.CharField(
        _("status"), max_length=12, choices=VisitStatus.choices, default=VisitStatus.DUE
    )
    attempts = models.JSONField(default=list)
    attempt_count = models.PositiveSmallIntegerField(_("attempts"), default=0)
    answers = models.JSONField(default=dict)
    score = models.DecimalField(_("score"), max_digits=4, decimal_places=2, null=True, blank=True)
    nps = models.PositiveSmallIntegerField(_("NPS"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("return visit")
        verbose_name_plural = _("return visits")
        constraints = [
            models.UniqueConstraint(fields=["vehicle", "step"], name="visit_vehicle_step_uniq")
        ]
        indexes = [
            models.Index(fields=["dealer", "status", "due_at"]),
            models.Index(fields=["dealer", "assignee", "status", "due_at"]),
        ]


# ---------------------------------------------------------------- complaints


class ComplaintSource(models.TextChoices):
    VISIT = "visit", _("Return visit")
    CALL = "call", _("Call")
    SHOWROOM = "showroom", _("Showroom")
    HEADQUARTERS = "headquarters", _("Headquarters")


class ComplaintCategory(models.TextChoices):
    SALES_PROCESS = "sales_process", _("Sales process")
    SALESPERSON = "salesperson", _("Salesperson's attitude")
    DELIVERY = "delivery", _("Delivery")
    PRICE = "price", _("Price and terms")
    QUALITY = "quality", _("Vehicle quality")
    AFTER_SALES = "after_sales", _("After-sales")
    OTHER = "other", _("Other")


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class ComplaintStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ESCALATED = "escalated", _("Escalated")
    RESOLVED = "resolved", _("Resolved")
    CONFIRMED = "confirmed", _("Confirmed by the customer")
    REOPENED = "reopened", _("Reopened")


# Still to be handled (the deadline runs); resolved waits for the customer's word.
ACTIVE_COMPLAINT = (ComplaintStatus.OPEN, ComplaintStatus.ESCALATED, ComplaintStatus.REOPENED)


class EscalationLevel(models.IntegerChoices):
    HANDLER = 0, _("Handler")
    SALES_MANAGER = 1, _("Sales manager")
    GM = 2, _("General manager")
    HEADQUARTERS = 3, _("Headquarters")


class ComplaintPolicy(models.Model):
    """A dealer's deadlines per severity, in hours (owners.complaints.DEFAULT_HOURS otherwise)."""

    dealer = models.OneToOneField(Dealer, on_delete=models.CASCADE, related_name="+")
    critical_hours = models.PositiveIntegerField(_("critical (hours)"), default=4)
    high_hours = models.PositiveIntegerField(_("high (hours)"), default=24)
    medium_hours = models.PositiveIntegerField(_("medium (hours)"), default=72)
    low_hours = models.PositiveIntegerField(_("low (hours)"), default=7 * 24)

    class Meta:
        verbose_name = _("complaint deadlines")
        verbose_name_plural = _("complaint deadlines")


class Complaint(models.Model):
    """A customer's complaint: who handles it, by when, how far it was escalated, how it was
    resolved and whether the customer agreed. Each step is also a fact in the lead's ledger."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="+")
    vehicle = models.ForeignKey(
        Vehicle, on_delete=models.SET_NULL, null=True, blank=True, related_name="complaints"
    )
    visit = models.ForeignKey(
        ReturnVisit, on_delete=models.SET_NULL, null=True, blank=True, related_name="complaints"
    )
    source = models.CharField(_("source"), max_length=16, choices=ComplaintSource.choices)
    category = models.CharField(_("category"), max_length=16, choices=ComplaintCategory.choices)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices)
    description = models.TextField(_("what the customer says"))
    about = models.ForeignKey(
        Staff,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("about"),
    )
    handler = models.ForeignKey(
        Staff, on_delete=models.PROTECT, related_name="+", verbose_name=_("handled by")
    )
    status = models.CharField(
        _("status"), max_length=12, choices=ComplaintStatus.choices, default=ComplaintStatus.OPEN
    )
    level = models.PositiveSmallIntegerField(
        _("escalation"), choices=EscalationLevel.choices, default=EscalationLevel.HANDLER
    )
    escalated_to = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    deadline = models.DateTimeField(_("deadline"))
    resolution = models.TextField(_("resolution"), blank=True)
    opened_at = models.DateTimeField(_("opened"))
    opened_by = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        indexes = [
            models.Index(fields=["dealer", "status", "deadline"]),
            models.Index(fields=["dealer", "customer"]),
        ]
