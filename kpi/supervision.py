"""The DCC supervisor's board: for each active DCC agent of a dealer, today and this month so
far, the calls made, the customers reached, the visits booked, the arrivals those bookings
brought, and how fast the leads first assigned to them were answered; with the team's total.

Credit follows the ledger as on the scorecards: a call or a booking counts for its actor, an
arrival for whoever booked the visit it followed (kpi.measures.arrival_credited_to). The
first response belongs to the agent the lead was first assigned to (the registry's "agent"
dimension), so that its leads and on-time counts drill down to exactly the leads behind them.

Both periods are whole days in the current time zone, today and the 1st of the month to the
end of today, as the drill-down reads them. Five queries whatever the team's size: the agents,
their calls and bookings, their arrivals, and the leads first assigned to them (per agent and
for the team, counted in the database: no row per lead comes back).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, DurationField, ExpressionWrapper, F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from pypinyin import lazy_pinyin

from accounts.models import Dealer, Membership, Staff
from accounts.roles import Role
from calls.models import Call
from calls.models import Line as PhoneLine
from calls.report import MISSED, Direction
from calls.selectors import on_a_call, open_callbacks
from dcc.aggregates import Median
from dcc.phone import mask_phone
from kpi.dashboard import drill_query
from kpi.measures import INBOUND, LEAD_MEASURES, Window, per_person, rows
from kpi.phone import AnswerScore, platform_answer_score
from kpi.selectors import day_window
from kpi.shared import shared
from leads.models import Team
from leads.teams import members_at

PERIODS = ("today", "month")
# Each column of the board and the registry's activity measure it shows (kpi.measures).
ACTIVITY = {
    "calls": "calls",
    "contacts": "reached_calls",
    "appointments": "bookings",
    "arrivals": "visits",
}


@dataclass
class Figures:
    """One agent's (or the team's) numbers for one period."""

    calls: int = 0  # calls made (any outcome, either direction)
    contacts: int = 0  # of those, calls that reached the customer
    appointments: int = 0  # visits booked
    arrivals: int = 0  # customers who came to a visit this agent booked
    leads: int = 0  # leads first assigned to the agent, created in the period
    unanswered: int = 0  # of those, without a first response yet
    with_sla: int = 0  # of those, with a first-response SLA (leads.sla.has_sla)
    on_time: int = 0  # of those, answered by their SLA deadline
    # Median minutes from a lead's creation to its first response, over the answered leads;
    # None when none was answered.
    median_response_minutes: float | None = None

    @property
    def answered(self) -> int:
        return self.leads - self.unanswered

    def add_activity(self, other: Figures) -> None:
        """Sum `other`'s calls, contacts, appointments and arrivals into these (the team's
        leads and median are counted over all its leads at once: _count_first_responses)."""
        self.calls += other.calls
        self.contacts += other.contacts
        self.appointments += other.appointments
        self.arrivals += other.arrivals


@dataclass
class AgentRow:
    agent: Staff | None  # None: the team's total
    today: Figures = field(default_factory=Figures)
    month: Figures = field(default_factory=Figures)

    def period(self, name: str) -> Figures:
        return self.today if name == "today" else self.month


@dataclass
class Board:
    dealer: Dealer
    day: date
    windows: dict[str, Window]  # per period
    agents: list[AgentRow]
    total: AgentRow
    counted_at: datetime  # the moment its figures were counted (kpi.shared: maybe shared)


def dcc_board(*, dealer: Dealer, now: datetime | None = None, team: Team | None = None) -> Board:
    """Every active DCC agent of `dealer` (in `team` now, when given; by the pinyin of their
    name), today and this month up to the end of the day of `now` (default: now), and the
    team's total (shared a few seconds when `now` is now: kpi.shared)."""
    if now is not None:
        return _dcc_board(dealer=dealer, now=now, team=team)
    now = timezone.now()
    question = ("dcc_board", dealer.pk, team.pk if team else None, timezone.localdate(now))
    return shared(question, lambda: _dcc_board(dealer=dealer, now=now, team=team))


def _dcc_board(*, dealer: Dealer, now: datetime, team: Team | None) -> Board:
    day = timezone.localdate(now)
    windows = {
        "today": day_window(dealer_ids=[dealer.pk], first=day, last=day),
        "month": day_window(dealer_ids=[dealer.pk], first=day.replace(day=1), last=day),
    }
    members = Membership.objects.filter(
        dealer=dealer, role=Role.DCC_AGENT, is_active=True
    ).select_related("staff")
    if team is not None:
        members = members.filter(staff_id__in=members_at(team, now).values("pk"))
    people = sorted((member.staff for member in members), key=_by_name)
    board = {person.pk: AgentRow(person) for person in people}
    total = AgentRow(None)
    if board:
        _count_activity(board, windows)
        for row in board.values():
            total.today.add_activity(row.today)
            total.month.add_activity(row.month)
        _count_first_responses(board, total, windows)
    return Board(
        dealer=dealer,
        day=day,
        windows=windows,
        agents=list(board.values()),
        total=total,
        counted_at=now,
    )


