"""Back up and restore a whole DCC: the database and the files kept beside it, in one archive.

The archive is a gzipped tar of
  manifest.json      what it holds: format, DCC version, database vendor, the last migration
                     applied per app, the rows of every table, the files of every store, when
  database.sqlite3   SQLite: a copy made with SQLite's online backup API (one consistent
                     snapshot while the product runs; WAL lets writers go on meanwhile), or
  database.pgdump    PostgreSQL: `pg_dump -Fc` of a snapshot whose rows the manifest counted
  files/<store>/...  the files the database only names: call recordings, uploaded import
                     files, sticker photos (when kept on this machine's disk)

A restore goes into a fresh, empty database of the same vendor (created when it does not exist
on PostgreSQL) and refuses a database that holds tables, unless forced. The ledger's triggers
travel with the database (SQLite's copy holds them; pg_restore creates them after the rows).
The files are copied after the database snapshot: a recording fetched meanwhile is extra, one
deleted meanwhile by retention is missing, as it would be an hour later anyway.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import asdict, dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import sticker_storage
from dcc.errors import Conflict, InvalidInput

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
FILES = "files"
# How long a restore waits for a lock held by someone still connected before it gives up.
LOCK_TIMEOUT = "10s"


@dataclass
class Manifest:
    format: int
    dcc_version: str
    vendor: str
    created_at: str
    migrations: dict[str, str]
    counts: dict[str, int]
    files: dict[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


class BackupError(Conflict):
    code = "backup"


def file_stores() -> dict[str, Path]:
    """The folders whose files the database names but does not hold. Sticker photos in a
    storage of their own (S3 at scale) are that service's to back up, not ours."""
    stores = {
        "recordings": Path(settings.DCC_RECORDING_DIR),
        "imports": Path(settings.DCC_IMPORT_DIR),
    }
    stickers = sticker_storage()
    if isinstance(stickers, FileSystemStorage):
        stores["stickers"] = Path(stickers.location)
    return stores


def _dcc_version() -> str:
    try:
        return version("dcc")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


# -- what a database holds ------------------------------------------------------------------


def _sqlite_tables(cursor: Any) -> list[str]:
    cursor.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name"
    )
    return [row[0] for row in cursor.fetchall()]


def _pg_tables(cursor: Any) -> list[str]:
    cursor.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
    )
    return [row[0] for row in cursor.fetchall()]


def _counts(cursor: Any, tables: list[str]) -> dict[str, int]:
    counts = {}
    for table in tables:
        cursor.execute(f'SELECT COUNT(*) FROM "{table}"')
        counts[table] = cursor.fetchone()[0]
    return counts


def count_rows(cursor: Any, vendor: str) -> dict[str, int]:
    """The rows of every table of the database the cursor is on (what a manifest records)."""
    return _counts(cursor, _sqlite_tables(cursor) if vendor == "sqlite" else _pg_tables(cursor))


def _migrations(cursor: Any, tables: list[str]) -> dict[str, str]:
    """The last migration applied per app (applied in order, so the highest id)."""
    if "django_migrations" not in tables:
        return {}
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY id")
    return dict(cursor.fetchall())


def _known_migrations() -> set[tuple[str, str]]:
    return set(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)


def _applied_unknown(manifest: Manifest) -> list[str]:
    """Migrations the backup's database had that this version of DCC does not know: it was
    made by a newer DCC, whose tables this one would misread."""
    known = _known_migrations()
    return sorted(
        f"{app}.{name}"
        for app, name in manifest.migrations.items()
        if (app, name) not in known and app in {a for a, _n in known}
    )


# -- PostgreSQL connection parameters, for psycopg and for the libpq tools ----------------


def _pg_params(database: dict[str, Any], name: str | None = None) -> dict[str, str]:
    params = {
        "dbname": name or database["NAME"],
        "user": database.get("USER") or "",
        "password": database.get("PASSWORD") or "",
        "host": database.get("HOST") or "",
        "port": str(database.get("PORT") or ""),
    }
    for key in ("sslmode", "sslrootcert", "sslcert", "sslkey"):
        if value := (database.get("OPTIONS") or {}).get(key):
            params[key] = str(value)
    return {key: value for key, value in params.items() if value}


