"""Customers, channels, leads, their ledger of events, and the tasks people owe them."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Dealer, Staff
from dcc.phone import PhoneKind
from leads.stages import OPEN_STAGES, Grade, Stage


class ChannelGroup(models.TextChoices):
    VERTICAL = "vertical", _("Vertical platform")
    PORTAL = "portal", _("Portal")
    LOCAL_SITE = "local_site", _("Local site")
    SOCIAL = "social", _("Social media")
    PHONE = "phone", _("Phone")
    EVENT = "event", _("Offline event")
    REFERRAL = "referral", _("Owner referral")
    WALK_IN = "walk_in", _("Walk-in")


class Channel(models.Model):
    """Where leads come from, with its first-response SLA and monthly spend."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="channels")
    code = models.SlugField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=100)
    group = models.CharField(_("group"), max_length=16, choices=ChannelGroup.choices)
    sla_minutes = models.PositiveIntegerField(
        _("first-response SLA (minutes)"), default=settings.DCC_DEFAULT_SLA_MINUTES
    )
    monthly_spend = models.DecimalField(
        _("monthly spend"), max_digits=12, decimal_places=2, default=Decimal("0")
    )
    is_active = models.BooleanField(_("active"), default=True)
    # Shared with the platform, which signs webhook bodies with it (HMAC-SHA256), so it is kept
    # as given, not hashed. Empty refuses every webhook. Set by intake.webhooks only.
    webhook_secret = models.CharField(
        _("webhook secret"), max_length=128, blank=True, default="", editable=False
    )
    webhook_rate_per_minute = models.PositiveIntegerField(
        _("webhook requests per minute"), default=120
    )

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        constraints = [models.UniqueConstraint(fields=["dealer", "code"], name="channel_code_uniq")]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    """A person, identified within a dealer by the normalised phone number."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="customers")
    phone = models.CharField(_("phone"), max_length=20)
    phone_kind = models.CharField(_("phone kind"), max_length=8, choices=PhoneKind.choices)
    name = models.CharField(_("name"), max_length=100, blank=True)
    # Pinyin initials of the name (王小明 → wxm) for search.
    name_initials = models.CharField(max_length=100, blank=True)
    city = models.CharField(_("city"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # Set when the customer's personal data was erased (privacy.rights): the row stays, with
    # its leads, so that counts do not change; name, numbers and city are gone.
    erased_at = models.DateTimeField(_("personal data erased"), null=True, blank=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints = [
            models.UniqueConstraint(fields=["dealer", "phone"], name="customer_phone_uniq")
        ]
        indexes = [models.Index(fields=["dealer", "name_initials"])]

    def __str__(self) -> str:
        if self.erased_at is not None:
            return str(_("(personal data erased)"))
        return self.name or self.phone


class CustomerPhone(models.Model):
    """Another number of a customer's (a second mobile, the office): calls from it are theirs."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="other_phones")
    phone = models.CharField(_("phone"), max_length=20)
    label = models.CharField(_("label"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("other number")
        verbose_name_plural = _("other numbers")
        constraints = [
            models.UniqueConstraint(fields=["dealer", "phone"], name="customer_other_phone_uniq")
        ]


class Lead(models.Model):
    """One buying intent of a customer. Its changes are written with their ledger events in the
    same transaction (leads.actions one lead at a time, leads.batch in bulk: imports, demo data)."""

    dealer = models.ForeignKey(Dealer, on_delete=models.PROTECT, related_name="leads")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="leads")
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="leads")
    car_model = models.CharField(_("model of interest"), max_length=100, blank=True)
    grade = models.CharField(_("grade"), max_length=1, choices=Grade.choices, blank=True)
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices, default=Stage.NEW)
    owner = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="owned_leads")
    created_by = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    sla_deadline = models.DateTimeField(_("first-response deadline"))
    first_response_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    appointment_at = models.DateTimeField(_("appointment at"), null=True, blank=True)
    next_follow_up_at = models.DateTimeField(_("next follow-up"), null=True, blank=True)
    defeat_pending = models.BooleanField(_("defeat requested"), default=False)
    exit_reason = models.CharField(_("reason"), max_length=32, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    touch_count = models.PositiveIntegerField(_("touches"), default=0)
    last_touched_at = models.DateTimeField(null=True, blank=True)
    # Bumped by every action: two people acting on one version, exactly one wins.
    version = models.PositiveIntegerField(default=0)
    # Head of the lead's event chain, so appending needs no read of the ledger.
    last_event_seq = models.PositiveIntegerField(default=0)
    last_event_hash = models.CharField(max_length=64, blank=True)
    # Its milestones, as its events say (set by leads.tallies as each event is written), so
    # the KPIs read one row a lead instead of the ledger. If they ever drift, the events are
    # the truth: `dcc ledger tallies` finds the drift, `--rebuild` recomputes them.
    first_owner = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )  # the DCC agent it was first assigned to
    consultant = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )  # who received the customer at the first arrival
    first_contacted_at = models.DateTimeField(null=True, blank=True)
    first_appointed_at = models.DateTimeField(null=True, blank=True)
    first_arrived_at = models.DateTimeField(null=True, blank=True)
    first_ordered_at = models.DateTimeField(null=True, blank=True)
    first_delivered_at = models.DateTimeField(null=True, blank=True)
    first_defeated_at = models.DateTimeField(null=True, blank=True)
    first_closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        constraints = [
            # One open lead per customer: a repeat enquiry is a touch, enforced by the database
            # even when two enquiries race.
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(stage__in=OPEN_STAGES),
                name="lead_one_open_per_customer",
            ),
            models.UniqueConstraint(
                fields=["dealer", "channel", "external_id"],
                condition=~Q(external_id=""),
                name="lead_external_id_uniq",
            ),
        ]
        indexes = [
            models.Index(fields=["dealer", "stage", "created_at"]),
            models.Index(fields=["dealer", "stage", "sla_deadline"]),
            models.Index(fields=["dealer", "owner", "stage", "sla_deadline"]),
            models.Index(fields=["dealer", "created_at", "id"]),
            models.Index(fields=["dealer", "sla_deadline"]),
            models.Index(
                fields=["dealer"], condition=Q(defeat_pending=True), name="lead_defeat_pending"
            ),
            # An agent's queue: their leads waiting for a first call, the nearest deadline
            # first, read thirty at a time however many wait.
            models.Index(
                fields=["dealer", "owner", "sla_deadline", "id"],
                condition=Q(stage="new", first_response_at__isnull=True),
                name="lead_waiting_first_call",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.customer}"

    @classmethod
    def from_db(cls, db, field_names, values):
        lead = super().from_db(db, field_names, values)
        # What the daily tallies count of it now: every save moves them by the difference
        # (leads.tallies.count_saved, connected in leads.apps).
        lead._as_counted = lead.__dict__.copy()
        return lead

    @property
    def is_open(self) -> bool:
        return self.stage in OPEN_STAGES


class EventKind(models.TextChoices):
    CREATED = "created", _("Created")
    TOUCHED = "touched", _("Repeat enquiry")
    HANDED_OFF = "handed_off", _("Handed off")
    CALLED = "called", _("Call")
    GRADED = "graded", _("Graded")
    APPOINTMENT_SET = "appointment_set", _("Appointment booked")
    APPOINTMENT_MOVED = "appointment_moved", _("Appointment moved")
    APPOINTMENT_CANCELLED = "appointment_cancelled", _("Appointment cancelled")
    ARRIVED = "arrived", _("Arrived")
    TEST_DRIVE = "test_drive", _("Test drive")
    QUOTED = "quoted", _("Quoted")
    ORDERED = "ordered", _("Ordered")
    DELIVERED = "delivered", _("Delivered")
    DEFEAT_REQUESTED = "defeat_requested", _("Defeat requested")
    DEFEAT_APPROVED = "defeat_approved", _("Defeat approved")
    DEFEAT_REJECTED = "defeat_rejected", _("Defeat rejected")
    INVALIDATED = "invalidated", _("Marked invalid")
    REACTIVATED = "reactivated", _("Reactivated")
    RETURN_VISIT = "return_visit", _("Return visit")
    PHONE_REVEALED = "phone_revealed", _("Phone number revealed")
    RECORDING_PLAYED = "recording_played", _("Call recording played")
    # Owner operations and the customer audit group (owners, audit): facts about the customer
    # kept with the lead (leads.decisions.record_fact), and an exit found wrong by an audit.
    COMPLAINT = "complaint", _("Complaint")
    AUDITED = "audited", _("Audited")
    REFERRED = "referred", _("Referral")
    OVERTURNED = "overturned", _("Overturned by audit")
    # Marketing (campaigns): a text message sent to the customer or received from them.
    SMS = "sms", _("Text message")
    # The customer's personal data erased on their request or at the end of retention
    # (privacy.rights): the notes before it were blanked, their seals kept (leads.ledger).
    ERASED = "erased", _("Personal data erased")


class Event(models.Model):
    """The ledger: append-only (database triggers reject UPDATE and DELETE) and hash-chained
    per lead (leads.ledger; leads.batch writes imported history in bulk)."""

    dealer = models.ForeignKey(Dealer, on_delete=models.PROTECT, related_name="+")
    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="events")
    seq = models.PositiveIntegerField()
    kind = models.CharField(_("what"), max_length=24, choices=EventKind.choices)
    actor = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    occurred_at = models.DateTimeField(_("when"))
    recorded_at = models.DateTimeField(default=timezone.now)
    from_stage = models.CharField(max_length=16, blank=True)
    to_stage = models.CharField(max_length=16, blank=True)
    from_owner = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_owner = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=32, blank=True)
    note = models.TextField(_("note"), blank=True)
    # The chain hashes the note's seal, not the note: a salted SHA-256 of it, so that erasing a
    # customer's personal data (the note and its salt, privacy.erasure) leaves the chain whole.
    note_salt = models.CharField(max_length=32, blank=True)
    note_seal = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        constraints = [models.UniqueConstraint(fields=["lead", "seq"], name="event_lead_seq_uniq")]
        indexes = [
            models.Index(fields=["dealer", "kind", "occurred_at"]),
            models.Index(fields=["dealer", "to_owner", "lead"]),
            models.Index(fields=["dealer", "lead", "kind"]),
        ]
        ordering = ["lead_id", "seq"]


