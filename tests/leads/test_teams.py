"""Teams: every dealer starts with a DCC invitation group and a showroom group from its roles;
a person is in one team at a time and may move, history keeping the team they were in then;
assignment rules may route to a group; the boards and the settings page show teams."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, SettingsChange, Staff
from accounts.roles import Role
from dcc.errors import InvalidInput, NotPermitted
from leads import actions, selectors_team, teams
from leads.assignment import pick_owner
from leads.models import Team, TeamKind, TeamMembership
from leads.setup import configuration
from leads.setup.defaults import set_up_dealer
from tests.conftest import Team as People
from tests.factories import DealerFactory, channel, make_lead, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def placed(team: People) -> People:
    """The dealer set up again once its people are in: they are placed in the default teams."""
    set_up_dealer(team.dealer)
    return team


def dcc_group(team: People) -> Team:
    """The dealer's first DCC group, the default one."""
    return Team.objects.filter(dealer=team.dealer, kind=TeamKind.DCC).order_by("pk").first()


def second_dcc_group(team: People) -> Team:
    return teams.create_team(dealer=team.dealer, by=team.gm, kind=TeamKind.DCC, name="DCC group 2")


def client_for(staff: Staff) -> Client:
    client = Client()
    client.force_login(staff)
    return client


# ---------------------------------------------------------------- default teams


def test_a_new_dealer_has_a_dcc_and_a_showroom_group_from_the_start(db):
    dealer = DealerFactory()
    assert sorted(Team.objects.filter(dealer=dealer).values_list("kind", "name")) == [
        ("dcc", "DCC invitation group"),
        ("showroom", "Showroom group"),
    ]


def test_setting_up_again_places_the_line_in_its_teams_led_by_its_supervisors(placed: People):
    dcc = dcc_group(placed)
    showroom = Team.objects.get(dealer=placed.dealer, kind=TeamKind.SHOWROOM)
    assert dcc.leader == placed.dcc_supervisor
    assert showroom.leader == placed.showroom_manager
    assert set(teams.members_at(dcc)) == {
        placed.dcc_supervisor,
        placed.dcc_agent,
        placed.dcc_agent_2,
    }
    assert set(teams.members_at(showroom)) == {
        placed.showroom_manager,
        placed.consultant,
        placed.consultant_2,
    }
    # Managers, marketing, owner operations and audit are in no default team.
    assert teams.team_of(placed.gm, placed.dealer) is None
    assert teams.team_of(placed.platform_specialist, placed.dealer) is None
    # Placed people count in their team for their history before.
    assert teams.team_of(placed.dcc_agent, placed.dealer, teams.FROM_THE_START) == dcc


def test_setting_up_again_keeps_moves_and_places_newcomers(placed: People):
    group_2 = second_dcc_group(placed)
    teams.place_in_team(team=group_2, staff=placed.dcc_agent_2, by=placed.gm)
    newcomer = member(placed.dealer, Role.DCC_AGENT)
    set_up_dealer(placed.dealer)
    assert teams.team_of(placed.dcc_agent_2, placed.dealer) == group_2
    assert teams.team_of(newcomer, placed.dealer) == dcc_group(placed)
    assert Team.objects.filter(dealer=placed.dealer).count() == 3


def test_the_data_migration_gives_existing_dealers_their_teams(team: People):
    Team.objects.filter(dealer=team.dealer).delete()
    migration = importlib.import_module("leads.migrations.0011_default_teams")
    migration.default_teams(apps, None)
    dcc = dcc_group(team)
    assert dcc.leader == team.dcc_supervisor
    assert teams.team_of(team.consultant, team.dealer) == Team.objects.get(
        dealer=team.dealer, kind=TeamKind.SHOWROOM
    )
    assert teams.team_of(team.dcc_agent, team.dealer, teams.FROM_THE_START) == dcc


# ---------------------------------------------------------------- membership over time


def test_a_move_keeps_the_old_team_for_the_time_before(placed: People):
    group_2 = second_dcc_group(placed)
    moved_at = timezone.now() - timedelta(days=5)
    teams.place_in_team(team=group_2, staff=placed.dcc_agent, by=placed.gm, at=moved_at)
    dealer = placed.dealer
    assert teams.team_of(placed.dcc_agent, dealer, moved_at - timedelta(seconds=1)) == (
        dcc_group(placed)
    )
    assert teams.team_of(placed.dcc_agent, dealer, moved_at) == group_2
    assert teams.team_of(placed.dcc_agent, dealer) == group_2
    assert teams.teams_at(dealer, moved_at - timedelta(days=1))[placed.dcc_agent.pk] == (
        dcc_group(placed)
    )
    change = SettingsChange.objects.get(what="team_member_placed")
    assert change.changed_by == placed.gm
    assert change.detail["from_team"] == "DCC invitation group"


