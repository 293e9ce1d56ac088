"""A template's wording: what is refused before anything is sent (an unknown variable, a
marketing text without the opt-out, a text too long), and how Chinese SMS count length."""

from __future__ import annotations

import pytest

from dcc.errors import InvalidInput
from sms import texts
from sms.models import Kind
from sms.setup import save_template
from tests.sms.conftest import NOTICE_TEXT, OFFER_TEXT

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("length", "parts"), [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (335, 5), (336, 6)]
)
def test_seventy_characters_are_one_message_and_longer_ones_go_in_parts_of_67(length, parts):
    assert texts.parts(length) == parts


def test_a_chinese_character_counts_as_one_like_a_letter(lead, sms_settings):
    sms_settings.max_parts = 1
    sms_settings.save()
    text = "您" * (70 - len("【星河4S店】"))
    assert texts.check_length("【星河4S店】" + text, sms_settings) == 1
    with pytest.raises(InvalidInput) as refused:
        texts.check_length("【星河4S店】" + text + "a", sms_settings)
    assert refused.value.field == "text"
    assert "71 characters" in refused.value.message


def test_an_unknown_variable_is_refused_naming_it(team, sms_settings):
    with pytest.raises(InvalidInput) as refused:
        save_template(
            dealer=team.dealer,
            by=team.marketing_manager,
            name="x",
            kind=Kind.NOTIFICATION,
            text="${name}您好，您的${coupon}已到账",
        )
    assert refused.value.field == "text"
    assert "${coupon}" in refused.value.message
    assert "${name}" not in refused.value.message.split("Known")[0]


def test_a_marketing_template_must_end_with_the_opt_out_text(team, sms_settings):
    with pytest.raises(InvalidInput) as refused:
        save_template(
            dealer=team.dealer,
            by=team.marketing_manager,
            name="x",
            kind=Kind.MARKETING,
            text="本周末到店有礼，拒收请回复R，谢谢",
        )
    assert refused.value.field == "text"
    assert texts.OPT_OUT in refused.value.message
    # The same words as a notification need no opt-out.
    save_template(
        dealer=team.dealer,
        by=team.marketing_manager,
        name="x",
        kind=Kind.NOTIFICATION,
        text="本周末到店有礼，谢谢",
    )


def test_a_template_too_long_with_typical_values_is_refused(team, sms_settings):
    with pytest.raises(InvalidInput) as refused:
        save_template(
            dealer=team.dealer,
            by=team.marketing_manager,
            name="x",
            kind=Kind.NOTIFICATION,
            text="${name}" + "好" * 330,
        )
    assert refused.value.field == "text"
    assert "at most 5 parts" in refused.value.message


def test_a_template_is_filled_in_from_the_lead(lead, sms_settings, team):
    filled = texts.render(text=OFFER_TEXT, kind=Kind.MARKETING, lead=lead, settings=sms_settings)
    assert (
        filled.text == "【星河4S店】王先生您好，本周末店内瑶光限时优惠，欢迎到店品鉴。拒收请回复R"
    )
    assert filled.params == {"name": "王先生", "model": "瑶光"}
    assert filled.parts == 1
    notice = texts.render(
        text=NOTICE_TEXT, kind=Kind.NOTIFICATION, lead=lead, settings=sms_settings
    )
    assert str(team.dcc_agent.display_name or team.dcc_agent.username) in notice.text


def test_no_message_goes_without_the_dealers_signature(lead, sms_settings):
    sms_settings.signature = ""
    with pytest.raises(InvalidInput) as refused:
        texts.render(text=OFFER_TEXT, kind=Kind.MARKETING, lead=lead, settings=sms_settings)
    assert refused.value.field == "signature"


@pytest.mark.parametrize("reply", ["R", " r ", "TD", "td", "退订", " 退订\n"])
def test_replies_that_opt_out(reply):
    assert texts.is_opt_out(reply)


@pytest.mark.parametrize("reply", ["好的", "RR", "不要退订", "", "R 谢谢"])
def test_replies_that_do_not(reply):
    assert not texts.is_opt_out(reply)
