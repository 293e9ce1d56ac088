"""How the reports count, fast: from the dealers' daily tallies when the question is by dealer
or by time over whole days, else from the leads' milestone columns (one row a lead, every
measure in one query). kpi.measures counts the same from the ledger itself: that is the
definition, what tests hold these numbers equal to, and what answers the rest (repeat
enquiries by person, return visits, a cohort seen from a past day).

Both stores are kept by leads.tallies as events are written.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, time, timedelta

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from kpi import measures
from kpi.measures import LEAD_MEASURES, RETURN_VISIT_MEASURES, TIME_DIMENSIONS, Window
from kpi.registry import View
from kpi.shared import shared
from leads.models import DailyTally, Lead
from leads.tallies import MILESTONE_COLUMNS
from leads.teams import team_at

Counts = dict[object, int]
TALLIED = frozenset({*LEAD_MEASURES, *MILESTONE_COLUMNS, "touches"})
# What a lead row groups under for each dimension the milestone columns answer.
LEAD_GROUPS = {
    "channel": F("channel_id"),
    "channel_group": F("channel__group"),
    "model": F("car_model"),
    "grade": F("grade"),
    "agent": F("first_owner_id"),
    "consultant": F("consultant_id"),
    "dealer": F("dealer_id"),
}


def lead_group(by: str, window: Window, *, lead: str = ""):
    """What a lead row (or, with `lead="lead__"`, a row of something about a lead) groups
    under for `by`: the team its first owner was in when it came in, or a column of LEAD_GROUPS."""
    if by == "team":
        return team_at(
            f"{lead}first_owner_id", f"{lead}dealer_id", f"{lead}created_at",
            dealer_ids=window.dealer_ids,
        )  # fmt: skip
    return F(f"{lead}{LEAD_GROUPS[by].name}")


def count_measures(wanted: set[str], window: Window, by: str | None) -> dict[str, Counts]:
    """Each measure of `wanted` (not spend) in `window`, per value of `by` ({None: n} when
    `by` is None), as kpi.measures.counts would give it (shared a few seconds: kpi.shared)."""
    question = (
        "count_measures",
        tuple(sorted(wanted)),
        window,
        by,
        timezone.get_current_timezone_name(),
    )
    return shared(question, lambda: _count_measures(wanted, window, by))


def _count_measures(wanted: set[str], window: Window, by: str | None) -> dict[str, Counts]:
    unsupported = sorted(measure for measure in wanted if not measures.supports(measure, by))
    if unsupported:
        raise measures.NotThisDimension(unsupported[0], str(by))
    found: dict[str, Counts] = measures.batched_counts(wanted, window, by)
    if _tallies_answer(window, by):
        found |= _from_tallies(wanted & TALLIED, window, by)
    elif by not in TIME_DIMENSIONS:
        found |= _from_leads(wanted & TALLIED - {"touches"}, window, by)
    if by not in TIME_DIMENSIONS:
        found |= _return_visits(wanted & set(RETURN_VISIT_MEASURES), window, by)
    for measure in wanted - set(found):
        found[measure] = measures.counts(measure, window, by)
    return found


def lead_ids(measure: str, window: Window, by: str | None, group: object) -> QuerySet:
    """The ids of the leads behind `measure` in `window` (within one group of `by`)."""
    if measure not in TALLIED or measure == "touches":
        return measures.lead_ids(measure, window, by, group)
    leads = Lead.objects.filter(_counted(measure, window), dealer_id__in=window.dealer_ids)
    if by in TIME_DIMENSIONS:
        start, end = measures.time_group_range(by, group)
        dated = _dated_by(measure, window.view)
        leads = leads.filter(**{f"{dated}__gte": start, f"{dated}__lt": end})
    elif by is not None:
        leads = leads.annotate(group=lead_group(by, window)).filter(group=group)
    return leads.values_list("pk", flat=True).order_by()


# ---------------------------------------------------------------- the leads' columns


def _dated_by(measure: str, view: View) -> str:
    """The lead column that places a lead in a period for `measure`."""
    if measure in MILESTONE_COLUMNS and view == View.PERIOD:
        return MILESTONE_COLUMNS[measure]
    return "created_at"


def _counted(measure: str, window: Window) -> Q:
    """The leads `measure` counts in `window`, as a filter on their row."""
    created = Q(created_at__gte=window.start, created_at__lt=window.end)
    if measure in LEAD_MEASURES:
        return created & LEAD_MEASURES[measure]
    column = MILESTONE_COLUMNS[measure]
    if window.view == View.PERIOD:
        return Q(**{f"{column}__gte": window.start, f"{column}__lt": window.end})
    as_of = window.as_of or timezone.now()
    return created & Q(**{f"{column}__lt": as_of})


def _from_leads(wanted: set[str], window: Window, by: str | None) -> dict[str, Counts]:
    """Every measure of `wanted` in one pass over the leads that any of them counts."""
    if not wanted:
        return {}
    anywhere = Q()
    for measure in wanted:
        anywhere |= _counted(measure, window)
    leads = Lead.objects.filter(anywhere, dealer_id__in=window.dealer_ids)
    sums = {measure: Count("pk", filter=_counted(measure, window)) for measure in wanted}
    if by is None:
        totals = leads.aggregate(**sums)
        return {measure: {None: totals[measure]} for measure in wanted}
    found: dict[str, Counts] = {measure: {} for measure in wanted}
    for row in (
        leads.annotate(group=lead_group(by, window)).values("group").annotate(**sums).order_by()
    ):
        for measure in wanted:
            if row[measure]:
                found[measure][row["group"]] = row[measure]
    return found


def _return_visits(wanted: set[str], window: Window, by: str | None) -> dict[str, Counts]:
    """Return visits due and done on time in one query, grouped by their lead's columns (the
    ledger's definition looks a lead's agent up in its events, task by task)."""
    if not wanted:
        return {}
    tasks = measures.rows("return_visits_due", window).queryset
    sums = {
        "return_visits_due": Count("lead_id", distinct=True),
        "return_visits_on_time": Count(
            "lead_id", distinct=True, filter=measures.RETURN_VISIT_DONE_ON_TIME
        ),
    }
    sums = {measure: sums[measure] for measure in wanted}
    if by is None:
        totals = tasks.aggregate(**sums)
        return {measure: {None: totals[measure]} for measure in wanted}
    group = F("dealer_id") if by == "dealer" else lead_group(by, window, lead="lead__")
    found: dict[str, Counts] = {measure: {} for measure in wanted}
    for row in tasks.annotate(group=group).values("group").annotate(**sums).order_by():
        for measure in wanted:
            if row[measure]:
                found[measure][row["group"]] = row[measure]
    return found


# ---------------------------------------------------------------- the daily tallies


def _tallies_answer(window: Window, by: str | None) -> bool:
    """Whether the tallies hold the answer: by dealer or time (or nothing) over whole days of
    the installation's zone, and for a cohort, followed to now."""
    if by not in (None, "dealer", *TIME_DIMENSIONS):
        return False
    zone = timezone.get_default_timezone()
    if timezone.get_current_timezone_name() != timezone.get_default_timezone_name():
        return False
    for moment in (window.start, window.end):
        local = timezone.localtime(moment, zone)
        if local.time() != time.min:
            return False
    # The cohort columns count every milestone reached: that is "to now", as no event is
    # ever in the future (actions stamp the moment, imports refuse later times).
    if window.view == View.COHORT and window.as_of is not None:
        return window.as_of >= timezone.now()
    return True