def test_team_at_answers_in_a_query_as_team_of_does(placed: People):
    group_2 = second_dcc_group(placed)
    moved_at = timezone.now() - timedelta(days=5)
    teams.place_in_team(team=group_2, staff=placed.dcc_agent, by=placed.gm, at=moved_at)
    before = make_lead(placed.dealer, owner=placed.dcc_agent, at=moved_at - timedelta(hours=1))
    after = make_lead(placed.dealer, owner=placed.dcc_agent, at=moved_at + timedelta(hours=1))
    found = dict(
        type(before)
        .objects.filter(pk__in=[before.pk, after.pk])
        .annotate(team=teams.team_at("owner_id", "dealer_id", "created_at"))
        .values_list("pk", "team")
    )
    assert found == {before.pk: dcc_group(placed).pk, after.pk: group_2.pk}


@pytest.mark.parametrize(("days", "code"), [(1, "future_move"), (-10, "overlapping_membership")])
def test_a_move_cannot_be_in_the_future_or_overlap_an_earlier_team(placed, days, code):
    """Three days ago the agent moved to group 2: back to the first group from tomorrow, or
    from ten days ago (when they were in it already), cannot be."""
    group_2 = second_dcc_group(placed)
    teams.place_in_team(
        team=group_2, staff=placed.dcc_agent, by=placed.gm, at=timezone.now() - timedelta(days=3)
    )
    with pytest.raises(InvalidInput) as raised:
        teams.place_in_team(
            team=dcc_group(placed),
            staff=placed.dcc_agent,
            by=placed.gm,
            at=timezone.now() + timedelta(days=days),
        )
    assert (raised.value.field, raised.value.code) == ("starts_at", code)
    assert TeamMembership.objects.filter(staff=placed.dcc_agent).count() == 2


def test_only_people_working_here_join_and_nobody_joins_twice(placed, other_team):
    with pytest.raises(InvalidInput) as raised:
        teams.place_in_team(team=dcc_group(placed), staff=other_team.dcc_agent, by=placed.gm)
    assert raised.value.code == "bad_member"
    with pytest.raises(InvalidInput) as raised:
        teams.place_in_team(team=dcc_group(placed), staff=placed.dcc_agent, by=placed.gm)
    assert raised.value.code == "already_member"


@pytest.mark.parametrize("role", ["dcc_supervisor", "showroom_manager", "dcc_agent"])
def test_only_the_general_and_sales_managers_change_teams(placed, role):
    person = placed.by_role(Role(role))
    with pytest.raises(NotPermitted):
        teams.create_team(dealer=placed.dealer, by=person, kind=TeamKind.DCC, name="B")
    with pytest.raises(NotPermitted):
        teams.place_in_team(team=dcc_group(placed), staff=placed.consultant, by=person)
    with pytest.raises(NotPermitted):
        teams.leave_team(staff=placed.dcc_agent, dealer=placed.dealer, by=person)


def test_leaving_ends_the_membership_and_history_stays(placed: People, fixed_clock):
    dcc = dcc_group(placed)
    teams.leave_team(staff=placed.dcc_agent, dealer=placed.dealer, by=placed.sales_manager)
    assert teams.team_of(placed.dcc_agent, placed.dealer) is None
    assert teams.team_of(placed.dcc_agent, placed.dealer, timezone.now() - timedelta(days=1)) == dcc
    with pytest.raises(InvalidInput):
        teams.leave_team(staff=placed.dcc_agent, dealer=placed.dealer, by=placed.gm)


@pytest.mark.parametrize(
    ("kind", "name", "field"),
    [("sales", "X", "kind"), ("dcc", "  ", "name"), ("dcc", "showroom GROUP", "name")],
)
def test_a_team_needs_a_kind_and_a_name_of_its_own(placed, kind, name, field):
    with pytest.raises(InvalidInput) as raised:
        teams.create_team(dealer=placed.dealer, by=placed.gm, kind=kind, name=name)
    assert raised.value.field == field


def test_a_leader_must_work_here(placed, other_team):
    with pytest.raises(InvalidInput) as raised:
        teams.update_team(
            team=dcc_group(placed),
            by=placed.gm,
            kind=TeamKind.DCC,
            name="DCC",
            leader=other_team.dcc_supervisor,
        )
    assert raised.value.field == "leader"


# ---------------------------------------------------------------- assignment to a group