def _by_name(person: Staff) -> tuple[list[str], str]:
    """People in the order a Chinese reader looks for them: by the pinyin of their names."""
    return lazy_pinyin(str(person).lower()), person.username


def _count_activity(board: dict[int, AgentRow], windows: dict[str, Window]) -> None:
    """Calls, contacts, bookings and arrivals by the person credited, as the registry counts
    them: two queries for both periods (events by their actor, arrivals by their booker)."""
    found = per_person(ACTIVITY.values(), windows, people=list(board))
    for period, counted in found.items():
        for name, measure in ACTIVITY.items():
            for person, n in counted[measure].items():
                setattr(board[person].period(period), name, n)


def _count_first_responses(
    board: dict[int, AgentRow], total: AgentRow, windows: dict[str, Window]
) -> None:
    """The month's leads by the agent first assigned, as the registry counts "leads" by agent
    (the lead's first owner, kept by leads.tallies): counted and their medians taken in the
    database, per agent and for the whole board (its median is over all their leads, not a
    median of medians). Whether a lead has an SLA and met it is the registry's "with_sla" and
    "on_time"."""
    leads = rows("leads", windows["month"]).queryset.filter(first_owner_id__in=list(board))
    answered = Q(first_response_at__isnull=False)
    waited = ExpressionWrapper(F("first_response_at") - F("created_at"), DurationField())
    sums = {}
    for period, when in (("month", Q()), ("today", Q(created_at__gte=windows["today"].start))):
        sums |= {
            f"{period}_leads": Count("pk", filter=when),
            f"{period}_unanswered": Count("pk", filter=when & ~answered),
            f"{period}_with_sla": Count("pk", filter=when & LEAD_MEASURES["with_sla"]),
            f"{period}_on_time": Count("pk", filter=when & LEAD_MEASURES["on_time"]),
            f"{period}_median": Median(waited, filter=when & answered),
        }
    found = [(board[row.pop("first_owner_id")], row) for row in leads.values("first_owner_id")
             .annotate(**sums).order_by()]  # fmt: skip
    found.append((total, leads.aggregate(**sums)))
    for agent_row, row in found:
        for period in PERIODS:
            figures = agent_row.period(period)
            figures.leads = row[f"{period}_leads"]
            figures.unanswered = row[f"{period}_unanswered"]
            figures.with_sla = row[f"{period}_with_sla"]
            figures.on_time = row[f"{period}_on_time"]
            median = row[f"{period}_median"]
            figures.median_response_minutes = (
                median.total_seconds() / 60 if median is not None else None
            )


# ---------------------------------------------------------------- laid out for the page


@dataclass(frozen=True)
class Shown:
    """A number as the page shows it, and the drill-down query to its leads ("" when the
    drill-down cannot say which leads they are)."""

    text: str
    drill: str = ""


@dataclass(frozen=True)
class PeriodCells:
    """One period of a row: calls, contacts, appointments, arrivals; the median first response
    with its parts (answered on time, of the leads first assigned that have an SLA); the
    unanswered leads."""

    counts: list[Shown]
    first_response: Shown
    on_time: Shown
    with_sla: Shown
    unanswered: Shown


@dataclass(frozen=True)
class Line:
    key: str  # the agent's username; "" for the team
    label: str
    is_total: bool
    periods: list[PeriodCells]  # in PERIODS order


