"""The dealer's phone system as records: its accounts with the providers, its lines, the seats
mapped to people, every call with its recordings, the callbacks missed calls leave, the block
list, and the call scripts."""

from __future__ import annotations

import secrets

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Dealer, Staff
from calls.report import Direction, Disposition, HungUpBy
from leads.models import Channel, Customer, Lead, Team
from leads.stages import Grade, Stage


class Provider(models.TextChoices):
    TCCC = "tccc", _("Tencent Cloud Contact Center")
    ALIYUN = "aliyun", _("Alibaba Cloud Contact Center")
    CLINK = "clink", _("Tinet Clink")
    GENERIC = "generic", _("Other (generic JSON)")


def new_push_key() -> str:
    return secrets.token_urlsafe(18)


class PhoneAccount(models.Model):
    """A dealer's account with a call-center provider: where its pushes arrive (the push key
    names the account in the URL) and what its API is called with."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="phone_accounts")
    provider = models.CharField(_("provider"), max_length=16, choices=Provider.choices)
    push_key = models.CharField(max_length=32, unique=True, default=new_push_key, editable=False)
    # The provider's API keys and the push secret / basic-auth pair, as the adapter names them.
    # Shared with the provider, so kept as given (like a channel's webhook secret), never shown.
    credentials = models.JSONField(default=dict, blank=True, editable=False)
    api_url = models.URLField(_("API address"), blank=True, help_text=_("Empty: the provider's."))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("phone account")
        verbose_name_plural = _("phone accounts")
        constraints = [
            models.UniqueConstraint(fields=["dealer", "provider"], name="phone_account_uniq")
        ]

    def __str__(self) -> str:
        return str(self.get_provider_display())


MIN_RETENTION_DAYS = 30  # consented follow-up calls must keep their recording this long


class PhoneSettings(models.Model):
    """A dealer's call-center settings."""

    dealer = models.OneToOneField(Dealer, on_delete=models.CASCADE, related_name="phone_settings")
    recording_retention_days = models.PositiveIntegerField(
        _("keep recordings for (days)"),
        default=180,
        validators=[MinValueValidator(MIN_RETENTION_DAYS)],
    )

    class Meta:
        verbose_name = _("call-center settings")
        verbose_name_plural = _("call-center settings")

    @classmethod
    def of(cls, dealer: Dealer) -> PhoneSettings:
        return cls.objects.get_or_create(dealer=dealer)[0]


class LineKind(models.TextChoices):
    HOTLINE_400 = "400", _("400 hotline")
    HOTLINE_12114 = "12114", _("12114 listing")
    PLATFORM = "platform", _("Platform virtual number")
    CAMPAIGN = "campaign", _("Campaign number")
    DIRECT = "direct", _("Direct line")


DEFAULT_CALLBACK_MINUTES = 30


class Line(models.Model):
    """A number of the dealer's that calls come in on or go out from, and the channel its
    calls are attributed to (the 400 line to the hotline, a platform's number to it)."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="phone_lines")
    number = models.CharField(_("number"), max_length=20)
    kind = models.CharField(_("kind"), max_length=16, choices=LineKind.choices)
    name = models.CharField(_("name"), max_length=100, blank=True)
    channel = models.ForeignKey(
        Channel, on_delete=models.PROTECT, related_name="phone_lines", verbose_name=_("channel")
    )
    callback_minutes = models.PositiveIntegerField(
        _("call back within (business minutes)"), default=DEFAULT_CALLBACK_MINUTES
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("line")
        verbose_name_plural = _("lines")
        constraints = [models.UniqueConstraint(fields=["dealer", "number"], name="line_uniq")]

    def __str__(self) -> str:
        return self.name or self.number


class Seat(models.Model):
    """A provider's seat (agent number) and the person who sits at it."""

    account = models.ForeignKey(PhoneAccount, on_delete=models.CASCADE, related_name="seats")
    seat = models.CharField(_("seat"), max_length=64)
    staff = models.ForeignKey(
        Staff, on_delete=models.CASCADE, related_name="phone_seats", verbose_name=_("person")
    )

    class Meta:
        verbose_name = _("seat")
        verbose_name_plural = _("seats")
        constraints = [models.UniqueConstraint(fields=["account", "seat"], name="seat_uniq")]


