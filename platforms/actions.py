"""Everything that changes platform operations: accounts and their checklists, the day's ticks,
and scores entered or computed. Each action checks who may, validates, and writes; views, the
import and the command line call these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import record_change
from accounts.models import Dealer, Staff
from accounts.roles import Role, roles_at
from calls.models import Line, LineKind
from dcc.errors import Conflict, InvalidInput, NotPermitted
from kpi.phone import PAST_DAYS, platform_answer_score
from kpi.selectors import day_window, kpi_report
from leads.models import Channel
from platforms.models import (
    DEFAULT_ITEMS,
    DEFAULT_THRESHOLDS,
    ChecklistItem,
    ChecklistTick,
    Platform,
    PlatformAccount,
    PlatformScore,
    ScoreKind,
    ScoreSource,
)
from platforms.permissions import may_manage_accounts, may_work_account

SCORE_BOUNDS = (Decimal("0"), Decimal("100"))
# The days the computed response score looks back over: the day and the 14 before, as the
# platforms' answer score looks at 15 days.
RESPONSE_DAYS = PAST_DAYS


# ---------------------------------------------------------------- accounts


def _check_manager(by: Staff, dealer: Dealer) -> None:
    if not may_manage_accounts(by, dealer.pk):
        raise NotPermitted(_("Only the marketing manager and the GM set up platform accounts."))


def _check_fields(
    dealer: Dealer, *, platform: str, name: str, channel: Channel, specialist: Staff | None
) -> None:
    if platform not in Platform.values:
        raise InvalidInput(_("Choose a platform."), field="platform")
    if not name.strip():
        raise InvalidInput(_("Enter the account's name."), field="name")
    if channel.dealer_id != dealer.pk:
        raise InvalidInput(_("Choose one of the dealer's channels."), field="channel")
    if specialist is not None and Role.PLATFORM_SPECIALIST not in roles_at(specialist, dealer.pk):
        raise InvalidInput(
            _("%(name)s is not a platform specialist at this dealer.")
            % {"name": specialist.display_name},
            field="specialist",
        )


def check_threshold(threshold: Decimal) -> Decimal:
    if not SCORE_BOUNDS[0] <= threshold <= SCORE_BOUNDS[1]:
        raise InvalidInput(_("Enter a threshold from 0 to 100."), field="threshold")
    return threshold


def create_account(
    *,
    dealer: Dealer,
    by: Staff,
    platform: str,
    name: str,
    channel: Channel,
    specialist: Staff | None = None,
    threshold: Decimal | None = None,
) -> PlatformAccount:
    """A new account with the platform's default threshold (unless given) and the default
    checklist."""
    _check_manager(by, dealer)
    _check_fields(dealer, platform=platform, name=name, channel=channel, specialist=specialist)
    threshold = check_threshold(
        threshold if threshold is not None else DEFAULT_THRESHOLDS[platform]
    )
    try:
        with transaction.atomic():
            account = PlatformAccount.objects.create(
                dealer=dealer,
                platform=platform,
                name=name.strip(),
                channel=channel,
                specialist=specialist,
                threshold=threshold,
            )
    except IntegrityError as error:
        raise Conflict(
            _("The dealer already has an account of this name on this platform."), field="name"
        ) from error
    ChecklistItem.objects.bulk_create(
        ChecklistItem(dealer=dealer, account=account, code=code, position=position)
        for position, (code, _name) in enumerate(DEFAULT_ITEMS)
    )
    record_change(
        dealer=dealer,
        by=by,
        what="platform_account_created",
        subject=str(account),
        detail={"threshold": str(threshold), "channel": channel.code},
    )
    return account


def update_account(
    *,
    account: PlatformAccount,
    by: Staff,
    name: str,
    channel: Channel,
    specialist: Staff | None,
    threshold: Decimal,
    is_active: bool,
) -> PlatformAccount:
    dealer = account.dealer
    _check_manager(by, dealer)
    _check_fields(
        dealer, platform=account.platform, name=name, channel=channel, specialist=specialist
    )
    account.name = name.strip()
    account.channel = channel
    account.specialist = specialist
    account.threshold = check_threshold(threshold)
    account.is_active = is_active
    try:
        with transaction.atomic():
            account.save()
    except IntegrityError as error:
        raise Conflict(
            _("The dealer already has an account of this name on this platform."), field="name"
        ) from error
    record_change(
        dealer=dealer,
        by=by,
        what="platform_account_changed",
        subject=str(account),
        detail={
            "threshold": str(account.threshold),
            "channel": channel.code,
            "specialist": specialist.username if specialist else "",
            "active": is_active,
        },
    )
    return account


def add_item(*, account: PlatformAccount, by: Staff, label: str) -> ChecklistItem:
    """An item of the dealer's own on the account's checklist, after the others."""
    _check_manager(by, account.dealer)
    label = label.strip()
    if not label:
        raise InvalidInput(_("Name the item."), field="label")
    last = account.checklist_items.aggregate(last=Max("position"))["last"]
    item = ChecklistItem.objects.create(
        dealer_id=account.dealer_id,
        account=account,
        label=label,
        position=(last or 0) + 1,
    )
    record_change(
        dealer=account.dealer, by=by, what="checklist_item_added", subject=f"{account}: {label}"
    )
    return item


def remove_item(*, item: ChecklistItem, by: Staff) -> None:
    """The item leaves the checklist from today; its past ticks stay."""
    _check_manager(by, item.account.dealer)
    item.is_active = False
    item.save(update_fields=["is_active"])
    record_change(
        dealer=item.account.dealer,
        by=by,
        what="checklist_item_removed",
        subject=f"{item.account}: {item.name}",
    )


# ---------------------------------------------------------------- the day's checklist


def _check_worker(by: Staff, account: PlatformAccount) -> None:
    if not may_work_account(by, account):
        raise NotPermitted(_("Only the account's specialist or the marketing manager does this."))


def tick(*, item: ChecklistItem, by: Staff) -> ChecklistTick:
    """The item done today (the dealer's local day). Ticking it again changes nothing."""
    account = item.account
    _check_worker(by, account)
    if not item.is_active:
        raise InvalidInput(_("This item is no longer on the checklist."))
    today = timezone.localdate()
    standing = ChecklistTick.objects.filter(item=item, day=today, unticked_at__isnull=True).first()
    if standing is not None:
        return standing
    try:
        with transaction.atomic():
            return ChecklistTick.objects.create(
                dealer_id=account.dealer_id,
                account=account,
                item=item,
                day=today,
                ticked_by=by,
                ticked_at=timezone.now(),
            )
    except IntegrityError:  # ticked meanwhile, in another tab
        return ChecklistTick.objects.get(item=item, day=today, unticked_at__isnull=True)


def untick(*, item: ChecklistItem, by: Staff) -> None:
    """Take back today's tick (kept, with who took it back and when). A past day's ticks
    stand: the checklist of a day closes with the day."""
    _check_worker(by, item.account)
    today = timezone.localdate()
    ChecklistTick.objects.filter(item=item, day=today, unticked_at__isnull=True).update(
        unticked_by=by, unticked_at=timezone.now()
    )


# ---------------------------------------------------------------- scores


def parse_score(value: object, *, field: str = "score") -> Decimal:
    """A score out of 100, with at most two decimals; InvalidInput on `field` otherwise."""
    try:
        score = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise InvalidInput(_("Enter the score as a number, e.g. 86.5."), field=field) from None
    if not score.is_finite() or not SCORE_BOUNDS[0] <= score <= SCORE_BOUNDS[1]:
        raise InvalidInput(_("Enter a score from 0 to 100."), field=field)
    if score != score.quantize(Decimal("0.01")):
        raise InvalidInput(_("Enter the score with at most two decimals."), field=field)
    return score


def check_score_day(day: date, *, field: str = "day") -> date:
    if day > timezone.localdate():
        raise InvalidInput(
            _("The date is in the future: enter the day the score is for."), field=field
        )
    return day


def record_score(
    *,
    account: PlatformAccount,
    by: Staff,
    day: date,
    score: Decimal,
    note: str = "",
    source: str = ScoreSource.ENTERED,
) -> PlatformScore:
    """The platform's score of the account on `day`, as the platform publishes it."""
    _check_worker(by, account)
    return PlatformScore.objects.create(
        dealer_id=account.dealer_id,
        account=account,
        kind=ScoreKind.PLATFORM,
        day=check_score_day(day),
        score=parse_score(score),
        source=source,
        recorded_by=by,
        note=note.strip()[:200],
    )


@dataclass(frozen=True)
class Computed:
    kind: str
    score: Decimal | None  # None: nothing to compute it from
    note: str


def answer_score(account: PlatformAccount, day: date) -> Computed:
    """The 400 answer score (kpi.phone) of the lines attributed to the account's channel, or
    where the dealer has none, of its 400 hotline, which is the number the platforms show."""
    own_lines = Line.objects.filter(dealer_id=account.dealer_id, channel_id=account.channel_id)
    if own_lines.exists():
        found = platform_answer_score(
            account.dealer, day, line_kind=None, channel_id=account.channel_id
        )
        where = _("the channel's lines")
    else:
        found = platform_answer_score(account.dealer, day, line_kind=LineKind.HOTLINE_400)
        where = _("the 400 hotline")
    note = _(
        "%(where)s: %(past_answered)s of %(past_valid)s valid calls answered over the 15 days "
        "before, %(today_answered)s of %(today_valid)s on the day"
    ) % {
        "where": where,
        "past_answered": found.past.answered,
        "past_valid": found.past.valid,
        "today_answered": found.today.answered,
        "today_valid": found.today.valid,
    }
    return Computed(ScoreKind.ANSWER, (found.score * 100).quantize(Decimal("0.01")), note)


def response_score(account: PlatformAccount, day: date) -> Computed:
    """First response on time (the KPI registry's) of the leads that came on the account's
    channel over RESPONSE_DAYS days up to `day`."""
    first = day - timedelta(days=RESPONSE_DAYS - 1)
    window = day_window(dealer_ids=[account.dealer_id], first=first, last=day)
    report = kpi_report(window=window, by="channel", metrics=["first_response_on_time"])
    value = next(
        (
            group.values["first_response_on_time"]
            for group in report.groups
            if group.key == account.channel_id
        ),
        None,
    )
    if value is None or not value.denominator:
        return Computed(ScoreKind.RESPONSE, None, "")
    score = (Decimal(value.numerator) * 100 / Decimal(value.denominator)).quantize(Decimal("0.01"))
    note = _("%(on_time)s of %(leads)s leads answered in time, %(first)s to %(last)s") % {
        "on_time": value.numerator,
        "leads": value.denominator,
        "first": first.isoformat(),
        "last": day.isoformat(),
    }
    return Computed(ScoreKind.RESPONSE, score, note)


def compute_scores(
    *, account: PlatformAccount, by: Staff | None, day: date | None = None
) -> list[PlatformScore]:
    """The scores our data gives the account on `day` (default: today), stored as computed;
    computing the same day again replaces that day's computed figures. `by` None: the daily
    upkeep (compute_due)."""
    if by is not None:
        _check_worker(by, account)
    day = check_score_day(day or timezone.localdate())
    stored = []
    for computed in (answer_score(account, day), response_score(account, day)):
        if computed.score is None:
            continue
        with transaction.atomic():
            PlatformScore.objects.filter(
                account=account, kind=computed.kind, day=day, source=ScoreSource.COMPUTED
            ).delete()
            stored.append(
                PlatformScore.objects.create(
                    dealer_id=account.dealer_id,
                    account=account,
                    kind=computed.kind,
                    day=day,
                    score=computed.score,
                    source=ScoreSource.COMPUTED,
                    recorded_by=by,
                    note=computed.note[:200],
                )
            )
    return stored


def compute_due(*, day: date | None = None) -> int:
    """The computed scores of every active account for `day` (default: yesterday, a whole
    day), for the accounts that have none for it yet; how many accounts were scored. Run by
    the periodic upkeep (`dcc tick`), so every account has a daily score without anyone
    pressing the button."""
    day = day or timezone.localdate() - timedelta(days=1)
    done = PlatformScore.objects.filter(
        day=day, kind=ScoreKind.ANSWER, source=ScoreSource.COMPUTED
    ).values("account_id")
    due = (
        PlatformAccount.objects.filter(is_active=True).exclude(pk__in=done).select_related("dealer")
    )
    scored = 0
    for account in due:
        compute_scores(account=account, by=None, day=day)
        scored += 1
    return scored
