"""leads.actions.create_lead: one customer per dealer and number, repeat enquiries as touches,
new leads after closing, landlines, bad numbers, external ids, names and their initials."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.roles import Role
from dcc.errors import InvalidInput, NotPermitted
from dcc.phone import PhoneError
from leads import actions, ledger
from leads.decisions import IntakeOutcome
from leads.models import CallOutcome, Customer, Event, EventKind, Lead, PhoneKind, Task, TaskKind
from leads.stages import Stage
from tests.factories import channel, fresh_mobile, make_lead

pytestmark = pytest.mark.django_db


def enquire(dealer, phone: str, via: str = "autohome", **fields) -> actions.Intake:
    return actions.create_lead(
        dealer=dealer,
        phone=phone,
        channel=channel(dealer, via),
        by=fields.pop("by", None),
        **fields,
    )


def spellings(mobile: str) -> list[str]:
    """The same mobile as people type it."""
    full_width = "".join(chr(ord(d) + 0xFEE0) for d in mobile)
    a, b, c = mobile[:3], mobile[3:7], mobile[7:]
    return [
        f"+86 {a} {b} {c}",
        f"{a}-{b}-{c}",
        f"{a} {b} {c}",
        full_width,
        f"＋８６ {full_width[:3]}　{full_width[3:7]}　{full_width[7:]}",
        f"0086{mobile}",
        f"86-{mobile}",
        f"({a}) {b}.{c}",
    ]


def counts() -> tuple[int, int, int, int]:
    return (
        Customer.objects.count(),
        Lead.objects.count(),
        Event.objects.count(),
        Task.objects.count(),
    )


# ---------------------------------------------------------------- dedup


def test_the_same_number_in_any_spelling_is_one_customer_and_one_lead(team):
    mobile = fresh_mobile()
    first = enquire(team.dealer, mobile)
    assert first.outcome is IntakeOutcome.CREATED
    channels = ["douyin", "wechat", "yiche", "baidu", "autohome", "car_show", "referral", "yiche"]
    variants = spellings(mobile)
    for raw, via in zip(variants, channels, strict=True):
        again = enquire(team.dealer, raw, via)
        assert again.outcome is IntakeOutcome.TOUCHED, raw
        assert again.lead.pk == first.lead.pk
    assert Customer.objects.filter(dealer=team.dealer).count() == 1
    assert Customer.objects.get().phone == mobile
    assert Lead.objects.count() == 1
    lead = Lead.objects.get()
    assert lead.touch_count == len(variants)
    assert lead.last_touched_at is not None
    touches = lead.events.filter(kind=EventKind.TOUCHED).order_by("seq")
    assert [t.data["channel"] for t in touches] == channels
    assert [t.seq for t in touches] == list(range(2, 2 + len(variants)))
    assert ledger.verify().ok


def test_a_touch_keeps_owner_stage_channel_and_first_call_task(team):
    mobile = fresh_mobile()
    lead = enquire(team.dealer, mobile, "autohome", car_model="S7").lead
    owner, deadline = lead.owner_id, lead.sla_deadline
    touched = enquire(
        team.dealer, f"+86{mobile}", "douyin", car_model="S9", note="问优惠", by=team.dcc_agent
    )
    assert touched.outcome is IntakeOutcome.TOUCHED
    assert not touched.created
    lead.refresh_from_db()
    assert (lead.owner_id, lead.stage, lead.channel.code) == (owner, Stage.NEW, "autohome")
    assert lead.sla_deadline == deadline
    assert lead.car_model == "S7"
    assert lead.touch_count == 1
    touch = lead.events.get(kind=EventKind.TOUCHED)
    assert touch.data == {"channel": "douyin", "car_model": "S9"}
    assert touch.note == "问优惠"
    assert touch.actor_id == team.dcc_agent.pk
    assert Task.objects.filter(lead=lead, kind=TaskKind.FIRST_CALL).count() == 1


def test_a_touch_on_a_lead_further_down_the_line(team):
    mobile = fresh_mobile()
    lead = enquire(team.dealer, mobile).lead
    actions.log_call(lead=lead, by=lead.owner, outcome=CallOutcome.REACHED)
    actions.hand_off(lead=lead, by=lead.owner, to=team.consultant)
    lead.refresh_from_db()
    actions.record_arrival(lead=lead, by=team.consultant)
    again = enquire(team.dealer, mobile, "walk_in")
    assert again.outcome is IntakeOutcome.TOUCHED
    again.lead.refresh_from_db()
    assert again.lead.stage == Stage.ARRIVED
    assert again.lead.owner == team.consultant


def close_invalid(lead, team):
    actions.invalidate_lead(lead=lead, by=lead.owner, reason="no_intent")


def close_delivered(lead, team):
    actions.hand_off(lead=lead, by=lead.owner, to=team.consultant)
    lead.refresh_from_db()
    actions.record_arrival(lead=lead, by=team.consultant)
    actions.record_order(lead=lead, by=team.consultant)
    actions.record_delivery(lead=lead, by=team.consultant)


def close_defeated(lead, team):
    actions.log_call(lead=lead, by=lead.owner, outcome=CallOutcome.REACHED)
    actions.request_defeat(lead=lead, by=lead.owner, reason="bought_competitor")
    actions.approve_defeat(lead=lead, by=team.dcc_supervisor)


@pytest.mark.parametrize(
    ("close", "stage"),
    [
        (close_invalid, Stage.INVALID),
        (close_delivered, Stage.DELIVERED),
        (close_defeated, Stage.DEFEATED),
    ],
)
def test_after_the_lead_is_closed_a_new_enquiry_is_a_new_lead(team, close, stage):
    mobile = fresh_mobile()
    old = enquire(team.dealer, mobile, "autohome").lead
    close(old, team)
    old.refresh_from_db()
    assert old.stage == stage
    old_seq = old.last_event_seq

    again = enquire(team.dealer, f"+86 {mobile}", "douyin", car_model="S9")
    assert again.outcome is IntakeOutcome.CREATED
    assert again.lead.pk != old.pk
    assert again.lead.customer_id == old.customer_id
    assert again.lead.channel.code == "douyin"
    assert again.lead.stage == Stage.NEW
    assert again.lead.touch_count == 0
    assert Customer.objects.count() == 1
    assert Lead.objects.filter(customer_id=old.customer_id).count() == 2
    old.refresh_from_db()
    assert (old.stage, old.last_event_seq, old.touch_count) == (stage, old_seq, 0)
    # And the next enquiry touches the new open lead, not the closed one.
    third = enquire(team.dealer, mobile, "wechat")
    assert third.outcome is IntakeOutcome.TOUCHED
    assert third.lead.pk == again.lead.pk


def test_a_pending_defeat_is_still_open_so_an_enquiry_touches_it(team):
    mobile = fresh_mobile()
    lead = enquire(team.dealer, mobile).lead
    actions.log_call(lead=lead, by=lead.owner, outcome=CallOutcome.REACHED)
    actions.request_defeat(lead=lead, by=lead.owner, reason="price")
    again = enquire(team.dealer, mobile, "douyin")
    assert again.outcome is IntakeOutcome.TOUCHED
    assert again.lead.pk == lead.pk


# ---------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("021-6234 5678", "02162345678"),
        ("+86 21 6234 5678", "02162345678"),
        ("(0755) 8765-4321", "075587654321"),
        ("010 8888 6666", "01088886666"),
    ],
)
def test_landline_numbers_are_accepted_and_flagged(team, raw, stored):
    intake = enquire(team.dealer, raw)
    assert intake.outcome is IntakeOutcome.CREATED
    customer = intake.lead.customer
    assert customer.phone == stored
    assert customer.phone_kind == PhoneKind.LANDLINE


def test_landline_in_two_spellings_is_one_customer(team):
    enquire(team.dealer, "021-6234 5679")
    again = enquire(team.dealer, "+86 (21) 62345679", "douyin")
    assert again.outcome is IntakeOutcome.TOUCHED
    assert Customer.objects.get().phone_kind == PhoneKind.LANDLINE


def test_mobile_numbers_are_flagged_mobile(team):
    intake = enquire(team.dealer, fresh_mobile())
    assert intake.lead.customer.phone_kind == PhoneKind.MOBILE


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "phone_empty"),
        ("   ", "phone_empty"),
        ("12345", None),
        ("1391234567", "phone_length"),
        ("139123456789", "phone_length"),
        ("1391234567x", "phone_letters"),
        ("139*1234*5678", "phone_characters"),
        ("+1 202 555 0123", "phone_not_chinese"),
        ("400-810-0000", "phone_service_number"),
        ("800 820 8820", "phone_service_number"),
    ],
)
def test_bad_numbers_raise_phone_error_and_write_nothing(team, raw, code):
    enquire(team.dealer, fresh_mobile())
    before = counts()
    with pytest.raises(PhoneError) as raised:
        enquire(team.dealer, raw)
    assert isinstance(raised.value, InvalidInput)
    if code:
        assert raised.value.code == code
    assert raised.value.field == "mobile"
    assert counts() == before


def test_the_same_number_at_another_dealer_is_another_customer(team, other_team):
    mobile = fresh_mobile()
    here = enquire(team.dealer, mobile)
    there = enquire(other_team.dealer, f"+86 {mobile}")
    assert here.outcome is there.outcome is IntakeOutcome.CREATED
    assert here.lead.customer_id != there.lead.customer_id
    assert here.lead.dealer_id == team.dealer.pk
    assert there.lead.dealer_id == other_team.dealer.pk
    assert there.lead.customer.dealer_id == other_team.dealer.pk
    assert there.lead.channel.dealer_id == other_team.dealer.pk
    assert there.lead.owner_id in {other_team.dcc_agent.pk, other_team.dcc_agent_2.pk}
    assert Customer.objects.filter(phone=mobile).count() == 2
    # Each dealer's repeat enquiry touches only its own lead.
    assert enquire(team.dealer, mobile, "douyin").lead.pk == here.lead.pk
    there.lead.refresh_from_db()
    assert there.lead.touch_count == 0


def test_another_dealers_channel_is_refused(team, other_team):
    with pytest.raises(InvalidInput) as raised:
        actions.create_lead(
            dealer=team.dealer,
            phone=fresh_mobile(),
            channel=channel(other_team.dealer, "autohome"),
            by=None,
        )
    assert raised.value.code == "unknown_channel"
    assert counts() == (0, 0, 0, 0)


# ---------------------------------------------------------------- external ids


def test_the_same_external_id_again_is_a_duplicate_and_writes_nothing(team):
    mobile = fresh_mobile()
    first = enquire(team.dealer, mobile, external_id="AH-20240501-0001")
    before = counts()

    again = enquire(team.dealer, f"+86 {mobile}", external_id="AH-20240501-0001")
    assert again.outcome is IntakeOutcome.DUPLICATE
    assert not again.created
    assert again.lead.pk == first.lead.pk
    # Even with another number, it is the platform resending the same lead.
    other = enquire(team.dealer, fresh_mobile(), external_id="AH-20240501-0001", name="李四")
    assert other.outcome is IntakeOutcome.DUPLICATE
    assert other.lead.pk == first.lead.pk

    assert counts() == before
    first.lead.refresh_from_db()
    assert first.lead.touch_count == 0
    assert first.lead.last_event_seq == 1


def test_the_same_external_id_from_another_channel_is_not_a_duplicate(team):
    enquire(team.dealer, fresh_mobile(), "autohome", external_id="42")
    other = enquire(team.dealer, fresh_mobile(), "yiche", external_id="42")
    assert other.outcome is IntakeOutcome.CREATED
    assert Lead.objects.count() == 2


def test_a_resent_external_id_of_a_closed_lead_is_still_a_duplicate(team):
    mobile = fresh_mobile()
    first = enquire(team.dealer, mobile, external_id="AH-7").lead
    actions.invalidate_lead(lead=first, by=first.owner, reason="no_intent")
    before = counts()
    again = enquire(team.dealer, mobile, external_id="AH-7")
    assert again.outcome is IntakeOutcome.DUPLICATE
    assert counts() == before


def test_a_new_external_id_from_a_known_customer_is_a_touch(team):
    mobile = fresh_mobile()
    first = enquire(team.dealer, mobile, external_id="AH-1").lead
    again = enquire(team.dealer, mobile, external_id="AH-2")
    assert again.outcome is IntakeOutcome.TOUCHED
    assert again.lead.pk == first.pk


# ---------------------------------------------------------------- names


def test_pinyin_initials_are_stored(team):
    customer = enquire(team.dealer, fresh_mobile(), name="王小明").lead.customer
    assert customer.name == "王小明"
    assert customer.name_initials == "wxm"


@pytest.mark.parametrize(
    ("name", "initials"),
    [("  王小明 ", "wxm"), ("欧阳娜娜", "oynn"), ("王 小明", "wxm"), ("", "")],
)
def test_names_are_trimmed_and_initialled(team, name, initials):
    customer = enquire(team.dealer, fresh_mobile(), name=name).lead.customer
    assert customer.name == name.strip()
    assert customer.name_initials == initials


def test_latin_letters_in_a_name_are_kept_lower_cased(team):
    customer = enquire(team.dealer, fresh_mobile(), name="Lisa").lead.customer
    assert customer.name_initials == "lisa"


def test_the_name_is_filled_in_later_when_the_first_enquiry_had_none(team):
    mobile = fresh_mobile()
    lead = enquire(team.dealer, mobile).lead
    assert (lead.customer.name, lead.customer.name_initials) == ("", "")
    again = enquire(
        team.dealer, f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}", "douyin", name="王小明"
    )
    assert again.outcome is IntakeOutcome.TOUCHED
    customer = Customer.objects.get()
    assert (customer.name, customer.name_initials) == ("王小明", "wxm")


def test_a_known_name_is_not_overwritten_by_a_later_enquiry(team):
    mobile = fresh_mobile()
    enquire(team.dealer, mobile, name="王小明")
    enquire(team.dealer, mobile, "douyin", name="王先生")
    customer = Customer.objects.get()
    assert (customer.name, customer.name_initials) == ("王小明", "wxm")


def test_the_name_is_filled_in_by_a_new_lead_after_closing(team):
    mobile = fresh_mobile()
    lead = enquire(team.dealer, mobile).lead
    actions.invalidate_lead(lead=lead, by=lead.owner, reason="no_intent")
    enquire(team.dealer, mobile, name="张伟")
    customer = Customer.objects.get()
    assert (customer.name, customer.name_initials) == ("张伟", "zw")


# ---------------------------------------------------------------- who and when


def test_system_intake_and_entry_by_staff(team):
    system = enquire(team.dealer, fresh_mobile())
    assert system.lead.created_by is None
    assert system.lead.events.get().actor_id is None
    by_hand = enquire(team.dealer, fresh_mobile(), by=team.platform_specialist)
    assert by_hand.lead.created_by == team.platform_specialist
    assert by_hand.lead.events.get().actor_id == team.platform_specialist.pk


@pytest.mark.parametrize("role", [Role.OWNER_OPS, Role.AUDITOR, Role.HEADQUARTERS])
def test_people_who_may_not_enter_leads_write_nothing(team, role):
    with pytest.raises(NotPermitted):
        enquire(team.dealer, fresh_mobile(), by=team.by_role(role))
    assert counts() == (0, 0, 0, 0)


def test_a_new_lead_has_its_created_event_and_first_call_task(team):
    at = timezone.now() - timedelta(days=3)
    lead = enquire(team.dealer, fresh_mobile(), "hotline_400", at=at, car_model="S7").lead
    created = lead.events.get()
    assert (created.kind, created.seq, created.to_stage) == (EventKind.CREATED, 1, Stage.NEW)
    assert created.to_owner_id == lead.owner_id
    assert created.data == {"channel": "hotline_400", "car_model": "S7", "by_rules": True}
    assert created.occurred_at == at
    assert lead.created_at == at
    task = Task.objects.get(lead=lead)
    assert (task.kind, task.assignee_id, task.due_at) == (
        TaskKind.FIRST_CALL,
        lead.owner_id,
        lead.sla_deadline,
    )


def test_an_explicit_owner_is_recorded_as_not_by_rules(team):
    lead = make_lead(team.dealer, owner=team.dcc_agent_2)
    assert lead.owner == team.dcc_agent_2
    assert lead.events.get().data["by_rules"] is False


def test_an_owner_who_may_not_own_leads_is_refused(team):
    with pytest.raises(InvalidInput) as raised:
        make_lead(team.dealer, owner=team.auditor)
    assert raised.value.code == "bad_owner"
    assert counts() == (0, 0, 0, 0)
