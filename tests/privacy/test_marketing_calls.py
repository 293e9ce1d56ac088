"""Outbound marketing calls honour consent and the do-not-call list: inviting an owner to an
event rings them only when they agreed to marketing calls and their number is not barred;
calls about the customer's own car (a return visit) are not marketing; nobody calls an erased
customer."""

from __future__ import annotations

import pytest

from calls.models import Call, PhoneAccount, Seat
from dcc.errors import InvalidInput
from owners import events
from owners.models import ReturnVisit
from owners.visits import dial_for_visit
from privacy import consent, rights
from privacy.models import ConsentSource, Purpose
from tests.calls.test_dial import serving_fake_clink
from tests.kit import login
from tests.owners.test_events import invited, new_event, owner

pytestmark = pytest.mark.django_db


@pytest.fixture
def phone(team):
    with serving_fake_clink() as (base, seen, _state):
        account = PhoneAccount.objects.create(
            dealer=team.dealer,
            provider="clink",
            api_url=base,
            credentials={
                "access_key_id": "AK",
                "access_key_secret": "s",
                "push_token": "push-token-0123456789",
            },
        )
        Seat.objects.create(account=account, seat="0009", staff=team.owner_ops)
        yield seen


def agree(customer, given=True):
    consent.record(
        customer=customer, purpose=Purpose.MARKETING_CALLS, given=given, how=ConsentSource.CALL
    )


def refusal(call) -> str:
    with pytest.raises(InvalidInput) as refused:
        call()
    assert refused.value.code in {"no_marketing_consent", "erased"}
    return refused.value.message


def test_an_invitation_call_needs_consent_and_a_number_not_on_the_list(team, phone, fixed_clock):
    event = new_event(team)
    zhang, li, wang = owner(team, "张"), owner(team, "李"), owner(team, "王")
    agree(li)
    agree(wang)
    consent.add_do_not_call(dealer=team.dealer, phone=wang.phone, reason="投诉后要求")
    to_zhang, to_li, to_wang = invited(team, event, zhang, li, wang)

    call = lambda invitation: events.call_to_invite(invitation=invitation, by=team.owner_ops)  # noqa: E731
    assert "not agreed" in refusal(lambda: call(to_zhang))
    assert "do-not-call" in refusal(lambda: call(to_wang))
    assert phone == []  # nothing reached the provider
    placed = call(to_li)
    assert (placed.customer_id, placed.agent_id) == (li.pk, team.owner_ops.pk)
    assert len(phone) == 1
    # A withdrawal holds from then on.
    agree(li, given=False)
    assert "not agreed" in refusal(lambda: call(to_li))
    assert Call.objects.count() == 1


def test_the_event_page_offers_the_call_only_where_it_may_be_made(team, phone, fixed_clock):
    event = new_event(team)
    zhang, li = owner(team, "张"), owner(team, "李")
    agree(li)
    to_zhang, to_li = invited(team, event, zhang, li)
    client = login(team.owner_ops)
    page = client.get(f"/owner-events/{event.pk}/").content.decode()
    assert f"/owner-events/invitations/{to_li.code}/dial/" in page
    assert f"/owner-events/invitations/{to_zhang.code}/dial/" not in page
    assert 'data-testid="no-marketing-call"' in page
    # Posted anyway: refused, said on the page, nothing dialled.
    response = client.post(f"/owner-events/invitations/{to_zhang.code}/dial/", follow=True)
    assert "agreed to marketing calls" in response.content.decode()
    assert phone == []
    assert client.post(f"/owner-events/invitations/{to_li.code}/dial/").status_code == 302
    assert len(phone) == 1
    assert client.post("/owner-events/invitations/nope/dial/").status_code == 404
    assert (
        login(team.consultant).post(f"/owner-events/invitations/{to_li.code}/dial/").status_code
        == 403
    )


def test_a_return_visit_is_not_marketing_but_an_erased_customer_is_not_called(
    team, phone, fixed_clock
):
    zhang = owner(team, "张")  # never asked about marketing
    visit = ReturnVisit.objects.filter(vehicle__owner=zhang).order_by("due_at").last()
    visit.assignee = team.owner_ops
    visit.save(update_fields=["assignee"])
    assert dial_for_visit(visit=visit, by=team.owner_ops).customer_id == zhang.pk
    rights.erase(zhang, by=team.gm)
    visit.refresh_from_db()
    assert "erased" in refusal(lambda: dial_for_visit(visit=visit, by=team.owner_ops))
    assert len(phone) == 1
