"""Car-sticker fuel subsidy: members enrolled for three months by default at the campaign's
monthly amount, a monthly photo check (JPEG or PNG, not too large, the file kept in storage),
the payments due marked paid once checked; its return is its line's calls and leads; and what
campaigns keep about a customer is exported and erased (photos deleted, addresses blanked)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from calls import actions as call_actions
from calls.models import Line, LineKind
from campaigns import campaigns, capture, holdings, subsidy
from campaigns.models import Campaign, CampaignKind, SubsidyMonth
from dcc.errors import InvalidInput, NotPermitted
from owners import members
from privacy.holdings import holdings as registered
from privacy.models import ConsentRecord
from tests.calls.reports import answered, phone_account
from tests.campaigns.conftest import fields
from tests.factories import channel, make_lead
from tests.kit import login

pytestmark = pytest.mark.django_db

JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 200
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 200
STICKER_LINE = "4008007777"


@pytest.fixture(autouse=True)
def stickers_in_tmp(settings, tmp_path):
    settings.VAR_DIR = tmp_path


@pytest.fixture
def sticker(team):
    line = Line.objects.create(
        dealer=team.dealer,
        number=STICKER_LINE,
        kind=LineKind.CAMPAIGN,
        channel=channel(team.dealer, "car_show"),
    )
    today = timezone.localdate()
    return campaigns.create_campaign(
        dealer=team.dealer,
        by=team.marketing_manager,
        fields=fields(
            team.dealer,
            name="车贴油补",
            kind="fuel_subsidy",
            line=line,
            starts_on=today - timedelta(days=40),
            ends_on=today + timedelta(days=120),
            monthly_subsidy=Decimal("200"),
        ),
    )


@pytest.fixture
def member(team):
    lead = make_lead(team.dealer, phone="13811112222", name="车主甲")
    return members.join(customer=lead.customer, by=team.owner_ops)


def photo(content=JPEG, name="sticker.jpg"):
    return SimpleUploadedFile(name, content, content_type="image/jpeg")


def test_a_member_is_enrolled_for_three_months_at_the_campaigns_amount(team, sticker, member):
    enrolment = subsidy.enrol(campaign=sticker, member=member, by=team.owner_ops)
    months = list(enrolment.month_rows.order_by("month").values_list("month", "amount"))
    first = timezone.localdate().replace(day=1)
    assert [m for m, _a in months] == [
        first,
        subsidy.add_months(first, 1),
        subsidy.add_months(first, 2),
    ]
    assert {a for _m, a in months} == {Decimal("200")}
    with pytest.raises(InvalidInput):
        subsidy.enrol(campaign=sticker, member=member, by=team.owner_ops)  # once
    with pytest.raises(NotPermitted):
        subsidy.enrol(campaign=sticker, member=member, by=team.dcc_agent, months=2)


def test_only_a_fuel_subsidy_with_an_amount_enrols(team, member):
    show = campaigns.create_campaign(
        dealer=team.dealer, by=team.marketing_manager, fields=fields(team.dealer)
    )
    with pytest.raises(InvalidInput):
        subsidy.enrol(campaign=show, member=member, by=team.owner_ops)


def test_a_month_is_paid_once_checked_with_a_photo_kept_in_storage(team, sticker, member):
    enrolment = subsidy.enrol(campaign=sticker, member=member, by=team.owner_ops)
    month = enrolment.month_rows.order_by("month").first()
    with pytest.raises(InvalidInput):
        subsidy.mark_paid(month=month, by=team.owner_ops)  # no check yet
    subsidy.record_check(month=month, photo=photo(), by=team.owner_ops)
    month.refresh_from_db()
    assert month.photo.storage.exists(month.photo.name)
    assert month.photo.read() == JPEG
    subsidy.mark_paid(month=month, by=team.owner_ops)
    with pytest.raises(InvalidInput):
        subsidy.mark_paid(month=month, by=team.owner_ops)  # once
    later = enrolment.month_rows.order_by("month").last()
    with pytest.raises(InvalidInput):  # that month has not begun
        subsidy.record_check(month=later, photo=photo(), by=team.owner_ops)
    totals = subsidy.totals(sticker)
    assert (totals.members, totals.paid, totals.due) == (1, Decimal("200"), Decimal(0))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"%PDF-1.4 not a photo", "The photo must be a JPEG or PNG picture."),
        (JPEG + b"\0" * (8 * 1024 * 1024), "The photo is too large: at most 8 MB."),
    ],
)
def test_a_wrong_file_is_refused_with_a_clear_message_on_the_page(
    team, sticker, member, content, message
):
    month = subsidy.enrol(campaign=sticker, member=member, by=team.owner_ops).month_rows.first()
    client = login(team.owner_ops)
    answer = client.post(
        f"/campaigns/subsidy/{month.pk}/check/", {"photo": photo(content, "x.jpg")}
    )
    assert answer.status_code == 422
    assert message in answer.content.decode()
    assert not SubsidyMonth.objects.get(pk=month.pk).photo


def test_the_subsidy_page_lists_payments_and_the_lines_return(team, sticker, member):
    subsidy.enrol(campaign=sticker, member=member, by=team.owner_ops)
    month = SubsidyMonth.objects.order_by("month").first()
    client = login(team.owner_ops)
    client.post(f"/campaigns/subsidy/{month.pk}/check/", {"photo": photo(PNG, "s.png")})
    client.post(f"/campaigns/subsidy/{month.pk}/paid/")
    assert SubsidyMonth.objects.get(pk=month.pk).paid_at is not None
    account = phone_account(team)
    call = call_actions.receive(
        account, replace(answered("F1", number="13700001111"), line_number=STICKER_LINE)
    )
    call_actions.capture(call, by=team.dcc_agent, name="新客户")

    page = client.get(f"/campaigns/{sticker.pk}/subsidy/")
    assert page.status_code == 200
    assert page.context["totals"].calls == 1
    assert page.context["figures"].leads == 1
    assert [row.pk for row in page.context["rows"]][-1] == month.pk  # paid: last
    photo_page = client.get(f"/campaigns/subsidy/{month.pk}/photo/")
    assert b"".join(photo_page.streaming_content) == PNG
    assert login(team.dcc_agent).get(f"/campaigns/{sticker.pk}/subsidy/").status_code == 403


def test_campaigns_export_and_erase_what_they_keep_about_a_customer(
    team, sticker, member, staff_code
):
    assert holdings.HOLDING in registered()
    captured = capture.capture(
        code=staff_code.code,
        name="车主甲",
        mobile="13811112222",
        consent_given=True,
        address="203.0.113.9",
    )
    customer = captured.lead.customer
    month = subsidy.enrol(campaign=sticker, member=member, by=team.owner_ops).month_rows.first()
    subsidy.record_check(month=month, photo=photo(), by=team.owner_ops)
    month.refresh_from_db()
    stored = month.photo.name

    rows = holdings.export(customer)
    assert {row["record"] for row in rows} == {"Repeat enquiry", "Fuel subsidy month"}
    assert rows[0]["client_address"] == "203.0.113.9"
    assert rows[0]["how"] == f"Capture code of {team.consultant}"
    assert rows[1]["sticker_photo"] == stored
    assert len({tuple(row) for row in rows}) == 1  # the same columns in every row

    assert holdings.erase(customer) >= 3
    month.refresh_from_db()
    assert not month.photo and not month.photo.storage.exists(stored)
    for record in ConsentRecord.objects.filter(customer=customer):
        assert "203.0.113.9" not in record.evidence
    # The repeat enquiry and the three months stay, for the campaign's counts and costs.
    assert holdings.remains(customer) == 4
    assert SubsidyMonth.objects.filter(enrolment__member=member).count() == 3


def test_the_members_page_links_owner_operations_to_the_running_subsidies(team, fixed_clock):
    today = timezone.localdate()
    running = Campaign.objects.create(
        dealer=team.dealer,
        name="车贴油补·冬季",
        kind=CampaignKind.FUEL_SUBSIDY,
        starts_on=today - timedelta(days=3),
        ends_on=today + timedelta(days=60),
        channel=channel(team.dealer, "autohome"),
        created_by=team.marketing_manager,
    )
    Campaign.objects.create(
        dealer=team.dealer,
        name="上一期油补",
        kind=CampaignKind.FUEL_SUBSIDY,
        starts_on=today - timedelta(days=200),
        ends_on=today - timedelta(days=100),
        channel=channel(team.dealer, "autohome"),
        created_by=team.marketing_manager,
    )
    page = login(team.owner_ops).get("/campaigns/subsidies/").content.decode()
    assert f"/campaigns/{running.pk}/subsidy/" in page and "上一期油补" not in page
    assert (
        'hx-get="/campaigns/subsidies/"' in login(team.owner_ops).get("/members/").content.decode()
    )
    assert login(team.auditor).get("/campaigns/subsidies/").content == b""
