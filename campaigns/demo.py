"""The demo's campaigns: last month's car show with two consultants' capture codes (its leads
are the event channel's of those days), this month's online promotion, and the car-sticker
fuel subsidy running with members enrolled, so that the campaign pages and the dashboard's
campaign return show real figures."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.models import Dealer, Membership, Role
from campaigns import campaigns, subsidy
from campaigns.models import Campaign, CampaignKind, CampaignLead
from leads.models import Channel, ChannelGroup, Lead
from owners.models import Member

CAPTURED_SHARE = 0.6  # of the channel's leads in a campaign's days, those its codes captured
SUBSIDY_MEMBERS = 6


def _month_start(day: date, back: int = 0) -> date:
    first = day.replace(day=1)
    for _ in range(back):
        first = (first - timedelta(days=1)).replace(day=1)
    return first


def _credit(campaign: Campaign, rng: random.Random) -> int:
    """Credit a share of the channel's leads of the campaign's days to its codes."""
    codes = list(campaign.codes.order_by("pk"))
    tz = timezone.get_current_timezone()
    start = datetime.combine(campaign.starts_on, datetime.min.time(), tzinfo=tz)
    end = datetime.combine(campaign.ends_on + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    leads = Lead.objects.filter(
        dealer_id=campaign.dealer_id,
        channel_id=campaign.channel_id,
        created_at__gte=start,
        created_at__lt=end,
        campaign_lead__isnull=True,
    ).values_list("pk", "created_at")
    credited = [
        CampaignLead(
            dealer_id=campaign.dealer_id,
            lead_id=pk,
            campaign=campaign,
            capture_code=rng.choice(codes),
            at=created_at,
        )
        for pk, created_at in leads
        if rng.random() < CAPTURED_SHARE
    ]
    CampaignLead.objects.bulk_create(credited)
    return len(credited)


def play_campaigns(dealer: Dealer, seed: int, *, now: datetime | None = None) -> str:
    if Campaign.objects.filter(dealer=dealer).exists():
        return f"{dealer.code}: campaigns already played."
    now = now or timezone.now()
    today = timezone.localdate(now)
    rng = random.Random(f"{seed}-campaigns-{dealer.pk}")
    marketing = (
        Membership.objects.filter(dealer=dealer, role=Role.MARKETING_MANAGER, is_active=True)
        .select_related("staff")
        .first()
    )
    if marketing is None:
        return f"{dealer.code}: no marketing manager, no campaigns."
    by = marketing.staff
    channels = Channel.objects.filter(dealer=dealer, is_active=True).order_by("pk")
    event = channels.filter(group=ChannelGroup.EVENT).first() or channels.first()
    online = channels.filter(group=ChannelGroup.SOCIAL).first() or channels.first()
    consultants = [
        m.staff
        for m in Membership.objects.filter(
            dealer=dealer, role=Role.CONSULTANT, is_active=True
        ).select_related("staff")[:2]
    ]
    last_month = _month_start(today, back=1)
    show = campaigns.create_campaign(
        dealer=dealer,
        by=by,
        at=now - timedelta(days=45),
        fields=campaigns.CampaignFields(
            name="秋季车展 · 国际会展中心",
            kind=CampaignKind.CAR_SHOW,
            starts_on=last_month + timedelta(days=9),
            ends_on=last_month + timedelta(days=13),
            channel=event,
            budget=Decimal("30000"),
            cost=Decimal("27600"),
            offer="免费领取车展门票一张，到店再送保养券",
        ),
    )
    promotion = campaigns.create_campaign(
        dealer=dealer,
        by=by,
        at=now - timedelta(days=10),
        fields=campaigns.CampaignFields(
            name="抖音直播 · 周末试驾礼",
            kind=CampaignKind.ONLINE_PROMOTION,
            starts_on=_month_start(today),
            ends_on=_month_start(today) + timedelta(days=27),
            channel=online,
            budget=Decimal("8000"),
            cost=Decimal("5200"),
            offer="预约试驾送行车记录仪",
        ),
    )
    for campaign in (show, promotion):
        for consultant in consultants:
            campaigns.issue_code(campaign=campaign, staff=consultant, by=by)
    credited = _credit(show, rng) + _credit(promotion, rng)

    sticker = campaigns.create_campaign(
        dealer=dealer,
        by=by,
        at=now - timedelta(days=40),
        fields=campaigns.CampaignFields(
            name="车贴油补 · 冬季",
            kind=CampaignKind.FUEL_SUBSIDY,
            starts_on=last_month,
            ends_on=last_month + timedelta(days=120),
            channel=event,
            budget=Decimal("20000"),
            cost=Decimal("3600"),
            monthly_subsidy=Decimal("200"),
        ),
    )
    enrolled = 0
    for index, member in enumerate(
        Member.objects.filter(dealer=dealer).order_by("pk")[:SUBSIDY_MEMBERS]
    ):
        subsidy.enrol(
            campaign=sticker,
            member=member,
            by=by,
            first_month=last_month if index % 2 == 0 else _month_start(today),
            at=now - timedelta(days=30 - index),
        )
        enrolled += 1
    return (
        f"{dealer.code}: campaigns: 3, {credited} leads credited to their capture codes, "
        f"{enrolled} members on the fuel subsidy."
    )
