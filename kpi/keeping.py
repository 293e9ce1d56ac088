"""How owner operations' and the audit group's measures are counted: the return visits of the
plan, their questionnaires' satisfaction and NPS, complaints, members, referrals and owner
events (owners.models), and audits (audit.models). kpi.measures counts them as it counts the
rest; this module says which rows each takes in a window and what a row adds up.

Each measure is dated by its obvious moment, in either view (a cohort of leads says nothing of
owners' visits or audits, so the **cohort** view counts these as the period view does, but the
orders of referred leads, which follow the leads as every order does):

- return visits due (and on time) by their due time, up to now (one still to fall due is not
  judged yet; a retry after an unanswered call moves the due time); visits ended (reached or
  unreachable after the plan's attempts), reached, their satisfaction and NPS, by the moment
  they ended;
- complaints opened, due and closed on time by when they were opened; closed (confirmed by the
  customer) and the time it took, by when they were closed;
- audits, their score and the defeats audited by when the audit was made; defeats overturned by
  when they were; the work the audit group may sample, and of it what was audited, by when
  the work was done (the call rang, the defeat was approved …);
- members as at the window's end (a stock: not by day, week or month), members who joined,
  active members (who earned points by buying, referring, attending an event or a service
  visit, or redeemed points, in the window: an adjustment, an expiry or a claw-back is not the
  member's doing), by the moment of each;
- referrals by when the referrer was named; owner events' sign-ups and attendance by when the
  event started.

Rows lead to the leads behind them (the drill-down): a return visit, a complaint, an audit its
own lead (the sale's, the audited one's); a member their vehicle's sale; an invited owner the
sales of their cars.

Groups by person: a visit by whom it is assigned to, a complaint by its handler (`agent`) and
by the person it is about (`consultant`), an audit by the person audited, each in the team they
were in at that moment. Dimensions only these rows have: a visit's plan step (by its hours
after delivery: `step`), a satisfaction factor of the default questionnaire (`factor`) and a
referral's referrer (`referrer`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from django.db.models import (
    Case,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone

from audit import sources
from audit.models import Audit, SamplingPlan
from kpi.rows import Rows, Window
from leads.teams import team_at
from owners.models import (
    Complaint,
    ComplaintStatus,
    Invitation,
    Member,
    PointsEntry,
    PointsKind,
    Referral,
    ReferralStatus,
    ReturnVisit,
    VisitStatus,
)
from owners.questionnaires import FACTORS

# ---------------------------------------------------------------- which rows each counts

FACTOR_KEYS = tuple(key for key, _label in FACTORS)
SCORE_ANSWER = r"^[1-5]$"  # a factor's answer as the questionnaire takes it
PROMOTER, DETRACTOR = 9, 6  # NPS: 9–10 recommend us, 0–6 do not
DONE = Q(status=VisitStatus.DONE)
WITH_NPS = DONE & Q(nps__isnull=False)
# What makes a member active: what they did, not what was done to their points.
ACTIVE_KINDS = (
    PointsKind.PURCHASE,
    PointsKind.REFERRAL,
    PointsKind.EVENT,
    PointsKind.SERVICE,
    PointsKind.REDEEMED,
)
RESOLVED = (ComplaintStatus.RESOLVED, ComplaintStatus.CONFIRMED)


def _now_or_end(window: Window) -> datetime:
    return min(window.end, timezone.now())


def _visits_due(window: Window) -> Rows:
    """Visits of the plan that fell due in the window, up to now; cancelled ones are not."""
    visits = ReturnVisit.objects.filter(
        dealer_id__in=window.dealer_ids,
        due_at__gte=window.start,
        due_at__lt=_now_or_end(window),
    ).exclude(status=VisitStatus.CANCELLED)
    return Rows(visits, "lead__", "due_at", distinct_leads=False, own=_visit_groups("due_at"))


def _visits_ended(window: Window) -> Rows:
    """Visits reached (done) or unreachable after the plan's attempts, in the window."""
    visits = ReturnVisit.objects.filter(
        dealer_id__in=window.dealer_ids,
        status__in=(VisitStatus.DONE, VisitStatus.UNREACHABLE),
        completed_at__gte=window.start,
        completed_at__lt=window.end,
    )
    own = _visit_groups("completed_at")
    return Rows(visits, "lead__", "completed_at", distinct_leads=False, own=own)


def _visit_groups(at: str) -> dict[str, object]:
    return {
        "agent": F("assignee_id"),
        "team": team_at("assignee_id", "dealer_id", at),
        "step": F("step__offset_hours"),
    }


def _complaints(at: str) -> Callable[[Window], Rows]:
    """Complaints whose `at` (opened, closed) is in the window."""

    def rows(window: Window) -> Rows:
        complaints = Complaint.objects.filter(
            dealer_id__in=window.dealer_ids,
            **{f"{at}__gte": window.start, f"{at}__lt": window.end},
        )
        own = {
            "agent": F("handler_id"),
            "consultant": F("about_id"),
            "team": team_at("handler_id", "dealer_id", at),
        }
        return Rows(complaints, "lead__", at, distinct_leads=False, own=own)

    return rows


