"""Scores from a file: every row checked first, a bad row named by its number and column, and
nothing stored unless every row is right."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from intake.files import FileError
from platforms.imports import import_scores
from platforms.models import Platform, PlatformScore, ScoreSource
from tests.platforms.conftest import open_account

pytestmark = pytest.mark.django_db


def write(tmp_path: Path, text: str, name: str = "scores.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def yiche(team):
    return open_account(team, platform=Platform.YICHE, name="车易通")


def test_rows_by_account_or_platform_in_chinese_headings(team, account, yiche, tmp_path):
    path = write(
        tmp_path,
        "账号,平台,日期,得分,备注\n车商汇,,2026-11-17,86.5,月度\n,易车,2026/11/18,91%,\n",
    )
    result = import_scores(dealer=team.dealer, by=team.marketing_manager, path=path)
    assert (result.stored, result.rejected) == (2, [])
    stored = {
        (s.account.name, s.day.isoformat(), s.score, s.note) for s in PlatformScore.objects.all()
    }
    assert stored == {
        ("车商汇", "2026-11-17", Decimal("86.5"), "月度"),
        ("车易通", "2026-11-18", Decimal("91"), ""),
    }
    assert {s.source for s in PlatformScore.objects.all()} == {ScoreSource.IMPORTED}


def test_an_xlsx_with_real_dates_and_numbers(team, account, tmp_path):
    import datetime

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["account", "date", "score"])
    sheet.append(["车商汇", datetime.date(2026, 11, 16), 84])
    path = tmp_path / "scores.xlsx"
    book.save(path)
    result = import_scores(dealer=team.dealer, by=team.platform_specialist, path=path)
    assert result.stored == 1
    assert PlatformScore.objects.get().score == Decimal("84")


def test_each_bad_row_is_named_and_nothing_is_stored(team, account, yiche, tmp_path):
    from accounts.roles import Role
    from tests.factories import member

    open_account(
        team,
        platform=Platform.YICHE,
        name="车易通二店",
        specialist=member(team.dealer, Role.PLATFORM_SPECIALIST),
    )
    path = write(
        tmp_path,
        "account,platform,date,score\n"
        "车商汇,,2026-11-17,86\n"  # 2: fine
        "无此账号,,2026-11-17,86\n"  # 3: unknown account
        ",易车,2026-11-17,86\n"  # 4: two accounts on Yiche
        ",快手,2026-11-17,86\n"  # 5: unknown platform
        "车商汇,,2026-11-19,86\n"  # 6: tomorrow
        "车商汇,,17 Nov,86\n"  # 7: not a date
        "车商汇,,2026-11-17,八十\n"  # 8: not a number
        "车商汇,,2026-11-17,101\n"  # 9: out of range
        "车商汇,,,86\n"  # 10: no date
        ",,2026-11-17,86\n"  # 11: neither account nor platform
        "车商汇,,2026-11-17,\n",  # 12: no score
    )
    result = import_scores(dealer=team.dealer, by=team.marketing_manager, path=path)
    assert result.stored == 0
    assert not PlatformScore.objects.exists()
    assert [(row.row, row.column) for row in result.rejected] == [
        (3, "account"),
        (4, "account"),
        (5, "platform"),
        (6, "date"),
        (7, "date"),
        (8, "score"),
        (9, "score"),
        (10, "date"),
        (11, "account"),
        (12, "score"),
    ]
    assert "无此账号" in result.rejected[0].message
    assert "future" in result.rejected[3].message


def test_a_specialist_imports_only_the_accounts_they_run(team, account, tmp_path):
    from accounts.roles import Role
    from tests.factories import member

    colleague = member(team.dealer, Role.PLATFORM_SPECIALIST)
    path = write(tmp_path, "account,date,score\n车商汇,2026-11-17,86\n")
    result = import_scores(dealer=team.dealer, by=colleague, path=path)
    assert [(row.row, row.column) for row in result.rejected] == [(2, "account")]


def test_another_dealers_account_is_unknown(team, other_team, tmp_path):
    open_account(other_team)
    path = write(tmp_path, "account,date,score\n车商汇,2026-11-17,86\n")
    result = import_scores(dealer=team.dealer, by=team.marketing_manager, path=path)
    assert [(row.row, row.column) for row in result.rejected] == [(2, "account")]


@pytest.mark.parametrize(
    "text",
    ["date,score\n2026-11-17,86\n", "account,score\n车商汇,86\n", "account,date\nx,2026-11-17\n"],
)
def test_a_file_missing_a_column_is_refused_whole(team, account, tmp_path, text):
    with pytest.raises(FileError) as refused:
        import_scores(dealer=team.dealer, by=team.marketing_manager, path=write(tmp_path, text))
    assert refused.value.code == "file_missing_column"


def test_an_empty_or_unreadable_file_is_refused(team, account, tmp_path):
    with pytest.raises(FileError):
        import_scores(dealer=team.dealer, by=team.marketing_manager, path=write(tmp_path, ""))
    with pytest.raises(FileError):
        import_scores(
            dealer=team.dealer,
            by=team.marketing_manager,
            path=write(tmp_path, "account,date,score\n"),
        )
