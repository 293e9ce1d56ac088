"""What the benchmarks share: throw-away databases. (A package, so `make bench`, which runs
bench/*.py, does not run it.)"""

from __future__ import annotations

from pathlib import Path
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
