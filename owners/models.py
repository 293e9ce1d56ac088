"""Owner operations (保有客户运营): the customers who bought, their vehicles, and the work that
keeps them — the return-visit plan and its questionnaires, the visits, and complaints."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
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
    # A car returned to the dealer (退车): its sale no longer counts for its referrer.
    returned_at = models.DateTimeField(_("returned"), null=True, blank=True)

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
                fields=["vehicle", "dealer"],
                condition=Q(ends_at__isnull=True),
                name="vehicle_one_owner",
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
                fields=["questionnaire", "number", "dealer"], name="questionnaire_version_uniq"
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
            models.UniqueConstraint(
                fields=["vehicle", "step", "dealer"], name="visit_vehicle_step_uniq"
            )
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


# ---------------------------------------------------------------- members and points


class RewardKind(models.TextChoices):
    POINTS = "points", _("Points")
    MONEY = "money", _("Money")


class ReturnedCarRule(models.TextChoices):
    KEEP = "keep", _("The referrer keeps the reward")
    CLAW_BACK = "claw_back", _("The reward is taken back")


class MemberProgram(models.Model):
    """A dealer's member programme: what earns points, when unused points expire, how
    referrals are rewarded (owners.members.DEFAULTS when a dealer has none)."""

    dealer = models.OneToOneField(Dealer, on_delete=models.CASCADE, related_name="+")
    purchase_points = models.PositiveIntegerField(_("points for a purchase"), default=1000)
    event_points = models.PositiveIntegerField(_("points for attending an event"), default=100)
    service_points = models.PositiveIntegerField(_("points for a service visit"), default=50)
    idle_days = models.PositiveIntegerField(
        _("usable points expire after this many idle days"), default=365
    )
    reward_kind = models.CharField(
        _("referral reward"), max_length=8, choices=RewardKind.choices, default=RewardKind.POINTS
    )
    # The reward of each level up the chain of referrers: the referrer, then who referred them.
    level_rewards = models.JSONField(_("reward per level"), default=list)
    returned_car_rule = models.CharField(
        _("when a referred car is returned"),
        max_length=12,
        choices=ReturnedCarRule.choices,
        default=ReturnedCarRule.CLAW_BACK,
    )

    class Meta:
        verbose_name = _("member programme")
        verbose_name_plural = _("member programmes")


class MemberTier(models.Model):
    """A tier of a dealer's members, reached by lifetime points (redeeming never demotes)."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=32)
    min_points = models.PositiveIntegerField(_("from lifetime points"))

    class Meta:
        verbose_name = _("member tier")
        verbose_name_plural = _("member tiers")
        ordering = ["dealer_id", "min_points"]
        constraints = [
            models.UniqueConstraint(fields=["dealer", "min_points"], name="tier_points_uniq"),
            models.UniqueConstraint(fields=["dealer", "name"], name="tier_name_uniq"),
        ]

    def __str__(self) -> str:
        return gettext(self.name)  # the default tiers are stored in English and translated


class Member(models.Model):
    """An owner's member card at a dealer, with its two balances: usable points (earned less
    redeemed and expired; never below zero) and lifetime points (earned, for the tier)."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="+", verbose_name=_("member")
    )
    vehicle = models.ForeignKey(
        Vehicle,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("vehicle"),
    )
    card_number = models.CharField(_("card number"), max_length=24)
    tier = models.ForeignKey(
        MemberTier,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("tier"),
    )
    usable_points = models.PositiveIntegerField(_("usable points"), default=0)
    lifetime_points = models.PositiveIntegerField(_("lifetime points"), default=0)
    joined_at = models.DateTimeField(_("joined"))
    joined_by = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The last time points were earned or redeemed: usable points expire after idle days.
    active_at = models.DateTimeField(_("last active"))

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        constraints = [
            models.UniqueConstraint(fields=["dealer", "customer"], name="member_customer_uniq"),
            models.UniqueConstraint(fields=["dealer", "card_number"], name="member_card_uniq"),
            models.CheckConstraint(condition=Q(usable_points__gte=0), name="member_usable_gte_0"),
        ]
        indexes = [models.Index(fields=["dealer", "active_at"])]

    def __str__(self) -> str:
        return self.card_number


class PointsKind(models.TextChoices):
    PURCHASE = "purchase", _("Purchase")
    REFERRAL = "referral", _("Referral")
    EVENT = "event", _("Event attendance")
    SERVICE = "service", _("Service visit")
    ADJUSTMENT = "adjustment", _("Adjustment")
    REDEEMED = "redeemed", _("Redeemed")
    EXPIRED = "expired", _("Expired")
    CLAWED_BACK = "clawed_back", _("Taken back")


EARNING_KINDS = (
    PointsKind.PURCHASE,
    PointsKind.REFERRAL,
    PointsKind.EVENT,
    PointsKind.SERVICE,
    PointsKind.ADJUSTMENT,
)


class PointsEntry(models.Model):
    """One line of a member's points ledger: earned (+), redeemed, expired or taken back (−),
    with the usable balance after it. `key` makes an award happen once (a purchase, a
    referral level, an event attendance)."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="entries")
    at = models.DateTimeField(_("when"))
    kind = models.CharField(_("kind"), max_length=12, choices=PointsKind.choices)
    points = models.IntegerField(_("points"))
    usable_after = models.PositiveIntegerField(_("usable after"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    key = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")
        ordering = ["member_id", "at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dealer", "key"], condition=~Q(key=""), name="points_key_uniq"
            ),
        ]
        indexes = [models.Index(fields=["dealer", "kind", "at"])]