class BlockedNumber(models.Model):
    """A number whose calls never become leads (harassment, a supplier, a competitor)."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="blocked_numbers")
    number = models.CharField(_("number"), max_length=20)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("blocked number")
        verbose_name_plural = _("blocked numbers")
        constraints = [
            models.UniqueConstraint(fields=["dealer", "number"], name="blocked_number_uniq")
        ]


CALL_ID_LENGTH = 128
SEAT_LENGTH = 64


class NotALead(models.TextChoices):
    """Why a call was kept away from the leads."""

    STAFF = "staff", _("The dealer's own staff")
    BLOCKED = "blocked", _("Blocked number")


class Call(models.Model):
    """One call, answered or not, as the provider's pushes told it (several pushes fill one
    record: the call detail, then the recording, in any order)."""

    dealer = models.ForeignKey(Dealer, on_delete=models.PROTECT, related_name="calls")
    provider = models.CharField(_("provider"), max_length=16, choices=Provider.choices)
    call_id = models.CharField(_("provider's call id"), max_length=CALL_ID_LENGTH)
    direction = models.CharField(_("direction"), max_length=8, choices=Direction.choices)
    line = models.ForeignKey(
        Line, on_delete=models.SET_NULL, null=True, blank=True, related_name="calls"
    )
    line_number = models.CharField(_("line"), max_length=20, blank=True)
    number = models.CharField(_("customer's number"), max_length=20, blank=True)
    customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="calls"
    )
    lead = models.ForeignKey(
        Lead, on_delete=models.SET_NULL, null=True, blank=True, related_name="calls"
    )
    seat = models.CharField(_("seat"), max_length=SEAT_LENGTH, blank=True)
    agent = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="calls"
    )
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, blank=True)
    rang_at = models.DateTimeField(_("rang at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    wait_seconds = models.PositiveIntegerField(_("wait (seconds)"), null=True, blank=True)
    talk_seconds = models.PositiveIntegerField(_("talk time (seconds)"), null=True, blank=True)
    disposition = models.CharField(
        _("disposition"), max_length=16, choices=Disposition.choices, blank=True
    )
    status = models.CharField(_("provider's status"), max_length=64, blank=True)
    hung_up_by = models.CharField(
        _("hung up by"), max_length=8, choices=HungUpBy.choices, blank=True
    )
    reference = models.CharField(max_length=64, blank=True)  # ours, sent with a click-to-call
    not_a_lead = models.CharField(max_length=8, choices=NotALead.choices, blank=True)
    # The lead was created from this call by the agent who took it (留资).
    captured = models.BooleanField(_("details captured"), default=False)
    # The call's `called` event is in the lead's ledger (written once, when the call ended).
    in_ledger = models.BooleanField(default=False)
    # The callback this missed call was counted into (once, however often it was pushed).
    callback = models.ForeignKey(
        "Callback", on_delete=models.SET_NULL, null=True, blank=True, related_name="missed_calls"
    )
    pushes = models.JSONField(default=list)  # every push about this call, as sent
    # For the call KPIs, settled when the call is stored (calls.actions): it rang within the
    # dealer's business hours; and whether its number had an open lead when first matched
    # (None: not known, e.g. no number, or the dealer's own staff).
    in_hours = models.BooleanField(default=False)
    had_open_lead = models.BooleanField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        constraints = [
            models.UniqueConstraint(fields=["dealer", "provider", "call_id"], name="call_uniq")
        ]
        indexes = [
            models.Index(fields=["dealer", "rang_at"]),
            models.Index(fields=["dealer", "number"]),
            models.Index(fields=["agent", "ended_at"]),
            models.Index(fields=["lead", "rang_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.call_id}"

    @property
    def is_answered(self) -> bool:
        return self.disposition == Disposition.ANSWERED

    @property
    def is_inbound(self) -> bool:
        return self.direction == Direction.INBOUND


class Recording(models.Model):
    """A call's recording: the provider's address (which expires), and our copy once fetched."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="recordings")
    url = models.URLField(max_length=1000)
    # Our copy, under settings.DCC_RECORDING_DIR (calls.recordings); empty until fetched.
    path = models.CharField(max_length=300, blank=True)
    size = models.PositiveIntegerField(default=0)
    content_type = models.CharField(max_length=64, blank=True)
    fetched_at = models.DateTimeField(null=True, blank=True)
    fetch_error = models.CharField(max_length=200, blank=True)
    purged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("recording")
        verbose_name_plural = _("recordings")
        constraints = [models.UniqueConstraint(fields=["call", "url"], name="recording_uniq")]


class Callback(models.Model):
    """A missed inbound call the DCC owes a call back: one open per number however often it
    rang, closed by the first call that reaches the number."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="callbacks")
    number = models.CharField(_("number"), max_length=20)
    line = models.ForeignKey(Line, on_delete=models.SET_NULL, null=True, blank=True)
    customer = models.ForeignKey(Customer, on_delete=models.SET_NULL, null=True, blank=True)
    lead = models.ForeignKey(
        Lead, on_delete=models.SET_NULL, null=True, blank=True, related_name="callbacks"
    )
    missed_count = models.PositiveIntegerField(_("missed calls"), default=1)
    last_missed_at = models.DateTimeField(_("last missed at"))
    due_at = models.DateTimeField(_("call back by"))
    closed_at = models.DateTimeField(_("called back at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        Call, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("callback")
        verbose_name_plural = _("callbacks")
        constraints = [
            models.UniqueConstraint(
                fields=["dealer", "number"],
                condition=Q(closed_at__isnull=True),
                name="callback_one_open_per_number",
            )
        ]
        indexes = [models.Index(fields=["dealer", "closed_at", "due_at"])]


class ScriptPurpose(models.TextChoices):
    FIRST_CALL = "first_call", _("First call of a platform lead")
    INBOUND = "inbound", _("Inbound hotline call")
    INVITATION = "invitation", _("Invitation to the showroom")
    REMINDER = "reminder", _("Appointment reminder")
    RETURN_VISIT = "return_visit", _("Return visit")
    REACTIVATION = "reactivation", _("Reactivation")


class Script(models.Model):
    """A call script (话术) for a purpose, optionally for one stage and grade. Editing makes
    a new version; the audit group scores a call against the version in force then."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="scripts")
    purpose = models.CharField(_("purpose"), max_length=16, choices=ScriptPurpose.choices)
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices, blank=True)
    grade = models.CharField(_("grade"), max_length=1, choices=Grade.choices, blank=True)
    title = models.CharField(_("title"), max_length=100)
    body = models.TextField(_("script"))
    version = models.PositiveIntegerField(default=1)
    is_current = models.BooleanField(default=True)
    created_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("call script")
        verbose_name_plural = _("call scripts")
        constraints = [
            models.UniqueConstraint(
                fields=["dealer", "purpose", "stage", "grade"],
                condition=Q(is_current=True),
                name="script_one_current",
            )
        ]

    def __str__(self) -> str:
        return self.title
