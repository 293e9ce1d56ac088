"""The platform pages: who opens which (one table), another dealer's account not found, a score
entered with its errors in place, the import page, the dashboard's alert strip and
headquarters' table."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.roles import Role
from platforms import actions
from platforms.models import ChecklistTick, PlatformAccount, PlatformScore
from tests.conftest import build_team, grant
from tests.factories import DealerFactory
from tests.kit import login
from tests.platforms.conftest import open_account

pytestmark = pytest.mark.django_db

HOME, HQ = "/platforms/", "/platforms/hq/"
# (role, the platforms page, an account's page, the new-account form, headquarters' table)
PAGES = [
    (Role.PLATFORM_SPECIALIST, 200, 200, 403, 403),
    (Role.MARKETING_MANAGER, 200, 200, 200, 403),
    (Role.GM, 200, 200, 200, 403),
    (Role.DCC_SUPERVISOR, 200, 200, 403, 403),
    (Role.DCC_AGENT, 403, 403, 403, 403),
    (Role.CONSULTANT, 403, 403, 403, 403),
    (Role.SALES_MANAGER, 403, 403, 403, 403),
    (Role.AUDITOR, 403, 403, 403, 403),
    (Role.HEADQUARTERS, 403, 403, 403, 200),
]


@pytest.mark.parametrize(("role", "home", "detail", "new", "hq"), PAGES, ids=lambda v: str(v))
def test_who_opens_which_page(team, account, role, home, detail, new, hq):
    client = login(team.by_role(role))
    answers = [
        client.get(path).status_code
        for path in (HOME, f"/platforms/{account.pk}/", "/platforms/new/", HQ)
    ]
    assert answers == [home, detail, new, hq]


def test_another_dealers_account_is_not_found(team, other_team, account):
    theirs = open_account(other_team)
    for person in (team.gm, team.platform_specialist, team.marketing_manager):
        client = login(person)
        assert client.get(f"/platforms/{theirs.pk}/").status_code == 404
        item = theirs.checklist_items.first()
        answer = client.post(f"/platforms/{theirs.pk}/items/{item.pk}/tick/", {"done": "1"})
        assert answer.status_code == 404
    assert not ChecklistTick.objects.exists()


def test_a_specialist_does_not_find_a_colleagues_account(team, account):
    from tests.factories import member

    colleague = member(team.dealer, Role.PLATFORM_SPECIALIST)
    assert login(colleague).get(f"/platforms/{account.pk}/").status_code == 404
    assert "车商汇" not in login(colleague).get(HOME).content.decode()


def test_the_specialist_ticks_from_the_page(team, account):
    client = login(team.platform_specialist)
    item = account.checklist_items.first()
    answer = client.post(
        f"/platforms/{account.pk}/items/{item.pk}/tick/", {"done": "1", "back": "home"}
    )
    assert answer.status_code == 302 and answer["Location"] == HOME
    assert ChecklistTick.objects.get().ticked_by == team.platform_specialist
    client.post(f"/platforms/{account.pk}/items/{item.pk}/tick/", {"done": "0"})
    assert ChecklistTick.objects.get().unticked_at is not None


def test_the_supervisor_reads_but_does_not_tick(team, account):
    client = login(team.dcc_supervisor)
    page = client.get(HOME).content.decode()
    assert "车商汇" in page and "Done: Prices updated" not in page
    item = account.checklist_items.first()
    assert (
        client.post(f"/platforms/{account.pk}/items/{item.pk}/tick/", {"done": "1"}).status_code
        == 403
    )


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"score-day": "2026-11-19", "score-score": "80"}, "day", "future"),
        ({"score-day": "not a day", "score-score": "80"}, "day", "valid date"),
        ({"score-day": "", "score-score": "80"}, "day", "required"),
        ({"score-day": "2026-11-18", "score-score": "180"}, "score", "less than or equal to 100"),
        ({"score-day": "2026-11-18", "score-score": "-1"}, "score", "greater than or equal to 0"),
        ({"score-day": "2026-11-18", "score-score": "abc"}, "score", "Enter a number"),
        ({"score-day": "2026-11-18", "score-score": ""}, "score", "required"),
    ],
)
def test_a_bad_score_is_shown_on_its_field(team, account, fields, field, message):
    answer = login(team.platform_specialist).post(f"/platforms/{account.pk}/", fields)
    assert answer.status_code == 422
    errors = answer.context["score_form"].errors
    assert list(errors) == [field] and message in str(errors[field])
    assert not PlatformScore.objects.exists()


def test_a_score_below_the_line_shows_the_alert(team, account):
    client = login(team.platform_specialist)
    answer = client.post(
        f"/platforms/{account.pk}/", {"score-day": "2026-11-18", "score-score": "82"}
    )
    assert answer.status_code == 302
    page = client.get(f"/platforms/{account.pk}/").content.decode()
    assert 'data-testid="platform-alert"' in page
    assert "Platform score 82.00 on 2026-11-18, under the line of 85.00" in page
    assert 'data-testid="platform-alert"' in client.get(HOME).content.decode()


def test_the_dashboards_strip_shows_the_alert_to_those_who_oversee(team, account):
    actions.record_score(
        account=account, by=team.platform_specialist, day=date(2026, 11, 18), score=Decimal("82")
    )
    for person, shown in (
        (team.gm, True),
        (team.dcc_supervisor, True),
        (team.sales_manager, False),
    ):
        body = login(person).get("/platforms/alerts/").content.decode()
        assert ("platform-alert" in body) is shown
    assert 'hx-get="/platforms/alerts/"' in login(team.gm).get("/dashboard/").content.decode()


def test_an_account_is_set_up_and_edited_from_the_page(team):
    client = login(team.marketing_manager)
    from tests.factories import channel

    answer = client.post(
        "/platforms/new/",
        {
            "platform": "yiche",
            "name": "车易通",
            "channel": channel(team.dealer, "yiche").pk,
            "specialist": team.platform_specialist.pk,
            "threshold": "",
        },
    )
    assert answer.status_code == 302
    account = PlatformAccount.objects.get()
    assert account.threshold == Decimal("90")
    answer = client.post(
        f"/platforms/{account.pk}/edit/",
        {
            "name": "车易通",
            "channel": channel(team.dealer, "yiche").pk,
            "specialist": team.dcc_agent.pk,
            "threshold": "92",
            "is_active": "on",
        },
    )
    assert answer.status_code == 422
    assert "specialist" in answer.context["form"].errors


def test_the_import_page_lists_the_bad_rows(team, account):
    client = login(team.platform_specialist)
    bad = SimpleUploadedFile(
        "s.csv", "账号,日期,分数\n车商汇,2026-11-17,86\n车商汇,2026-11-17,860\n".encode()
    )
    answer = client.post("/platforms/import/", {"file": bad})
    assert answer.status_code == 422
    assert [(r.row, r.column) for r in answer.context["shown"]] == [(3, "分数")]
    assert not PlatformScore.objects.exists()
    good = SimpleUploadedFile("s.csv", "账号,日期,分数\n车商汇,2026-11-17,86\n".encode())
    assert client.post("/platforms/import/", {"file": good}).status_code == 302
    assert PlatformScore.objects.count() == 1
    no_column = SimpleUploadedFile("s.csv", b"date,score\n2026-11-17,86\n")
    answer = client.post("/platforms/import/", {"file": no_column})
    assert answer.status_code == 422 and "file" in answer.context["form"].errors


def test_headquarters_sees_its_dealers_against_the_threshold_and_the_brand_average(team, account):
    second = build_team(DealerFactory(region=team.dealer.region))
    theirs = open_account(second)
    hidden = build_team(DealerFactory(region=team.dealer.region))
    not_granted = open_account(hidden)
    for acc, owner, value in (
        (account, team, "82"),
        (theirs, second, "90"),
        (not_granted, hidden, "95"),
    ):
        actions.record_score(
            account=acc, by=owner.platform_specialist, day=date(2026, 11, 18), score=Decimal(value)
        )
    grant(team.headquarters, second.dealer, Role.HEADQUARTERS)
    answer = login(team.headquarters).get(HQ)
    rows = answer.context["rows"]
    assert [(row.dealer.code, bool(row.below)) for row in rows] == [
        (team.dealer.code, True),
        (second.dealer.code, False),
    ]
    # The brand average pools every dealer of the brand: (82 + 90 + 95) / 3.
    assert {row.brand_average for row in rows} == {Decimal("89.00")}
    assert answer.context["below"] == 1
    page = answer.content.decode()
    assert f'data-dealer="{team.dealer.code}" data-platform="autohome" class="table-danger"' in page
    assert hidden.dealer.code not in page
    assert "/platforms/hq/" in login(team.headquarters).get("/dashboard/hq/").content.decode()