class Checkpoint(models.Model):
    """A dealer's chain heads at one moment, anchored: the Merkle root over every lead's
    (lead, last seq, head hash), signed with a key kept outside the database, and chained to
    the dealer's previous checkpoint (leads.checkpoints). Append-only like the events."""

    dealer = models.ForeignKey(Dealer, on_delete=models.PROTECT, related_name="+")
    seq = models.PositiveIntegerField()
    taken_at = models.DateTimeField(_("taken at"))
    leaf_count = models.PositiveIntegerField(_("leads"))
    root = models.CharField(max_length=64)
    algorithm = models.CharField(max_length=16)
    key_id = models.CharField(max_length=64)
    signature = models.CharField(max_length=128)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("ledger checkpoint")
        verbose_name_plural = _("ledger checkpoints")
        constraints = [
            models.UniqueConstraint(fields=["dealer", "seq"], name="checkpoint_dealer_seq_uniq")
        ]
        ordering = ["dealer_id", "seq"]


class CheckpointHead(models.Model):
    """A lead's chain head at a checkpoint, kept only where it changed since the dealer's
    previous checkpoint (replaying them in order gives every checkpoint's leaves); seq 0
    records a lead that was no longer there. `lead_id` is a plain number, not a reference:
    it must outlive a lead deleted behind the ledger's back, to name it."""

    dealer = models.ForeignKey(Dealer, on_delete=models.PROTECT, related_name="+")
    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT, related_name="heads")
    lead_id = models.BigIntegerField()
    seq = models.PositiveIntegerField()
    hash = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["checkpoint", "lead_id", "dealer"], name="checkpoint_head_lead_uniq"
            )
        ]


