"""What the platform pages read: today's checklist of each account, the last days' completion,
each account's latest scores and its alerts, and headquarters' table of every granted dealer's
accounts against the thresholds and the brand average. A fixed number of queries however many
accounts there are."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.utils import timezone

from accounts.models import Dealer
from platforms.models import (
    ChecklistItem,
    ChecklistTick,
    PlatformAccount,
    PlatformScore,
    ScoreKind,
)

HISTORY_DAYS = 14


@dataclass
class Line:
    """One item of today's checklist, with its standing tick (or None)."""

    item: ChecklistItem
    tick: ChecklistTick | None


@dataclass
class DayDone:
    day: date
    done: int
    items: int

    @property
    def percent(self) -> int | None:
        """None: nothing was due that day (the account was not set up yet)."""
        return round(100 * min(self.done, self.items) / self.items) if self.items else None


@dataclass
class Standing:
    """An account with today's checklist, its latest score of each kind and the last days."""

    account: PlatformAccount
    lines: list[Line] = field(default_factory=list)
    latest: dict[str, PlatformScore] = field(default_factory=dict)
    history: list[DayDone] = field(default_factory=list)
    may_tick: bool = False  # whether the reader works this account (set by the page)

    @property
    def done_today(self) -> int:
        return sum(1 for line in self.lines if line.tick is not None)

    @property
    def below(self) -> list[PlatformScore]:
        return below_threshold(self.account, self.latest)

    @property
    def scores(self) -> list[PlatformScore | None]:
        """The latest score of each kind, in the order of ScoreKind (None: none yet)."""
        return [self.latest.get(kind) for kind in ScoreKind.values]


def below_threshold(
    account: PlatformAccount, latest: dict[str, PlatformScore]
) -> list[PlatformScore]:
    """The alert: each latest score under the account's threshold (at the threshold holds)."""
    return [score for score in latest.values() if score.score < account.threshold]


def latest_scores(accounts: list[PlatformAccount]) -> dict[int, dict[str, PlatformScore]]:
    """Each account's latest score of each kind (by day, then when it was recorded), in two
    queries."""
    if not accounts:
        return {}
    newest = {
        f"latest_{kind}": Subquery(
            PlatformScore.objects.filter(account=OuterRef("pk"), kind=kind)
            .order_by("-day", "-recorded_at", "-pk")
            .values("pk")[:1]
        )
        for kind in ScoreKind.values
    }
    ids = [
        pk
        for row in PlatformAccount.objects.filter(pk__in=[a.pk for a in accounts])
        .annotate(**newest)
        .values(*newest)
        for pk in row.values()
        if pk is not None
    ]
    found: dict[int, dict[str, PlatformScore]] = defaultdict(dict)
    for score in PlatformScore.objects.filter(pk__in=ids).select_related("recorded_by"):
        found[score.account_id][score.kind] = score
    return found


def standings(
    accounts: QuerySet[PlatformAccount], *, today: date | None = None, history: bool = True
) -> list[Standing]:
    """Today's checklist, latest scores and (with `history`) the last HISTORY_DAYS days'
    completion of each account."""
    today = today or timezone.localdate()
    shown = list(
        accounts.select_related("channel", "specialist").order_by("platform", "name", "pk")
    )
    if not shown:
        return []
    items: dict[int, list[ChecklistItem]] = defaultdict(list)
    for item in ChecklistItem.objects.filter(account__in=shown, is_active=True):
        items[item.account_id].append(item)
    ticks = {
        tick.item_id: tick
        for tick in ChecklistTick.objects.filter(
            account__in=shown, day=today, unticked_at__isnull=True
        ).select_related("ticked_by")
    }
    scores = latest_scores(shown)
    done = completion(shown, today=today) if history else {}
    result = []
    for account in shown:
        mine = items[account.pk]
        opened = timezone.localdate(account.created_at)
        result.append(
            Standing(
                account=account,
                lines=[Line(item, ticks.get(item.pk)) for item in mine],
                latest=scores.get(account.pk, {}),
                history=[
                    # Before the account was set up there was nothing to do.
                    DayDone(day, done.get((account.pk, day), 0), len(mine) if day >= opened else 0)
                    for day in history_days(today)
                ]
                if history
                else [],
            )
        )
    return result


def history_days(today: date) -> list[date]:
    """The last HISTORY_DAYS days, today first."""
    return [today - timedelta(days=n) for n in range(HISTORY_DAYS)]


def completion(accounts: list[PlatformAccount], *, today: date) -> dict[tuple[int, date], int]:
    """Items ticked per (account, day) over the last HISTORY_DAYS days, in one query. A day's
    share is over today's items (an item removed since still counts its ticks)."""
    first = today - timedelta(days=HISTORY_DAYS - 1)
    rows = (
        ChecklistTick.objects.filter(
            account__in=accounts, day__gte=first, day__lte=today, unticked_at__isnull=True
        )
        .values("account_id", "day")
        .annotate(n=Count("item_id", distinct=True))
        .order_by()
    )
    return {(row["account_id"], row["day"]): row["n"] for row in rows}


def account_scores(account: PlatformAccount, *, limit: int = 60) -> list[PlatformScore]:
    """The account's scores, newest first."""
    return list(
        account.scores.select_related("recorded_by").order_by("-day", "-recorded_at", "-pk")[:limit]
    )


def alerts(dealer_id: int, accounts: QuerySet[PlatformAccount]) -> list[Standing]:
    """The active accounts whose latest scores fall under their threshold."""
    shown = list(accounts.filter(dealer_id=dealer_id, is_active=True).order_by("platform", "name"))
    scores = latest_scores(shown)
    found = [Standing(account=a, latest=scores.get(a.pk, {})) for a in shown]
    return [standing for standing in found if standing.below]


# ---------------------------------------------------------------- headquarters


@dataclass
class HqRow:
    dealer: Dealer
    account: PlatformAccount
    latest: dict[str, PlatformScore]
    brand_average: Decimal | None

    @property
    def platform_score(self) -> PlatformScore | None:
        return self.latest.get(ScoreKind.PLATFORM)

    @property
    def below(self) -> list[PlatformScore]:
        return below_threshold(self.account, self.latest)

    @property
    def scores(self) -> list[PlatformScore | None]:
        return [self.latest.get(kind) for kind in ScoreKind.values]


def headquarters_rows(dealer_ids: list[int]) -> list[HqRow]:
    """Every active account of the dealers shown, with its latest scores and the brand average
    of its platform: the latest platform scores of every active account on that platform at
    every dealer of the brand, whether the reader is shown them or not."""
    shown = set(dealer_ids)
    brands = Dealer.objects.filter(pk__in=dealer_ids).values("region__brand_id")
    accounts = list(
        PlatformAccount.objects.filter(dealer__region__brand_id__in=brands, is_active=True)
        .select_related("dealer__region", "channel")
        .order_by("dealer__code", "platform", "name", "pk")
    )
    scores = latest_scores(accounts)
    pooled: dict[tuple[int, str], list[Decimal]] = defaultdict(list)
    for account in accounts:
        latest = scores.get(account.pk, {}).get(ScoreKind.PLATFORM)
        if latest is not None:
            pooled[(account.dealer.region.brand_id, account.platform)].append(latest.score)
    averages = {
        key: (sum(values) / len(values)).quantize(Decimal("0.01")) for key, values in pooled.items()
    }
    return [
        HqRow(
            dealer=account.dealer,
            account=account,
            latest=scores.get(account.pk, {}),
            brand_average=averages.get((account.dealer.region.brand_id, account.platform)),
        )
        for account in accounts
        if account.dealer_id in shown
    ]
