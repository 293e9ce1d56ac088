"""What the tests share: one way to sign in, one check of what an action recorded (ledger,
tasks and tallies together), and the query-count baselines of the pages and the API.

Query counts: each app's tests keep `query_counts.json` beside them, one figure per page and
database vendor; `test_query_counts.py` in the same folder measures them. After a change that
rightly adds or removes queries, regenerate every file with `make query-counts` (SQLite, then
PostgreSQL when it answers), or one vendor's figures with
`DCC_UPDATE_QUERY_COUNTS=1 .venv/bin/pytest tests -k query_counts`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import ApiToken, Staff
from leads import ledger, tallies
from leads.models import Event, EventKind, Lead, Task, TaskKind

# Every person the staff factories make has this password (tests.factories.StaffFactory).
PASSWORD = "pw-for-tests-1"


# ---------------------------------------------------------------- signing in


def login(
    staff: Staff, *, language: str | None = None, token: bool = False, csrf: bool = False
) -> Client:
    """A client signed in as `staff`: a browser's session, or with `token=True` an
    integration sending a bearer token. `language` is the person's language switch (cookie);
    without it pages speak the tests' English (settings.LANGUAGE_CODE). `csrf=True` checks
    CSRF tokens as a real browser's requests are checked."""
    if token:
        _row, raw = ApiToken.issue(staff=staff, name="test")
        client = Client(enforce_csrf_checks=csrf, headers={"Authorization": f"Bearer {raw}"})
    else:
        client = Client(enforce_csrf_checks=csrf)
        client.force_login(staff)
    if language:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def session_cookie(staff: Staff) -> dict[str, str]:
    """The session cookie of `staff` signed in, for a real browser to send."""
    cookie = login(staff).cookies[settings.SESSION_COOKIE_NAME]
    return {"name": settings.SESSION_COOKIE_NAME, "value": cookie.value}


def with_password(staff: Staff) -> Staff:
    """Give `staff` (a person the demo made) the tests' PASSWORD, to sign in by the form."""
    staff.set_password(PASSWORD)
    staff.save(update_fields=["password"])
    return staff


# ---------------------------------------------------------------- what an action recorded

_UNSET = object()


def assert_recorded(
    lead: Lead,
    kind: EventKind | str,
    *,
    by: Staff | object | None = _UNSET,
    stage: tuple[str, str] | str | None = None,
    owner: tuple[Staff, Staff] | None = None,
    at: datetime | None = None,
    reason: str | None = None,
    note: str | None = None,
    data: Mapping | None = None,
    open_tasks: Mapping[TaskKind | str, Staff | tuple[Staff, datetime]] | None = None,
) -> Event:
    """Check what the last action on `lead` left behind, all at once: its last event (the
    `kind`, by whom, the stage move `stage=(from, to)` or `stage=` the stage it stays in, the
    owner move `owner=(from, to)`, when, reason, note, data), the lead's hash chain still
    verifying, its open tasks exactly `open_tasks` when given ({kind: assignee} or
    {kind: (assignee, due)}), and the stored tallies of its dealer equal to a rebuild from
    the ledger. Returns the event, for what else a test asks of it."""
    event = Event.objects.filter(lead_id=lead.pk).order_by("seq").last()
    assert event is not None, f"lead {lead.pk} has no event"
    assert event.kind == kind, f"lead {lead.pk}: last event is {event.kind}, not {kind}"
    if by is not _UNSET:
        want = by.pk if isinstance(by, Staff) else by
        assert event.actor_id == want, f"{kind} by staff {event.actor_id}, not {want}"
    row = Lead.objects.filter(pk=lead.pk).values("stage", "owner_id", "dealer_id").get()
    if isinstance(stage, tuple):
        assert (event.from_stage, event.to_stage) == stage, f"{kind} moved the stage wrongly"
        assert row["stage"] == stage[1], f"lead {lead.pk} is {row['stage']}, not {stage[1]}"
    elif stage is not None:
        assert row["stage"] == stage, f"lead {lead.pk} is {row['stage']}, not {stage}"
        assert event.to_stage in ("", stage), f"{kind} moved the stage to {event.to_stage}"
    if owner is not None:
        moved = (event.from_owner_id, event.to_owner_id)
        assert moved == (owner[0].pk, owner[1].pk), f"{kind} moved the owner {moved}"
        assert row["owner_id"] == owner[1].pk
    for name, value in (("occurred_at", at), ("reason", reason), ("note", note), ("data", data)):
        if value is not None:
            assert getattr(event, name) == value, f"{kind}: {name} is {getattr(event, name)!r}"
    if open_tasks is not None:
        found = Task.objects.filter(lead_id=lead.pk, closed_at__isnull=True)
        got = {
            task: (who, due)
            for task, who, due in found.values_list("kind", "assignee_id", "due_at")
        }
        assert len(got) == found.count(), f"lead {lead.pk}: two open tasks of one kind"
        expected = {}
        for task, whom in open_tasks.items():
            staff, due = (
                whom if isinstance(whom, tuple) else (whom, got.get(str(task), (0, None))[1])
            )
            expected[str(task)] = (staff.pk, due)
        assert got == expected, f"lead {lead.pk}: open tasks {{kind: (assignee, due)}} {got}"
    broken = [
        link for link in ledger.verify(dealer_id=row["dealer_id"]).broken if link.lead_id == lead.pk
    ]
    assert not broken, f"lead {lead.pk}: the ledger's chain is broken: {broken}"
    drift = tallies.drift([row["dealer_id"]])
    assert drift == [], "the stored tallies differ from the ledger:\n" + "\n".join(drift)
    return event


