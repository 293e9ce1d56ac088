"""The queries of the audit group's pages against their baselines in query_counts.json beside
this file (one figure per database vendor); `make query-counts` regenerates them."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from audit import sources
from tests.audit.conftest import WEEK, during, recorded_call
from tests.audit.test_pages import WEEK_QUERY
from tests.kit import check_query_counts, count_queries, login

pytestmark = pytest.mark.django_db
BASELINE = Path(__file__).with_name("query_counts.json")


def test_the_pages_make_no_more_queries_than_their_baseline(team, audited, account):
    for n in range(6):  # more work: the counts must not grow with it
        recorded_call(account, during(WEEK, n % 5, 12), seat="8002")
    pages = {
        "audit workbench (auditor)": (team.auditor, reverse("audit_workbench") + WEEK_QUERY),
        "audit of a call (auditor)": (
            team.auditor,
            reverse("audit_task", args=[audited["call_task"].pk]),
        ),
        "audit of a defeat, audited (auditor)": (
            team.auditor,
            reverse("audit_task", args=[audited["audit"].task_id]),
        ),
        "my audit results (consultant)": (team.consultant, reverse("audit_mine")),
        "audit appeals (GM)": (team.gm, reverse("audit_appeals")),
        "audit sampling plans (auditor)": (team.auditor, reverse("audit_plans")),
        "audit check items of calls (auditor)": (
            team.auditor,
            reverse("audit_form_edit", args=[sources.CALL]),
        ),
    }
    measured = {}
    for name, (person, path) in pages.items():
        client = login(person)
        measured[name] = count_queries(lambda: client.get(path))  # noqa: B023
    check_query_counts(BASELINE, measured)
