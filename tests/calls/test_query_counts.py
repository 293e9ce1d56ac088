"""The queries of the phone settings pages against their baselines in query_counts.json beside
this file (one figure per database vendor). More queries than the baseline fail; when they are
meant, regenerate every app's file with `make query-counts` (tests/kit.py says how)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from calls import setup
from calls.models import Line, PhoneAccount, ScriptPurpose
from tests.conftest import Team
from tests.kit import check_query_counts, count_queries, login

pytestmark = pytest.mark.django_db

BASELINE = Path(__file__).with_name("query_counts.json")


def configured(team: Team, account: PhoneAccount) -> None:
    """A dealer with a few of everything: blocked numbers, scripts with versions and variants."""
    for number in ("13900001111", "13900002222", "13900003333"):
        setup.block_number(dealer=team.dealer, by=team.gm, number=number, reason="supplier")
    for purpose in ScriptPurpose:
        for version in (1, 2):
            setup.edit_script(
                dealer=team.dealer,
                by=team.gm,
                purpose=purpose,
                title=f"{purpose.label}",
                body=f"Hello, {{agent}} here ({version}).",
            )
    setup.edit_script(
        dealer=team.dealer,
        by=team.gm,
        purpose=ScriptPurpose.INVITATION,
        title="Hot",
        body="Today?",
        stage="contacted",
        grade="H",
    )


def test_the_pages_make_no_more_queries_than_their_baseline(team: Team, account: PhoneAccount):
    configured(team, account)
    line = Line.objects.get(dealer=team.dealer)
    pages = {
        "phone accounts (GM)": reverse("settings_phone"),
        "phone account (GM)": reverse("settings_phone_account", args=[account.pk]),
        "phone seats (GM)": reverse("settings_phone_seats", args=[account.pk]),
        "phone lines (GM)": reverse("settings_phone_lines"),
        "phone line (GM)": reverse("settings_phone_line", args=[line.pk]),
        "blocked numbers (GM)": reverse("settings_phone_blocked"),
        "call scripts (GM)": reverse("settings_phone_scripts"),
        "call script (GM)": reverse("settings_phone_script", args=["first_call"]),
        "recording retention (GM)": reverse("settings_phone_retention"),
    }
    client = login(team.gm)
    measured = {
        name: count_queries(lambda: client.get(path))  # noqa: B023
        for name, path in pages.items()
    }
    check_query_counts(BASELINE, measured)