class CallOutcome(models.TextChoices):
    REACHED = "reached", _("Reached the customer")
    NO_ANSWER = "no_answer", _("No answer")
    BUSY = "busy", _("Busy")
    HUNG_UP = "hung_up", _("Hung up")
    POWERED_OFF = "powered_off", _("Phone off / out of service")


# A call that reached the customer: what a CALLED event's data says. It makes a lead contacted
# (leads.tallies), and it is a contact on the boards and scorecards.
REACHED_CALL = {"outcome": CallOutcome.REACHED}


def is_reached(outcome: str) -> bool:
    """Whether a call with this outcome reached the customer."""
    return outcome == REACHED_CALL["outcome"]


def reached_calls(prefix: str = "") -> Q:
    """The CALLED events that reached the customer (`prefix`: the path to the event)."""
    condition = Q(**{f"{prefix}kind": EventKind.CALLED})
    for key, value in REACHED_CALL.items():
        condition &= Q(**{f"{prefix}data__{key}": value})
    return condition


class CallDirection(models.TextChoices):
    OUTBOUND = "outbound", _("Outbound")
    INBOUND = "inbound", _("Inbound")


class TaskKind(models.TextChoices):
    FIRST_CALL = "first_call", _("First call")
    FOLLOW_UP = "follow_up", _("Follow-up")
    APPOINTMENT_REMINDER = "appointment_reminder", _("Appointment reminder")
    RETURN_VISIT = "return_visit", _("Return visit")


