"""The test database as a DATABASE_URL for child processes, and fresh PostgreSQL databases
next to it that are dropped afterwards (backup and crash tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def url_of(settings_dict: dict, name: str | None = None) -> str:
    name = name or settings_dict["NAME"]
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(name).resolve()}"
    user = quote(settings_dict.get("USER") or "")
    password = settings_dict.get("PASSWORD")
    credentials = f"{user}:{quote(password)}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{credentials}{host}:{port}/{name}"


def database_url() -> str:
    return url_of(connection.settings_dict)


@contextmanager
def fresh_postgres_database(name: str) -> Iterator[str]:
    """A database `name` that does not exist yet (its URL); dropped afterwards, connections
    and all. The name must say it is a test's."""
    assert "test" in name, name
    import psycopg
    from psycopg import sql

    params = {
        "dbname": "postgres",
        "user": connection.settings_dict.get("USER") or None,
        "password": connection.settings_dict.get("PASSWORD") or None,
        "host": connection.settings_dict.get("HOST") or None,
        "port": connection.settings_dict.get("PORT") or None,
    }
    params = {k: v for k, v in params.items() if v}
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute(drop)
    try:
        yield url_of(connection.settings_dict, name)
    finally:
        with psycopg.connect(**params, autocommit=True) as admin:
            admin.execute(drop)


def dcc(*args: str, database_url: str, var_dir: Path, timeout: int = 60):
    """Run `dcc ARGS` in a child process against another database and var/ folder."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DCC_RECORDING_DIR")}
    env |= {
        "DJANGO_SETTINGS_MODULE": "dcc.settings",
        "DATABASE_URL": database_url,
        "DCC_VAR_DIR": str(var_dir),
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