def test_a_rule_routes_a_channel_to_whoever_is_in_the_group_at_the_time(placed: People):
    group_2 = second_dcc_group(placed)
    an_hour_ago = timezone.now() - timedelta(hours=1)
    teams.place_in_team(team=group_2, staff=placed.dcc_agent_2, by=placed.gm, at=an_hour_ago)
    configuration.create_assignment_rule(
        dealer=placed.dealer,
        by=placed.gm,
        team=TeamKind.DCC,
        channel=channel(placed.dealer, "douyin"),
        members=[],
        to_team=group_2,
    )
    douyin = channel(placed.dealer, "douyin")
    owners = {pick_owner(placed.dealer, channel_id=douyin.pk).pk for _ in range(3)}
    assert owners == {placed.dcc_agent_2.pk}
    # Other channels: the whole DCC team, as without rules.
    autohome = channel(placed.dealer, "autohome")
    assert {pick_owner(placed.dealer, channel_id=autohome.pk).pk for _ in range(4)} == {
        placed.dcc_agent.pk,
        placed.dcc_agent_2.pk,
    }
    # Someone who joins the group later gets its leads from then on, by the same rule.
    teams.place_in_team(team=group_2, staff=placed.dcc_agent, by=placed.gm)
    before = timezone.now() - timedelta(minutes=5)
    assert {pick_owner(placed.dealer, channel_id=douyin.pk).pk for _ in range(4)} == {
        placed.dcc_agent.pk,
        placed.dcc_agent_2.pk,
    }
    assert pick_owner(placed.dealer, channel_id=douyin.pk, at=before) == placed.dcc_agent_2


def test_a_rule_takes_only_groups_of_its_team(placed: People):
    showroom = Team.objects.get(dealer=placed.dealer, kind=TeamKind.SHOWROOM)
    with pytest.raises(InvalidInput) as raised:
        configuration.create_assignment_rule(
            dealer=placed.dealer, by=placed.gm, team=TeamKind.DCC, members=[], to_team=showroom
        )
    assert raised.value.field == "to_team"
    with pytest.raises(InvalidInput) as raised:
        configuration.create_assignment_rule(
            dealer=placed.dealer, by=placed.gm, team=TeamKind.DCC, members=[]
        )
    assert raised.value.field == "members"
    field_sales = teams.create_team(
        dealer=placed.dealer, by=placed.gm, kind=TeamKind.FIELD_SALES, name="外拓组"
    )
    rule = configuration.create_assignment_rule(
        dealer=placed.dealer, by=placed.gm, team=TeamKind.SHOWROOM, members=[], to_team=field_sales
    )
    assert rule.to_team == field_sales


def test_leads_are_not_handed_to_a_team_without_rules_of_its_own(placed: People):
    lead = make_lead(placed.dealer, owner=placed.dcc_agent)
    with pytest.raises(InvalidInput) as raised:
        actions.hand_off(lead=lead, by=placed.dcc_supervisor, team=TeamKind.MARKETING)
    assert raised.value.field == "team"
    answer = client_for(placed.dcc_supervisor).post(
        f"/api/v1/leads/{lead.pk}/handoff",
        {"team": "field_sales"},
        content_type="application/json",
    )
    assert answer.status_code == 422


# ---------------------------------------------------------------- the boards


def test_the_team_board_is_cut_by_team_and_a_group_leader_sees_theirs(placed: People):
    group_2 = second_dcc_group(placed)
    teams.place_in_team(team=group_2, staff=placed.dcc_agent_2, by=placed.gm)
    board = selectors_team.team_board(dealer=placed.dealer, team=group_2)
    assert [row.staff for row in board.rows] == [placed.dcc_agent_2]

    supervisor = client_for(placed.dcc_supervisor)  # leads the first DCC group alone
    html = supervisor.get(reverse("team")).content.decode()
    assert f'data-staff="{placed.dcc_agent.pk}"' in html
    assert f'data-staff="{placed.dcc_agent_2.pk}"' not in html
    html = supervisor.get(reverse("team") + "?team=all").content.decode()
    assert f'data-staff="{placed.dcc_agent_2.pk}"' in html
    assert f'data-staff="{placed.consultant.pk}"' in html
    html = supervisor.get(reverse("team") + f"?team={group_2.pk}").content.decode()
    assert f'data-staff="{placed.dcc_agent_2.pk}"' in html
    assert f'data-staff="{placed.dcc_agent.pk}"' not in html
    # The general manager leads no group: everyone by default.
    html = client_for(placed.gm).get(reverse("team")).content.decode()
    assert f'data-staff="{placed.dcc_agent_2.pk}"' in html


def test_another_dealers_team_is_no_cut_here(placed: People, other_team: People):
    set_up_dealer(other_team.dealer)
    theirs = dcc_group(other_team)
    html = client_for(placed.gm).get(reverse("team") + f"?team={theirs.pk}").content.decode()
    assert f'data-staff="{placed.dcc_agent.pk}"' in html  # all of ours, none of theirs
    assert f'data-staff="{other_team.dcc_agent.pk}"' not in html


# ---------------------------------------------------------------- the settings page


