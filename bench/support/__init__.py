"""What the benchmarks share: throw-away databases, Django in a child process, query plans.
(A package, so `make bench`, which runs bench/*.py, does not run it.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit


def recreate_postgres(url: str, *, create: bool = True) -> None:
    """Drop (and create) a benchmark database, through the server's `postgres` database."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if "bench" not in name:
        raise SystemExit(f"refusing to drop database {name!r}: its name must contain 'bench'")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        if create:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def remove_sqlite(path: Path) -> None:
    """Remove a SQLite database with its WAL and journal files."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


ROOT = Path(__file__).resolve().parent.parent.parent


def django_setup() -> None:
    """Set Django up in a benchmark's child process, the project first on the path (the
    bench folder, first there as the script's own, would hide the kpi app behind kpi.py)."""
    import django

    here = ROOT / "bench"
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    sys.path.insert(0, str(ROOT))
    django.setup()


def explain(sql: str) -> list[str]:
    """The database's plan for one captured query (PostgreSQL: with actual times)."""
    from django.db import connection

    prefix = (
        "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute(prefix + sql)
            rows = cursor.fetchall()
    except Exception as error:  # the captured text is not always valid SQL again
        return [f"(no plan: {error})"]
    if connection.vendor == "sqlite":
        return [str(row[-1]) for row in rows]
    return [row[0] for row in rows]


# Share of leads per channel code (leads.setup.defaults.DEFAULT_CHANNELS), as dealers see them.
CHANNEL_WEIGHTS = {
    "autohome": 24,
    "yiche": 14,
    "dongchedi": 15,
    "baidu": 6,
    "wechat": 6,
    "douyin": 12,
    "hotline_400": 8,
    "directory_12114": 2,
    "car_show": 4,
    "referral": 4,
    "walk_in": 5,
}


def run_stage(stage: str, command: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run a benchmark's child `command`, echoing what it prints; its last line starting
    RESULT is its JSON answer."""
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) as child:
        assert child.stdout is not None
        last = ""
        for line in child.stdout:
            if line.startswith("RESULT "):
                last = line[len("RESULT ") :]
            else:
                print(line, end="", flush=True)
    if child.returncode != 0 or not last:
        raise SystemExit(f"the {stage} step failed (exit {child.returncode})")
    return json.loads(last)
