"""The platforms' answer score of a dealer's line, as Autohome scores a dealer's 400 number:

    score = answered ÷ valid calls over the previous 15 days × 60 %
          + answered ÷ valid calls today × 40 %

counting the inbound calls that rang from 09:00 to 18:00 (local time); a call is valid when
it was answered or its caller waited at least 10 seconds (kpi.measures.VALID, the registry's
answer rate uses the same rule); a part with no valid calls scores 100 %.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import Dealer
from calls.models import Call, LineKind
from kpi.measures import ANSWERED, INBOUND, VALID, hour_of

PLATFORM_HOURS = (9, 18)  # from 09:00 to (not including) 18:00, local time
PAST_DAYS = 15
PAST_WEIGHT = Decimal("0.6")
TODAY_WEIGHT = Decimal("0.4")


@dataclass(frozen=True)
class Part:
    answered: int
    valid: int

    @property
    def rate(self) -> Decimal:
        """Answered of valid; 1 (100 %) when there were no valid calls."""
        return Decimal(self.answered) / Decimal(self.valid) if self.valid else Decimal(1)


@dataclass(frozen=True)
class AnswerScore:
    day: date
    past: Part  # the 15 days before `day`
    today: Part  # `day` itself (so far)

    @property
    def score(self) -> Decimal:
        """The 60/40 blend, as a ratio (0–1), to four decimals."""
        blended = self.past.rate * PAST_WEIGHT + self.today.rate * TODAY_WEIGHT
        return blended.quantize(Decimal("0.0001"))


def platform_answer_score(
    dealer: Dealer,
    day: date | None = None,
    *,
    line_kind: str | None = LineKind.HOTLINE_400,
    channel_id: int | None = None,
) -> AnswerScore:
    """The score of `dealer`'s lines of `line_kind` (None: every line), and with `channel_id`
    only those lines attributed to that channel (a platform's virtual numbers), on `day`
    (default: today), in one query."""
    day = day or timezone.localdate()
    zone = timezone.get_current_timezone()
    today = datetime.combine(day, time.min, tzinfo=zone)
    first = datetime.combine(day - timedelta(days=PAST_DAYS), time.min, tzinfo=zone)
    following = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    calls = (
        Call.objects.filter(INBOUND, dealer=dealer, rang_at__gte=first, rang_at__lt=following)
        .exclude(disposition="")
        .annotate(hour=hour_of("rang_at"))
        .filter(hour__gte=PLATFORM_HOURS[0], hour__lt=PLATFORM_HOURS[1])
    )
    if line_kind is not None:
        calls = calls.filter(line__kind=line_kind)
    if channel_id is not None:
        calls = calls.filter(line__channel_id=channel_id)
    before, on_day = Q(rang_at__lt=today), Q(rang_at__gte=today)
    found = calls.aggregate(
        past_answered=Count("pk", filter=before & ANSWERED),
        past_valid=Count("pk", filter=before & VALID),
        today_answered=Count("pk", filter=on_day & ANSWERED),
        today_valid=Count("pk", filter=on_day & VALID),
    )
    return AnswerScore(
        day=day,
        past=Part(found["past_answered"], found["past_valid"]),
        today=Part(found["today_answered"], found["today_valid"]),
    )