def _audits(at: str) -> Callable[[Window], Rows]:
    """Audits whose `at` (made, overturned) is in the window, by the person audited."""

    def rows(window: Window) -> Rows:
        audits = Audit.objects.filter(
            dealer_id__in=window.dealer_ids,
            **{f"{at}__gte": window.start, f"{at}__lt": window.end},
        )
        own = {"agent": F("person_id"), "team": team_at("person_id", "dealer_id", at)}
        return Rows(audits, "lead__", at, distinct_leads=False, own=own)

    return rows


def _members(window: Window) -> Rows:
    """Members who had joined by the window's end (a stock)."""
    members = Member.objects.filter(dealer_id__in=window.dealer_ids, joined_at__lt=window.end)
    return Rows(members, "vehicle__lead__", "joined_at", distinct_leads=False)


def _points(window: Window) -> Rows:
    """Points earned or redeemed in the window: each member once, whatever they did."""
    entries = PointsEntry.objects.filter(
        dealer_id__in=window.dealer_ids,
        kind__in=ACTIVE_KINDS,
        at__gte=window.start,
        at__lt=window.end,
    )
    return Rows(entries, "member__vehicle__lead__", "at", distinct="member_id")


def _referrals(window: Window) -> Rows:
    """Leads whose referrer was named in the window (a void referral is not one)."""
    referrals = Referral.objects.filter(
        dealer_id__in=window.dealer_ids, named_at__gte=window.start, named_at__lt=window.end
    ).exclude(status=ReferralStatus.VOID)
    return Rows(referrals, "lead__", "named_at", own={"referrer": F("referrer_id")})


def _invitations(window: Window) -> Rows:
    """Invitations to owner events that started in the window, signed up (or checked in at
    the door without): the owner's sales are the leads behind them."""
    invitations = Invitation.objects.filter(
        Q(signed_up_at__isnull=False) | Q(checked_in_at__isnull=False),
        dealer_id__in=window.dealer_ids,
        event__starts_at__gte=window.start,
        event__starts_at__lt=window.end,
    )
    return Rows(invitations, "customer__vehicles__lead__", "event__starts_at", distinct="pk")


def _joined(window: Window) -> Q:
    return Q(joined_at__gte=window.start)


def _complaint_judged(window: Window) -> Q:
    """A complaint that can be judged on time or late: resolved, escalated (a deadline
    passed) or past its deadline now."""
    return Q(resolved_at__isnull=False) | Q(level__gt=0) | Q(deadline__lte=timezone.now())


# Measures counted together, one query a batch: the rows of the batch (in a window) and what
# puts a row in each measure (a function of the window where it depends on it, or on now).
Batch = tuple[Callable[[Window], Rows], Mapping[str, Q | Callable[[Window], Q]]]
BATCHES: dict[str, Batch] = {
    "visits_due": (
        _visits_due,
        {
            "step_visits_due": Q(),
            "step_visits_on_time": DONE & Q(completed_at__lte=F("due_at")),
        },
    ),
    "visits_ended": (
        _visits_ended,
        {
            "step_visits_ended": Q(),
            "step_visits_reached": DONE,
            "satisfaction_points": DONE,
            "satisfaction_answers": DONE,
            "nps_answers": WITH_NPS,
            "nps_promoters": WITH_NPS & Q(nps__gte=PROMOTER),
            "nps_detractors": WITH_NPS & Q(nps__lte=DETRACTOR),
            "nps_points": WITH_NPS & (Q(nps__gte=PROMOTER) | Q(nps__lte=DETRACTOR)),
        },
    ),
    "complaints_opened": (
        _complaints("opened_at"),
        {
            "complaints_opened": Q(),
            "complaints_due": _complaint_judged,
            # Resolved by the deadline and never escalated (escalating means one was missed).
            "complaints_on_time": Q(status__in=RESOLVED, level=0, resolved_at__lte=F("deadline")),
        },
    ),
    "complaints_closed": (
        _complaints("closed_at"),
        {"complaints_closed": Q(), "complaint_close_seconds": Q()},
    ),
    "audits": (
        _audits("at"),
        {
            "audits": Q(),
            "audit_score_points": Q(),
            "defeats_audited": Q(task__source=sources.DEFEAT),
        },
    ),
    "overturns": (
        _audits("overturned_at"),
        {"defeats_overturned": Q(task__source=sources.DEFEAT)},
    ),
    "members": (_members, {"members": Q(), "members_joined": _joined}),
    "active_members": (_points, {"active_members": Q()}),
    "referrals": (_referrals, {"referrals": Q()}),
    "invitations": (
        _invitations,
        {"event_signups": Q(), "event_attended": Q(checked_in_at__isnull=False)},
    ),
}
BATCH_OF: dict[str, str] = {
    measure: name for name, (_rows, measures) in BATCHES.items() for measure in measures
}
# The work the audit group may sample, and of it what was audited (several sources' rows).
AUDIT_WORK_MEASURES = ("audit_work", "audit_work_audited")
MEASURES = frozenset({*BATCH_OF, *AUDIT_WORK_MEASURES})

