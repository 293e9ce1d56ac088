"""The members' pages: the list and a card (redeem, service visit, goodwill points, refusals
in place), a lead's referrer panel, a card issued from the owner page, the programme and tiers
in the settings; who may open what; bad input answered 4xx with the field, never 500."""

from __future__ import annotations

import pytest

from accounts.models import SettingsChange
from owners.models import Member, MemberProgram, MemberTier, PointsKind, Referral
from tests.factories import make_lead
from tests.kit import login
from tests.owners.conftest import deliver

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(team, fixed_clock) -> Member:
    return Member.objects.get(customer=deliver(team).customer)


def test_the_list_finds_a_member_by_phone_digits_and_hides_the_number(team, member):
    client = login(team.owner_ops, language="zh-hans")
    page = client.get("/members/", {"q": member.customer.phone[-4:]}).content.decode()
    assert member.card_number in page and member.customer.phone not in page
    assert "会员" in page
    page = client.get("/members/", {"q": "nobody-like-this"}).content.decode()
    assert member.card_number not in page
    assert client.get("/members/", {"page": "x", "tier": "y"}).status_code == 200
    assert client.get("/members/", {"tier": str(10**30)}).status_code == 200
    assert client.get("/members/", {"q": "\x00"}).status_code == 400


def test_redeeming_on_the_card_and_too_much_refused_in_place(team, member):
    client = login(team.owner_ops)
    answer = client.post(
        f"/members/{member.pk}/",
        {"form": "redeem", "redeem-points": "5000", "redeem-note": "Gift"},
    )
    assert answer.status_code == 422
    assert "Only 1000 points are usable" in answer.content.decode()
    answer = client.post(
        f"/members/{member.pk}/",
        {"form": "redeem", "redeem-points": "300", "redeem-note": "Gift"},
    )
    assert answer.status_code == 302
    member.refresh_from_db()
    assert member.usable_points == 700
    page = client.get(f"/members/{member.pk}/").content.decode()
    assert "-300" in page and "Gift" in page


def test_a_service_visit_is_credited_once_per_repair_order(team, member):
    client = login(team.owner_ops)
    post = {"form": "service", "service-repair_order": "RO-1001"}
    assert client.post(f"/members/{member.pk}/", post).status_code == 302
    again = client.post(f"/members/{member.pk}/", post)
    assert again.status_code == 422 and "RO-1001" in again.content.decode()
    assert member.entries.filter(kind=PointsKind.SERVICE).count() == 1


@pytest.mark.parametrize(
    "post",
    [
        {"form": "redeem", "redeem-points": "abc", "redeem-note": "x"},
        {"form": "redeem", "redeem-points": "-1", "redeem-note": "x"},
        {"form": "adjust", "adjust-points": "10", "adjust-note": ""},
        {"form": "service", "service-repair_order": ""},
    ],
)
def test_bad_input_on_the_card_is_refused_with_the_field(team, member, post):
    answer = login(team.owner_ops).post(f"/members/{member.pk}/", post)
    assert answer.status_code == 422
    member.refresh_from_db()
    assert member.usable_points == 1000


def test_readers_see_cards_but_change_nothing_and_others_are_kept_out(team, other_team, member):
    auditor = login(team.auditor)
    page = auditor.get(f"/members/{member.pk}/").content.decode()
    assert member.card_number in page and "redeem-points" not in page
    post = {"form": "redeem", "redeem-points": "1", "redeem-note": "x"}
    assert auditor.post(f"/members/{member.pk}/", post).status_code == 403
    assert login(team.consultant).get("/members/").status_code == 403
    assert login(other_team.owner_ops).get(f"/members/{member.pk}/").status_code == 404
    assert login(team.owner_ops).post(f"/members/{member.pk}/", {"form": "x"}).status_code == 403


def test_the_lead_page_names_the_referrer_by_phone(team, member):
    lead = make_lead(team.dealer, by=team.dcc_agent, owner=team.consultant)
    client = login(team.consultant, language="zh-hans")
    assert f"/leads/{lead.pk}/referral/" in client.get(f"/leads/{lead.pk}/").content.decode()
    panel = client.get(f"/leads/{lead.pk}/referral/").content.decode()
    assert "转介绍人手机号" in panel
    refused = client.post(f"/leads/{lead.pk}/referral/", {"referrer_phone": "123"})
    assert refused.status_code == 422
    refused = client.post(f"/leads/{lead.pk}/referral/", {"referrer_phone": lead.customer.phone})
    assert refused.status_code == 422 and "本店车主或会员" in refused.content.decode()
    named = client.post(f"/leads/{lead.pk}/referral/", {"referrer_phone": member.customer.phone})
    assert named.status_code == 200
    assert Referral.objects.get(lead=lead).referrer_id == member.customer_id
    assert "王先生" in named.content.decode()


def test_headquarters_and_other_dealers_do_not_name_referrers(team, other_team, member):
    lead = make_lead(team.dealer, by=team.dcc_agent, owner=team.consultant)
    post = {"referrer_phone": member.customer.phone}
    assert login(team.headquarters).post(f"/leads/{lead.pk}/referral/", post).status_code == 403
    assert login(other_team.gm).post(f"/leads/{lead.pk}/referral/", post).status_code == 404
    assert not Referral.objects.exists()


def test_a_card_is_issued_from_the_owner_page(team, fixed_clock):
    lead = make_lead(team.dealer, by=team.dcc_agent)
    # A customer who bought elsewhere and is an owner here by transfer: no card yet.
    client = login(team.owner_ops)
    answer = client.post(f"/owners/{lead.customer_id}/enrol/")
    assert answer.status_code == 302
    assert Member.objects.filter(customer_id=lead.customer_id).exists()
    assert login(team.consultant).post(f"/owners/{lead.customer_id}/enrol/").status_code == 403


def test_the_programme_and_tiers_are_set_in_the_settings(team, member):
    client = login(team.gm, language="zh-hans")
    page = client.get("/settings/members/").content.decode()
    assert "会员计划" in page
    bad = client.post(
        "/settings/members/",
        {
            "form": "programme",
            "purchase_points": "500",
            "event_points": "100",
            "service_points": "50",
            "idle_days": "365",
            "reward_kind": "points",
            "level_rewards": "2000, lots",
            "returned_car_rule": "keep",
        },
    )
    assert bad.status_code == 422 and not MemberProgram.objects.exists()
    good = client.post(
        "/settings/members/",
        {
            "form": "programme",
            "purchase_points": "500",
            "event_points": "100",
            "service_points": "50",
            "idle_days": "365",
            "reward_kind": "money",
            "level_rewards": "800，200",
            "returned_car_rule": "keep",
        },
    )
    assert good.status_code == 302
    programme = MemberProgram.objects.get(dealer=team.dealer)
    assert (programme.level_rewards, programme.reward_kind) == ([800, 200], "money")
    assert SettingsChange.objects.filter(what="member_programme").exists()
    # A tier from 1000 lifetime points takes the member (who has 1000) in at once.
    added = client.post(
        "/settings/members/", {"form": "tier", "tier-name": "铜卡", "tier-min_points": "1000"}
    )
    assert added.status_code == 302
    member.refresh_from_db()
    assert member.tier.name == "铜卡"
    clash = client.post(
        "/settings/members/", {"form": "tier", "tier-name": "铜卡", "tier-min_points": "7"}
    )
    assert clash.status_code == 422
    assert MemberTier.objects.filter(dealer=team.dealer, name="铜卡").count() == 1
    assert login(team.owner_ops).get("/settings/members/").status_code == 403