# ---------------------------------------------------------------- referrals


class ReferralStatus(models.TextChoices):
    NAMED = "named", _("Referrer named")
    CREDITED = "credited", _("Credited: the lead ordered")
    REWARDED = "rewarded", _("Rewarded: the car was delivered")
    VOID = "void", _("Void")


class ReferralSource(models.TextChoices):
    LEAD = "lead", _("Named on the lead")
    EVENT = "event", _("Guest at an owner event")


class Referral(models.Model):
    """Who referred a lead: an owner or member of the same dealer, named on the lead or
    brought along to an owner event. Credited when the lead orders, rewarded on delivery."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="+")
    lead = models.OneToOneField(Lead, on_delete=models.CASCADE, related_name="referral")
    referrer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="+", verbose_name=_("referrer")
    )
    source = models.CharField(
        _("source"), max_length=8, choices=ReferralSource.choices, default=ReferralSource.LEAD
    )
    event = models.ForeignKey(
        "OwnerEvent", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.NAMED
    )
    named_at = models.DateTimeField(_("named"))
    named_by = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    credited_at = models.DateTimeField(_("credited"), null=True, blank=True)
    rewarded_at = models.DateTimeField(_("rewarded"), null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        indexes = [
            models.Index(fields=["dealer", "referrer"]),
            models.Index(fields=["dealer", "credited_at"]),
        ]


class ReferralReward(models.Model):
    """What one level of a referral paid to whom: points (with their ledger line) or money."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="+")
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="rewards")
    level = models.PositiveSmallIntegerField(_("level"))
    beneficiary = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="+", verbose_name=_("to")
    )
    points = models.PositiveIntegerField(_("points"), default=0)
    money = models.DecimalField(_("money (CNY)"), max_digits=10, decimal_places=2, default=0)
    at = models.DateTimeField(_("when"))
    clawed_back_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("referral reward")
        verbose_name_plural = _("referral rewards")
        constraints = [
            models.UniqueConstraint(
                fields=["referral", "level", "dealer"], name="reward_level_uniq"
            )
        ]


# ---------------------------------------------------------------- owner events


class OwnerEventKind(models.TextChoices):
    SELF_DRIVE = "self_drive", _("Self-drive tour")
    FAMILY_DAY = "family_day", _("Family day")
    LAUNCH = "launch", _("Model launch")
    RAFFLE = "raffle", _("Raffle")
    OTHER = "other", _("Other")


class OwnerEvent(models.Model):
    """An event for owners: who is invited (a segment of owners), how many may come, what it
    may cost and did cost, and — through its invitations and guests — what it brought."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(_("title"), max_length=100)
    kind = models.CharField(_("kind"), max_length=12, choices=OwnerEventKind.choices)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    place = models.CharField(_("place"), max_length=200, blank=True)
    capacity = models.PositiveIntegerField(_("capacity (people)"))
    budget = models.DecimalField(_("budget (CNY)"), max_digits=12, decimal_places=2, default=0)
    cost = models.DecimalField(_("cost (CNY)"), max_digits=12, decimal_places=2, default=0)
    # Which owners are invited: {"tiers": [ids], "models": [..], "delivered_from": date, ...}
    segment = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("owner event")
        verbose_name_plural = _("owner events")
        indexes = [models.Index(fields=["dealer", "starts_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gte=F("starts_at")), name="owner_event_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return self.title


class Invitation(models.Model):
    """An owner invited to an event: their answer, how many they bring, when they were checked
    in at the door (the code is in the QR code on the invitation)."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(OwnerEvent, on_delete=models.CASCADE, related_name="invitations")
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="+", verbose_name=_("owner")
    )
    code = models.CharField(max_length=32, unique=True)
    invited_at = models.DateTimeField(_("invited"))
    invited_by = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_up_at = models.DateTimeField(_("signed up"), null=True, blank=True)
    declined_at = models.DateTimeField(_("declined"), null=True, blank=True)
    party_size = models.PositiveSmallIntegerField(_("people coming"), default=1)
    checked_in_at = models.DateTimeField(_("checked in"), null=True, blank=True)
    checked_in_by = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        constraints = [
            models.UniqueConstraint(
                fields=["event", "customer", "dealer"], name="invitation_owner_uniq"
            )
        ]


class EventGuest(models.Model):
    """Someone an invited owner brought along; with a phone number they become a lead credited
    to that owner (a referral from the event)."""

    dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE, related_name="+")
    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE, related_name="guests")
    name = models.CharField(_("name"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=20)
    lead = models.ForeignKey(
        Lead, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    added_at = models.DateTimeField(_("added"))
    added_by = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("guest")
        verbose_name_plural = _("guests")
        constraints = [
            models.UniqueConstraint(
                fields=["invitation", "phone", "dealer"], name="guest_phone_uniq"
            )
        ]