STEP_MEASURES = frozenset(BATCHES["visits_due"][1]) | frozenset(BATCHES["visits_ended"][1])
SATISFACTION_MEASURES = frozenset({"satisfaction_points", "satisfaction_answers"})
# Measures that are a stock at the window's end: they have no day, week or month.
STOCK_MEASURES = frozenset({"members"})
# Measures whose rows may reach more than one lead (an owner with two cars): grouped by what
# the lead says, a row may be in two groups.
MANY_LEADS = frozenset({"event_signups", "event_attended"})
# Measures of distinct members: one active in two months is active in each.
DISTINCT_OVER_TIME = frozenset({"active_members"})


def condition(measure: str, window: Window) -> Q:
    """What puts a row of its batch in `measure`."""
    found = BATCHES[BATCH_OF[measure]][1][measure]
    return found(window) if callable(found) else found


def rows(measure: str, window: Window) -> Rows:
    """The rows `measure` counts in `window` (not the audit work: `audit_work_parts`)."""
    make, _measures = BATCHES[BATCH_OF[measure]]
    found = make(window)
    return Rows(
        found.queryset.filter(condition(measure, window)),
        found.lead,
        found.dated_by,
        distinct_leads=found.distinct_leads,
        own=found.own,
        distinct=found.distinct,
    )


def batch_rows(name: str, window: Window) -> Rows:
    return BATCHES[name][0](window)


# ---------------------------------------------------------------- what a row adds up


def _factor_answered(key: str) -> Q:
    return Q(**{f"answers__{key}__regex": SCORE_ANSWER})


def _factor_score(key: str) -> Case:
    return Case(
        When(_factor_answered(key), then=Cast(KT(f"answers__{key}"), IntegerField())),
        default=Value(0),
        output_field=IntegerField(),
    )


def _factor_count(key: str) -> Case:
    return Case(When(_factor_answered(key), then=Value(1)), default=Value(0))


def _all_factors(one: Callable[[str], Case]):
    total = one(FACTOR_KEYS[0])
    for key in FACTOR_KEYS[1:]:
        total = total + one(key)
    return total


def tally(measure: str, condition_: Q | None, factor: str | None = None):
    """What a group of rows adds up to for `measure` where it is not the rows (or leads)
    themselves; None where it is. `factor`: one satisfaction factor's, else all eight's."""
    if measure == "satisfaction_points":
        score = _factor_score(factor) if factor else _all_factors(_factor_score)
        return Sum(score, filter=condition_)
    if measure == "satisfaction_answers":
        count = _factor_count(factor) if factor else _all_factors(_factor_count)
        return Sum(count, filter=condition_)
    if measure == "nps_points":  # promoters less detractors, each visit ±1
        signed = Case(
            When(nps__gte=PROMOTER, then=Value(1)),
            When(nps__lte=DETRACTOR, then=Value(-1)),
            default=Value(0),
        )
        return Sum(signed, filter=condition_)
    if measure == "complaint_close_seconds":
        return Sum(F("closed_at") - F("opened_at"), filter=condition_)
    if measure == "audit_score_points":
        return Sum("score", filter=condition_)
    return None


def factor_sums(measure: str, condition_: Q) -> dict[str, object]:
    """For grouping by factor: one sum per factor, named by its key."""
    return {f"f_{key}": tally(measure, condition_, factor=key) for key in FACTOR_KEYS}


def factor_rows(key: str) -> Q:
    """The visits that answered `key` (the drill-down of one factor; none for what is not a
    factor)."""
    return _factor_answered(key) if key in FACTOR_KEYS else Q(pk__in=[])


# ---------------------------------------------------------------- the work audited


def audit_work_parts(measure: str, window: Window) -> list[Rows]:
    """The work of each source the audit group samples (those whose work the KPIs can count)
    in `window`, by the person whose work it is, of a source the dealer samples; for
    `audit_work_audited`, of it what was drawn and audited."""
    parts = []
    for code, source in sources.SOURCES.items():
        if source.work_items is None:
            continue
        work = source.work_items(window.dealer_ids, window.start, window.end).filter(
            work_person__isnull=False
        )
        switched_off = SamplingPlan.objects.filter(
            dealer_id=OuterRef("dealer_id"), source=code, is_active=False
        )
        work = work.filter(~Exists(switched_off))
        if measure == "audit_work_audited":
            audited = Audit.objects.filter(
                dealer_id=OuterRef("dealer_id"), task__source=code, task__item_id=OuterRef("pk")
            )
            work = work.filter(Exists(audited))
        own = {"agent": F("work_person"), "team": team_at("work_person", "dealer_id", "work_at")}
        parts.append(Rows(work, "lead__", "work_at", distinct_leads=False, own=own))
    return parts
