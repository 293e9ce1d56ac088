"""Channels in the dealer's own words: the demo's Chinese dealers store Chinese names, the
new-lead form lists them as stored (default names translated), and the channel settings call
the field the channel's name, not a person's."""

from __future__ import annotations

import pytest

from accounts.models import Dealer, Staff
from leads.demo import load_demo
from leads.models import Channel
from tests.factories import channel
from tests.kit import login

pytestmark = pytest.mark.django_db


def test_the_demo_dealers_store_chinese_channel_names():
    load_demo(leads_per_dealer=3)
    names = dict(Channel.objects.filter(dealer__code="SH001").values_list("code", "name"))
    assert names["autohome"] == "汽车之家"
    assert names["yiche"] == "易车"
    assert names["dongchedi"] == "懂车帝"
    assert names["hotline_400"] == "400热线"
    platform = Staff.objects.get(username="platform")
    html = login(platform, language="zh-hans").get("/leads/new/").content.decode()
    assert ">汽车之家</option>" in html and ">懂车帝</option>" in html
    assert "Autohome" not in html


def test_running_the_demo_again_keeps_a_channel_the_dealer_renamed():
    load_demo(leads_per_dealer=3)
    Channel.objects.filter(dealer__code="SH001", code="autohome").update(name="汽车之家 A 账号")
    load_demo(leads_per_dealer=3)
    assert Dealer.objects.get(code="SH001").channels.get(code="autohome").name == "汽车之家 A 账号"


def test_the_new_lead_form_lists_default_channels_in_the_readers_language(team):
    channel(team.dealer)  # stored under its English default name
    html = login(team.platform_specialist, language="zh-hans").get("/leads/new/").content.decode()
    assert ">汽车之家</option>" in html


def test_the_channel_form_asks_for_the_channels_name(team):
    autohome = channel(team.dealer)
    html = (
        login(team.sales_manager, language="zh-hans")
        .get(f"/settings/channels/{autohome.pk}/")
        .content.decode()
    )
    assert "渠道名称" in html
    assert ">姓名<" not in html
