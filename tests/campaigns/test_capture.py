"""What a visitor's details become: a lead of the campaign's channel in the DCC queue, credited
to the campaign and the code's staff member; a repeat enquiry on an open lead; consent with its
evidence; and refusals (ended campaign, bad number, over-long fields, too many tries)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from accounts.roles import Role, roles_at
from campaigns import capture
from campaigns.models import CampaignLead, CampaignTouch
from campaigns.selectors import campaign_figures, code_figures
from dcc.errors import InvalidInput, NotFound
from leads import actions
from leads.actions import IntakeOutcome
from leads.models import EventKind, Lead
from privacy import consent
from privacy.models import ConsentRecord, Purpose
from tests.campaigns.conftest import a_day
from tests.factories import make_lead
from tests.kit import assert_recorded

pytestmark = pytest.mark.django_db


def claim(code, mobile="13912345678", **kwargs):
    values = {"name": "李雷", "mobile": mobile, "car_model": "瑶光"} | kwargs
    return capture.capture(code=code.code, **values)


def test_a_capture_is_a_new_lead_in_the_dcc_queue_credited_to_the_code(team, show, staff_code):
    captured = claim(staff_code, consent_given=False)

    lead = captured.lead
    assert captured.outcome == IntakeOutcome.CREATED
    assert (lead.channel, lead.created_by, lead.car_model) == (show.channel, None, "瑶光")
    assert lead.customer.name == "李雷" and lead.customer.phone == "13912345678"
    assert Role.DCC_AGENT in roles_at(lead.owner, team.dealer.pk)
    event = assert_recorded(lead, EventKind.CREATED, by=None, stage="new")
    assert "上海车展" in event.note and str(team.consultant) in event.note
    attribution = CampaignLead.objects.get(lead=lead)
    assert (attribution.campaign, attribution.capture_code) == (show, staff_code)
    assert not ConsentRecord.objects.exists()  # nothing ticked: nothing said


def test_consent_is_recorded_with_the_wording_page_and_address(team, show, own_code):
    captured = claim(
        own_code, consent_given=True, address="203.0.113.9", page_url="https://dcc.example/c/x/"
    )
    customer = captured.lead.customer
    assert consent.current(customer, Purpose.MARKETING_CALLS) is True
    assert consent.current(customer, Purpose.SMS) is True
    assert consent.current(customer, Purpose.WECHAT) is None
    record = ConsentRecord.objects.filter(customer=customer).first()
    assert (record.how, record.by, record.dealer) == ("capture_page", None, team.dealer)
    for shown in (show.consent_wording, "https://dcc.example/c/x/", "203.0.113.9"):
        assert shown in record.evidence


def test_an_open_lead_gets_a_touch_and_keeps_its_channel(team, show, staff_code):
    earlier = make_lead(team.dealer, phone="13912345678")

    captured = claim(staff_code)

    assert captured.outcome == IntakeOutcome.TOUCHED and captured.lead.pk == earlier.pk
    assert Lead.objects.count() == 1
    assert_recorded(earlier, EventKind.TOUCHED, by=None)
    assert Lead.objects.get().channel.code == "autohome"
    assert not CampaignLead.objects.exists()
    touch = CampaignTouch.objects.get()
    assert (touch.lead_id, touch.campaign, touch.capture_code) == (earlier.pk, show, staff_code)


def test_the_first_campaign_keeps_the_lead(team, show, own_code, staff_code):
    first = claim(own_code)
    second = claim(staff_code, mobile="139 1234 5678")
    assert second.outcome == IntakeOutcome.TOUCHED and second.lead.pk == first.lead.pk
    assert CampaignLead.objects.get().capture_code == own_code
    assert CampaignTouch.objects.get().capture_code == staff_code


def test_an_ended_campaign_refuses_and_says_so(team, show, own_code):
    show.ends_on = a_day(-1)
    show.starts_on = a_day(-3)
    show.save()
    with pytest.raises(capture.CampaignNotRunning) as refused:
        claim(own_code)
    assert refused.value.ended and refused.value.status == 410
    assert "ended" in refused.value.message
    assert not Lead.objects.exists()


def test_a_campaign_not_started_refuses(team, show, own_code):
    show.starts_on = a_day(2)
    show.save()
    with pytest.raises(capture.CampaignNotRunning) as refused:
        claim(own_code)
    assert not refused.value.ended and "starts" in refused.value.message


def test_the_last_day_still_counts_in_china_time(team, show, own_code, fixed_clock):
    show.ends_on = timezone.localdate()
    show.save()
    fixed_clock.move_to(timezone.localtime().replace(hour=23, minute=59))
    assert claim(own_code).outcome == IntakeOutcome.CREATED


def test_an_unknown_code_is_not_found(team, show):
    with pytest.raises(NotFound):
        capture.capture(code="nosuchcode23", name="李雷", mobile="13912345678")


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("name", {"name": ""}),
        ("name", {"name": "  "}),
        ("name", {"name": "李" * 51}),
        ("mobile", {"mobile": ""}),
        ("mobile", {"mobile": "12345"}),
        ("mobile", {"mobile": "abcdefghijk"}),
        ("mobile", {"mobile": "021-6234-5678"}),  # a landline: no mobile, no SMS
        ("car_model", {"car_model": "x" * 101}),
    ],
)
def test_bad_input_is_refused_on_its_field(team, own_code, field, changes):
    with pytest.raises(InvalidInput) as refused:
        claim(own_code, **changes)
    assert refused.value.field == field
    assert not Lead.objects.exists()


def test_a_model_list_is_kept_to(team, show, own_code):
    show.car_models = "瑶光\n揽月"
    show.save()
    with pytest.raises(InvalidInput):
        claim(own_code, car_model="别的车")
    assert claim(own_code, car_model="揽月").lead.car_model == "揽月"


def test_scripts_in_fields_are_stored_as_text(team, own_code):
    lead = claim(own_code, name="<script>x</script>", car_model="<img src=x>").lead
    assert lead.customer.name == "<script>x</script>" and lead.car_model == "<img src=x>"


def test_one_number_is_refused_after_a_few_tries_until_the_window_passes(
    team, own_code, fixed_clock
):
    fixed_clock.move_to(timezone.now().replace(minute=0, second=1))
    for _ in range(capture.MOBILE_LIMIT.count):
        claim(own_code)
    with pytest.raises(capture.RateLimited) as refused:
        claim(own_code, mobile="+86 139 1234 5678")
    assert refused.value.status == 429 and 0 < refused.value.retry_after <= 3600
    assert "try again" in refused.value.message
    claim(own_code, mobile="13912340000")  # another number is not held back
    fixed_clock.shift(capture.MOBILE_LIMIT.window)
    claim(own_code)


def test_one_address_is_refused_after_many_forms(team, fixed_clock):
    fixed_clock.move_to(timezone.now().replace(minute=0, second=1))
    for _ in range(capture.ADDRESS_LIMIT.count):
        capture.check_address("198.51.100.7")
    with pytest.raises(capture.RateLimited):
        capture.check_address("198.51.100.7")
    capture.check_address("198.51.100.8")
    fixed_clock.shift(capture.ADDRESS_LIMIT.window)
    capture.check_address("198.51.100.7")


def test_the_form_token_needs_a_human_pace(fixed_clock):
    token = capture.form_token("abc")
    with pytest.raises(capture.HumanCheckFailed, match="quick"):
        capture.check_form_token(token, "abc")
    fixed_clock.shift(capture.MIN_FILL_SECONDS + 1)
    capture.check_form_token(token, "abc")
    with pytest.raises(capture.HumanCheckFailed):
        capture.check_form_token(token, "another")  # a token of another code's page
    with pytest.raises(capture.HumanCheckFailed):
        capture.check_form_token(token, "abc", honeypot="http://spam.example")
    with pytest.raises(capture.HumanCheckFailed):
        capture.check_form_token(token + "x", "abc")
    with pytest.raises(capture.HumanCheckFailed):
        capture.check_form_token("", "abc")
    fixed_clock.shift(capture.TOKEN_MAX_AGE)
    with pytest.raises(capture.HumanCheckFailed, match="long time"):
        capture.check_form_token(token, "abc")


def test_the_figures_follow_the_leads_milestones(team, show, own_code, staff_code):
    leads = [claim(staff_code, mobile=f"1391234000{n}").lead for n in range(3)]
    claim(own_code, mobile="13912340009")
    make_lead(team.dealer, phone="13912340008")
    claim(own_code, mobile="13912340008")  # a repeat enquiry
    for lead in leads[:2]:
        actions.record_arrival(lead=lead, by=team.showroom_manager)
    actions.record_order(lead=leads[0], by=team.showroom_manager, car_model="瑶光")

    figures = campaign_figures([show])[show.pk]
    assert (figures.leads, figures.touches, figures.arrivals, figures.orders) == (4, 1, 2, 1)
    assert str(figures.cost_per_lead) == "3000.00" and str(figures.cost_per_order) == "12000.00"
    by_code = code_figures(show)
    assert (by_code[staff_code.pk].leads, by_code[staff_code.pk].arrivals) == (3, 2)
    assert (by_code[own_code.pk].leads, by_code[own_code.pk].touches) == (1, 1)
    assert by_code[own_code.pk].cost_per_lead is None  # a code has no cost of its own