class TaskOutcome(models.TextChoices):
    DONE = "done", _("Done")
    SUPERSEDED = "superseded", _("Superseded")
    CANCELLED = "cancelled", _("Cancelled")


class Task(models.Model):
    """Something a person must do by a time; overdue when still open past its due time."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="tasks")
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="tasks")
    assignee = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="tasks")
    kind = models.CharField(_("kind"), max_length=24, choices=TaskKind.choices)
    due_at = models.DateTimeField(_("due"))
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=TaskOutcome.choices, blank=True)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [
            models.Index(fields=["dealer", "closed_at", "assignee", "due_at"]),
            models.Index(fields=["lead", "closed_at"]),
            models.Index(fields=["dealer", "kind", "due_at"]),  # return visits due in a month
            # The queue's follow-ups: a person's open tasks by due time, without the first
            # calls (those are the new leads' own section, and may be thousands).
            models.Index(
                fields=["dealer", "assignee", "due_at", "id"],
                condition=Q(closed_at__isnull=True) & ~Q(kind="first_call"),
                name="task_open_follow_up",
            ),
        ]


class GradePolicy(models.Model):
    """A dealer's follow-up interval for one grade, overriding the default."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="grade_policies")
    grade = models.CharField(_("grade"), max_length=1, choices=Grade.choices)
    follow_up_days = models.PositiveSmallIntegerField(_("follow up every (days)"))

    class Meta:
        verbose_name = _("grade policy")
        verbose_name_plural = _("grade policies")
        constraints = [
            models.UniqueConstraint(fields=["dealer", "grade"], name="grade_policy_uniq"),
            models.CheckConstraint(
                condition=Q(follow_up_days__gte=1), name="grade_policy_days_positive"
            ),
        ]


class ReasonKind(models.TextChoices):
    INVALID = "invalid", _("Invalid")
    DEFEAT = "defeat", _("Defeat")


