"""Owner events: an event within its capacity and budget, owners invited by segment (once),
sign-ups never beyond the places left, check-in at the door by the invitation's code (once,
this dealer's only, the event points once), guests becoming leads credited to the inviting
owner, and what each event brought, exactly."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dcc.errors import Conflict, InvalidInput, NotPermitted
from leads import actions
from leads.models import Channel, Event, EventKind
from owners import events, referrals
from owners.models import (
    EventGuest,
    Invitation,
    Member,
    MemberTier,
    OwnerEvent,
    OwnerEventKind,
    PointsEntry,
    PointsKind,
    Referral,
    ReferralSource,
    Vehicle,
)
from owners.vehicles import return_vehicle
from tests.conftest import FIXED_NOW
from tests.factories import fresh_mobile, make_lead
from tests.kit import login
from tests.owners.conftest import deliver

pytestmark = pytest.mark.django_db

# The event: next Saturday afternoon (FIXED_NOW is a Wednesday morning).
STARTS = FIXED_NOW.replace(hour=14) + timedelta(days=3)
ENDS = STARTS + timedelta(hours=3)
AT_THE_DOOR = STARTS + timedelta(minutes=10)


def fields(**changes) -> events.EventFields:
    values = {
        "title": "秋季自驾游",
        "kind": OwnerEventKind.SELF_DRIVE,
        "starts_at": STARTS,
        "ends_at": ENDS,
        "capacity": 10,
        "place": "莫干山",
        "budget": Decimal("5000"),
        "cost": Decimal("0"),
    }
    return events.EventFields(**(values | changes))


def new_event(team, **changes):
    return events.create_event(dealer=team.dealer, by=team.owner_ops, fields=fields(**changes))


def owner(team, name: str = "车主", **kwargs):
    customer = deliver(team, **kwargs).customer
    customer.name = name
    customer.save(update_fields=["name"])
    return customer


def invitation_of(event, customer) -> Invitation:
    return Invitation.objects.select_related("customer", "event").get(
        event=event, customer=customer
    )


def invited(team, event, *customers) -> list[Invitation]:
    events.invite(event=event, segment={}, by=team.owner_ops)
    return [invitation_of(event, c) for c in customers]


def field_of(call) -> tuple[str | None, str]:
    with pytest.raises(InvalidInput) as refused:
        call()
    return refused.value.field, refused.value.message


# ---------------------------------------------------------------- the event


def test_an_event_is_refused_with_the_field_that_is_wrong(team):
    assert field_of(lambda: new_event(team, ends_at=STARTS)) == (
        "ends_at",
        "The event must end after it starts.",
    )
    assert field_of(lambda: new_event(team, capacity=0))[0] == "capacity"
    assert field_of(lambda: new_event(team, budget=Decimal("-1")))[0] == "budget"
    assert field_of(lambda: new_event(team, cost="NaN"))[0] == "cost"
    assert field_of(lambda: new_event(team, title="  "))[0] == "title"
    assert field_of(lambda: new_event(team, kind="party"))[0] == "kind"
    with pytest.raises(NotPermitted):
        events.create_event(dealer=team.dealer, by=team.consultant, fields=fields())
    event = new_event(team)
    assert (event.capacity, event.budget, event.created_by) == (10, Decimal(5000), team.owner_ops)


def test_the_capacity_is_never_cut_below_the_people_signed_up(team):
    event = new_event(team)
    (invitation,) = invited(team, event, owner(team))
    events.sign_up(invitation=invitation, by=team.owner_ops, party_size=4)
    field, message = field_of(
        lambda: events.edit_event(event=event, by=team.owner_ops, fields=fields(capacity=3))
    )
    assert field == "capacity" and "4 people have signed up already" in message
    edited = events.edit_event(
        event=event, by=team.owner_ops, fields=fields(capacity=4, cost=Decimal("1200.50"))
    )
    assert (edited.capacity, edited.cost) == (4, Decimal("1200.50"))


# ---------------------------------------------------------------- segments and invitations


def test_the_segment_picks_owners_by_tier_model_and_delivery_day(team, other_team):
    early = owner(team, "早", car_model="Model Y", at=FIXED_NOW - timedelta(days=40))
    late = owner(team, "晚", car_model="Model 3", at=FIXED_NOW - timedelta(days=5))
    gold = owner(team, "金", car_model="Model 3", at=FIXED_NOW - timedelta(days=20))
    returned = owner(team, "退", car_model="Model 3", at=FIXED_NOW - timedelta(days=10))
    return_vehicle(vehicle=Vehicle.objects.get(owner=returned), by=team.gm)
    owner(other_team, "别家", car_model="Model 3")
    make_lead(team.dealer, by=team.dcc_agent)  # a prospect, not an owner
    gold_tier = MemberTier.objects.get(dealer=team.dealer, name="Gold")
    Member.objects.filter(customer=gold).update(tier=gold_tier)

    def picked(**segment) -> set[str]:
        return set(events.segment_owners(team.dealer, segment).values_list("name", flat=True))

    assert picked() == {"早", "晚", "金"}
    assert picked(models=["Model 3"]) == {"晚", "金"}
    assert picked(tiers=[gold_tier.pk]) == {"金"}
    since = timezone.localdate(FIXED_NOW - timedelta(days=20))
    assert picked(delivered_from=since.isoformat()) == {"晚", "金"}
    assert picked(delivered_from=since, delivered_to=since) == {"金"}
    assert {early.pk, late.pk} <= {c.pk for c in events.segment_owners(team.dealer, {})}
    other_tier = MemberTier.objects.filter(dealer=other_team.dealer).first() or (
        MemberTier.objects.create(dealer=other_team.dealer, name="Other", min_points=0)
    )
    assert field_of(lambda: picked(tiers=[other_tier.pk]))[0] == "tiers"
    assert field_of(lambda: picked(delivered_from="2026-13-01"))[0] == "delivered_from"
    assert (
        field_of(lambda: picked(delivered_from="2026-11-02", delivered_to="2026-11-01"))[0]
        == "delivered_to"
    )


def test_inviting_twice_invites_each_owner_once_with_an_unguessable_code(team):
    event = new_event(team)
    first = owner(team, "甲", car_model="Model 3")
    assert events.invite(event=event, segment={"models": ["Model 3"]}, by=team.owner_ops) == (
        events.Invited(invited=1, already=0)
    )
    owner(team, "乙", car_model="Model Y")
    again = events.invite(event=event, segment={}, by=team.owner_ops)
    assert again == events.Invited(invited=1, already=1)
    assert events.invite(event=event, segment={}, by=team.owner_ops).invited == 0
    codes = list(Invitation.objects.filter(event=event).values_list("code", flat=True))
    assert len(codes) == len(set(codes)) == 2
    assert all(len(c) == 16 and set(c) <= set(events.CODE_ALPHABET) for c in codes)
    assert invitation_of(event, first).invited_by == team.owner_ops
    event.refresh_from_db()
    assert event.segment["models"] == []  # the last round's segment


def test_an_event_that_is_over_takes_no_more_invitations_or_answers(team, fixed_clock):
    event = new_event(team)
    (invitation,) = invited(team, event, owner(team))
    fixed_clock.move_to(ENDS + timedelta(hours=1))
    with pytest.raises(Conflict):
        events.invite(event=event, segment={}, by=team.owner_ops)
    with pytest.raises(Conflict):
        events.sign_up(invitation=invitation, by=team.owner_ops, party_size=1)


def test_sign_ups_stop_at_the_capacity_saying_how_many_places_are_left(team):
    event = new_event(team, capacity=3)
    a, b, c = invited(team, event, owner(team, "甲"), owner(team, "乙"), owner(team, "丙"))
    events.sign_up(invitation=a, by=team.owner_ops, party_size=2)
    assert field_of(lambda: events.sign_up(invitation=b, by=team.owner_ops, party_size=2)) == (
        "party_size",
        "Only 1 place is left of 3.",
    )
    events.sign_up(invitation=b, by=team.owner_ops, party_size=1)
    assert field_of(lambda: events.sign_up(invitation=c, by=team.owner_ops, party_size=1)) == (
        "party_size",
        "The event is full: all 3 places are taken.",
    )
    # Signing up again changes the number within what is left, counting one's own places.
    events.sign_up(invitation=a, by=team.owner_ops, party_size=1)
    events.sign_up(invitation=c, by=team.owner_ops, party_size=1)
    assert events.places_left(event) == 0
    events.decline(invitation=a, by=team.owner_ops)
    assert events.places_left(event) == 1
    a.refresh_from_db()
    assert a.signed_up_at is None and a.declined_at is not None
    assert field_of(lambda: events.sign_up(invitation=a, by=team.owner_ops, party_size=0))[0] == (
        "party_size"
    )
    with pytest.raises(NotPermitted):
        events.sign_up(invitation=a, by=team.auditor, party_size=1)


# ---------------------------------------------------------------- at the door


def test_check_in_happens_once_and_earns_the_event_points_once(team, fixed_clock):
    event = new_event(team)
    ann = owner(team, "安")
    (invitation,) = invited(team, event, ann)
    events.sign_up(invitation=invitation, by=team.owner_ops, party_size=2)
    member = Member.objects.get(customer=ann)
    before = member.usable_points
    fixed_clock.move_to(AT_THE_DOOR)
    scanned = f"https://dcc.example/owner-events/check-in/{invitation.code}/"
    first = events.check_in(dealer=team.dealer, code=scanned, by=team.owner_ops, event=event)
    assert (first.already, first.points) == (False, 100)
    typed = events.shown_code(invitation.code).lower()  # as read off the paper
    second = events.check_in(dealer=team.dealer, code=typed, by=team.gm)
    assert (second.already, second.points) == (True, 0)
    invitation.refresh_from_db()
    assert invitation.checked_in_at == first.invitation.checked_in_at
    assert invitation.checked_in_by == team.owner_ops
    member.refresh_from_db()
    assert member.usable_points == before + 100
    entries = PointsEntry.objects.filter(member=member, kind=PointsKind.EVENT)
    assert list(entries.values_list("points", "key")) == [(100, f"event:{event.pk}:{ann.pk}")]


def test_an_owner_who_comes_without_answering_is_signed_up_at_the_door(team, fixed_clock):
    event = new_event(team, capacity=1)
    a, b = invited(team, event, owner(team, "甲"), owner(team, "乙"))
    events.sign_up(invitation=a, by=team.owner_ops, party_size=1)
    fixed_clock.move_to(AT_THE_DOOR)
    events.check_in(dealer=team.dealer, code=b.code, by=team.owner_ops)
    b.refresh_from_db()
    assert b.signed_up_at is not None and b.signed_up_at == b.checked_in_at
    assert events.event_results(event).signed_up == 2


def test_the_door_refuses_codes_it_cannot_take_and_says_why(team, other_team, fixed_clock):
    event = new_event(team)
    other_event = new_event(team, title="新车发布会")
    declined, early = invited(team, event, owner(team, "甲"), owner(team, "乙"))
    events.invite(event=other_event, segment={}, by=team.owner_ops)
    elsewhere = events.create_event(
        dealer=other_team.dealer, by=other_team.owner_ops, fields=fields()
    )
    events.invite(event=elsewhere, segment={}, by=other_team.owner_ops)
    owner(other_team, "别家")
    events.invite(event=elsewhere, segment={}, by=other_team.owner_ops)
    theirs = Invitation.objects.get(event=elsewhere)
    events.decline(invitation=declined, by=team.owner_ops)

    def refused(code: str, **kwargs) -> str:
        with pytest.raises(InvalidInput) as error:
            events.check_in(dealer=team.dealer, code=code, by=team.owner_ops, **kwargs)
        assert error.value.field == "code"
        return error.value.code

    assert refused(early.code) == "too_early"  # the day before the event
    fixed_clock.move_to(AT_THE_DOOR)
    assert refused(theirs.code) == "other_dealer"
    assert refused("NOPE2345NOPE2345") == "unknown_code"
    assert refused("") == "unknown_code"
    assert refused(declined.code) == "declined"
    other_code = Invitation.objects.filter(event=other_event).first().code
    assert refused(other_code, event=event) == "other_event"
    with pytest.raises(NotPermitted):
        events.check_in(dealer=team.dealer, code=early.code, by=team.auditor)
    assert not Invitation.objects.filter(checked_in_at__isnull=False).exists()


# ---------------------------------------------------------------- guests


@pytest.fixture
def at_the_door(team, fixed_clock):
    """An event with 赵先生 invited, signed up for 3 and checked in."""
    event = new_event(team)
    zhao = owner(team, "赵先生")
    (invitation,) = invited(team, event, zhao)
    events.sign_up(invitation=invitation, by=team.owner_ops, party_size=3)
    fixed_clock.move_to(AT_THE_DOOR)
    events.check_in(dealer=team.dealer, code=invitation.code, by=team.owner_ops)
    invitation.refresh_from_db()
    return invitation


def test_a_guest_becomes_a_lead_credited_to_the_owner_who_brought_them(team, at_the_door):
    added = events.add_guest(
        invitation=at_the_door, name="钱女士", phone="139 0000 1111", by=team.owner_ops
    )
    assert added.new_lead and added.credited and not added.why_not
    lead = added.lead
    assert lead.channel == Channel.objects.get(dealer=team.dealer, code="referral")
    assert (lead.customer.phone, lead.customer.name) == ("13900001111", "钱女士")
    referral = Referral.objects.get(lead=lead)
    assert (referral.referrer, referral.source, referral.event) == (
        at_the_door.customer,
        ReferralSource.EVENT,
        at_the_door.event,
    )
    fact = Event.objects.get(lead=lead, kind=EventKind.REFERRED)
    assert fact.data["step"] == "named" and fact.data["referrer"] == at_the_door.customer_id
    assert fact.actor == team.owner_ops
    guest = EventGuest.objects.get()
    assert (guest.invitation, guest.lead, guest.added_by) == (at_the_door, lead, team.owner_ops)
    # The same guest twice: refused on the phone, nothing more written.
    assert (
        field_of(
            lambda: events.add_guest(
                invitation=at_the_door, name="钱女士", phone="13900001111", by=team.owner_ops
            )
        )[0]
        == "phone"
    )
    assert EventGuest.objects.count() == 1


def test_a_guest_with_an_open_lead_is_a_repeat_enquiry_credited_if_nobody_referred_it(
    team, at_the_door
):
    phone = fresh_mobile()
    open_lead = make_lead(team.dealer, by=team.dcc_agent, phone=phone)
    added = events.add_guest(invitation=at_the_door, name="孙", phone=phone, by=team.owner_ops)
    assert (added.lead.pk, added.new_lead, added.credited) == (open_lead.pk, False, True)
    open_lead.refresh_from_db()
    assert open_lead.touch_count == 1


def test_a_lead_referred_already_or_the_owner_themself_is_kept_but_not_credited(team, at_the_door):
    earlier = owner(team, "李")
    phone = fresh_mobile()
    lead = make_lead(team.dealer, by=team.dcc_agent, phone=phone)
    referrals.name_referrer(lead=lead, referrer=earlier, by=team.dcc_supervisor)
    added = events.add_guest(invitation=at_the_door, name="周", phone=phone, by=team.owner_ops)
    assert (added.lead.pk, added.credited) == (lead.pk, False)
    assert "referred already, by 李" in added.why_not
    assert Referral.objects.get(lead=lead).referrer == earlier
    themself = events.add_guest(
        invitation=at_the_door, name="", phone=at_the_door.customer.phone, by=team.owner_ops
    )
    assert not themself.credited and "owner themself" in themself.why_not
    assert EventGuest.objects.filter(invitation=at_the_door).count() == 2


def test_a_guest_needs_a_phone_number_and_an_owner_checked_in(team, at_the_door):
    for phone in ("", "abc", "123", "\x00"):
        field, _message = field_of(
            lambda phone=phone: events.add_guest(
                invitation=at_the_door, name="x", phone=phone, by=team.owner_ops
            )
        )
        assert field == "phone"
    (not_in,) = [
        i for i in invited(team, at_the_door.event, owner(team, "吴")) if i.pk != at_the_door.pk
    ]
    with pytest.raises(Conflict):
        events.add_guest(invitation=not_in, name="x", phone=fresh_mobile(), by=team.owner_ops)
    with pytest.raises(NotPermitted):
        events.add_guest(invitation=at_the_door, name="x", phone=fresh_mobile(), by=team.consultant)
    assert not EventGuest.objects.exists()


# ---------------------------------------------------------------- what an event brought


def test_the_results_count_exactly_what_the_event_brought(team, fixed_clock):
    event = new_event(team, capacity=10, budget=Decimal("5000"))
    a, b, c, d = invited(
        team, event, owner(team, "甲"), owner(team, "乙"), owner(team, "丙"), owner(team, "丁")
    )
    events.sign_up(invitation=a, by=team.owner_ops, party_size=3)
    events.sign_up(invitation=b, by=team.owner_ops, party_size=1)
    events.sign_up(invitation=c, by=team.owner_ops, party_size=2)
    events.decline(invitation=d, by=team.owner_ops)
    # A guest's open lead that came to the showroom before the event: not the event's arrival.
    known = fresh_mobile()
    make_lead(team.dealer, by=team.dcc_agent, phone=known)
    actions.check_in_visitor(dealer=team.dealer, phone=known, by=team.consultant)
    fixed_clock.move_to(AT_THE_DOOR)
    for invitation in (a, b):
        events.check_in(dealer=team.dealer, code=invitation.code, by=team.owner_ops)
    new_guest = events.add_guest(
        invitation=a, name="钱", phone=fresh_mobile(), by=team.owner_ops
    ).lead
    events.add_guest(invitation=a, name="孙", phone=known, by=team.owner_ops)
    events.add_guest(invitation=b, name="李", phone=b.customer.phone, by=team.owner_ops)
    events.edit_event(event=event, by=team.owner_ops, fields=fields(cost=Decimal("3000")))
    fixed_clock.move_to(AT_THE_DOOR + timedelta(days=2))
    lead = actions.check_in_visitor(
        dealer=team.dealer, phone=new_guest.customer.phone, by=team.consultant
    )
    assert lead.pk == new_guest.pk
    actions.record_order(lead=lead, by=team.consultant, car_model="Model 3")

    event.refresh_from_db()
    result = events.event_results(event)
    assert (result.invited, result.signed_up, result.declined) == (4, 3, 1)
    assert (result.people_expected, result.checked_in) == (6, 2)
    assert result.attendance_rate == pytest.approx(2 / 3)
    assert (result.guests, result.leads, result.referrals) == (3, 3, 2)
    assert (result.arrivals, result.orders) == (1, 1)
    assert (result.budget, result.cost, result.over_budget) == (Decimal(5000), Decimal(3000), False)
    assert result.cost_per_lead == Decimal("1000.00")


def test_the_results_of_any_number_of_events_take_three_queries(team, fixed_clock):
    made = []
    for n in range(3):
        event = new_event(team, title=f"活动{n}")
        (invitation,) = invited(team, event, owner(team, f"车主{n}"))
        made.append(event)
    fixed_clock.move_to(AT_THE_DOOR)
    for event in made:
        invitation = Invitation.objects.filter(event=event).first()
        events.check_in(dealer=team.dealer, code=invitation.code, by=team.owner_ops)
        events.add_guest(invitation=invitation, name="客", phone=fresh_mobile(), by=team.owner_ops)
    with CaptureQueriesContext(connection) as one:
        events.results_for(made[:1])
    with CaptureQueriesContext(connection) as three:
        results = events.results_for(made)
    assert len(one) == len(three) == 3
    assert [results[e.pk].leads for e in made] == [1, 1, 1]
    assert events.results_for([]) == {}


# ---------------------------------------------------------------- the pages


def event_form(**changes) -> dict[str, str]:
    local = timezone.localtime
    return {
        "title": "亲子嘉年华",
        "kind": "family_day",
        "starts_at": local(STARTS).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": local(ENDS).strftime("%Y-%m-%dT%H:%M"),
        "place": "展厅",
        "capacity": "2",
        "budget": "8000",
        "cost": "0",
    } | changes


def test_owner_operations_run_an_event_from_its_pages(team, fixed_clock):
    zhao = owner(team, "赵先生", car_model="Model 3")
    owner(team, "钱先生", car_model="Model Y")
    ops = login(team.owner_ops)
    answer = ops.post("/owner-events/new/", event_form())
    assert answer.status_code == 302
    event = OwnerEvent.objects.get()
    assert answer["Location"] == f"/owner-events/{event.pk}/"
    page = f"/owner-events/{event.pk}/"
    answer = ops.post(page, {"step": "invite", "invite-models": ["Model 3"]}, follow=True)
    assert "1 owner invited (0 invited before)." in answer.content.decode()
    invitation = invitation_of(event, zhao)
    over = ops.post(page, {"step": "sign_up", "sign_up-code": invitation.code,
                           "sign_up-party_size": "3"})  # fmt: skip
    assert over.status_code == 422 and "Only 2 places are left of 2." in over.content.decode()
    ok = ops.post(page, {"step": "sign_up", "sign_up-code": invitation.code,
                         "sign_up-party_size": "2"})  # fmt: skip
    assert ok.status_code == 302

    # The invitation: its QR code opens the check-in page of its code.
    card = ops.get(f"/owner-events/invitations/{invitation.code}/").content.decode()
    assert "<svg" in card and f"http://testserver/owner-events/check-in/{invitation.code}/" in card

    # At the door: the scanner types the address; the check-in page then takes the guests.
    fixed_clock.move_to(AT_THE_DOOR)
    door = f"/owner-events/{event.pk}/door/"
    scanned = ops.post(
        door, {"code": f"http://testserver/owner-events/check-in/{invitation.code}/"}
    )
    assert scanned.status_code == 302
    assert scanned["Location"] == f"/owner-events/check-in/{invitation.code}/"
    guest = ops.post(scanned["Location"], {"step": "guest", "guest-name": "孙女士",
                                           "guest-phone": "13955556666"})  # fmt: skip
    assert guest.status_code == 302
    lead = EventGuest.objects.get().lead
    assert Referral.objects.get(lead=lead).referrer == zhao
    detail = login(team.gm).get(page).content.decode()
    assert f'href="/leads/{lead.pk}/"' in detail and "Credited to 赵先生" in detail
    listed = ops.get("/owner-events/").content.decode()
    assert "亲子嘉年华" in listed


def test_the_qr_address_checks_in_on_post_only(team, at_the_door):
    event = at_the_door.event
    (other,) = [i for i in invited(team, event, owner(team, "吴")) if i.pk != at_the_door.pk]
    ops = login(team.owner_ops)
    address = f"/owner-events/check-in/{other.code}/"
    page = ops.get(address)
    assert page.status_code == 200 and "Check in" in page.content.decode()
    other.refresh_from_db()
    assert other.checked_in_at is None
    assert ops.post(address, {"step": "check_in"}).status_code == 302
    other.refresh_from_db()
    assert other.checked_in_at is not None
    assert "Checked in at" in ops.get(address).content.decode()


def test_readers_read_and_others_are_refused(team, other_team, at_the_door):
    event = at_the_door.event
    for path in (
        "/owner-events/",
        f"/owner-events/{event.pk}/",
        f"/owner-events/invitations/{at_the_door.code}/",
        f"/owner-events/check-in/{at_the_door.code}/",
        f"/owner-events/{event.pk}/door/",
    ):
        for reader in (team.auditor, team.headquarters):
            assert login(reader).get(path).status_code == 200, path
        assert login(team.consultant).get(path).status_code == 403, path
        assert login(team.dcc_agent).get(path).status_code == 403, path
    auditor = login(team.auditor)
    assert auditor.post(f"/owner-events/{event.pk}/", {"step": "invite"}).status_code == 403
    door = f"/owner-events/{event.pk}/door/"
    assert auditor.post(door, {"code": at_the_door.code}).status_code == 403
    assert login(team.auditor).get("/owner-events/new/").status_code == 403
    theirs = login(other_team.owner_ops)
    assert theirs.get(f"/owner-events/{event.pk}/").status_code == 404
    refused = theirs.get(f"/owner-events/check-in/{at_the_door.code}/")
    assert refused.status_code == 404
    assert "another dealer" in refused.content.decode()


def test_the_owner_page_lists_the_owners_invitations(team, at_the_door):
    events.add_guest(invitation=at_the_door, name="孙", phone=fresh_mobile(), by=team.owner_ops)
    page = login(team.owner_ops).get(f"/owners/{at_the_door.customer_id}/").content.decode()
    assert "秋季自驾游" in page and "Came" in page and "1 guest" in page


def test_the_pages_speak_chinese(team, at_the_door):
    client = login(team.owner_ops, language="zh-hans")
    assert "车主活动" in client.get("/owner-events/").content.decode()
    detail = client.get(f"/owner-events/{at_the_door.event_id}/").content.decode()
    assert "邀请" in detail and "自驾游" in detail


def test_a_scheduled_event_time_is_kept_in_the_dealers_zone(team):
    ops = login(team.owner_ops)
    assert ops.post("/owner-events/new/", event_form()).status_code == 302
    event = OwnerEvent.objects.get()
    assert event.starts_at == STARTS and isinstance(event.starts_at, datetime)


def test_a_long_invitation_list_is_paged_and_found_by_answer_and_name(
    team, fixed_clock, monkeypatch
):
    from owners import views_events

    monkeypatch.setattr(views_events, "PAGE_SIZE", 2)
    event = new_event(team)
    zhao, qian, sun = (owner(team, name) for name in ("赵先生", "钱女士", "孙先生"))
    coming, *_rest = invited(team, event, qian, zhao, sun)
    events.sign_up(invitation=coming, by=team.owner_ops, party_size=2)
    client = login(team.owner_ops)
    page = client.get(f"/owner-events/{event.pk}/").content.decode()
    assert page.count('data-testid="invitation"') == 2 and "1 / 2" in page
    second = client.get(f"/owner-events/{event.pk}/", {"page": 2}).content.decode()
    assert second.count('data-testid="invitation"') == 1
    found = client.get(f"/owner-events/{event.pk}/", {"answer": "coming"}).content.decode()
    assert found.count('data-testid="invitation"') == 1 and "钱女士" in found
    by_digits = client.get(f"/owner-events/{event.pk}/", {"q": sun.phone[-4:]}).content.decode()
    assert "孙先生" in by_digits and by_digits.count('data-testid="invitation"') == 1
    junk = client.get(f"/owner-events/{event.pk}/", {"answer": "x", "page": "z", "q": "<b>"})
    assert junk.status_code == 200 and "<b>" not in junk.content.decode()
