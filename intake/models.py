"""Imports and webhooks: how leads get in from files and platforms."""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Dealer, Staff
from leads.models import Channel, Lead


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


# A running import writes its heartbeat after every batch (seconds apart): this long without
# one, its worker is gone.
STALL_AFTER = timedelta(minutes=10)


class ImportJob(models.Model):
    """One file imported into one dealer by one person: what was asked, how far it got and
    what came of it. Counters are refreshed every few hundred rows while it runs."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="import_jobs")
    created_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    file_name = models.CharField(_("file"), max_length=255)
    # Where the uploaded file is kept (intake.uploads), relative to settings.DCC_IMPORT_DIR;
    # "" for a file imported from the command line.
    upload = models.CharField(max_length=255, blank=True)
    file_sha256 = models.CharField(max_length=64)
    # The channel of rows that do not name one; None: every row must name its channel.
    channel = models.ForeignKey(
        Channel, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    preset = models.CharField(_("column preset"), max_length=64, blank=True)
    saved_mapping = models.CharField(_("saved mapping"), max_length=100, blank=True)
    # The file's header row and the column mapping detected from it.
    headers = models.JSONField(default=list, blank=True)
    mapping = models.JSONField(default=dict, blank=True)
    dry_run = models.BooleanField(_("dry run"), default=False)
    status = models.CharField(
        _("status"), max_length=8, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    created = models.PositiveIntegerField(_("created"), default=0)
    touched = models.PositiveIntegerField(_("touched"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    already_imported = models.PositiveIntegerField(_("already imported"), default=0)
    skipped = models.PositiveIntegerField(_("empty rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows read"), default=0)
    bytes_total = models.PositiveBigIntegerField(default=0)
    bytes_done = models.PositiveBigIntegerField(default=0)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    # Written with the counters after every batch: a running import whose heartbeat stopped
    # was killed with its worker (intake.uploads.fail_stalled).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # The process running it (intake.imports.this_process): the server's worker, a
    # `db_worker`, or `dcc import` on the command line. On the same machine, a process that is
    # gone is known at once; elsewhere its heartbeat tells.
    runner = models.CharField(max_length=200, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        indexes = [models.Index(fields=["dealer", "created_at"])]

    def __str__(self) -> str:
        return self.file_name

    @property
    def is_stalled(self) -> bool:
        """Running, but no progress written for long: its worker was stopped. (One whose
        process is known to be gone is failed by the next `dcc tick`.)"""
        return (
            self.status == ImportStatus.RUNNING
            and self.heartbeat_at is not None
            and self.heartbeat_at < timezone.now() - STALL_AFTER
        )

    @property
    def percent(self) -> int:
        """How much of the file has been read, 0–100."""
        if not self.bytes_total:
            return 100 if self.status == ImportStatus.DONE else 0
        return min(100, self.bytes_done * 100 // self.bytes_total)


class RowOutcome(models.TextChoices):
    CREATED = "created", _("Created")
    TOUCHED = "touched", _("Repeat enquiry")
    REJECTED = "rejected", _("Rejected")
    ALREADY_IMPORTED = "already_imported", _("Already imported")


# Outcomes that wrote a lead: a row of the same content is never imported twice.
WRITTEN = (RowOutcome.CREATED, RowOutcome.TOUCHED)


class ImportRow(models.Model):
    """What one row of a file did. Written in the same transaction as the lead it wrote, so a
    row recorded here is complete; rejected rows keep their cells for the rejected-rows file.
    Rows already imported and empty rows are only counted on the job."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="+")
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="rows")
    row_number = models.PositiveIntegerField(_("row"))
    # SHA-256 of the dealer and the row's normalised content (see intake.imports.row_digest).
    row_digest = models.CharField(max_length=64)
    outcome = models.CharField(_("outcome"), max_length=16, choices=RowOutcome.choices)
    lead = models.ForeignKey(
        Lead, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    field = models.CharField(_("column"), max_length=32, blank=True)
    message = models.TextField(_("reason"), blank=True)
    raw = models.JSONField(null=True, blank=True)

    class Meta:
        verbose_name = _("imported row")
        verbose_name_plural = _("imported rows")
        constraints = [
            # Re-importing a file writes nothing twice, while a rejected row, once fixed,
            # imports like any other.
            models.UniqueConstraint(
                fields=["dealer", "row_digest"],
                condition=Q(outcome__in=WRITTEN),
                name="import_row_digest_uniq",
            ),
            models.UniqueConstraint(
                fields=["job", "row_number", "dealer"], name="import_row_number_uniq"
            ),
        ]
        indexes = [models.Index(fields=["dealer", "row_digest"])]


class SavedMapping(models.Model):
    """A dealer's named column mapping (canonical column → the file's header), for files that
    come back in the same shape every month."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="saved_mappings")
    name = models.CharField(_("name"), max_length=100)
    mapping = models.JSONField(_("mapping"), default=dict)
    created_by = models.ForeignKey(
        Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("saved column mapping")
        verbose_name_plural = _("saved column mappings")
        constraints = [
            models.UniqueConstraint(fields=["dealer", "name"], name="saved_mapping_name_uniq")
        ]

    def __str__(self) -> str:
        return self.name