def minutes_text(minutes: float | None) -> str:
    """A duration in whole minutes (rounded half up) as the supervisor reads it: "8 min",
    "1 h 5 min", "2 d 3 h"; "—" when there is none."""
    if minutes is None:
        return "—"
    whole = int(Decimal(str(minutes)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if whole < 60:
        return _("%(minutes)d min") % {"minutes": whole}
    hours, rest = divmod(whole, 60)
    if hours < 24:
        return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": rest}
    days, hours = divmod(hours, 24)
    return _("%(days)d d %(hours)d h") % {"days": days, "hours": hours}


def _line(row: AgentRow, windows: dict[str, Window]) -> Line:
    def drill(period: str, measure: str) -> str:
        # The drill-down groups leads by the agent first assigned; the team is no such group.
        if row.agent is None:
            return ""
        return drill_query(windows[period], measure, "agent", row.agent.pk)

    periods = []
    for period in PERIODS:
        figures = row.period(period)
        periods.append(
            PeriodCells(
                counts=[
                    Shown(f"{figures.calls:,}"),
                    Shown(f"{figures.contacts:,}"),
                    Shown(f"{figures.appointments:,}"),
                    Shown(f"{figures.arrivals:,}"),
                ],
                first_response=Shown(minutes_text(figures.median_response_minutes)),
                on_time=Shown(f"{figures.on_time:,}", drill(period, "on_time")),
                with_sla=Shown(f"{figures.with_sla:,}", drill(period, "with_sla")),
                unanswered=Shown(f"{figures.unanswered:,}"),
            )
        )
    if row.agent is None:
        return Line("", _("Team"), True, periods)
    return Line(row.agent.username, str(row.agent), False, periods)


def board_lines(board: Board) -> list[Line]:
    """The table's rows: each agent, then the team."""
    return [_line(row, board.windows) for row in [*board.agents, board.total]]


def board_chart(board: Board) -> dict:
    """What the chart draws: this month's calls, appointments and arrivals per agent."""
    series = (
        ("calls", _("Calls")),
        ("appointments", _("Appointments")),
        ("arrivals", _("Arrivals")),
    )
    return {
        "agents": [str(row.agent) for row in board.agents],
        "series": [
            {"name": str(name), "values": [getattr(row.month, key) for row in board.agents]}
            for key, name in series
        ],
    }


# ---------------------------------------------------------------- the phones, now

CALLBACKS_SHOWN = 20  # the callbacks listed, soonest due first; the count says how many more


@dataclass(frozen=True)
class OnCall:
    agent: str
    talking: bool  # answered (else still ringing)
    inbound: bool
    number: str  # masked
    minutes: str  # since it rang


@dataclass(frozen=True)
class Waiting:
    """A callback owed: the number (masked), how often it rang, by when to call back."""

    number: str
    lead: str  # "#id" of the caller's lead, "" for an unknown caller
    lead_id: int | None
    missed: int
    due_at: datetime
    overdue: bool
    countdown: str  # "in 12 min", "late by 5 min"


@dataclass(frozen=True)
class PhonePanel:
    on_call: list[OnCall]
    missed_today: int
    longest_wait: int | None  # seconds, of today's inbound calls
    callbacks: list[Waiting]
    callbacks_total: int
    score: AnswerScore  # the 400 line's platform answer score today

    @property
    def score_text(self) -> str:
        return f"{self.score.score * 100:.1f}%"


def phone_panel(*, dealer: Dealer, now: datetime | None = None) -> PhonePanel | None:
    """Who is on a call now, today's missed calls and longest wait, the callbacks waiting with
    their countdown, and the 400 line's answer score today; None when the dealer has no line.
    Six queries, however many calls and callbacks."""
    now = now or timezone.now()
    if not PhoneLine.objects.filter(dealer=dealer).exists():
        return None
    day = timezone.localdate(now)
    today = day_window(dealer_ids=[dealer.pk], first=day, last=day)
    inbound_today = Call.objects.filter(
        INBOUND, dealer=dealer, rang_at__gte=today.start, rang_at__lt=today.end
    )
    counted = inbound_today.aggregate(
        missed=Count("pk", filter=Q(disposition__in=MISSED)), longest=Max("wait_seconds")
    )
    on_call = [
        OnCall(
            agent=str(call.agent),
            talking=call.answered_at is not None,
            inbound=call.direction == Direction.INBOUND,
            number=mask_phone(call.number),
            minutes=minutes_text((now - call.rang_at).total_seconds() / 60),
        )
        for call in on_a_call(dealer, now=now).order_by("rang_at", "pk")
    ]
    waiting = open_callbacks(dealer)
    callbacks = [_waiting(callback, now) for callback in waiting[:CALLBACKS_SHOWN]]
    total = len(callbacks) if len(callbacks) < CALLBACKS_SHOWN else waiting.count()
    return PhonePanel(
        on_call=on_call,
        missed_today=counted["missed"],
        longest_wait=counted["longest"],
        callbacks=callbacks,
        callbacks_total=total,
        score=platform_answer_score(dealer, day),
    )


def _waiting(callback, now: datetime) -> Waiting:
    left = (callback.due_at - now).total_seconds() / 60
    if left >= 0:
        countdown = _("in %(time)s") % {"time": minutes_text(left)}
    else:
        countdown = _("late by %(time)s") % {"time": minutes_text(-left)}
    return Waiting(
        number=mask_phone(callback.number),
        lead=f"#{callback.lead_id}" if callback.lead_id else "",
        lead_id=callback.lead_id,
        missed=callback.missed_count,
        due_at=callback.due_at,
        overdue=left < 0,
        countdown=countdown,
    )
