"""What a new dealer starts with: reason codes, channels and teams it can edit afterwards."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_noop as _

from accounts.models import Dealer
from leads.models import Channel, ChannelGroup, ReasonCode, ReasonKind
from leads.teams import set_up_teams

DEFAULT_REASONS: dict[ReasonKind, list[tuple[str, str]]] = {
    ReasonKind.INVALID: [
        ("wrong_number", _("Wrong or empty number")),
        ("no_intent", _("No buying intent")),
        ("not_buyer", _("Not a car buyer (ad, job seeker, peer)")),
        ("out_of_area", _("Outside our sales area")),
        ("unreachable", _("Never reachable")),
    ],
    ReasonKind.DEFEAT: [
        ("bought_competitor", _("Bought another brand")),
        ("bought_other_dealer", _("Bought at another dealer of the brand")),
        ("price", _("Price")),
        ("postponed", _("Purchase postponed")),
        ("financing", _("Financing not approved")),
        ("product", _("Product does not fit")),
        ("service", _("Unhappy with our service")),
    ],
}

# code, name, group, SLA minutes, monthly spend (CNY)
DEFAULT_CHANNELS: list[tuple[str, str, ChannelGroup, int, Decimal]] = [
    ("autohome", _("Autohome"), ChannelGroup.VERTICAL, 15, Decimal("30000")),
    ("yiche", _("Yiche"), ChannelGroup.VERTICAL, 15, Decimal("20000")),
    ("dongchedi", _("Dongchedi"), ChannelGroup.VERTICAL, 15, Decimal("20000")),
    ("baidu", _("Baidu"), ChannelGroup.PORTAL, 15, Decimal("8000")),
    ("wechat", _("WeChat"), ChannelGroup.SOCIAL, 30, Decimal("5000")),
    ("douyin", _("Douyin"), ChannelGroup.SOCIAL, 30, Decimal("12000")),
    ("hotline_400", _("400 hotline"), ChannelGroup.PHONE, 5, Decimal("3000")),
    ("directory_12114", _("12114 directory"), ChannelGroup.PHONE, 5, Decimal("1000")),
    ("car_show", _("Car show"), ChannelGroup.EVENT, 60, Decimal("15000")),
    ("referral", _("Owner referral"), ChannelGroup.REFERRAL, 30, Decimal("0")),
    ("walk_in", _("Walk-in"), ChannelGroup.WALK_IN, 15, Decimal("0")),
]


def set_up_dealer(dealer: Dealer, *, with_channels: bool = True) -> None:
    """Give a new dealer the default reason codes (and channels) and teams; existing ones are
    kept. Called again once its people are in, it places them in the default teams."""
    for kind, reasons in DEFAULT_REASONS.items():
        for code, label in reasons:
            ReasonCode.objects.get_or_create(
                dealer=dealer, kind=kind, code=code, defaults={"label": label}
            )
    if with_channels:
        for code, name, group, sla, spend in DEFAULT_CHANNELS:
            Channel.objects.get_or_create(
                dealer=dealer,
                code=code,
                defaults={"name": name, "group": group, "sla_minutes": sla, "monthly_spend": spend},
            )
    set_up_teams(dealer)
