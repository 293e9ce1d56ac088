"""leads.assignment: who gets a lead — fair shares by weight and open load, absences,
assignment rules, the pool, leave cover, handoffs to the showroom; never a lead without owner."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Absence, Dealer, Membership, Staff
from accounts.roles import Role
from dcc.errors import Conflict, NotPermitted, TransitionNotAllowed
from leads import actions
from leads.assignment import absent_staff_ids, pick_owner
from leads.models import (
    AssignmentRule,
    CallOutcome,
    Customer,
    Event,
    EventKind,
    Lead,
    Task,
    TaskKind,
    TeamKind,
)
from leads.stages import OPEN_STAGES, Stage
from tests.factories import channel, make_lead, member

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------- helpers


def agents(dealer: Dealer, *weights: int) -> list[Staff]:
    return [member(dealer, Role.DCC_AGENT, weight=weight) for weight in weights]


def shares(leads: list[Lead]) -> Counter[int]:
    return Counter(lead.owner_id for lead in leads)


def new_leads(dealer: Dealer, n: int, **fields) -> list[Lead]:
    return [make_lead(dealer, **fields) for _ in range(n)]


def away(staff: Staff, *, cover: Staff, by: Staff | None = None, **span) -> Absence:
    """An absence row as the scheduler sees it (no work moved): covering now by default."""
    now = timezone.now()
    return Absence.objects.create(
        dealer=Membership.objects.filter(staff=staff).first().dealer,
        staff=staff,
        cover=cover,
        starts_at=span.get("starts_at", now - timedelta(hours=1)),
        ends_at=span.get("ends_at", now + timedelta(days=1)),
        created_by=by or cover,
    )


def rule(dealer: Dealer, *members: Staff, team: TeamKind = TeamKind.DCC, **match) -> AssignmentRule:
    made = AssignmentRule.objects.create(dealer=dealer, team=team, **match)
    made.members.set(members)
    return made


def assert_every_lead_owned(*, present: bool = True) -> None:
    """No lead without an owner; with `present`, also no open lead left with someone who is
    away now (true once absences went through record_absence, which moves their work)."""
    assert not Lead.objects.filter(owner__isnull=True).exists()
    for lead in Lead.objects.filter(stage__in=OPEN_STAGES).select_related("owner"):
        assert lead.owner_id is not None
        assert lead.owner.is_active
        if present:
            assert lead.owner_id not in absent_staff_ids(lead.dealer), lead


# ---------------------------------------------------------------- fairness


def test_three_equal_agents_get_exactly_a_third_each(dealer):
    a, b, c = agents(dealer, 1, 1, 1)
    leads = new_leads(dealer, 90)
    assert shares(leads) == {a.pk: 30, b.pk: 30, c.pk: 30}
    assert_every_lead_owned()


def test_equal_agents_take_turns_round_robin(dealer):
    trio = agents(dealer, 1, 1, 1)
    leads = new_leads(dealer, 9)
    for start in range(0, 9, 3):
        assert {lead.owner_id for lead in leads[start : start + 3]} == {s.pk for s in trio}


def test_weights_2_1_1_split_the_leads_2_1_1(dealer):
    heavy, b, c = agents(dealer, 2, 1, 1)
    leads = new_leads(dealer, 40)
    assert shares(leads) == {heavy.pk: 20, b.pk: 10, c.pk: 10}


def test_weights_hold_at_every_full_round(dealer):
    heavy, b, c = agents(dealer, 2, 1, 1)
    leads: list[Lead] = []
    for _round in range(5):
        leads += new_leads(dealer, 4)
        counts = shares(leads)
        assert counts[heavy.pk] == 2 * counts[b.pk] == 2 * counts[c.pk]


def test_open_load_counts_an_agent_holding_ten_gets_none_of_the_next_ten(dealer):
    busy, b, c = agents(dealer, 1, 1, 1)
    new_leads(dealer, 10, owner=busy)
    following = new_leads(dealer, 10)
    assert shares(following) == {b.pk: 5, c.pk: 5}
    assert shares(new_leads(dealer, 10)) == {b.pk: 5, c.pk: 5}
    # Caught up at ten each: from here on everyone takes turns again.
    assert shares(new_leads(dealer, 3)) == {busy.pk: 1, b.pk: 1, c.pk: 1}


def test_closed_leads_do_not_count_as_load(dealer):
    busy, b, c = agents(dealer, 1, 1, 1)
    for lead in new_leads(dealer, 10, owner=busy):
        actions.invalidate_lead(lead=lead, by=busy, reason="wrong_number")
    assert Lead.objects.filter(owner=busy, stage=Stage.INVALID).count() == 10
    assert shares(new_leads(dealer, 3)) == {busy.pk: 1, b.pk: 1, c.pk: 1}


def test_absent_agent_is_skipped_while_away(dealer):
    gone, b, c = agents(dealer, 1, 1, 1)
    away(gone, cover=b)
    assert shares(new_leads(dealer, 10)) == {b.pk: 5, c.pk: 5}
    assert_every_lead_owned()


@pytest.mark.parametrize(
    "span",
    [
        pytest.param((timedelta(days=-3), timedelta(days=-1)), id="past"),
        pytest.param((timedelta(days=1), timedelta(days=3)), id="future"),
    ],
)
def test_absence_not_covering_now_does_not_skip(dealer, span):
    back, b, c = agents(dealer, 1, 1, 1)
    now = timezone.now()
    away(back, cover=b, starts_at=now + span[0], ends_at=now + span[1])
    assert shares(new_leads(dealer, 3)) == {back.pk: 1, b.pk: 1, c.pk: 1}


def test_inactive_membership_or_staff_gets_no_leads(dealer):
    left, disabled, c = agents(dealer, 1, 1, 1)
    Membership.objects.filter(staff=left).update(is_active=False)
    Staff.objects.filter(pk=disabled.pk).update(is_active=False)
    assert shares(new_leads(dealer, 4)) == {c.pk: 4}


# ---------------------------------------------------------------- assignment rules


def test_channel_rule_sends_that_channels_leads_only_to_its_members(dealer):
    a, b, c = agents(dealer, 1, 1, 1)
    rule(dealer, a, b, channel=channel(dealer, "douyin"))
    assert shares(new_leads(dealer, 10, channel_code="douyin")) == {a.pk: 5, b.pk: 5}
    # Other channels go to the whole team; c first, since a and b carry the douyin load.
    others = new_leads(dealer, 15, channel_code="autohome")
    assert shares(others[:5]) == {c.pk: 5}
    overall = shares(Lead.objects.all())
    assert set(overall) == {a.pk, b.pk, c.pk}
    assert max(overall.values()) - min(overall.values()) <= 1


def test_channel_rule_members_are_the_only_owners_of_that_channel(dealer):
    a, _b, _c = agents(dealer, 1, 1, 1)
    rule(dealer, a, channel=channel(dealer, "douyin"))
    assert shares(new_leads(dealer, 6, channel_code="douyin")) == {a.pk: 6}


def test_non_matching_leads_go_to_the_whole_team(dealer):
    a, b, c = agents(dealer, 1, 1, 1)
    rule(dealer, a, channel=channel(dealer, "douyin"))
    rule(dealer, b, car_model="S7")
    assert shares(new_leads(dealer, 9, channel_code="yiche", car_model="S9")) == {
        a.pk: 3,
        b.pk: 3,
        c.pk: 3,
    }


def test_car_model_rule_sends_that_models_leads_only_to_its_members(dealer):
    a, b, c = agents(dealer, 1, 1, 1)
    rule(dealer, c, car_model="S7")
    assert shares(new_leads(dealer, 4, car_model="S7")) == {c.pk: 4}
    # The model matches case-insensitively, on any channel.
    assert shares(new_leads(dealer, 2, car_model="s7", channel_code="wechat")) == {c.pk: 2}
    assert set(shares(new_leads(dealer, 6, car_model="S9"))) == {a.pk, b.pk}


def test_rule_on_channel_and_model_needs_both(dealer):
    a, b, c = agents(dealer, 1, 1, 1)
    rule(dealer, a, channel=channel(dealer, "douyin"), car_model="S7")
    assert shares(new_leads(dealer, 3, channel_code="douyin", car_model="S7")) == {a.pk: 3}
    mixed = new_leads(dealer, 2, channel_code="douyin", car_model="S9") + new_leads(
        dealer, 2, channel_code="autohome", car_model="S7"
    )
    assert shares(mixed) == {b.pk: 2, c.pk: 2}


@pytest.mark.parametrize("douyin_first", [True, False])
def test_rules_are_tried_in_priority_order(dealer, douyin_first):
    a, b, _c = agents(dealer, 1, 1, 1)
    # Created in the opposite order of their priority, so id order cannot be what decides.
    by_model = rule(dealer, b, car_model="S7", priority=20 if douyin_first else 10)
    by_channel = rule(
        dealer, a, channel=channel(dealer, "douyin"), priority=10 if douyin_first else 20
    )
    assert by_model.pk < by_channel.pk
    winner = a if douyin_first else b
    assert shares(new_leads(dealer, 4, channel_code="douyin", car_model="S7")) == {winner.pk: 4}


def test_rules_of_the_other_team_do_not_apply(dealer):
    a, b = agents(dealer, 1, 1)
    consultant = member(dealer, Role.CONSULTANT)
    rule(dealer, consultant, team=TeamKind.SHOWROOM, channel=channel(dealer, "douyin"))
    assert shares(new_leads(dealer, 4, channel_code="douyin")) == {a.pk: 2, b.pk: 2}


def test_rule_whose_members_are_all_away_falls_back_to_the_team(dealer):
    a, b, c = agents(dealer, 1, 1, 1)
    rule(dealer, a, channel=channel(dealer, "douyin"))
    away(a, cover=b)
    assert shares(new_leads(dealer, 4, channel_code="douyin")) == {b.pk: 2, c.pk: 2}
    assert_every_lead_owned()


# ---------------------------------------------------------------- the pool


def test_nobody_present_the_dcc_supervisor_holds_the_lead(team):
    away(team.dcc_agent, cover=team.dcc_supervisor)
    away(team.dcc_agent_2, cover=team.dcc_supervisor)
    lead = make_lead(team.dealer)
    assert lead.owner == team.dcc_supervisor
    created = lead.events.get(kind=EventKind.CREATED)
    assert created.to_owner_id == team.dcc_supervisor.pk
    assert Task.objects.get(lead=lead, kind=TaskKind.FIRST_CALL).assignee == team.dcc_supervisor


def test_no_agents_at_all_the_dcc_supervisor_holds_the_lead(team):
    Membership.objects.filter(dealer=team.dealer, role=Role.DCC_AGENT).update(is_active=False)
    assert make_lead(team.dealer).owner == team.dcc_supervisor


def test_supervisor_away_too_then_sales_manager_then_gm(team):
    away(team.dcc_agent, cover=team.gm)
    away(team.dcc_agent_2, cover=team.gm)
    away(team.dcc_supervisor, cover=team.gm)
    assert make_lead(team.dealer).owner == team.sales_manager
    away(team.sales_manager, cover=team.gm)
    assert make_lead(team.dealer).owner == team.gm
    assert_every_lead_owned(present=False)


def test_nobody_at_all_is_a_conflict_and_writes_nothing(team):
    for person in (
        team.dcc_agent,
        team.dcc_agent_2,
        team.dcc_supervisor,
        team.sales_manager,
    ):
        away(person, cover=team.gm)
    away(team.gm, cover=team.consultant)
    with pytest.raises(Conflict) as raised:
        make_lead(team.dealer)
    assert raised.value.code == "no_assignee"
    assert not Customer.objects.exists()
    assert not Lead.objects.exists()
    assert not Event.objects.exists()
    assert not Task.objects.exists()


def test_pool_holder_is_never_another_dealers_person(team, other_team):
    Membership.objects.filter(dealer=team.dealer, role=Role.DCC_AGENT).update(is_active=False)
    for _ in range(3):
        lead = make_lead(team.dealer)
        assert lead.owner == team.dcc_supervisor
    assert set(shares(new_leads(other_team.dealer, 4))) == {
        other_team.dcc_agent.pk,
        other_team.dcc_agent_2.pk,
    }


def test_claim_from_the_pool_by_one_agent(team):
    pool_lead = make_lead(team.dealer, owner=team.dcc_supervisor)
    claimed = actions.claim_lead(lead=pool_lead, by=team.dcc_agent)
    assert claimed.owner == team.dcc_agent
    move = claimed.events.get(kind=EventKind.HANDED_OFF)
    assert (move.from_owner_id, move.to_owner_id) == (team.dcc_supervisor.pk, team.dcc_agent.pk)
    assert move.reason == "claim"
    assert Task.objects.get(lead=claimed, kind=TaskKind.FIRST_CALL).assignee == team.dcc_agent


def test_a_lead_an_agent_holds_cannot_be_claimed(team):
    held = make_lead(team.dealer, owner=team.dcc_agent)
    with pytest.raises(Conflict) as raised:
        actions.claim_lead(lead=held, by=team.dcc_agent_2)
    assert raised.value.code == "already_claimed"
    held.refresh_from_db()
    assert held.owner == team.dcc_agent
    assert held.last_event_seq == 1


@pytest.mark.parametrize("role", ["consultant", "owner_ops", "platform_specialist"])
def test_only_dcc_agents_claim(team, role):
    pool_lead = make_lead(team.dealer, owner=team.dcc_supervisor)
    with pytest.raises(NotPermitted):
        actions.claim_lead(lead=pool_lead, by=getattr(team, role))
    pool_lead.refresh_from_db()
    assert pool_lead.owner == team.dcc_supervisor


def test_a_lead_past_new_cannot_be_claimed(team):
    lead = make_lead(team.dealer, owner=team.dcc_supervisor)
    actions.log_call(lead=lead, by=team.dcc_supervisor, outcome=CallOutcome.REACHED)
    with pytest.raises(TransitionNotAllowed):
        actions.claim_lead(lead=lead, by=team.dcc_agent)


# ---------------------------------------------------------------- leave with cover


def test_record_absence_moves_open_leads_and_tasks_to_the_cover(team):
    leaving, cover = team.dcc_agent, team.dcc_agent_2
    open_leads = new_leads(team.dealer, 3, owner=leaving)
    closed = make_lead(team.dealer, owner=leaving)
    actions.invalidate_lead(lead=closed, by=leaving, reason="wrong_number")
    others = new_leads(team.dealer, 2, owner=cover)
    closed_events_before = closed.events.count()
    now = timezone.now()

    actions.record_absence(
        dealer=team.dealer,
        staff=leaving,
        cover=cover,
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(days=2),
        by=team.dcc_supervisor,
        reason="年假",
    )

    for lead in open_leads:
        lead.refresh_from_db()
        assert lead.owner == cover
        moves = list(lead.events.filter(kind=EventKind.HANDED_OFF))
        assert len(moves) == 1
        move = moves[0]
        assert (move.from_owner_id, move.to_owner_id) == (leaving.pk, cover.pk)
        assert move.reason == "absence"
        assert move.actor_id == team.dcc_supervisor.pk
        assert move.note == "年假"
        assert lead.last_event_seq == move.seq == 2
        assert Task.objects.get(lead=lead, closed_at__isnull=True).assignee == cover
    assert not Task.objects.filter(assignee=leaving, closed_at__isnull=True).exists()
    # The closed lead stays as it was: owner, history and its closed tasks.
    closed.refresh_from_db()
    assert closed.owner == leaving
    assert closed.events.count() == closed_events_before
    assert not closed.events.filter(kind=EventKind.HANDED_OFF).exists()
    assert set(Task.objects.filter(lead=closed).values_list("assignee_id", flat=True)) == {
        leaving.pk
    }
    # The cover's own leads are untouched.
    for lead in others:
        assert not lead.events.filter(kind=EventKind.HANDED_OFF).exists()
    assert_every_lead_owned()


def test_absence_moves_open_tasks_on_leads_they_do_not_own(team):
    consultant = team.consultant
    lead = make_lead(team.dealer, owner=consultant)
    actions.record_arrival(lead=lead, by=consultant)
    actions.record_order(lead=lead, by=consultant)
    actions.record_delivery(lead=lead, by=consultant)
    visit = Task.objects.get(lead=lead, kind=TaskKind.RETURN_VISIT, closed_at__isnull=True)
    assert visit.assignee == team.owner_ops
    cover = member(team.dealer, Role.OWNER_OPS)
    seq_before = Lead.objects.get(pk=lead.pk).last_event_seq
    now = timezone.now()

    actions.record_absence(
        dealer=team.dealer,
        staff=team.owner_ops,
        cover=cover,
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(days=1),
        by=team.sales_manager,
    )

    visit.refresh_from_db()
    assert visit.assignee == cover
    lead.refresh_from_db()
    assert lead.owner == consultant  # the delivered lead keeps its owner
    assert lead.stage == Stage.DELIVERED
    note = lead.events.get(seq=seq_before + 1)
    assert note.kind == EventKind.HANDED_OFF
    assert note.reason == "absence"
    assert (note.from_owner_id, note.to_owner_id) == (team.owner_ops.pk, cover.pk)
    assert note.data == {"task": TaskKind.RETURN_VISIT}


def test_future_absence_moves_nothing_until_it_starts(team):
    leaving, cover = team.dcc_agent, team.dcc_agent_2
    lead = make_lead(team.dealer, owner=leaving)
    now = timezone.now()
    absence = actions.record_absence(
        dealer=team.dealer,
        staff=leaving,
        cover=cover,
        starts_at=now + timedelta(days=1),
        ends_at=now + timedelta(days=3),
        by=team.dcc_supervisor,
    )
    lead.refresh_from_db()
    assert lead.owner == leaving
    assert not lead.events.filter(kind=EventKind.HANDED_OFF).exists()
    # Once the leave starts, the periodic job moves the work.
    assert actions.apply_due_absences(now=absence.starts_at + timedelta(minutes=1)) == 1
    lead.refresh_from_db()
    assert lead.owner == cover
    assert lead.events.get(kind=EventKind.HANDED_OFF).reason == "absence"


def test_new_leads_skip_the_person_on_leave_after_record_absence(team):
    leaving, staying = team.dcc_agent, team.dcc_agent_2
    now = timezone.now()
    actions.record_absence(
        dealer=team.dealer,
        staff=leaving,
        cover=staying,
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(days=1),
        by=team.dcc_supervisor,
    )
    assert shares(new_leads(team.dealer, 4)) == {staying.pk: 4}
    assert_every_lead_owned()


# ---------------------------------------------------------------- handoff to a team


def test_hand_off_to_showroom_picks_the_consultant_with_least_load(team):
    new_leads(team.dealer, 2, owner=team.consultant)
    lead = make_lead(team.dealer, owner=team.dcc_agent)
    actions.hand_off(lead=lead, by=team.dcc_agent, team=TeamKind.SHOWROOM, reason="visit")
    lead.refresh_from_db()
    assert lead.owner == team.consultant_2
    move = lead.events.get(kind=EventKind.HANDED_OFF)
    assert (move.from_owner_id, move.to_owner_id) == (team.dcc_agent.pk, team.consultant_2.pk)
    assert move.data == {"team": "showroom"}
    assert Task.objects.get(lead=lead, closed_at__isnull=True).assignee == team.consultant_2


def test_hand_offs_to_showroom_are_shared_fairly(team):
    handed = []
    for lead in new_leads(team.dealer, 6, owner=team.dcc_agent):
        handed.append(actions.hand_off(lead=lead, by=team.dcc_agent, team=TeamKind.SHOWROOM))
    assert shares(handed) == {team.consultant.pk: 3, team.consultant_2.pk: 3}


def test_hand_off_to_showroom_follows_showroom_rules(team):
    rule(team.dealer, team.consultant_2, team=TeamKind.SHOWROOM, car_model="S7")
    # A DCC rule for the same model must not matter to the showroom.
    rule(team.dealer, team.dcc_agent, car_model="S7")
    leads = new_leads(team.dealer, 3, owner=team.dcc_agent, car_model="S7")
    handed = [
        actions.hand_off(lead=lead, by=team.dcc_agent, team=TeamKind.SHOWROOM) for lead in leads
    ]
    assert shares(handed) == {team.consultant_2.pk: 3}


def test_hand_off_to_showroom_skips_absent_consultants(team):
    away(team.consultant, cover=team.consultant_2)
    leads = new_leads(team.dealer, 3, owner=team.dcc_agent)
    handed = [
        actions.hand_off(lead=lead, by=team.dcc_agent, team=TeamKind.SHOWROOM) for lead in leads
    ]
    assert shares(handed) == {team.consultant_2.pk: 3}


def test_hand_off_to_showroom_with_no_consultant_goes_to_the_showroom_manager(team):
    away(team.consultant, cover=team.showroom_manager)
    away(team.consultant_2, cover=team.showroom_manager)
    lead = make_lead(team.dealer, owner=team.dcc_agent)
    actions.hand_off(lead=lead, by=team.dcc_agent, team=TeamKind.SHOWROOM)
    lead.refresh_from_db()
    assert lead.owner == team.showroom_manager
    assert_every_lead_owned()


def test_hand_off_to_dcc_team_never_picks_the_current_owner(team):
    leads = new_leads(team.dealer, 3, owner=team.dcc_agent)
    for lead in leads:
        actions.hand_off(lead=lead, by=team.dcc_agent, team=TeamKind.DCC)
        lead.refresh_from_db()
        assert lead.owner == team.dcc_agent_2


# ---------------------------------------------------------------- no lead without an owner


def test_pick_owner_always_returns_someone_who_may_own(team):
    """Sweep through the situations above; each pick is a person of this dealer."""
    dealer = team.dealer
    staff_here = set(Membership.objects.filter(dealer=dealer).values_list("staff_id", flat=True))
    picked = [pick_owner(dealer)]
    away(team.dcc_agent, cover=team.dcc_supervisor)
    picked.append(pick_owner(dealer, channel_id=channel(dealer, "douyin").pk, car_model="S7"))
    away(team.dcc_agent_2, cover=team.dcc_supervisor)
    picked.append(pick_owner(dealer))
    picked.append(pick_owner(dealer, team=TeamKind.SHOWROOM))
    away(team.consultant, cover=team.consultant_2)
    away(team.consultant_2, cover=team.consultant)
    picked.append(pick_owner(dealer, team=TeamKind.SHOWROOM))
    assert all(person is not None and person.pk in staff_here for person in picked)
    assert [p.pk for p in picked[2:]] == [
        team.dcc_supervisor.pk,
        picked[3].pk,
        team.showroom_manager.pk,
    ]
    assert picked[3].pk in {team.consultant.pk, team.consultant_2.pk}


def test_every_lead_has_an_owner_through_a_busy_day(team):
    dealer = team.dealer
    rule(dealer, team.dcc_agent, channel=channel(dealer, "douyin"))
    new_leads(dealer, 5, channel_code="douyin")
    new_leads(dealer, 5)
    now = timezone.now()
    actions.record_absence(
        dealer=dealer,
        staff=team.dcc_agent,
        cover=team.dcc_supervisor,
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(days=1),
        by=team.sales_manager,
    )
    new_leads(dealer, 3, channel_code="douyin")
    actions.record_absence(
        dealer=dealer,
        staff=team.dcc_agent_2,
        cover=team.dcc_supervisor,
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(days=1),
        by=team.sales_manager,
    )
    new_leads(dealer, 3)
    for lead in Lead.objects.filter(owner=team.dcc_supervisor, stage=Stage.NEW)[:2]:
        actions.hand_off(lead=lead, by=team.dcc_supervisor, team=TeamKind.SHOWROOM)
    assert Lead.objects.count() == 16
    assert_every_lead_owned()
    for lead in Lead.objects.all():
        created = lead.events.get(kind=EventKind.CREATED)
        assert created.to_owner_id is not None
        last_move = lead.events.exclude(to_owner__isnull=True).order_by("-seq").first()
        assert last_move.to_owner_id == lead.owner_id


# ---------------------------------------------------------------- reactivation


def test_reactivated_lead_of_someone_away_follows_the_car_model_rule(team):
    dealer = team.dealer
    s7_agent = member(dealer, Role.DCC_AGENT)
    rule(dealer, s7_agent, car_model="S7")
    # The S7 specialist is the busiest agent, so the whole-team pick would never choose them.
    new_leads(dealer, 3, owner=s7_agent)
    lead = make_lead(dealer, owner=team.dcc_agent, car_model="S7")
    actions.invalidate_lead(lead=lead, by=team.dcc_agent, reason="unreachable")
    now = timezone.now()
    actions.record_absence(
        dealer=dealer,
        staff=team.dcc_agent,
        cover=team.dcc_agent_2,
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(days=1),
        by=team.dcc_supervisor,
    )
    lead = actions.reactivate_lead(lead=lead, by=team.dcc_supervisor)
    assert lead.owner == s7_agent


def test_reactivated_lead_of_someone_away_gets_a_present_owner(team):
    lead = make_lead(team.dealer, owner=team.dcc_agent)
    actions.invalidate_lead(lead=lead, by=team.dcc_agent, reason="unreachable")
    now = timezone.now()
    actions.record_absence(
        dealer=team.dealer,
        staff=team.dcc_agent,
        cover=team.dcc_agent_2,
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(days=1),
        by=team.dcc_supervisor,
    )
    lead.refresh_from_db()
    assert lead.owner == team.dcc_agent  # closed leads stay with their owner
    lead = actions.reactivate_lead(lead=lead, by=team.dcc_supervisor)
    assert lead.owner == team.dcc_agent_2
    move = lead.events.get(kind=EventKind.HANDED_OFF)
    assert move.reason == "reactivation"
    assert_every_lead_owned()