def test_the_teams_page_lists_teams_members_and_who_is_in_none(placed: People):
    html = client_for(placed.dcc_supervisor).get(reverse("settings_teams")).content.decode()
    assert "DCC invitation group" in html and "Showroom group" in html
    assert f'data-member="{placed.dcc_agent.username}"' in html
    assert "from the start" in html
    assert str(placed.owner_ops) in html  # in no team
    assert "Add or move here" not in html  # supervisors look, managers change
    assert reverse("settings_team_new") not in html


def test_the_general_manager_creates_a_team_and_moves_someone_into_it(placed: People):
    gm = client_for(placed.gm)
    answer = gm.post(
        reverse("settings_team_new"),
        {"name": "DCC 邀约二组", "kind": "dcc", "leader": placed.dcc_agent_2.pk},
    )
    assert answer.status_code == 302
    group_2 = Team.objects.get(dealer=placed.dealer, name="DCC 邀约二组")
    assert group_2.leader == placed.dcc_agent_2
    day = timezone.localdate() - timedelta(days=3)
    answer = gm.post(
        reverse("settings_team_member_add", args=[group_2.pk]),
        {f"team{group_2.pk}-staff": placed.dcc_agent_2.pk, f"team{group_2.pk}-starts_on": day},
    )
    assert answer.status_code == 302
    moved = TeamMembership.objects.get(team=group_2)
    assert timezone.localtime(moved.starts_at).date() == day
    assert teams.team_of(placed.dcc_agent_2, placed.dealer) == group_2
    answer = gm.post(
        reverse("settings_team_member_leave", args=[group_2.pk, placed.dcc_agent_2.pk])
    )
    assert answer.status_code == 302
    assert teams.team_of(placed.dcc_agent_2, placed.dealer) is None


def test_a_move_that_cannot_be_is_explained_on_its_field(placed: People):
    tomorrow = timezone.localdate() + timedelta(days=1)
    dcc = dcc_group(placed)
    answer = client_for(placed.gm).post(
        reverse("settings_team_member_add", args=[dcc.pk]),
        {f"team{dcc.pk}-staff": placed.consultant.pk, f"team{dcc.pk}-starts_on": tomorrow},
    )
    assert answer.status_code == 422
    assert "A move takes effect now or in the past." in answer.content.decode()
    assert teams.team_of(placed.consultant, placed.dealer).kind == TeamKind.SHOWROOM


def test_renaming_a_default_team_keeps_it_translated_when_unchanged(placed: People):
    dcc = dcc_group(placed)
    answer = client_for(placed.gm).post(
        reverse("settings_team", args=[dcc.pk]),
        {"name": "DCC invitation group", "kind": "dcc", "leader": placed.dcc_supervisor.pk},
    )
    assert answer.status_code == 302
    dcc.refresh_from_db()
    assert dcc.name == "DCC invitation group"


@pytest.mark.parametrize("role", ["dcc_supervisor", "showroom_manager"])
def test_supervisors_cannot_change_teams_through_the_pages(placed, role):
    client = client_for(placed.by_role(Role(role)))
    dcc = dcc_group(placed)
    assert client.get(reverse("settings_team_new")).status_code == 403
    answer = client.post(
        reverse("settings_team_member_add", args=[dcc.pk]),
        {f"team{dcc.pk}-staff": placed.consultant.pk},
    )
    assert answer.status_code == 403
    assert teams.team_of(placed.consultant, placed.dealer).kind == TeamKind.SHOWROOM


def test_another_dealers_team_is_not_found(placed, other_team):
    set_up_dealer(other_team.dealer)
    theirs = dcc_group(other_team)
    assert client_for(placed.gm).get(reverse("settings_team", args=[theirs.pk])).status_code == 404


def test_the_teams_page_speaks_chinese(placed: People, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    html = client_for(placed.gm).get(reverse("settings_teams")).content.decode()
    assert "DCC 邀约组" in html
    assert "展厅组" in html


def test_people_without_a_line_role_are_offered_too(placed: People):
    Membership.objects.filter(staff=placed.dcc_agent, dealer=placed.dealer).update(is_active=False)
    assert placed.dcc_agent not in teams.team_candidates(placed.dealer)
    assert placed.platform_specialist in teams.team_candidates(placed.dealer)


@pytest.mark.parametrize(
    "starts_on", ["0001-01-01", "1999-12-31", "9999-12-31", "2026-11-01\x00", "10" * 30]
)
def test_a_move_on_a_day_out_of_reach_is_refused_on_its_field(placed: People, starts_on):
    dcc = dcc_group(placed)
    answer = client_for(placed.gm).post(
        reverse("settings_team_member_add", args=[dcc.pk]),
        {f"team{dcc.pk}-staff": placed.consultant.pk, f"team{dcc.pk}-starts_on": starts_on},
    )
    assert answer.status_code in (400, 422)
    assert teams.team_of(placed.consultant, placed.dealer).kind == TeamKind.SHOWROOM