# ---------------------------------------------------------------- query-count baselines

UPDATE_QUERY_COUNTS = os.environ.get("DCC_UPDATE_QUERY_COUNTS") == "1"


def count_queries(request: Callable[[], object]) -> int:
    """How many SQL queries `request()` makes, after a first call that fills what is filled
    once (the session, the content types, a token's last use), so the count is the same in
    any order of the tests."""
    request()
    with CaptureQueriesContext(connection) as captured:
        response = request()
    status = getattr(response, "status_code", 200)
    assert status < 400, f"answered {status}: {getattr(response, 'content', b'')[:500]!r}"
    return len(captured)


def check_query_counts(baseline: Path, measured: Mapping[str, int]) -> None:
    """Compare `measured` ({page: queries}) with the figures of this database vendor in
    `baseline`; with DCC_UPDATE_QUERY_COUNTS=1 write them there instead."""
    vendor = connection.vendor
    kept: dict[str, dict[str, int]] = (
        json.loads(baseline.read_text(encoding="utf-8")) if baseline.exists() else {}
    )
    if UPDATE_QUERY_COUNTS:
        fresh = {
            name: dict(kept.get(name, {})) | {vendor: count} for name, count in measured.items()
        }
        # One line per page, so that a regenerated file's diff shows what changed.
        lines = [
            f"  {json.dumps(name, ensure_ascii=False)}: {json.dumps(figures, sort_keys=True)}"
            for name, figures in sorted(fresh.items())
        ]
        baseline.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")
        return
    problems = []
    for name, count in measured.items():
        figure = kept.get(name, {}).get(vendor)
        if figure is None:
            problems.append(f"{name}: {count} queries, no baseline on {vendor}")
        elif count > figure:
            problems.append(f"{name}: {count} queries, {count - figure} more than its {figure}")
    for name in kept.keys() - measured.keys():
        problems.append(f"{name}: in the baseline but no longer measured")
    assert not problems, (
        f"Query counts against {baseline} ({vendor}):\n  "
        + "\n  ".join(problems)
        + "\nFind the new queries (an N+1?) or, if they are meant, regenerate the baselines:"
        " `make query-counts` (or DCC_UPDATE_QUERY_COUNTS=1 on this database)."
    )