def _pg_env(params: dict[str, str]) -> dict[str, str]:
    """The libpq environment for pg_dump/pg_restore: the password never on the command line."""
    names = {
        "dbname": "PGDATABASE",
        "user": "PGUSER",
        "password": "PGPASSWORD",
        "host": "PGHOST",
        "port": "PGPORT",
        "sslmode": "PGSSLMODE",
        "sslrootcert": "PGSSLROOTCERT",
        "sslcert": "PGSSLCERT",
        "sslkey": "PGSSLKEY",
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update({names[key]: value for key, value in params.items()})
    return env


def _run_tool(command: list[str], env: dict[str, str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(
            _("%(tool)s is not installed; install the PostgreSQL client tools.")
            % {"tool": command[0]}
        )
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(
            _("%(tool)s failed: %(error)s")
            % {"tool": command[0], "error": done.stderr.strip()[-2000:]}
        )


# -- backup ---------------------------------------------------------------------------------


def default_archive_path() -> Path:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    return Path(settings.VAR_DIR) / "backups" / f"dcc-{stamp}.tar.gz"


def backup(archive: Path, *, using: str = "default") -> Manifest:
    """Write the database and the file stores to `archive` (made whole or not at all: it is
    written beside under another name and renamed at the end)."""
    database = connections[using].settings_dict
    vendor = connections[using].vendor
    if vendor not in ("sqlite", "postgresql"):
        raise BackupError(_("Backups are made of SQLite and PostgreSQL databases only."))
    archive = Path(archive)
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=archive.parent, prefix=".dcc-backup-") as work:
        if vendor == "sqlite":
            dump = Path(work) / SQLITE_FILE
            counts, migrations = _sqlite_snapshot(Path(database["NAME"]), dump)
        else:
            dump = Path(work) / PG_FILE
            counts, migrations = _pg_snapshot(database, dump)
        manifest = Manifest(
            format=FORMAT,
            dcc_version=_dcc_version(),
            vendor=vendor,
            created_at=timezone.now().isoformat(),
            migrations=migrations,
            counts=counts,
        )
        partial = archive.with_name(archive.name + ".partial")
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(dump, arcname=dump.name)
            for store, root in file_stores().items():
                manifest.files[store] = _add_store(tar, store, root)
            body = json.dumps(asdict(manifest), indent=2, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(body)
            info.mtime = int(timezone.now().timestamp())
            with tempfile.SpooledTemporaryFile() as buffer:
                buffer.write(body)
                buffer.seek(0)
                tar.addfile(info, buffer)
        partial.replace(archive)
    return manifest


def _sqlite_snapshot(source: Path, target: Path) -> tuple[dict[str, int], dict[str, str]]:
    """Copy the live file with the online backup API in one step: one read transaction, so
    one consistent state, while WAL lets the product's writers commit meanwhile."""
    if not source.exists():
        raise BackupError(_("There is no database at %(path)s.") % {"path": source})
    live = sqlite3.connect(source, timeout=20)
    copy = sqlite3.connect(target)
    try:
        live.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file in the archive
        cursor = copy.cursor()
        (check,) = cursor.execute("PRAGMA quick_check").fetchone()
        if check != "ok":
            raise BackupError(_("The database copy is damaged: %(check)s") % {"check": check})
        tables = _sqlite_tables(cursor)
        return _counts(cursor, tables), _migrations(cursor, tables)
    finally:
        copy.close()
        live.close()


def _pg_snapshot(database: dict[str, Any], target: Path) -> tuple[dict[str, int], dict[str, str]]:
    """Count the rows in a repeatable-read transaction and let pg_dump read the very same
    snapshot (exported while the transaction stays open)."""
    import psycopg

    params = _pg_params(database)
    with psycopg.connect(**params) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        with conn.transaction(), conn.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            (snapshot,) = cursor.fetchone()
            tables = _pg_tables(cursor)
            counts, migrations = _counts(cursor, tables), _migrations(cursor, tables)
            _run_tool(
                ["pg_dump", "--format=custom", f"--snapshot={snapshot}", f"--file={target}"],
                _pg_env(params),
            )
    return counts, migrations


def _add_store(tar: tarfile.TarFile, store: str, root: Path) -> int:
    added = 0
    if not root.is_dir():
        return added
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            tar.add(path, arcname=f"{FILES}/{store}/{path.relative_to(root).as_posix()}")
            added += 1
    return added


# -- restore --------------------------------------------------------------------------------


@dataclass
class Restored:
    manifest: Manifest
    database: str
    files: int
    pending_migrations: bool


def read_manifest(archive: Path) -> Manifest:
    try:
        with tarfile.open(archive, "r:*") as tar:
            member = tar.extractfile(MANIFEST)
            data = json.loads(member.read()) if member else None
    except (OSError, tarfile.TarError, KeyError, ValueError) as error:
        raise InvalidInput(
            _("%(path)s is not a DCC backup: %(error)s") % {"path": archive, "error": error}
        ) from error
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InvalidInput(_("%(path)s is not a DCC backup of a known format.") % {"path": archive})
    return Manifest(**data)


def restore(archive: Path, *, force: bool = False, using: str = "default") -> Restored:
    """Restore `archive` into the configured database, which must be empty (or `force`), and
    its files into the configured folders. Refuses an archive of another database vendor or
    made by a newer DCC, before anything is touched."""
    archive = Path(archive)
    manifest = read_manifest(archive)
    conn = connections[using]
    database, vendor = conn.settings_dict, conn.vendor
    if manifest.vendor != vendor:
        raise BackupError(
            _(
                "This backup is of a %(theirs)s database and DCC is set up for %(ours)s: "
                "restore it into %(theirs)s (DATABASE_URL)."
            )
            % {"theirs": manifest.vendor, "ours": vendor}
        )
    if unknown := _applied_unknown(manifest):
        raise BackupError(
            _("This backup was made by a newer DCC (migrations %(names)s): upgrade DCC first.")
            % {"names": ", ".join(unknown)}
        )
    connections.close_all()
    stores = file_stores()
    with tempfile.TemporaryDirectory(prefix=".dcc-restore-") as work, tarfile.open(archive) as tar:
        dump = Path(work) / (SQLITE_FILE if vendor == "sqlite" else PG_FILE)
        _extract_one(tar, dump.name, dump)
        if vendor == "sqlite":
            counts = _sqlite_restore(dump, Path(database["NAME"]), force=force)
        else:
            counts = _pg_restore(dump, database, force=force)
        if counts != manifest.counts:
            differ = sorted(
                t
                for t in set(counts) | set(manifest.counts)
                if counts.get(t) != manifest.counts.get(t)
            )
            raise BackupError(
                _("The restored database differs from the backup in %(tables)s.")
                % {"tables": ", ".join(differ[:10])}
            )
        files = _restore_files(tar, stores)
    applied = {(app, name) for app, name in manifest.migrations.items()}
    leaves = set(MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes())
    return Restored(
        manifest=manifest,
        database=str(database["NAME"]),
        files=files,
        pending_migrations=not leaves <= applied,
    )


def _extract_one(tar: tarfile.TarFile, name: str, target: Path) -> None:
    member = tar.extractfile(name) if name in tar.getnames() else None
    if member is None:
        raise InvalidInput(_("The backup holds no %(name)s.") % {"name": name})
    with member, open(target, "wb") as out:
        shutil.copyfileobj(member, out)


def _refuse_non_empty(tables: list[str], where: str) -> None:
    raise BackupError(
        _(
            "The database %(where)s is not empty (%(tables)d tables): restore into a new, "
            "empty database, or give --force to replace everything in it."
        )
        % {"where": where, "tables": len(tables)}
    )


def _sqlite_restore(dump: Path, target: Path, *, force: bool) -> dict[str, int]:
    """Copy the archived file into the target with the backup API, which takes the target's
    locks and leaves its WAL consistent, rather than replacing the file under a reader."""
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(dump)
    live = sqlite3.connect(target, timeout=20)
    try:
        present = _sqlite_tables(live.cursor())
        if present and not force:
            _refuse_non_empty(present, str(target))
        source.backup(live)
        live.execute("PRAGMA journal_mode=WAL")
        return count_rows(live.cursor(), "sqlite")
    finally:
        live.close()
        source.close()


def _pg_restore(
    dump: Path, database: dict[str, Any], *, force: bool
) -> tuple[dict[str, int], list]:
    import psycopg

    params = _pg_params(database)
    _create_database_if_missing(database)
    with psycopg.connect(**params, autocommit=True) as conn, conn.cursor() as cursor:
        present = _pg_tables(cursor)
        if present:
            if not force:
                _refuse_non_empty(present, params["dbname"])
            # Everything of DCC lives in the one schema; whoever is still connected holds
            # locks, and then we stop rather than wait.
            cursor.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
            cursor.execute("DROP SCHEMA public CASCADE")
            cursor.execute("CREATE SCHEMA public")
    # One transaction: a restore that fails half-way leaves the database empty, not half full.
    _run_tool(
        [
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={params['dbname']}",
            str(dump),
        ],
        _pg_env(params),
    )
    with psycopg.connect(**params) as conn, conn.cursor() as cursor:
        return count_rows(cursor, "postgresql")


def _create_database_if_missing(database: dict[str, Any]) -> None:
    import psycopg
    from psycopg import sql

    name = database["NAME"]
    with (
        psycopg.connect(**_pg_params(database, "postgres"), autocommit=True) as conn,
        conn.cursor() as cursor,
    ):
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _restore_files(tar: tarfile.TarFile, stores: dict[str, Path]) -> int:
    """Put each archived file back under its store's folder, refusing any name that would
    land outside it (an archive is data, not a plan of where to write)."""
    restored = 0
    for member in tar.getmembers():
        parts = member.name.split("/")
        if len(parts) < 3 or parts[0] != FILES or not member.isfile():
            continue
        root = stores.get(parts[1])
        if root is None:
            continue
        target = (root / Path(*parts[2:])).resolve()
        if not target.is_relative_to(root.resolve()):
            raise InvalidInput(
                _("The backup names a file outside its folder: %(name)s") % {"name": member.name}
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        source = tar.extractfile(member)
        if source is None:
            continue
        with source, open(target, "wb") as out:
            shutil.copyfileobj(source, out)
        restored += 1
    return restored
