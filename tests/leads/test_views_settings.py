"""The dealer's settings pages: channels, follow-up by grade, assignment rules, reason codes,
staff and roles — what a manager changes there, that it takes effect on the next lead, that
bad input is shown in place and saves nothing, and who may see and change what."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, SettingsChange, Staff
from accounts.roles import Role
from dcc.errors import InvalidInput, NotPermitted
from leads import actions
from leads.entries import ReasonForm
from leads.forms import LeadEntryForm
from leads.models import AssignmentRule, CallOutcome, Channel, GradePolicy, ReasonCode, TeamKind
from leads.setup import configuration
from leads.stages import Grade
from tests.conftest import Team as People
from tests.factories import channel, make_lead, member
from tests.kit import login

pytestmark = pytest.mark.django_db


def page(response) -> str:
    return response.content.decode()


def at_ten_today() -> datetime:
    """Within business hours, so SLA and follow-up arithmetic is plain."""
    return timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0)


def channel_data(**changes) -> dict:
    data = {
        "code": "tmall",
        "name": "Tmall car store",
        "group": "vertical",
        "sla_minutes": "20",
        "monthly_spend": "12000",
        "is_active": "on",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


GRADE_DAYS = {
    "H": "1",
    "A": "3",
    "B": "7",
    "C": "15",
    "N": "2",
    "horizon_days": "180",
    "effective_call_seconds": "45",
}


# ---------------------------------------------------------------- who may see what

PAGES = [
    "dealer_settings",
    "settings_channels",
    "settings_channel_new",
    "settings_grades",
    "settings_rules",
    "settings_rule_new",
    "settings_reasons",
    "settings_staff",
]
# role → status of every settings page
PAGE_ACCESS = {
    Role.GM: 200,
    Role.SALES_MANAGER: 200,
    Role.DCC_SUPERVISOR: 200,
    Role.SHOWROOM_MANAGER: 200,
    Role.MARKETING_MANAGER: 403,
    Role.PLATFORM_SPECIALIST: 403,
    Role.DCC_AGENT: 403,
    Role.CONSULTANT: 403,
    Role.OWNER_OPS: 403,
    Role.AUDITOR: 403,
    Role.HEADQUARTERS: 403,
}


@pytest.mark.parametrize(("role", "expected"), PAGE_ACCESS.items())
def test_settings_pages_are_for_supervisors_and_managers(team: People, role: Role, expected: int):
    client = login(team.by_role(role))
    for name in PAGES:
        assert client.get(reverse(name)).status_code == expected, name


def test_anonymous_visitors_are_sent_to_log_in(db):
    response = Client().get(reverse("dealer_settings"))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_landing_page_links_the_five_sections(team: People):
    body = page(login(team.gm).get(reverse("dealer_settings")))
    for name in PAGES[1:]:
        if not name.endswith("_new"):
            assert f'href="{reverse(name)}"' in body


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.GM, 302),
        (Role.SALES_MANAGER, 302),
        (Role.DCC_SUPERVISOR, 403),
        (Role.SHOWROOM_MANAGER, 403),
        (Role.CONSULTANT, 403),
        (Role.HEADQUARTERS, 403),
    ],
)
def test_only_gm_and_sales_manager_change_staff(team: People, role: Role, expected: int):
    client = login(team.by_role(role))
    agent_role = Membership.objects.get(staff=team.dcc_agent_2, dealer=team.dealer)
    posts = [
        (
            reverse("settings_staff_new"),
            {
                "username": f"new-{role}",
                "display_name": "新人",
                "password": "Lead-pipeline-2025",
                "roles": ["consultant"],
            },
        ),
        (
            reverse("settings_staff_grant"),
            {"grant-username": team.owner_ops.username, "grant-role": "consultant"},
        ),
        (reverse("settings_role_weight", args=[agent_role.pk]), {f"m{agent_role.pk}-weight": "2"}),
        (reverse("settings_role_revoke", args=[agent_role.pk]), {}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == expected, url
    if expected == 403:
        agent_role.refresh_from_db()
        assert agent_role.is_active and agent_role.weight == 1
        assert not Staff.objects.filter(username=f"new-{role}").exists()


def test_supervisor_sees_staff_without_the_forms_to_change_them(team: People):
    client = login(team.dcc_supervisor)
    body = page(client.get(reverse("settings_staff")))
    assert team.dcc_agent.display_name in body
    assert reverse("settings_staff_grant") not in body
    assert reverse("settings_staff_new") not in body
    assert client.get(reverse("settings_staff_new")).status_code == 403


def test_another_dealers_settings_are_not_found(team: People, other_team: People):
    theirs = other_team.dealer
    rule = configuration.create_assignment_rule(
        dealer=theirs, by=other_team.gm, team=TeamKind.DCC, members=[other_team.dcc_agent]
    )
    reason = ReasonCode.objects.filter(dealer=theirs, kind="invalid").first()
    their_agent = Membership.objects.get(staff=other_team.dcc_agent, dealer=theirs)
    client = login(team.gm)
    requests = [
        ("get", reverse("settings_channel", args=[channel(theirs).pk]), {}),
        ("post", reverse("settings_channel", args=[channel(theirs).pk]), channel_data()),
        ("get", reverse("settings_rule", args=[rule.pk]), {}),
        ("post", reverse("settings_rule_delete", args=[rule.pk]), {}),
        ("get", reverse("settings_reason", args=[reason.pk]), {}),
        ("post", reverse("settings_reason_active", args=[reason.pk]), {"active": "0"}),
        ("post", reverse("settings_role_revoke", args=[their_agent.pk]), {}),
        (
            "post",
            reverse("settings_role_weight", args=[their_agent.pk]),
            {f"m{their_agent.pk}-weight": "5"},
        ),
    ]
    for method, url, data in requests:
        assert getattr(client, method)(url, data).status_code == 404, url
    assert AssignmentRule.objects.filter(pk=rule.pk).exists()
    reason.refresh_from_db()
    their_agent.refresh_from_db()
    assert reason.is_active and their_agent.is_active and their_agent.weight == 1


def test_services_refuse_people_who_may_not_configure(team: People):
    with pytest.raises(NotPermitted):
        configuration.set_follow_up_days(dealer=team.dealer, by=team.dcc_agent, days={"A": 5})
    with pytest.raises(NotPermitted):
        configuration.create_channel(
            dealer=team.dealer,
            by=team.headquarters,
            code="x",
            name="X",
            group="portal",
            sla_minutes=10,
        )
    assert not GradePolicy.objects.exists()


# ---------------------------------------------------------------- channels


def test_new_channel_is_listed_and_offered_for_new_leads(team: People):
    client = login(team.dcc_supervisor)
    response = client.post(reverse("settings_channel_new"), channel_data(code="Tmall"))
    assert response.status_code == 302
    created = Channel.objects.get(dealer=team.dealer, code="tmall")
    assert (created.name, created.group, created.sla_minutes, created.monthly_spend) == (
        "Tmall car store",
        "vertical",
        20,
        Decimal("12000"),
    )
    body = page(client.get(reverse("settings_channels")))
    assert "Tmall car store" in body and "tmall" in body
    assert created in LeadEntryForm(dealer=team.dealer).fields["channel"].queryset


def test_channel_code_is_unique_per_dealer(team: People, other_team: People):
    client = login(team.gm)
    before = Channel.objects.count()
    response = client.post(reverse("settings_channel_new"), channel_data(code="autohome"))
    assert response.status_code == 422
    assert "autohome" in response.context["form"].errors["code"][0]
    assert "invalid-feedback" in page(response)
    assert Channel.objects.count() == before
    # The same new code at two dealers is fine.
    configuration.create_channel(
        dealer=other_team.dealer,
        by=other_team.gm,
        code="tmall",
        name="Tmall",
        group="vertical",
        sla_minutes=15,
    )
    assert client.post(reverse("settings_channel_new"), channel_data()).status_code == 302


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("code", "has space"),
        ("code", ""),
        ("name", ""),
        ("group", "billboard"),
        ("sla_minutes", "0"),
        ("monthly_spend", "-1"),
    ],
)
def test_invalid_channel_is_shown_in_place_and_not_saved(team: People, field: str, value: str):
    before = Channel.objects.count()
    response = login(team.gm).post(reverse("settings_channel_new"), channel_data(**{field: value}))
    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert Channel.objects.count() == before


def test_editing_a_channel_changes_sla_for_the_next_lead_and_keeps_its_code(team: People):
    autohome = channel(team.dealer)
    response = login(team.sales_manager).post(
        reverse("settings_channel", args=[autohome.pk]),
        channel_data(code="renamed", name="Autohome", group="vertical", sla_minutes="45"),
    )
    assert response.status_code == 302
    autohome.refresh_from_db()
    assert (autohome.code, autohome.sla_minutes) == ("autohome", 45)
    at = at_ten_today()
    lead = make_lead(team.dealer, at=at)
    assert lead.sla_deadline == at + timedelta(minutes=45)


def test_unchanged_translated_channel_name_stays_translatable(team: People, monkeypatch):
    """Default names are stored in English and shown translated: saving the form unchanged
    must not store the translation in their place."""
    monkeypatch.setattr(
        "leads.setup.forms.gettext", lambda text: {"Autohome": "汽车之家"}.get(text, text)
    )
    autohome = channel(team.dealer)
    client = login(team.gm)
    form = client.get(reverse("settings_channel", args=[autohome.pk])).context["form"]
    assert form["name"].value() == "汽车之家"
    client.post(
        reverse("settings_channel", args=[autohome.pk]),
        channel_data(name="汽车之家", sla_minutes="10"),
    )
    autohome.refresh_from_db()
    assert (autohome.name, autohome.sla_minutes) == ("Autohome", 10)


def test_deactivated_channel_is_no_longer_offered(team: People):
    baidu = channel(team.dealer, "baidu")
    login(team.gm).post(
        reverse("settings_channel", args=[baidu.pk]),
        channel_data(name="Baidu", group="portal", is_active=None),
    )
    baidu.refresh_from_db()
    assert not baidu.is_active
    assert baidu not in LeadEntryForm(dealer=team.dealer).fields["channel"].queryset


# ---------------------------------------------------------------- follow-up by grade


def test_grade_page_shows_the_defaults_when_the_dealer_has_none(team: People):
    form = login(team.gm).get(reverse("settings_grades")).context["form"]
    assert {grade: form[grade].value() for grade in Grade.values} == {
        "H": 1,
        "A": 3,
        "B": 7,
        "C": 15,
        "N": 2,
    }


def test_grade_override_sets_the_next_follow_up_of_a_call(team: People):
    at = at_ten_today()
    before = actions.log_call(
        lead=make_lead(team.dealer),
        by=team.dcc_supervisor,
        outcome=CallOutcome.REACHED,
        grade=Grade.A,
        at=at,
    )
    assert before.next_follow_up_at == at + timedelta(days=3)

    client = login(team.dcc_supervisor)
    response = client.post(reverse("settings_grades"), {**GRADE_DAYS, "A": "5"})
    assert response.status_code == 302
    assert GradePolicy.objects.get(dealer=team.dealer, grade="A").follow_up_days == 5
    assert client.get(reverse("settings_grades")).context["form"]["A"].value() == 5

    after = actions.log_call(
        lead=make_lead(team.dealer),
        by=team.dcc_supervisor,
        outcome=CallOutcome.REACHED,
        grade=Grade.A,
        at=at,
    )
    assert after.next_follow_up_at == at + timedelta(days=5)


@pytest.mark.parametrize("bad", ["0", "", "366", "two"])
def test_invalid_interval_is_shown_in_place_and_nothing_saved(team: People, bad: str):
    response = login(team.gm).post(reverse("settings_grades"), {**GRADE_DAYS, "B": bad})
    assert response.status_code == 422
    assert "B" in response.context["form"].errors
    assert not GradePolicy.objects.exists()


def test_the_dealers_horizon_is_shown_and_set_with_the_follow_ups(team: People):
    client = login(team.gm)
    index = client.get(reverse("dealer_settings")).content.decode()
    assert "at most 180 days ahead" in index
    assert client.get(reverse("settings_grades")).context["form"]["horizon_days"].value() == 180

    response = client.post(reverse("settings_grades"), {**GRADE_DAYS, "horizon_days": "30"})

    assert response.status_code == 302
    team.dealer.refresh_from_db()
    assert team.dealer.horizon_days == 30
    assert "at most 30 days ahead" in client.get(reverse("dealer_settings")).content.decode()
    assert SettingsChange.objects.filter(dealer=team.dealer, what="horizon_days_set").exists()
    lead = actions.log_call(
        lead=make_lead(team.dealer), by=team.dcc_supervisor, outcome=CallOutcome.REACHED
    )
    with pytest.raises(InvalidInput) as refused:
        actions.book_appointment(
            lead=lead, by=team.dcc_supervisor, appointment_at=timezone.now() + timedelta(days=31)
        )
    assert refused.value.field == "appointment_at"


def test_the_effective_call_threshold_is_set_with_the_follow_ups(team: People):
    client = login(team.gm)
    form = client.get(reverse("settings_grades")).context["form"]
    assert form["effective_call_seconds"].value() == 45

    response = client.post(
        reverse("settings_grades"), {**GRADE_DAYS, "effective_call_seconds": "60"}
    )

    assert response.status_code == 302
    team.dealer.refresh_from_db()
    assert team.dealer.effective_call_seconds == 60
    assert SettingsChange.objects.filter(
        dealer=team.dealer, what="effective_call_seconds_set", detail={"seconds": 60}
    ).exists()
    refused = client.post(reverse("settings_grades"), {**GRADE_DAYS, "effective_call_seconds": "0"})
    assert refused.status_code == 422
    assert "effective_call_seconds" in refused.context["form"].errors


@pytest.mark.parametrize("bad", ["0", "", "731", "half a year"])
def test_an_invalid_horizon_is_shown_in_place_and_nothing_saved(team: People, bad: str):
    response = login(team.gm).post(reverse("settings_grades"), {**GRADE_DAYS, "horizon_days": bad})
    assert response.status_code == 422
    assert "horizon_days" in response.context["form"].errors
    team.dealer.refresh_from_db()
    assert team.dealer.horizon_days == 180
    assert not GradePolicy.objects.exists()


# ---------------------------------------------------------------- assignment rules


def rule_data(people: People, **changes) -> dict:
    data = {
        "team": "dcc",
        "channel": str(channel(people.dealer, "yiche").pk),
        "car_model": "",
        "priority": "10",
        "members": [str(people.dcc_agent_2.pk)],
    }
    data.update(changes)
    return data


def test_new_rule_decides_who_gets_the_next_leads(team: People):
    client = login(team.dcc_supervisor)
    assert client.post(reverse("settings_rule_new"), rule_data(team)).status_code == 302
    rule = AssignmentRule.objects.get(dealer=team.dealer)
    assert list(rule.members.all()) == [team.dcc_agent_2]
    body = page(client.get(reverse("settings_rules")))
    assert str(team.dcc_agent_2) in body

    by = team.platform_specialist
    yiche = [make_lead(team.dealer, by=by, channel_code="yiche") for _ in range(3)]
    assert {lead.owner for lead in yiche} == {team.dcc_agent_2}
    # Other channels are still shared by the whole team.
    others = [make_lead(team.dealer, by=by, channel_code="autohome") for _ in range(2)]
    assert team.dcc_agent in {lead.owner for lead in others}


def test_rule_for_a_model_sends_its_leads_to_the_showroom_people_chosen(team: People):
    client = login(team.showroom_manager)
    response = client.post(
        reverse("settings_rule_new"),
        rule_data(
            team,
            team="showroom",
            channel="",
            car_model="Model Y",
            members=[str(team.consultant_2.pk)],
        ),
    )
    assert response.status_code == 302
    lead = make_lead(team.dealer, car_model="model y")
    handed = actions.hand_off(lead=lead, by=team.dcc_supervisor, team=TeamKind.SHOWROOM)
    assert handed.owner == team.consultant_2


def test_rules_are_listed_by_priority(team: People):
    for priority in (50, 5, 20):
        configuration.create_assignment_rule(
            dealer=team.dealer,
            by=team.gm,
            team=TeamKind.DCC,
            car_model=f"M{priority}",
            priority=priority,
            members=[team.dcc_agent],
        )
    rows = login(team.gm).get(reverse("settings_rules")).context["rows"]
    assert [rule.priority for rule, _members in rows] == [5, 20, 50]


def test_rule_members_must_work_in_the_rules_team(team: People):
    client = login(team.gm)
    response = client.post(
        reverse("settings_rule_new"), rule_data(team, members=[str(team.consultant.pk)])
    )
    assert response.status_code == 422
    assert "members" in response.context["form"].errors
    assert not AssignmentRule.objects.exists()
    with pytest.raises(InvalidInput) as refused:
        configuration.create_assignment_rule(
            dealer=team.dealer, by=team.gm, team=TeamKind.DCC, members=[team.consultant]
        )
    assert refused.value.field == "members"
    response = client.post(reverse("settings_rule_new"), rule_data(team, members=[]))
    assert response.status_code == 422
    assert not AssignmentRule.objects.exists()


def test_a_second_rule_for_the_same_leads_is_refused(team: People):
    client = login(team.gm)
    client.post(reverse("settings_rule_new"), rule_data(team))
    response = client.post(reverse("settings_rule_new"), rule_data(team, priority="3"))
    assert response.status_code == 422
    assert response.context["form"].non_field_errors()
    assert AssignmentRule.objects.count() == 1


def test_changing_the_team_offers_that_teams_people(team: People):
    response = login(team.gm).get(
        reverse("settings_rule_new"), {"team": "showroom"}, headers={"HX-Request": "true"}
    )
    body = page(response)
    assert 'id="rule-members"' in body and "<html" not in body
    assert f"({team.consultant.username})" in body
    assert f"({team.dcc_agent.username})" not in body


def test_rule_can_be_edited_and_deleted(team: People):
    rule = configuration.create_assignment_rule(
        dealer=team.dealer, by=team.gm, team=TeamKind.DCC, members=[team.dcc_agent]
    )
    client = login(team.sales_manager)
    url = reverse("settings_rule", args=[rule.pk])
    assert client.get(url).context["form"]["members"].value() == [team.dcc_agent.pk]
    both = [str(team.dcc_agent.pk), str(team.dcc_agent_2.pk)]
    response = client.post(url, rule_data(team, priority="7", members=both))
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.priority == 7 and rule.members.count() == 2

    delete = reverse("settings_rule_delete", args=[rule.pk])
    assert client.get(delete).status_code == 200
    assert AssignmentRule.objects.filter(pk=rule.pk).exists()
    assert client.post(delete).status_code == 302
    assert not AssignmentRule.objects.filter(pk=rule.pk).exists()


# ---------------------------------------------------------------- reason codes


def test_new_reason_is_offered_when_marking_a_lead(team: People):
    client = login(team.dcc_supervisor)
    response = client.post(
        reverse("settings_reason_new", args=["invalid"]),
        {"invalid-code": "test_call", "invalid-label": "Test call by the platform"},
    )
    assert response.status_code == 302
    assert "Test call by the platform" in page(client.get(reverse("settings_reasons")))
    lead = make_lead(team.dealer)
    codes = [code for code, _label in ReasonForm(lead=lead).fields["reason"].choices]
    assert "test_call" in codes


def test_reason_code_is_unique_within_its_kind(team: People):
    client = login(team.gm)
    before = ReasonCode.objects.count()
    response = client.post(
        reverse("settings_reason_new", args=["defeat"]),
        {"defeat-code": "price", "defeat-label": "Too dear"},
    )
    assert response.status_code == 422
    assert "code" in response.context["groups"][1]["form"].errors
    assert ReasonCode.objects.count() == before
    # The same code as an invalid reason is another reason.
    response = client.post(
        reverse("settings_reason_new", args=["invalid"]),
        {"invalid-code": "price", "invalid-label": "Only asked for a price"},
    )
    assert response.status_code == 302


def test_reason_kind_must_exist(team: People):
    response = login(team.gm).post(
        reverse("settings_reason_new", args=["bogus"]), {"bogus-code": "x", "bogus-label": "X"}
    )
    assert response.status_code == 404


def test_renaming_keeps_the_code_past_leads_refer_to(team: People):
    lead = make_lead(team.dealer)
    actions.invalidate_lead(lead=lead, by=team.dcc_supervisor, reason="no_intent")
    reason = ReasonCode.objects.get(dealer=team.dealer, kind="invalid", code="no_intent")
    client = login(team.gm)
    response = client.post(reverse("settings_reason", args=[reason.pk]), {"label": "随便问问"})
    assert response.status_code == 302
    reason.refresh_from_db()
    assert (reason.code, reason.label) == ("no_intent", "随便问问")
    assert "随便问问" in page(client.get(reverse("lead_detail", args=[lead.pk])))

    response = client.post(reverse("settings_reason", args=[reason.pk]), {"label": "  "})
    assert response.status_code == 422
    reason.refresh_from_db()
    assert reason.label == "随便问问"


def test_deactivated_reason_stays_but_is_no_longer_offered(team: People):
    reason = ReasonCode.objects.get(dealer=team.dealer, kind="invalid", code="out_of_area")
    client = login(team.gm)
    url = reverse("settings_reason_active", args=[reason.pk])
    assert client.post(url, {"active": "0"}).status_code == 302
    reason.refresh_from_db()
    assert not reason.is_active
    lead = make_lead(team.dealer)
    assert "out_of_area" not in dict(ReasonForm(lead=lead).fields["reason"].choices)
    with pytest.raises(InvalidInput):
        actions.invalidate_lead(lead=lead, by=team.dcc_supervisor, reason="out_of_area")

    assert client.post(url, {"active": "1"}).status_code == 302
    reason.refresh_from_db()
    assert reason.is_active


def test_the_last_active_reason_of_a_kind_stays(team: People):
    reasons = list(ReasonCode.objects.filter(dealer=team.dealer, kind="defeat"))
    for reason in reasons[1:]:
        configuration.set_reason_code_active(reason=reason, by=team.gm, is_active=False)
    last = reasons[0]
    response = login(team.gm).post(
        reverse("settings_reason_active", args=[last.pk]), {"active": "0"}
    )
    assert response.status_code == 422
    assert "at least one" in page(response).lower()
    last.refresh_from_db()
    assert last.is_active


# ---------------------------------------------------------------- staff and roles

NEW_PERSON = {
    "username": "li.lei",
    "display_name": "李雷",
    "mobile": "138 0013 8000",
    "password": "Lead-pipeline-2025",
    "roles": ["dcc_agent"],
}


def test_added_person_can_log_in_and_takes_leads(team: People):
    client = login(team.gm)
    response = client.post(reverse("settings_staff_new"), NEW_PERSON)
    assert response.status_code == 302
    person = Staff.objects.get(username="li.lei")
    assert (person.display_name, person.mobile) == ("李雷", "13800138000")
    assert Membership.objects.filter(
        staff=person, dealer=team.dealer, role="dcc_agent", is_active=True
    ).exists()
    assert "李雷" in page(client.get(reverse("settings_staff")))
    assert Client().login(username="li.lei", password="Lead-pipeline-2025")
    # Two busy colleagues: the newcomer gets the next lead.
    for agent in (team.dcc_agent, team.dcc_agent_2):
        make_lead(team.dealer, owner=agent)
    assert make_lead(team.dealer).owner == person


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("username", "staff_taken"),
        ("username", "has space"),
        ("display_name", ""),
        ("mobile", "12345"),
        ("password", "123"),
        ("roles", []),
        ("roles", ["headquarters"]),
    ],
)
def test_invalid_person_is_shown_in_place_and_not_saved(team: People, field: str, value):
    if value == "staff_taken":
        value = team.consultant.username
    before = Staff.objects.count()
    response = login(team.gm).post(reverse("settings_staff_new"), {**NEW_PERSON, field: value})
    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert Staff.objects.count() == before


def test_existing_login_can_be_granted_a_role_here(team: People, other_team: People):
    outsider = other_team.consultant
    client = login(team.sales_manager)
    response = client.post(
        reverse("settings_staff_grant"),
        {"grant-username": outsider.username, "grant-role": "consultant"},
    )
    assert response.status_code == 302
    assert Membership.objects.filter(
        staff=outsider, dealer=team.dealer, role="consultant", is_active=True
    ).exists()
    assert outsider.display_name in page(client.get(reverse("settings_staff")))

    response = client.post(
        reverse("settings_staff_grant"),
        {"grant-username": "nobody-here", "grant-role": "consultant"},
    )
    assert response.status_code == 422
    assert "username" in response.context["grant_form"].errors


def test_sales_manager_cannot_make_a_general_manager(team: People):
    response = login(team.sales_manager).post(
        reverse("settings_staff_grant"),
        {"grant-username": team.consultant.username, "grant-role": "gm"},
    )
    assert response.status_code == 422
    assert not Membership.objects.filter(staff=team.consultant, role="gm").exists()


def test_revoked_role_is_shown_and_can_be_granted_again(team: People):
    membership = Membership.objects.get(staff=team.consultant_2, dealer=team.dealer)
    client = login(team.gm)
    response = client.post(reverse("settings_role_revoke", args=[membership.pk]))
    assert response.status_code == 302
    membership.refresh_from_db()
    assert not membership.is_active
    staff_page = client.get(reverse("settings_staff"))
    person = next(row for row in staff_page.context["people"] if row.staff == team.consultant_2)
    assert [row.membership.is_active for row in person.roles] == [False]

    client.post(
        reverse("settings_staff_grant"),
        {"grant-username": team.consultant_2.username, "grant-role": "consultant"},
    )
    membership.refresh_from_db()
    assert membership.is_active
    assert Membership.objects.filter(staff=team.consultant_2).count() == 1


def test_revoking_the_last_role_of_someone_with_open_leads_is_refused(team: People):
    for _ in range(2):
        make_lead(team.dealer, owner=team.dcc_agent)
    membership = Membership.objects.get(staff=team.dcc_agent, dealer=team.dealer)
    response = login(team.gm).post(reverse("settings_role_revoke", args=[membership.pk]))
    assert response.status_code == 422
    body = page(response)
    assert "2 open leads" in body and "Reassign" in body
    membership.refresh_from_db()
    assert membership.is_active


def test_a_second_role_can_go_while_the_person_keeps_working_leads(team: People):
    make_lead(team.dealer, owner=team.dcc_agent)
    extra = Membership.objects.create(staff=team.dcc_agent, dealer=team.dealer, role="auditor")
    client = login(team.gm)
    assert client.post(reverse("settings_role_revoke", args=[extra.pk])).status_code == 302
    extra.refresh_from_db()
    assert not extra.is_active


def test_the_last_person_who_manages_staff_keeps_that_role(team: People):
    client = login(team.gm)
    sales = Membership.objects.get(staff=team.sales_manager, dealer=team.dealer)
    assert client.post(reverse("settings_role_revoke", args=[sales.pk])).status_code == 302
    own = Membership.objects.get(staff=team.gm, dealer=team.dealer)
    response = client.post(reverse("settings_role_revoke", args=[own.pk]))
    assert response.status_code == 422
    own.refresh_from_db()
    assert own.is_active


def test_weight_sets_the_share_of_new_leads(team: People):
    membership = Membership.objects.get(staff=team.dcc_agent_2, dealer=team.dealer)
    client = login(team.gm)
    url = reverse("settings_role_weight", args=[membership.pk])
    assert client.post(url, {f"m{membership.pk}-weight": "3"}).status_code == 302
    membership.refresh_from_db()
    assert membership.weight == 3
    owners = [make_lead(team.dealer).owner for _ in range(8)]
    assert owners.count(team.dcc_agent_2) > owners.count(team.dcc_agent)

    response = client.post(url, {f"m{membership.pk}-weight": "0"})
    assert response.status_code == 422
    assert 'aria-invalid="true"' in page(response)
    membership.refresh_from_db()
    assert membership.weight == 3


def test_only_agents_and_consultants_have_a_weight(team: People):
    gm_role = Membership.objects.get(staff=team.gm, dealer=team.dealer)
    response = login(team.gm).post(
        reverse("settings_role_weight", args=[gm_role.pk]), {f"m{gm_role.pk}-weight": "4"}
    )
    assert response.status_code == 422
    gm_role.refresh_from_db()
    assert gm_role.weight == 1


def test_staff_page_queries_do_not_grow_with_the_staff(team: People):
    client = login(team.gm)
    client.get(reverse("settings_staff"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("settings_staff"))
    for _ in range(5):
        make_lead(team.dealer, owner=member(team.dealer, Role.CONSULTANT))
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("settings_staff"))
    assert len(many) == len(few)


def test_every_settings_change_is_recorded_with_who_and_what(team: People):
    """Configuration is traceable to a person, like the leads' ledger."""
    client = login(team.dcc_supervisor)
    response = client.post(
        reverse("settings_channel_new"),
        {
            "code": "xhs",
            "name": "小红书",
            "group": "social",
            "sla_minutes": 20,
            "monthly_spend": "3000",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content
    configuration.set_follow_up_days(dealer=team.dealer, by=team.gm, days={"H": 2})
    changes = list(
        SettingsChange.objects.filter(dealer=team.dealer)
        .order_by("changed_at", "pk")
        .values_list("changed_by", "what", "subject")
    )
    assert changes == [
        (team.dcc_supervisor.pk, "channel_created", "xhs"),
        (team.gm.pk, "follow_up_days_set", "grades"),
    ]