class ReasonCode(models.Model):
    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="reason_codes")
    kind = models.CharField(_("kind"), max_length=8, choices=ReasonKind.choices)
    code = models.SlugField(_("code"), max_length=32)
    label = models.CharField(_("label"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("reason code")
        verbose_name_plural = _("reason codes")
        constraints = [
            models.UniqueConstraint(fields=["dealer", "kind", "code"], name="reason_code_uniq")
        ]

    def __str__(self) -> str:
        return self.label


class HandoffReason(models.TextChoices):
    """Why a lead changed hands when the system or a rule moved it (people may add a note)."""

    APPOINTMENT = "appointment", _("Visit booked: to the showroom")
    ARRIVAL = "arrival", _("Checked in at the showroom")
    ABSENCE = "absence", _("Cover during absence")
    CLAIM = "claim", _("Claimed from the pool")
    REASSIGN = "reassign", _("Reassigned by a supervisor")
    REACTIVATION = "reactivation", _("Reactivated while the owner was away")
    AUDIT = "audit", _("Returned by an audit")


class TeamKind(models.TextChoices):
    DCC = "dcc", _("DCC invitation group")
    SHOWROOM = "showroom", _("Showroom")
    FIELD_SALES = "field_sales", _("Field sales (direct sales)")
    MARKETING = "marketing", _("Marketing and network")


class Team(models.Model):
    """A group of people at a dealer (a DCC invitation group, the showroom, field sales …).
    Who was in it when is kept by TeamMembership, so that a number counts a person in the
    team they were in when it happened (leads.teams)."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="teams")
    kind = models.CharField(_("kind"), max_length=16, choices=TeamKind.choices)
    name = models.CharField(_("name"), max_length=100)
    leader = models.ForeignKey(
        Staff,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="led_teams",
        verbose_name=_("leader"),
    )
    members = models.ManyToManyField(
        Staff, through="TeamMembership", through_fields=("team", "staff"), related_name="teams"
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        constraints = [models.UniqueConstraint(fields=["dealer", "name"], name="team_name_uniq")]

    def __str__(self) -> str:
        return gettext(self.name)  # default names are stored in English and translated


class TeamMembership(models.Model):
    """A person's time in a team: from `starts_at` until `ends_at` (open: still in it). A
    person is in at most one team of a dealer at a time."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="team_memberships")
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"), null=True, blank=True)

    class Meta:
        verbose_name = _("team membership")
        verbose_name_plural = _("team memberships")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                name="team_membership_span",
            ),
            models.UniqueConstraint(
                fields=["dealer", "staff"],
                condition=Q(ends_at__isnull=True),
                name="team_membership_one_current",
            ),
        ]
        indexes = [models.Index(fields=["dealer", "staff", "starts_at"])]


class AssignmentRule(models.Model):
    """Routes leads of a channel and/or car model to a subset of a team: named people and/or
    whoever is in `to_team` at the time. Empty channel or model matches any; lower priority
    numbers are tried first."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="assignment_rules")
    team = models.CharField(
        _("team"), max_length=16, choices=TeamKind.choices, default=TeamKind.DCC
    )
    to_team = models.ForeignKey(
        Team,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="assignment_rules",
        verbose_name=_("group"),
    )
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, null=True, blank=True)
    car_model = models.CharField(_("model of interest"), max_length=100, blank=True)
    priority = models.PositiveSmallIntegerField(_("priority"), default=100)
    members = models.ManyToManyField(Staff, related_name="assignment_rules", blank=True)

    class Meta:
        verbose_name = _("assignment rule")
        verbose_name_plural = _("assignment rules")
        ordering = ["priority", "id"]


class IdempotencyKey(models.Model):
    """An API client's Idempotency-Key: the same key twice gives the first answer again."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="+")
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    request_digest = models.CharField(max_length=64)
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="+")
    status_code = models.PositiveSmallIntegerField()
    outcome = models.CharField(max_length=12)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["staff", "key"], name="idempotency_uniq")]


class DailyTally(models.Model):
    """A dealer's funnel counted per day (in the dealer's time zone), kept by leads.tallies as
    leads change, so a month across every dealer reads a row per dealer per day rather than
    every lead. Period columns count leads on the day of their first such event; `cohort_`
    columns count them on the day they were created (followed to now); lead columns (leads,
    valid, invalid, with_sla, on_time) by the day of creation."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    leads = models.IntegerField(default=0)
    valid = models.IntegerField(default=0)
    invalid = models.IntegerField(default=0)
    with_sla = models.IntegerField(default=0)  # leads with a first-response SLA
    on_time = models.IntegerField(default=0)  # of those, first answered within it
    touches = models.IntegerField(default=0)
    contacted = models.IntegerField(default=0)
    appointed = models.IntegerField(default=0)
    arrived = models.IntegerField(default=0)
    ordered = models.IntegerField(default=0)
    delivered = models.IntegerField(default=0)
    defeated = models.IntegerField(default=0)
    closed = models.IntegerField(default=0)
    cohort_touches = models.IntegerField(default=0)
    cohort_contacted = models.IntegerField(default=0)
    cohort_appointed = models.IntegerField(default=0)
    cohort_arrived = models.IntegerField(default=0)
    cohort_ordered = models.IntegerField(default=0)
    cohort_delivered = models.IntegerField(default=0)
    cohort_defeated = models.IntegerField(default=0)
    cohort_closed = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dealer", "day"], name="daily_tally_uniq"),
        ]
        indexes = [models.Index(fields=["day", "dealer"])]
