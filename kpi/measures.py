"""How each measure of the registry is counted from the ledger: the one definition of which
leads (or events, or money) it takes in a window, and how they group by a dimension.

A window is some dealers, a time range and a view. In the **period** view an event measure
counts the leads whose first such event is in the range (so days add up to their month); in
the **cohort** view it counts the leads created in the range that have such an event up to
`as_of` (today). Lead measures (leads, valid, with an SLA, on time) always take the leads
created in the range; "breached" judges them as the window's `as_of` (default: now) stands.

Activity measures (calls, visits booked, talk time …) count what people did in the range, in
either view: each event (or late follow-up) for the person it is credited to (`credited_to`),
as the supervisor's board and the scorecards show them, person by person (`per_person`).

Call measures count the phone system's call records (calls.Call, dated by when they rang),
each ended call once, in either view; callback measures the callbacks missed calls left (dated
by their deadline). They group by what the call says better than its lead — the channel of its
line, the person who took or made it and the team stored with it — and by two dimensions only
they have: the line, and the hour of day it rang (`CALL_DIMENSIONS`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.fields.json import KT
from django.db.models.functions import (
    Cast,
    Coalesce,
    ExtractHour,
    TruncDate,
    TruncMonth,
    TruncWeek,
)
from django.utils import timezone

from calls.models import Call, Callback, NotALead
from calls.report import MISSED, Direction, Disposition
from kpi import keeping
from kpi.registry import MEASURES, View
from kpi.rows import Rows, Window
from leads import sla
from leads.models import (
    Channel,
    Event,
    EventKind,
    Lead,
    Task,
    TaskKind,
    TaskOutcome,
    reached_calls,
)
from leads.stages import Stage
from leads.tallies import EVENT_MILESTONES, milestone_q
from leads.teams import team_at
from owners.models import EventGuest, Referral, ReferralSource, ReferralStatus

# Dimensions a measure can be grouped by: time first, then the lead's, then the people.
TIME_DIMENSIONS = ("day", "week", "month")
DIMENSIONS = (
    *TIME_DIMENSIONS,
    "channel",
    "channel_group",
    "model",
    "grade",
    "agent",
    "consultant",
    "team",
    "dealer",
)
# Dimensions only the call and callback measures have: the dealer's line a call came in on (or
# went out from), and the hour of day it rang, in the dealer's zone.
CALL_DIMENSIONS = ("line", "hour")
# Dimensions only owner operations' measures have (kpi.keeping): a return visit's plan step
# (its hours after delivery), a satisfaction factor, a referral's referrer.
OWNER_DIMENSIONS = ("step", "factor", "referrer")
ALL_DIMENSIONS = (*DIMENSIONS, *CALL_DIMENSIONS, *OWNER_DIMENSIONS)
# Event measures: the events that put a lead in them (leads.tallies defines them, and keeps
# each lead's first as a column; this module counts them from the ledger itself).
EVENT_MEASURES: dict[str, Q] = {measure: milestone_q(measure) for measure in EVENT_MILESTONES}
RETURN_VISIT_MEASURES = ("return_visits_due", "return_visits_on_time")
RETURN_VISIT_DONE_ON_TIME = Q(outcome=TaskOutcome.DONE, closed_at__lte=F("due_at"))
LEAD_MEASURES: dict[str, Q] = {
    "leads": Q(),
    "valid": ~Q(stage=Stage.INVALID),
    "invalid": Q(stage=Stage.INVALID),
    # Leads with a first-response SLA (not those imported past their deadline unanswered),
    # and of those, the ones first answered within it: leads.sla holds the rule.
    "with_sla": sla.has_sla(),
    "on_time": sla.on_time(),
}
# Activity measures: the events each counts, in the range, for the person credited.
ACTIVITY_EVENTS: dict[str, Q] = {
    "calls": Q(kind=EventKind.CALLED),
    "reached_calls": reached_calls(),
    "talk_seconds": Q(kind=EventKind.CALLED),
    "bookings": Q(kind=EventKind.APPOINTMENT_SET),
    "visits": Q(kind=EventKind.ARRIVED),
    "orders_taken": Q(kind=EventKind.ORDERED),
    "deliveries_made": Q(kind=EventKind.DELIVERED),
    "return_visits_reached": Q(kind=EventKind.RETURN_VISIT, data__reached=True),
    "leads_handled": ~Q(actor=None),
    # Written from the phone system's record (leads.decisions.phone_call): the rest were typed.
    "system_calls": Q(kind=EventKind.CALLED, data__has_key="call_id"),
}
# A follow-up is late when done after it fell due, or not done at all (yet).
LATE_FOLLOW_UP = Q(closed_at__gt=F("due_at"), outcome=TaskOutcome.DONE) | Q(closed_at=None)
ACTIVITY_MEASURES = (*ACTIVITY_EVENTS, "late_follow_ups")
# What an activity measure adds up per row, when not the rows themselves.
TALK_SECONDS = Cast(KT("data__duration_seconds"), IntegerField())

# Call measures: which of a dealer's ended calls each counts (calls.Call), and for the two
# that add up seconds, the field they add.
VALID_WAIT_SECONDS = 10  # a caller who waited this long made a valid call, answered or not
ANSWERED = Q(disposition=Disposition.ANSWERED)
INBOUND = Q(direction=Direction.INBOUND)
VALID = ANSWERED | Q(wait_seconds__gte=VALID_WAIT_SECONDS)
CALL_MEASURES: dict[str, Q] = {
    "inbound_calls": INBOUND,
    "inbound_answered": INBOUND & ANSWERED,
    "valid_in_hours": INBOUND & Q(in_hours=True) & VALID,
    "answered_in_hours": INBOUND & Q(in_hours=True) & ANSWERED,
    "abandoned_calls": INBOUND & Q(disposition__in=MISSED),
    "timed_inbound": INBOUND & Q(wait_seconds__isnull=False),
    "wait_seconds": INBOUND & Q(wait_seconds__isnull=False),
    "new_callers": INBOUND & ANSWERED & Q(had_open_lead=False),
    "new_callers_with_details": INBOUND
    & ANSWERED
    & Q(had_open_lead=False)
    & (Q(captured=True) | Q(lead__created_at__gte=F("rang_at"))),
    "outbound_calls": Q(direction=Direction.OUTBOUND),
    "outbound_reached": Q(direction=Direction.OUTBOUND) & ANSWERED,
    "effective_calls": ANSWERED & Q(talk_seconds__gte=F("dealer__effective_call_seconds")),
    "answered_calls": ANSWERED,
    "call_talk_seconds": ANSWERED & Q(talk_seconds__isnull=False),
}
CALL_SECONDS = {"wait_seconds": "wait_seconds", "call_talk_seconds": "talk_seconds"}
CALLBACK_MEASURES: dict[str, Q] = {
    "callbacks_due": Q(),
    "callbacks_on_time": Q(closed_at__lte=F("due_at")),
}
# Measures from the ledger's calls: the attempts before a lead's first contact, and the leads
# first reached (their denominator).
CONTACT_MEASURES = ("first_contacts", "attempts_before_contact")
# Orders of leads a referrer brought (named on the lead, or a guest at an owner event), and of
# those an owner event brought: counted as orders are (the lead's first order), in both views.
LIVE_REFERRAL = ~Q(status=ReferralStatus.VOID)
ORDER_SHARES: dict[str, Q] = {
    "referred_orders": Q(
        Exists(Referral.objects.filter(LIVE_REFERRAL, lead_id=OuterRef("lead_id")))
    ),
    "event_orders": Q(
        Exists(
            Referral.objects.filter(
                LIVE_REFERRAL, lead_id=OuterRef("lead_id"), source=ReferralSource.EVENT
            )
        )
    )
    | Q(Exists(EventGuest.objects.filter(lead_id=OuterRef("lead_id")))),
}
# The extra dimensions and the measures that have them.
EXTRA_DIMENSIONS: dict[str, frozenset[str]] = {
    "line": frozenset({*CALL_MEASURES, *CALLBACK_MEASURES}),
    "hour": frozenset({*CALL_MEASURES, *CALLBACK_MEASURES}),
    "step": keeping.STEP_MEASURES,
    "factor": keeping.SATISFACTION_MEASURES,
    "referrer": frozenset({"referrals", "referred_orders"}),
}


def hour_of(field: str) -> ExtractHour:
    """The hour of day (0–23) of `field` in the current (the dealer's) zone."""
    return ExtractHour(field, tzinfo=timezone.get_current_timezone())


# What a call's row groups under where the call says it better than its lead.
CALL_GROUPS = {
    "channel": F("line__channel_id"),
    "channel_group": F("line__channel__group"),
    "agent": F("agent_id"),
    "team": F("team_id"),
    "line": F("line_id"),
}
# A callback: its line, and the person (and team) whose call closed it.
CALLBACK_GROUPS = {
    "channel": F("line__channel_id"),
    "channel_group": F("line__channel__group"),
    "agent": F("closed_by__agent_id"),
    "team": F("closed_by__team_id"),
    "line": F("line_id"),
}


class NotThisDimension(KeyError):
    """A measure asked for by a dimension it does not have (a lead's measure by line)."""

    def __init__(self, measure: str, by: str) -> None:
        super().__init__(f"{measure} by {by}")
        self.measure = measure
        self.by = by


def supports(measure: str, by: str | None) -> bool:
    """Whether `measure` can be grouped by `by`: every measure by the lead's dimensions (but a
    stock, the members, by time), only call and callback measures by line and hour, only
    owner operations' by their own (`EXTRA_DIMENSIONS`)."""
    if by is None:
        return True
    if by in DIMENSIONS:
        return not (by in TIME_DIMENSIONS and measure in keeping.STOCK_MEASURES)
    return measure in EXTRA_DIMENSIONS.get(by, ())


def rows(measure: str, window: Window) -> Rows:
    """What `measure` counts in `window` (every measure but spend, see `spend`)."""
    if measure not in MEASURES or measure == "spend":
        raise KeyError(measure)
    created = Q(created_at__gte=window.start, created_at__lt=window.end)
    if measure in keeping.AUDIT_WORK_MEASURES:
        raise KeyError(measure)  # several sources' rows: keeping.audit_work_parts
    if measure in keeping.MEASURES:
        return keeping.rows(measure, window)
    if measure in ACTIVITY_MEASURES:
        return _activity_rows(measure, window)
    if measure in CALL_MEASURES:
        return _call_rows(window, CALL_MEASURES[measure])
    if measure in CALLBACK_MEASURES:
        return _callback_rows(window, CALLBACK_MEASURES[measure])
    if measure in CONTACT_MEASURES:
        return _contact_rows(measure, window)
    if measure == "breached":
        leads = Lead.objects.filter(
            created, sla.breached(window.as_of), dealer_id__in=window.dealer_ids
        )
        return Rows(leads, "", "created_at")
    if measure in LEAD_MEASURES:
        leads = Lead.objects.filter(
            created, LEAD_MEASURES[measure], dealer_id__in=window.dealer_ids
        )
        return Rows(leads, "", "created_at")
    if measure.startswith("return_visits"):
        tasks = Task.objects.filter(
            dealer_id__in=window.dealer_ids,
            kind=TaskKind.RETURN_VISIT,
            due_at__gte=window.start,
            due_at__lt=window.end,
        ).exclude(outcome=TaskOutcome.SUPERSEDED)
        if measure == "return_visits_on_time":
            tasks = tasks.filter(RETURN_VISIT_DONE_ON_TIME)
        return Rows(tasks, "lead__", "due_at")
    if measure == "touches":
        what = Q(kind=EventKind.TOUCHED)
    else:
        what = EVENT_MEASURES["ordered" if measure in ORDER_SHARES else measure]
    events = Event.objects.filter(what, dealer_id__in=window.dealer_ids)
    if measure in ORDER_SHARES:
        events = events.filter(ORDER_SHARES[measure])
    if window.view == View.PERIOD:
        events = events.filter(occurred_at__gte=window.start, occurred_at__lt=window.end)
        if measure != "touches":
            # A lead counts in the period of its earliest such event (a second call that
            # reached the customer does not make them contacted again): periods add up.
            earlier = Event.objects.filter(what, lead_id=OuterRef("lead_id")).filter(
                Q(occurred_at__lt=OuterRef("occurred_at"))
                | Q(occurred_at=OuterRef("occurred_at"), seq__lt=OuterRef("seq"))
            )
            events = events.filter(~Exists(earlier))
        dated_by = "occurred_at"
    else:
        as_of = window.as_of or timezone.now()
        events = events.filter(
            lead__created_at__gte=window.start,
            lead__created_at__lt=window.end,
            occurred_at__lt=as_of,
        )
        dated_by = "lead__created_at"
    own = {"referrer": F("lead__referral__referrer_id")} if measure == "referred_orders" else {}
    return Rows(events, "lead__", dated_by, distinct_leads=measure != "touches", own=own)


def _activity_rows(measure: str, window: Window) -> Rows:
    if measure == "late_follow_ups":  # judged up to now: a follow-up still to fall due is not late
        tasks = Task.objects.filter(
            LATE_FOLLOW_UP,
            dealer_id__in=window.dealer_ids,
            kind=TaskKind.FOLLOW_UP,
            due_at__gte=window.start,
            due_at__lt=min(window.end, timezone.now()),
        )
        return Rows(tasks, "lead__", "due_at", distinct_leads=False)
    events = Event.objects.filter(
        ACTIVITY_EVENTS[measure],
        dealer_id__in=window.dealer_ids,
        occurred_at__gte=window.start,
        occurred_at__lt=window.end,
    )
    return Rows(events, "lead__", "occurred_at", distinct_leads=measure == "leads_handled")


def _call_rows(window: Window, condition: Q | None = None) -> Rows:
    """The dealers' calls with customers that rang in the window and have ended (`condition`:
    which). The dealer's own staff on its lines (testing the hotline, calling in) are not
    customers' calls; blocked numbers (spam, harassment) did ring, and count."""
    calls = Call.objects.filter(
        condition or Q(),
        dealer_id__in=window.dealer_ids,
        rang_at__gte=window.start,
        rang_at__lt=window.end,
    ).exclude(Q(disposition="") | Q(not_a_lead=NotALead.STAFF))
    own = {**CALL_GROUPS, "hour": hour_of("rang_at")}
    return Rows(calls, "lead__", "rang_at", distinct_leads=False, own=own)


def _callback_rows(window: Window, condition: Q | None = None) -> Rows:
    """Callbacks that fell due in the window, up to now (one still to fall due is not yet
    judged), but those whose only miss was picked up after all."""
    callbacks = Callback.objects.filter(
        condition or Q(),
        dealer_id__in=window.dealer_ids,
        due_at__gte=window.start,
        due_at__lt=min(window.end, timezone.now()),
        missed_count__gt=0,
    )
    own = {**CALLBACK_GROUPS, "hour": hour_of("last_missed_at")}
    return Rows(callbacks, "lead__", "due_at", distinct_leads=False, own=own)


def _first_contacts(window: Window) -> QuerySet:
    """Each lead's first call that reached the customer, where it is in the window."""
    reached = reached_calls()
    earlier = Event.objects.filter(reached, lead_id=OuterRef("lead_id")).filter(
        Q(occurred_at__lt=OuterRef("occurred_at"))
        | Q(occurred_at=OuterRef("occurred_at"), seq__lt=OuterRef("seq"))
    )
    return Event.objects.filter(
        reached,
        dealer_id__in=window.dealer_ids,
        occurred_at__gte=window.start,
        occurred_at__lt=window.end,
    ).filter(~Exists(earlier))


def _contact_rows(measure: str, window: Window) -> Rows:
    """The leads first reached in the window (their first reaching call), or the calls each
    took before it (dated by that first contact, so that both group alike)."""
    first = _first_contacts(window)
    if measure == "first_contacts":
        return Rows(first, "lead__", "occurred_at")
    contact = first.filter(lead_id=OuterRef("lead_id"), seq__gt=OuterRef("seq"))
    attempts = (
        Event.objects.filter(
            kind=EventKind.CALLED,
            dealer_id__in=window.dealer_ids,
            lead_id__in=first.values("lead_id"),
        )
        .annotate(contact_at=Subquery(contact.values("occurred_at")[:1]))
        .filter(contact_at__isnull=False)
    )
    return Rows(attempts, "lead__", "contact_at", distinct_leads=False)


def arrival_credited_to() -> Coalesce:
    """Whom an ARRIVED event counts for: whoever booked the visit it followed (the lead's last
    booking before it: the DCC agent who invited), else whoever recorded it (a walk-in). The
    one rule for every screen that credits arrivals to people."""
    booked = Event.objects.filter(
        dealer_id=OuterRef("dealer_id"),
        lead_id=OuterRef("lead_id"),
        kind=EventKind.APPOINTMENT_SET,
        seq__lt=OuterRef("seq"),
    ).order_by("-seq")
    return Coalesce(
        Subquery(booked.values("actor_id")[:1]), F("actor_id"), output_field=IntegerField()
    )


def credited_to(measure: str):
    """The person an activity measure's row counts for: the event's actor, except a visit
    (whoever booked it) and a late follow-up (whoever it was assigned to)."""
    if measure == "visits":
        return arrival_credited_to()
    if measure == "late_follow_ups":
        return F("assignee_id")
    return F("actor_id")


def _tally(measure: str, rows_: Rows, condition: Q | None = None):
    """How a group's rows add up for `measure`: seconds for talk time, else rows (or leads)."""
    special = keeping.tally(measure, condition)
    if special is not None:
        return special
    if rows_.distinct:
        return Count(rows_.distinct, distinct=True, filter=condition)
    if measure == "talk_seconds":
        return Coalesce(Sum(TALK_SECONDS, filter=condition), 0)
    if measure in CALL_SECONDS:
        return Coalesce(Sum(CALL_SECONDS[measure], filter=condition), 0)
    if not rows_.distinct_leads:
        return Count("pk", filter=condition)  # every row, whatever its lead
    return Count(rows_.lead_id(), distinct=rows_.distinct_leads, filter=condition)


def per_person(
    wanted: Iterable[str],
    windows: Mapping[str, Window],
    *,
    people: Iterable[int] | None = None,
) -> dict[str, dict[str, dict[int, int]]]:
    """Each activity measure of `wanted` per person credited, in each of `windows` (of the
    same dealers; one may lie within another, as today within the month): window name →
    measure → person → n. One query per kind of row and way of crediting (events by their
    actor, visits by their booker, follow-ups by their assignee), whatever the number of
    people, measures and windows."""
    wanted = list(wanted)
    found: dict[str, dict[str, dict[int, int]]] = {
        name: {measure: {} for measure in wanted} for name in windows
    }
    if not wanted or not windows:
        return found
    first = min(windows.values(), key=lambda window: window.start)
    span = replace(first, end=max(window.end for window in windows.values()))
    people = None if people is None else list(people)
    batches: dict[str, list[str]] = {}
    for measure in wanted:
        if measure not in ACTIVITY_MEASURES:
            raise KeyError(measure)
        kind = measure if measure in ("visits", "late_follow_ups") else "events"
        batches.setdefault(kind, []).append(measure)
    for measures_ in batches.values():
        rows_ = [_activity_rows(measure, span) for measure in measures_]
        queryset = rows_[0].queryset
        for more in rows_[1:]:
            queryset = queryset | more.queryset
        queryset = queryset.annotate(person=credited_to(measures_[0]))
        if people is not None:
            queryset = queryset.filter(person__in=people)
        sums = {}
        for measure, measure_rows in zip(measures_, rows_, strict=True):
            for name, window in windows.items():
                dated = {
                    f"{measure_rows.dated_by}__gte": window.start,
                    f"{measure_rows.dated_by}__lt": window.end,
                }
                sums[f"{name}:{measure}"] = _tally(
                    measure, measure_rows, _condition(measure, window) & Q(**dated)
                )
        for row in queryset.values("person").annotate(**sums).order_by():
            if row["person"] is None:
                continue
            for key, n in row.items():
                if key != "person" and n:
                    name, measure = key.split(":", 1)
                    found[name][measure][row["person"]] = n
    return found


def _condition(measure: str, window: Window) -> Q:
    """What puts a row of the activity measure's kind in `measure` (the range aside)."""
    if measure == "late_follow_ups":
        # Judged up to now, as _activity_rows: a follow-up still to fall due is not late.
        return LATE_FOLLOW_UP & Q(kind=TaskKind.FOLLOW_UP, due_at__lt=timezone.now())
    return ACTIVITY_EVENTS[measure]


def group_expression(rows_: Rows, by: str):
    """The value a row groups under for dimension `by`."""
    if by in rows_.own:
        return rows_.own[by]
    if by in CALL_DIMENSIONS or by in OWNER_DIMENSIONS:
        raise KeyError(by)
    lead = rows_.lead
    if by == "channel":
        return F(f"{lead}channel_id")
    if by == "channel_group":
        return F(f"{lead}channel__group")
    if by == "model":
        return F(f"{lead}car_model")
    if by == "grade":
        return F(f"{lead}grade")
    if by == "dealer":  # every row carries its dealer: no join to the lead for it
        return F("dealer_id")
    if by in TIME_DIMENSIONS:
        trunc = {"day": TruncDate, "week": TruncWeek, "month": TruncMonth}[by]
        return trunc(rows_.dated_by, tzinfo=timezone.get_current_timezone())
    if by == "agent":  # who the lead was assigned to when it came in: its DCC agent
        first = Event.objects.filter(lead_id=OuterRef(rows_.lead_id()), seq=1)
        return Subquery(first.values("to_owner_id")[:1])
    if by == "team":  # the team its agent was in when the lead came in (leads.teams)
        first = Event.objects.filter(lead_id=OuterRef(rows_.lead_id()), seq=1)
        in_team = team_at("to_owner_id", "dealer_id", "occurred_at")
        return Subquery(first.annotate(team=in_team).values("team")[:1])
    if by == "consultant":  # who received the customer at the lead's first arrival
        arrivals = Event.objects.filter(
            EVENT_MEASURES["arrived"], lead_id=OuterRef(rows_.lead_id())
        )
        return Subquery(arrivals.order_by("occurred_at", "seq").values("actor_id")[:1])
    raise KeyError(by)


def adds_up(measure: str, by: str) -> bool:
    """Whether the groups of `by` add up to the whole for `measure`: every row counted falls in
    exactly one group, and no lead in two (a lead's return visits may fall due in two
    months), no member in two (active in two months), no owner in two (two cars, two
    channels)."""
    if measure.startswith("return_visits") and by == "month":
        return False
    if measure in keeping.DISTINCT_OVER_TIME and by in TIME_DIMENSIONS:
        return False
    lead_dimension = by not in (*TIME_DIMENSIONS, "dealer")
    return not (measure in keeping.MANY_LEADS and lead_dimension)


def counts(measure: str, window: Window, by: str | None) -> dict[object, int]:
    """How many leads (or rows) `measure` has in `window`, per value of dimension `by`."""
    if not supports(measure, by):
        raise NotThisDimension(measure, str(by))
    if measure in keeping.AUDIT_WORK_MEASURES:
        found = batched_counts([measure], window, by).get(measure)
        return found or ({None: 0} if by is None else {})
    rows_ = rows(measure, window)
    if by == "factor":
        return _by_factor(measure, rows_, None)
    counted = _tally(measure, rows_)
    if by is None:
        return {None: _plain(rows_.queryset.aggregate(n=counted)["n"])}
    grouped = (
        rows_.queryset.annotate(group=group_expression(rows_, by))
        .values("group")
        .annotate(n=counted)
        .order_by()
    )
    return {_key(row["group"]): _plain(row["n"]) for row in grouped}


def _by_factor(measure: str, rows_: Rows, condition: Q | None) -> dict[object, int]:
    """A satisfaction measure per factor of the questionnaire, in one query."""
    totals = rows_.queryset.aggregate(**keeping.factor_sums(measure, condition))
    found = {key: _plain(totals[f"f_{key}"]) for key in keeping.FACTOR_KEYS}
    return {key: n for key, n in found.items() if n}


def lead_ids(measure: str, window: Window, by: str | None, group: object) -> QuerySet:
    """The leads behind `measure` in `window` (within one group of `by`), as a queryset of
    lead ids: the drill-down from any number to the leads it counts (a call without a lead has
    none to show)."""
    if not supports(measure, by):
        raise NotThisDimension(measure, str(by))
    if measure in keeping.AUDIT_WORK_MEASURES:
        anywhere = Q(pk__in=[])
        for part in keeping.audit_work_parts(measure, window):
            anywhere |= Q(pk__in=_lead_ids(part, by, group))
        return Lead.objects.filter(anywhere).values_list("pk", flat=True).order_by()
    return _lead_ids(rows(measure, window), by, group)


def _lead_ids(rows_: Rows, by: str | None, group: object) -> QuerySet:
    queryset = rows_.queryset
    if by == "factor":
        queryset = queryset.filter(keeping.factor_rows(str(group)))
    elif by in TIME_DIMENSIONS:  # the group's range, in the dealer's zone as groups were made
        start, following = time_group_range(by, group)
        queryset = queryset.filter(
            **{f"{rows_.dated_by}__gte": start, f"{rows_.dated_by}__lt": following}
        )
    elif by is not None:
        queryset = queryset.annotate(group=group_expression(rows_, by)).filter(group=group)
    return (
        queryset.filter(**{f"{rows_.lead_id()}__isnull": False})
        .values_list(rows_.lead_id(), flat=True)
        .distinct()
        .order_by()
    )


def batched_counts(wanted: Iterable[str], window: Window, by: str | None) -> dict[str, dict]:
    """Every call measure of `wanted` in one query over the window's calls (as `counts` would
    give each), every callback measure in one more, and so each batch of owner operations'
    and the audit group's measures (kpi.keeping.BATCHES); the audit work in one query a
    source."""
    wanted = set(wanted)
    found: dict[str, dict] = {}
    batches: list[tuple[Mapping[str, Q | None], Rows]] = []
    if wanted & set(CALL_MEASURES):
        batches.append((CALL_MEASURES, _call_rows(window)))
    if wanted & set(CALLBACK_MEASURES):
        batches.append((CALLBACK_MEASURES, _callback_rows(window)))
    if by != "factor":  # the satisfaction factors are sums, not groups (`counts`)
        for name, (_make, measures_) in keeping.BATCHES.items():
            if wanted & set(measures_):
                conditions = {measure: keeping.condition(measure, window) for measure in measures_}
                batches.append((conditions, keeping.batch_rows(name, window)))
    chosen_work = sorted(wanted & set(keeping.AUDIT_WORK_MEASURES))
    if chosen_work:
        # The work audited is a condition on the work (keeping.audit_work_parts): one query a
        # source counts both.
        parts = keeping.audit_work_parts("audit_work", window)
        audited = keeping.audit_work_parts("audit_work_audited", window)
        for part, done in zip(parts, audited, strict=True):
            conditions = {
                "audit_work": Q(),
                "audit_work_audited": Q(pk__in=done.queryset.values("pk")),
            }
            batches.append(({m: conditions[m] for m in chosen_work}, part))
    for kinds, rows_ in batches:
        chosen = [measure for measure in wanted if measure in kinds]
        # Named apart from the rows' fields (a sum named "wait_seconds" would hide the field).
        sums = {f"n_{measure}": _tally(measure, rows_, kinds[measure]) for measure in chosen}
        if by is None:
            totals = rows_.queryset.aggregate(**sums)
            for measure in chosen:
                counted = found.setdefault(measure, {})
                counted[None] = counted.get(None, 0) + _plain(totals[f"n_{measure}"])
            continue
        grouped = (
            rows_.queryset.annotate(group=group_expression(rows_, by))
            .values("group")
            .annotate(**sums)
            .order_by()
        )
        for measure in chosen:
            found.setdefault(measure, {})
        for row in grouped:
            for measure in chosen:
                n = _plain(row[f"n_{measure}"])
                if n:
                    key = _key(row["group"])
                    found[measure][key] = found[measure].get(key, 0) + n
    return found


def time_group_range(by: str, group: object) -> tuple[datetime, datetime]:
    """The moments a group of a time dimension (keyed by its first day) spans."""
    assert isinstance(group, date)
    start = datetime.combine(group, time.min, tzinfo=timezone.get_current_timezone())
    if by == "day":
        return start, start + timedelta(days=1)
    if by == "week":
        return start, start + timedelta(days=7)
    return start, (start + timedelta(days=32)).replace(day=1)


def spend(window: Window, by: str | None) -> dict[object, Decimal] | None:
    """Channel spend in `window`: each channel's monthly spend, pro rata for the days of the
    window in each month. None when `by` is not something spend belongs to."""
    if by not in (None, "channel", "channel_group", "month", "dealer"):
        return None
    tz = timezone.get_current_timezone()
    channels = Channel.objects.filter(dealer_id__in=window.dealer_ids, monthly_spend__gt=0)
    totals: dict[object, Decimal] = {}
    for channel in channels:
        for month_start, share in _month_shares(window, tz):
            amount = channel.monthly_spend * share
            key = {
                None: None,
                "channel": channel.pk,
                "channel_group": channel.group,
                "month": month_start,
                "dealer": channel.dealer_id,
            }[by]
            totals[key] = totals.get(key, Decimal(0)) + amount
    return {key: value.quantize(Decimal("0.01")) for key, value in totals.items()}


def _month_shares(window: Window, tz) -> list[tuple[date, Decimal]]:
    """For each calendar month the window touches: its first day and the share of the month
    the window covers."""
    shares = []
    start = timezone.localtime(window.start, tz)
    end = timezone.localtime(window.end, tz)
    cursor = start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    while cursor < end:
        following = (cursor + timedelta(days=32)).replace(day=1)
        covered = min(end, following) - max(start, cursor)
        if covered.total_seconds() > 0:
            month = (following - cursor).total_seconds()
            shares.append((cursor.date(), Decimal(covered.total_seconds()) / Decimal(month)))
        cursor = following
    return shares


def _plain(value: object) -> object:
    """A sum as the registry keeps it: nothing summed is 0, a duration its seconds."""
    if value is None:
        return 0
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    return value


def _key(value: object) -> object:
    """Group values as the registry keys them: months as their first day."""
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value
