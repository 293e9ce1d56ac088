"""The queries of the import pages against their baselines in query_counts.json beside this
file (one figure per database vendor). More queries than the baseline fail; when they are
meant, regenerate every app's file with `make query-counts` (tests/kit.py says how)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Team
from tests.factories import channel
from tests.intake.test_views import csv_bytes, import_file, people, upload
from tests.kit import check_query_counts, count_queries, login

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("office_hours")]

BASELINE = Path(__file__).with_name("query_counts.json")


@pytest.fixture(autouse=True)
def _imports_at_once(settings, tmp_path: Path) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.DCC_IMPORT_DIR = tmp_path / "imports"


def test_the_pages_make_no_more_queries_than_their_baseline(
    team: Team, django_capture_on_commit_callbacks
):
    boss = login(team.dcc_supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        job = import_file(boss, csv_bytes(people(5)), channel=channel(team.dealer).pk)
    preview = upload(boss, csv_bytes(people(5)), channel=channel(team.dealer).pk)
    pages = {
        "import list (DCC supervisor)": "/imports/",
        "import preview (DCC supervisor)": preview,
        "import report (DCC supervisor)": f"/imports/{job.pk}/",
        "import progress (DCC supervisor)": f"/imports/{job.pk}/progress/",
    }
    measured = {name: count_queries(lambda: boss.get(path)) for name, path in pages.items()}  # noqa: B023
    check_query_counts(BASELINE, measured)