def _from_tallies(wanted: set[str], window: Window, by: str | None) -> dict[str, Counts]:
    if not wanted:
        return {}
    zone = timezone.get_default_timezone()
    first = timezone.localtime(window.start, zone).date()
    end = timezone.localtime(window.end, zone).date()
    columns = {
        measure: measure
        if measure in LEAD_MEASURES or window.view == View.PERIOD
        else f"cohort_{measure}"
        for measure in wanted
    }
    rows = DailyTally.objects.filter(
        dealer_id__in=window.dealer_ids, day__gte=first, day__lt=end
    ).values_list("dealer_id", "day", *columns.values())
    found: dict[str, defaultdict] = {measure: defaultdict(int) for measure in wanted}
    for dealer_id, day, *numbers in rows:
        key = _tally_key(by, dealer_id, day)
        for measure, number in zip(columns, numbers, strict=True):
            found[measure][key] += number
    return {
        measure: {key: n for key, n in counted.items() if n} or ({None: 0} if by is None else {})
        for measure, counted in found.items()
    }


def _tally_key(by: str | None, dealer_id: int, day: date) -> object:
    if by == "dealer":
        return dealer_id
    if by == "day":
        return day
    if by == "week":  # weeks start on Monday, as the database's week truncation
        return day - timedelta(days=day.weekday())
    if by == "month":
        return day.replace(day=1)
    return None
