"""Tenancy (brand → region → dealer) and the people who work at dealers."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import time, timedelta

from django.contrib.auth.models import AbstractUser
from django.db import OperationalError, connection, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Brand(models.Model):
    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("brand")
        verbose_name_plural = _("brands")

    def __str__(self) -> str:
        return self.name


class Region(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="regions")
    code = models.SlugField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        constraints = [models.UniqueConstraint(fields=["brand", "code"], name="region_code_uniq")]

    def __str__(self) -> str:
        return self.name


DEFAULT_EFFECTIVE_CALL_SECONDS = 45


class Dealer(models.Model):
    """The tenant: every domain row carries its dealer."""

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="dealers")
    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    city = models.CharField(_("city"), max_length=64)
    # Business hours bound the first-response SLA clock (local time of TIME_ZONE).
    opens_at = models.TimeField(_("opens at"), default=time(9, 0))
    closes_at = models.TimeField(_("closes at"), default=time(18, 0))
    # How far ahead an appointment or a follow-up may be set: beyond it is a typo, not a plan.
    horizon_days = models.PositiveSmallIntegerField(
        _("appointments and follow-ups at most this many days ahead"), default=180
    )
    # A call whose talk lasts at least this long counts as an effective call (the call KPIs).
    effective_call_seconds = models.PositiveSmallIntegerField(
        _("a call is effective from this many seconds of talk"),
        default=DEFAULT_EFFECTIVE_CALL_SECONDS,
    )

    class Meta:
        verbose_name = _("dealer")
        verbose_name_plural = _("dealers")

    def __str__(self) -> str:
        return self.name

    @property
    def brand(self) -> Brand:
        return self.region.brand


class Staff(AbstractUser):
    """A person who logs in: dealer staff or a headquarters user."""

    display_name = models.CharField(_("name"), max_length=100, blank=True)
    mobile = models.CharField(_("mobile"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")

    def __str__(self) -> str:
        return self.display_name or self.username


class Role(models.TextChoices):
    GM = "gm", _("General manager")
    SALES_MANAGER = "sales_manager", _("Sales manager")
    MARKETING_MANAGER = "marketing_manager", _("Marketing manager")
    PLATFORM_SPECIALIST = "platform_specialist", _("Platform specialist")
    DCC_SUPERVISOR = "dcc_supervisor", _("DCC supervisor")
    DCC_AGENT = "dcc_agent", _("DCC agent")
    SHOWROOM_MANAGER = "showroom_manager", _("Showroom manager")
    CONSULTANT = "consultant", _("Sales consultant")
    OWNER_OPS = "owner_ops", _("Owner-operations specialist")
    AUDITOR = "auditor", _("Customer auditor")
    HEADQUARTERS = "headquarters", _("Headquarters")


class Membership(models.Model):
    """One role of one person at one dealer. Headquarters users hold the headquarters role at
    every dealer they are granted."""

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="memberships")
    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    is_active = models.BooleanField(_("active"), default=True)
    # Share of new leads relative to teammates (2 = twice as many).
    weight = models.PositiveSmallIntegerField(_("assignment weight"), default=1)
    last_assigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["staff", "dealer", "role"], name="membership_uniq"),
            models.CheckConstraint(condition=Q(weight__gte=1), name="membership_weight_positive"),
        ]
        indexes = [models.Index(fields=["dealer", "role"])]

    def __str__(self) -> str:
        return f"{self.staff} · {self.get_role_display()} · {self.dealer}"


class Absence(models.Model):
    """Leave of one person at one dealer; their open work goes to the cover."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="absences")
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="absences")
    cover = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="covering")
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="absence_span"
            ),
            models.CheckConstraint(
                condition=~Q(cover=models.F("staff")), name="absence_cover_other"
            ),
        ]
        indexes = [models.Index(fields=["dealer", "staff", "ends_at"])]


class SettingsChange(models.Model):
    """Who changed which setting of a dealer, when, to what. Written by accounts.audit."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="settings_changes")
    changed_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)
    what = models.CharField(max_length=40)
    subject = models.CharField(max_length=200)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("settings change")
        verbose_name_plural = _("settings changes")
        indexes = [models.Index(fields=["dealer", "changed_at"])]


class Lockout(models.Model):
    """Sign-ins or tokens refused for a while after repeated failures, by account or by
    address (accounts.throttle decides, accounts.audit writes this)."""

    ACCOUNT = "account"
    ADDRESS = "address"
    TOKEN = "token"  # bearer tokens from one address

    at = models.DateTimeField(default=timezone.now)
    scope = models.CharField(max_length=10)
    username = models.CharField(max_length=150, blank=True)  # as typed; may be no one's
    address = models.CharField(max_length=45, blank=True)
    failures = models.PositiveIntegerField()
    until = models.DateTimeField()

    class Meta:
        verbose_name = _("lockout")
        verbose_name_plural = _("lockouts")
        indexes = [models.Index(fields=["at"])]


class ApiToken(models.Model):
    """A bearer token for an integration; only its SHA-256 is stored."""

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    @staticmethod
    def digest_of(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    @classmethod
    def issue(cls, *, staff: Staff, name: str) -> tuple[ApiToken, str]:
        """Create a token and return it with the raw value, which is shown once."""
        raw = "dcc_" + secrets.token_urlsafe(32)
        return cls.objects.create(staff=staff, name=name, digest=cls.digest_of(raw)), raw

    def note_use(self) -> None:
        """Note when the token was last used, at most every few minutes: a request is mostly
        a read, and a read must never wait for the database's write lock (nor fail on it).
        When another process holds it, the note is left for a later request."""
        now = timezone.now()
        stale = now - NOTE_USE_EVERY
        if self.last_used_at is not None and self.last_used_at > stale:
            return
        not_noted = Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale)
        try:
            with _hardly_waiting(), transaction.atomic():
                ApiToken.objects.filter(not_noted, pk=self.pk).update(last_used_at=now)
        except OperationalError:  # SQLite: "database is locked" by a longer writer
            return
        self.last_used_at = now


NOTE_USE_EVERY = timedelta(minutes=5)


@contextmanager
def _hardly_waiting() -> Iterator[None]:
    """On SQLite, wait at most a moment for the write lock (its busy timeout, 20 s in
    settings, is for writes that must happen)."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield  # PostgreSQL locks rows, not the database; an open transaction holds it already
        return
    connection.ensure_connection()
    with connection.cursor() as cursor:
        waits = cursor.execute("PRAGMA busy_timeout").fetchone()[0]
        cursor.execute("PRAGMA busy_timeout = 50")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA busy_timeout = {int(waits)}")
