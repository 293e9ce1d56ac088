"""The customer audit group (客户监察): the sales team's work checked on a random sample, scored
against the dealer's scripts and rules, appealed once, and overturned where it was wrong.

A source of work (calls, approved defeats, invalid marks …) is a code of audit.sources, not a
choice of the database, so that another app registers one without a migration here."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Dealer, Staff
from leads.models import Lead

SOURCE_LENGTH = 24


class SamplingPlan(models.Model):
    """How much of each person's work of one source the weekly draw takes: a share, and at
    least a number per person (or all of it, when they did less)."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="sampling_plans")
    source = models.CharField(_("source"), max_length=SOURCE_LENGTH)
    share_percent = models.PositiveSmallIntegerField(_("share (%)"))
    min_per_person = models.PositiveSmallIntegerField(_("at least per person a week"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("sampling plan")
        verbose_name_plural = _("sampling plans")
        constraints = [
            models.UniqueConstraint(fields=["dealer", "source"], name="sampling_plan_uniq"),
            models.CheckConstraint(
                condition=Q(share_percent__lte=100), name="sampling_plan_share_max"
            ),
        ]


class AuditSample(models.Model):
    """One source's draw for one week: the seed, who was drawn from (their counts), and the
    items drawn. A redraw keeps the earlier draw, marked superseded."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="audit_samples")
    week = models.DateField(_("week"))  # its Monday
    source = models.CharField(_("source"), max_length=SOURCE_LENGTH)
    seed = models.BigIntegerField(_("seed"))
    population = models.JSONField(default=dict)  # {person id: items of theirs that week}
    items = models.JSONField(default=list)  # the ids drawn, sorted
    drawn_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    drawn_at = models.DateTimeField(default=timezone.now)
    redraw = models.BooleanField(default=False)
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("audit sample")
        verbose_name_plural = _("audit samples")
        constraints = [
            models.UniqueConstraint(
                fields=["dealer", "week", "source"],
                condition=Q(superseded_at__isnull=True),
                name="audit_sample_one_current",
            )
        ]
        indexes = [models.Index(fields=["dealer", "week"])]


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Audited")
    CANCELLED = "cancelled", _("Cancelled by a redraw")


class AuditTask(models.Model):
    """One drawn item to audit, and the auditor it is given to."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="+")
    sample = models.ForeignKey(AuditSample, on_delete=models.CASCADE, related_name="tasks")
    source = models.CharField(_("source"), max_length=SOURCE_LENGTH)
    item_id = models.PositiveBigIntegerField()  # the call's, or the ledger event's id …
    person = models.ForeignKey(
        Staff, on_delete=models.PROTECT, related_name="+", verbose_name=_("audited")
    )
    lead = models.ForeignKey(Lead, on_delete=models.SET_NULL, null=True, blank=True)
    assignee = models.ForeignKey(
        Staff, on_delete=models.PROTECT, related_name="audit_tasks", verbose_name=_("auditor")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("audit task")
        verbose_name_plural = _("audit tasks")
        constraints = [
            models.UniqueConstraint(
                fields=["sample", "item_id", "dealer"], name="audit_task_item_uniq"
            )
        ]
        indexes = [models.Index(fields=["dealer", "status", "assignee"])]


class AuditForm(models.Model):
    """The check items an audit of one source is scored on. Changing it makes a new version;
    an audit keeps the version it was scored on."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="audit_forms")
    source = models.CharField(_("source"), max_length=SOURCE_LENGTH)
    version = models.PositiveIntegerField(default=1)
    is_current = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("audit form")
        verbose_name_plural = _("audit forms")
        constraints = [
            models.UniqueConstraint(
                fields=["dealer", "source"],
                condition=Q(is_current=True),
                name="audit_form_one_current",
            ),
            models.UniqueConstraint(
                fields=["dealer", "source", "version"], name="audit_form_version_uniq"
            ),
        ]


class CheckItem(models.Model):
    """One thing an audit checks, worth up to `points`. A required item must be scored; an
    optional one may be left out (not applicable), and then it is not in the total."""

    SCRIPT = "script"  # the item links to the call script that applied

    form = models.ForeignKey(AuditForm, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField()
    text = models.CharField(_("check"), max_length=200)
    points = models.PositiveSmallIntegerField(_("points"))
    required = models.BooleanField(_("required"), default=True)
    link = models.CharField(max_length=16, blank=True)

    class Meta:
        verbose_name = _("check item")
        verbose_name_plural = _("check items")
        ordering = ["form_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["form", "position"], name="check_item_position_uniq")
        ]

    @property
    def shown_text(self) -> str:
        """The default items are stored in English and shown translated; a dealer's own
        text is shown as written."""
        return gettext(self.text)


class AuditResult(models.TextChoices):
    PASS = "pass", _("Pass")
    FAIL = "fail", _("Fail")
    OVERTURN = "overturn", _("Overturn recommended")


class Audit(models.Model):
    """An auditor's finding on one drawn item: the scores per check item of the form version
    shown, the total, the result. `score` is what counts (the total, or a supervisor's
    correction after a granted appeal)."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="+")
    task = models.OneToOneField(AuditTask, on_delete=models.PROTECT, related_name="audit")
    form = models.ForeignKey(AuditForm, on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(
        Staff, on_delete=models.PROTECT, related_name="audits", verbose_name=_("audited")
    )
    auditor = models.ForeignKey(
        Staff, on_delete=models.PROTECT, related_name="+", verbose_name=_("auditor")
    )
    lead = models.ForeignKey(Lead, on_delete=models.SET_NULL, null=True, blank=True)
    scores = models.JSONField(default=dict)  # {check item id: points given}
    total_percent = models.DecimalField(_("total (%)"), max_digits=5, decimal_places=1)
    score = models.DecimalField(_("score (%)"), max_digits=5, decimal_places=1)
    finding = models.TextField(_("finding"), blank=True)
    result = models.CharField(_("result"), max_length=10, choices=AuditResult.choices)
    at = models.DateTimeField(_("audited at"), default=timezone.now)
    overturned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("audit")
        verbose_name_plural = _("audits")
        indexes = [models.Index(fields=["dealer", "at"]), models.Index(fields=["person", "at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=Decimal(0), score__lte=Decimal(100)),
                name="audit_score_range",
            )
        ]


class AppealDecision(models.TextChoices):
    UPHELD = "upheld", _("Upheld: the score stays")
    GRANTED = "granted", _("Granted: the score is corrected")


class Appeal(models.Model):
    """The audited person's one appeal against an audit, and a supervisor's decision."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="+")
    audit = models.OneToOneField(Audit, on_delete=models.PROTECT, related_name="appeal")
    reason = models.TextField(_("reason"))
    at = models.DateTimeField(default=timezone.now)
    decision = models.CharField(
        _("decision"), max_length=8, choices=AppealDecision.choices, blank=True
    )
    decided_by = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    corrected_percent = models.DecimalField(
        _("corrected score (%)"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        indexes = [models.Index(fields=["dealer", "decided_at"])]
