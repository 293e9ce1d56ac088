"""File import throughput: a canonical CSV of N rows through the real import path.

    .venv/bin/python bench/ingest.py [--rows N] [--customers M] [--database-url URL] [--keep]

A fresh database (by default a SQLite file under var/bench/; a PostgreSQL URL is dropped and
created here, and its database name must contain "bench") gets one dealer with its staff
(`leads.setup.defaults.set_up_dealer`, twelve channels) and M customers, written with bulk_create.
A canonical CSV of N rows is generated: Chinese names, created_at spread over six months,
twelve channels, about 10 % of the rows a repeat enquiry of a number seen earlier in the file,
a few of the numbers already customers, the rest new; a third of the first enquiries carry a
lifecycle (contacted → appointed → arrived → ordered → delivered, in order, cut off at a
random step) owned by a DCC agent.

The file is imported with `intake.imports.start_import` + `run_import` in a child process, so
that its peak RSS is the import's own; then it is compared with two raw references:

- single table (for information): the same rows written the plainest possible way into one
  table with a unique index on (dealer, mobile): sqlite3 `executemany` with INSERT OR IGNORE
  on SQLite, COPY (into a staging table, then INSERT … ON CONFLICT DO NOTHING) on PostgreSQL.
- same schema (the physical limit of this schema): as many customers, leads, daily tallies,
  events and tasks as the import wrote (counted after it), written raw into the real tables
  of a copy of the database taken just before the import (same migrations, indexes,
  triggers, dealer, people, channels and customers): prepared tuples, `executemany` on
  SQLite (WAL, synchronous NORMAL, foreign keys on, as DCC opens it), COPY on PostgreSQL,
  one transaction per batch of input rows as the import commits. The values are those of a
  sample of the import's own rows (hashes, JSON data, dates) with fresh keys; no Python
  logic beyond building the tuples. The import's own row records (intake_importrow) are
  timed too and shown apart.

Targets: import rows/s >= 0.5 × the same-schema reference and peak RSS < 300 MB. On SQLite
the CPU seconds of both are printed as well: the database works in the calling process, so
they hold on a busy machine where wall times do not. This is a benchmark, not a test: it
prints and exits 0 unless the run itself breaks.

The parent process never loads Django: it only starts the children (set-up, import) and does
the raw reference, so no child inherits its memory.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import sqlite3
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from support import (  # bench/support, beside this script
    django_setup,
    recreate_postgres,
    remove_sqlite,
    run_stage,
)

ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = ROOT / "var" / "bench"
DEFAULT_ROWS = 1_000_000
DEFAULT_CUSTOMERS = 1_000_000
SEED = 2026
DEALER_CODE = "SH001"
CUSTOMER_BATCH = 5_000
RAW_BATCH = 10_000
REPEAT_SHARE = 0.10  # rows that repeat a number seen earlier in the file
KNOWN_SHARE = 0.05  # first enquiries from a number that is already a customer
LIFECYCLE_SHARE = 1 / 3
DAYS = 182  # created_at spread
TARGET_RATIO = 0.5  # of the same-schema reference
TARGET_RSS_MB = 300.0
CHANNELS_WANTED = 12
EXTRA_CHANNEL = ("local_site", "本地汽车网", "local_site")  # code, name, group
# A number is prefix + 8 digits; index i -> (i * STRIDE + OFFSET) mod 10^8 is a bijection
# on 0..10^8-1 (STRIDE is coprime with 10^8), so every index has its own number.
STRIDE = 7_919_333
OFFSET = 12_345_678

# key, display name, role, how many
STAFF_PLAN = [
    ("gm", "周建国", "gm", 1),
    ("dcc_lead", "李娜", "dcc_supervisor", 1),
    ("agent", "坐席", "dcc_agent", 8),
    ("showroom", "赵强", "showroom_manager", 1),
    ("consultant", "顾问", "consultant", 6),
]
COLUMNS = (
    "name",
    "mobile",
    "channel",
    "model",
    "city",
    "created_at",
    "grade",
    "owner",
    "contacted_at",
    "appointed_at",
    "arrived_at",
    "ordered_at",
    "delivered_at",
    "note",
)
STAMPS = ("contacted_at", "appointed_at", "arrived_at", "ordered_at", "delivered_at")
# Chance of reaching the next lifecycle step, and how long it takes (hours, min..max).
NEXT_STEP = {
    "appointed_at": (0.6, 2, 120),
    "arrived_at": (0.7, 12, 96),
    "ordered_at": (0.35, 0.5, 72),
    "delivered_at": (0.7, 72, 720),
}
NOTES = ("", "", "", "", "对价格敏感", "周末有空", "想看现车", "在比较竞品")
CITIES = ("上海", "上海", "上海", "上海", "上海", "苏州", "嘉兴", "南通")


def phone_of(index: int) -> str:
    from_prefix = ("138", "139", "136", "150", "151", "186", "187", "158", "177", "199")
    return from_prefix[index % 10] + f"{(index * STRIDE + OFFSET) % 10**8:08d}"


def rss_mb() -> tuple[float, float]:
    """(ru_maxrss, VmHWM of /proc) of this process in MB: the second is per address space,
    so it cannot carry a parent's peak over fork/exec."""
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    hwm = 0.0
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) / 1024
    except OSError:
        pass
    return maxrss, hwm


# ---------------------------------------------------------------- children (Django)


def child_setup(args: argparse.Namespace) -> dict[str, Any]:
    """Migrate, the dealer with its people and twelve channels, M customers, the CSV."""
    django_setup()
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import Brand, Dealer, Membership, Region, Staff
    from leads.demo import CAR_MODELS, GIVEN, SURNAMES
    from leads.models import Channel, Customer
    from leads.search import name_initials
    from leads.setup.defaults import set_up_dealer

    clock = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrate: {time.perf_counter() - clock:.1f} s", flush=True)
    brand = Brand.objects.create(code="xingtu", name="星途汽车")
    region = Region.objects.create(brand=brand, code="east", name="华东区")
    dealer = Dealer.objects.create(
        region=region, code=DEALER_CODE, name="上海浦东星途4S店", city="上海"
    )
    set_up_dealer(dealer)
    agents = []
    for key, name, role, count in STAFF_PLAN:
        for number in range(1, count + 1):
            username = key if count == 1 else f"{key}{number}"
            staff = Staff(username=username, display_name=name if count == 1 else f"{name}{number}")
            staff.set_unusable_password()
            staff.save()
            Membership.objects.create(staff=staff, dealer=dealer, role=role)
            if key == "agent":
                agents.append(username)
    codes = list(
        Channel.objects.filter(dealer=dealer).order_by("pk").values_list("code", flat=True)
    )
    added = []
    if len(codes) < CHANNELS_WANTED:
        code, name, group = EXTRA_CHANNEL
        Channel.objects.create(dealer=dealer, code=code, name=name, group=group)
        codes.append(code)
        added.append(code)

    rng = random.Random(args.seed)
    initials: dict[str, str] = {}

    def person() -> str:
        given = rng.choice(("先生", "女士", rng.choice(GIVEN) + rng.choice(GIVEN)))
        return rng.choice(SURNAMES) + given

    now = timezone.now()
    clock = time.perf_counter()
    for start in range(0, args.customers, CUSTOMER_BATCH):
        batch = []
        for index in range(start, min(start + CUSTOMER_BATCH, args.customers)):
            name = person()
            if name not in initials:
                initials[name] = name_initials(name)
            batch.append(
                Customer(
                    dealer_id=dealer.pk,
                    phone=phone_of(index),
                    phone_kind="mobile",
                    name=name,
                    name_initials=initials[name],
                    city=rng.choice(CITIES),
                    created_at=now - timedelta(days=rng.uniform(DAYS, 3 * 365)),
                )
            )
        with transaction.atomic():
            Customer.objects.bulk_create(batch)
    took = time.perf_counter() - clock
    print(f"customers: {args.customers:,} in {took:.1f} s (bulk_create)", flush=True)

    clock = time.perf_counter()
    counts = write_csv(
        Path(args.csv),
        rows=args.rows,
        customers=args.customers,
        rng=rng,
        now=now,
        tz=timezone.get_current_timezone(),
        channels=codes,
        agents=agents,
        models=list(CAR_MODELS),
        person=person,
    )
    size = Path(args.csv).stat().st_size / 2**20
    print(
        f"CSV: {args.rows:,} rows, {size:,.1f} MB in {time.perf_counter() - clock:.1f} s "
        f"({args.csv})",
        flush=True,
    )
    return {"dealer": dealer.pk, "channels": codes, "added_channels": added, **counts}


def write_csv(
    path: Path,
    *,
    rows: int,
    customers: int,
    rng: random.Random,
    now: datetime,
    tz: Any,
    channels: list[str],
    agents: list[str],
    models: list[str],
    person: Any,
) -> dict[str, int]:
    """Stream the rows to `path` in created_at order; only the numbers seen are kept."""
    weights = [24, 14, 15, 6, 6, 12, 8, 2, 4, 4, 5, 3, 3, 3, 3, 3][: len(channels)]
    # Creation times, sorted: seconds before now, as floats (8 bytes a row, whatever N).
    span = DAYS * 86_400
    offsets = sorted((rng.uniform(0, span) for _ in range(rows)), reverse=True)
    seen: list[int] = []  # number indices of the rows so far, for repeats
    next_new = customers  # indices >= customers are not customers yet
    counts = {"repeat_rows": 0, "known_numbers": 0, "lifecycle_rows": 0, "new_numbers": 0}

    def local(at: datetime) -> str:
        return at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")

    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for offset in offsets:
            created = now - timedelta(seconds=offset + 60)
            row = dict.fromkeys(COLUMNS, "")
            if seen and rng.random() < REPEAT_SHARE:
                index = rng.choice(seen)
                counts["repeat_rows"] += 1
            else:
                if customers and rng.random() < KNOWN_SHARE:
                    index = rng.randrange(customers)
                    counts["known_numbers"] += 1
                else:
                    index = next_new
                    next_new += 1
                    counts["new_numbers"] += 1
                if rng.random() < LIFECYCLE_SHARE:
                    counts["lifecycle_rows"] += 1
                    row["owner"] = rng.choice(agents)
                    row["grade"] = rng.choice("HABCN")
                    at = created + timedelta(minutes=rng.uniform(3, 48 * 60))
                    stamps = {"contacted_at": at}
                    for column, (chance, low, high) in NEXT_STEP.items():
                        if rng.random() >= chance:
                            break
                        at = at + timedelta(hours=rng.uniform(low, high))
                        stamps[column] = at
                    for column, at in stamps.items():
                        if at >= now:
                            break
                        row[column] = local(at)
            seen.append(index)
            row["name"] = person()
            row["mobile"] = phone_of(index)
            row["channel"] = rng.choices(channels, weights)[0]
            row["model"] = rng.choice(models)
            row["city"] = rng.choice(CITIES)
            row["created_at"] = local(created)
            row["note"] = rng.choice(NOTES)
            writer.writerow(row.values())
    return counts


def child_import(args: argparse.Namespace) -> dict[str, Any]:
    """start_import + run_import of the CSV, as the dealer's GM; counts queries on the way."""
    django_setup()
    from django.db import connection

    from accounts.models import Dealer, Staff
    from intake.imports import BATCH_ROWS, run_import, start_import
    from intake.models import ImportRow
    from leads.models import Customer, DailyTally, Event, Lead, Task

    dealer = Dealer.objects.get(code=DEALER_CODE)
    gm = Staff.objects.get(username="gm")
    tables = {
        "customers": Customer,
        "leads": Lead,
        "tallies": DailyTally,
        "events": Event,
        "tasks": Task,
    }

    def counted() -> dict[str, int]:
        return {key: model.objects.filter(dealer=dealer).count() for key, model in tables.items()}

    before = counted()
    queries = 0

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    last = time.perf_counter()
    started = last

    def progress(job: Any) -> None:
        nonlocal last
        if args.quiet:
            return
        clock = time.perf_counter()
        if clock - last >= 30 or job.status == "done":
            last = clock
            rate = job.rows_done / (clock - started)
            print(f"  {job.rows_done:,} rows, {rate:,.0f} rows/s", flush=True)

    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
    with connection.execute_wrapper(count):
        clock = time.perf_counter()
        cpu = time.process_time()
        if profiler:
            profiler.enable()
        job = start_import(dealer=dealer, by=gm, path=Path(args.csv))
        job = run_import(job, path=Path(args.csv), progress=progress)
        if profiler:
            profiler.disable()
        took = time.perf_counter() - clock
        cpu = time.process_time() - cpu
    maxrss, hwm = rss_mb()
    if profiler:
        import io
        import pstats

        out = io.StringIO()
        profiler.dump_stats(Path(args.csv).with_suffix(".prof"))  # for pstats / snakeviz
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(30)
        stats.sort_stats("tottime").print_stats(30)
        print(out.getvalue(), flush=True)
    reasons: dict[str, int] = {}
    for message in ImportRow.objects.filter(job=job, outcome="rejected").values_list(
        "message", flat=True
    ):
        reasons[message[:120]] = reasons.get(message[:120], 0) + 1
    return {
        "seconds": took,
        "cpu_seconds": cpu,
        "status": job.status,
        "rows": job.rows_done,
        "created": job.created,
        "touched": job.touched,
        "rejected": job.rejected,
        "already_imported": job.already_imported,
        "skipped": job.skipped,
        "leads": Lead.objects.filter(dealer=dealer).count() - before["leads"],
        # What the import wrote, table by table: the same-schema reference writes as many.
        "written": {
            **{key: n - before[key] for key, n in counted().items()},
            "import_rows": ImportRow.objects.filter(job=job).count(),
        },
        "job": job.pk,
        "batch_rows": BATCH_ROWS,
        "queries": queries,
        "maxrss_mb": maxrss,
        "hwm_mb": hwm,
        "reasons": sorted(reasons.items(), key=lambda item: -item[1])[:5],
        "dealer": dealer.pk,
    }


# ---------------------------------------------------------------- parent (no Django)


def run_child(stage: str, args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    """Run this script as `stage` in a fresh interpreter; its last stdout line is JSON."""
    command = [sys.executable, __file__, "--stage", stage, "--rows", str(args.rows)]
    command += ["--customers", str(args.customers), "--seed", str(args.seed), "--csv", args.csv]
    if args.profile:
        command.append("--profile")
    if args.quiet:
        command.append("--quiet")
    return run_stage(stage, command, env)


def raw_rows(path: Path, dealer: int) -> Any:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        for cells in reader:
            yield (dealer, *cells)


RAW_COLUMNS = ("dealer", *COLUMNS)


def raw_sqlite(path: Path, csv_path: Path, dealer: int) -> tuple[float, int]:
    """executemany INSERT OR IGNORE into one table with a unique (dealer, mobile) index."""
    remove_sqlite(path)
    conn = sqlite3.connect(path)
    columns = ", ".join(f"{c} {'integer' if c == 'dealer' else 'text'}" for c in RAW_COLUMNS)
    conn.execute(f"CREATE TABLE lead (id integer PRIMARY KEY, {columns})")
    conn.execute("CREATE UNIQUE INDEX lead_dealer_mobile ON lead (dealer, mobile)")
    conn.commit()
    insert = (
        f"INSERT OR IGNORE INTO lead ({', '.join(RAW_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(RAW_COLUMNS))})"
    )
    clock = time.perf_counter()
    batch = []
    for row in raw_rows(csv_path, dealer):
        batch.append(row)
        if len(batch) >= RAW_BATCH:
            with conn:
                conn.executemany(insert, batch)
            batch = []
    if batch:
        with conn:
            conn.executemany(insert, batch)
    took = time.perf_counter() - clock
    kept = conn.execute("SELECT count(*) FROM lead").fetchone()[0]
    conn.close()
    remove_sqlite(path)
    return took, kept


def raw_postgres(url: str, csv_path: Path, dealer: int) -> tuple[float, int]:
    """COPY into a staging table, then INSERT … ON CONFLICT DO NOTHING into one table with a
    unique (dealer, mobile) index: COPY itself cannot skip duplicates."""
    import psycopg

    columns = ", ".join(f"{c} {'integer' if c == 'dealer' else 'text'}" for c in RAW_COLUMNS)
    names = ", ".join(RAW_COLUMNS)
    with psycopg.connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_raw_lead, bench_raw_stage")
        conn.execute(f"CREATE TABLE bench_raw_lead (id bigserial PRIMARY KEY, {columns})")
        conn.execute(
            "CREATE UNIQUE INDEX bench_raw_dealer_mobile ON bench_raw_lead (dealer, mobile)"
        )
        conn.execute(f"CREATE TEMP TABLE bench_raw_stage ({columns})")
        conn.commit()
        clock = time.perf_counter()
        with conn.cursor() as cursor:
            with cursor.copy(f"COPY bench_raw_stage ({names}) FROM STDIN") as copy:
                for row in raw_rows(csv_path, dealer):
                    copy.write_row(row)
            cursor.execute(
                f"INSERT INTO bench_raw_lead ({names}) SELECT {names} FROM bench_raw_stage "
                "ON CONFLICT (dealer, mobile) DO NOTHING"
            )
        conn.commit()
        took = time.perf_counter() - clock
        kept = conn.execute("SELECT count(*) FROM bench_raw_lead").fetchone()[0]
        conn.execute("DROP TABLE bench_raw_lead")
        conn.commit()
    return took, kept


# ---------------------------------------------------------------- same-schema reference

# The tables an import writes, as (table, key) in the order they are written; the key names
# what the reference rows need in place of the sampled ones.
SCHEMA_TABLES = (
    ("leads_customer", "customers"),
    ("leads_lead", "leads"),
    ("leads_dailytally", "tallies"),
    ("leads_event", "events"),
    ("leads_task", "tasks"),
    ("intake_importrow", "import_rows"),
)
SAMPLE_ROWS = 5_000  # rows of each table read back from the import, to copy the values of
REF_PHONE_PREFIX = "145"  # not a prefix phone_of hands out: no number collides


def sqlite_path(url: str) -> str:
    return url.removeprefix("sqlite:///")


class RawDatabase:
    """A plain driver connection (sqlite3 or psycopg), no Django: columns, samples, writes."""

    def __init__(self, url: str) -> None:
        self.postgres = url.startswith("postgres")
        if self.postgres:
            import psycopg

            self.conn = psycopg.connect(url)
        else:
            # As dcc.settings opens SQLite: WAL, synchronous NORMAL, BEGIN IMMEDIATE; and as
            # Django's backend does, with foreign keys checked.
            self.conn = sqlite3.connect(sqlite_path(url), isolation_level="IMMEDIATE")
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("PRAGMA foreign_keys=ON")

    def columns(self, table: str) -> list[str]:
        if self.postgres:
            found = self.conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                "ORDER BY ordinal_position",
                [table],
            ).fetchall()
            return [name for (name,) in found]
        return [row[1] for row in self.conn.execute(f"PRAGMA table_info({table})")]

    def select(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return self.conn.execute(
            sql.replace("?", "%s") if self.postgres else sql, params
        ).fetchall()

    def sample(self, table: str, columns: list[str], where: str, params: tuple[Any, ...]) -> list:
        """The newest rows of `table` (those the import wrote), as the driver gives them back;
        on PostgreSQL as text, which COPY takes as it is."""
        cast = "::text" if self.postgres else ""
        names = ", ".join(f"{c}{cast}" for c in columns)
        return self.select(
            f"SELECT {names} FROM {table} WHERE {where} ORDER BY id DESC LIMIT {SAMPLE_ROWS}",
            params,
        )

    def write(self, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        """Prepared tuples in: executemany on SQLite, COPY on PostgreSQL."""
        names = ", ".join(columns)
        if self.postgres:
            with (
                self.conn.cursor() as cursor,
                cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join("?" * len(columns))
        self.conn.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)

    def commit(self) -> None:
        self.conn.commit()

    def close(self) -> None:
        self.conn.close()


def copy_database(url: str, copy_url: str) -> None:
    """The database as the set-up left it, before the import: the reference writes into this
    copy (same migrations, indexes, triggers, dealer, people, channels and customers)."""
    if url.startswith("postgres"):
        import psycopg
        from psycopg import sql

        recreate_postgres(copy_url, create=False)
        parts = urlsplit(url)
        admin = parts._replace(path="/postgres").geturl()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(urlsplit(copy_url).path.lstrip("/")),
                    sql.Identifier(parts.path.lstrip("/")),
                )
            )
        return
    remove_sqlite(Path(sqlite_path(copy_url)))
    source = sqlite3.connect(sqlite_path(url))
    target = sqlite3.connect(sqlite_path(copy_url))
    source.backup(target)
    target.close()
    source.close()


def drop_database(url: str) -> None:
    if url.startswith("postgres"):
        recreate_postgres(url, create=False)
    else:
        remove_sqlite(Path(sqlite_path(url)))


def same_schema(
    url: str,
    copy_url: str,
    *,
    rows: int,
    dealer: int,
    job: int,
    counts: dict[str, int],
    batch_rows: int,
) -> tuple[dict[str, float], float]:
    """Write as many customers, leads, tallies, events, tasks and import rows as the import
    wrote into the copy of the database it started from, raw: values copied from a sample of
    the import's own rows, with fresh keys (ids, phones, days, digests) and the references
    between them (a lead's customer, an event's lead and seq) set the way the import sets
    them; one transaction per `batch_rows` input rows, as the import commits. Returns the
    seconds of each table (building its tuples and writing them) and of the commits."""
    source = RawDatabase(url)
    columns: dict[str, list[str]] = {}
    samples: dict[str, list] = {}
    for table, key in SCHEMA_TABLES:
        columns[key] = [c for c in source.columns(table) if c != "id"]
        if key == "import_rows":
            where, params = "job_id = ?", (job,)
        else:
            where, params = "dealer_id = ?", (dealer,)
        if key == "customers":
            columns[key] = ["id", *columns[key]]
        if key == "leads":
            columns[key] = ["id", *columns[key]]
        samples[key] = source.sample(table, columns[key], where, params)
    job_columns = source.columns("intake_importjob")
    job_row = source.sample("intake_importjob", job_columns, "id = ?", (job,))
    source.close()

    target = RawDatabase(copy_url)
    target.write("intake_importjob", job_columns, job_row)  # the import rows' job
    first_customer = target.select("SELECT coalesce(max(id), 0) + 1 FROM leads_customer")[0][0]
    first_lead = target.select("SELECT coalesce(max(id), 0) + 1 FROM leads_lead")[0][0]
    # A lead has a customer of its own batch, else (more leads than new customers: repeat
    # enquiries on closed leads, first enquiries of known numbers) one already there.
    batches = -(-rows // batch_rows)
    extra = max(counts["leads"] - counts["customers"], 0) + batches
    known = [
        pk
        for (pk,) in target.select(
            f"SELECT id FROM leads_customer WHERE dealer_id = ? ORDER BY id LIMIT {extra}",
            (dealer,),
        )
    ]
    target.commit()
    before = _counted(target, dealer, job)
    next_known = iter(known)

    def at(key: str, name: str) -> int:
        return columns[key].index(name)

    c_id, c_phone = at("customers", "id"), at("customers", "phone")
    l_id, l_customer = at("leads", "id"), at("leads", "customer_id")
    e_lead, e_seq = at("events", "lead_id"), at("events", "seq")
    t_lead = at("tasks", "lead_id")
    d_day = at("tallies", "day")
    i_row, i_digest, i_lead = (
        at("import_rows", "row_number"),
        at("import_rows", "row_digest"),
        at("import_rows", "lead_id"),
    )
    base_day = datetime(2000, 1, 1)
    seq = {"lead": -1, "seq": 0}

    def span(key: str, start: int, stop: int) -> range:
        total = counts[key]
        return range(total * start // rows, total * stop // rows)

    def lead_of(index: int, part: range, leads: range) -> int:
        """The lead of the `index`th row of `part`: the batch's leads in order."""
        if not leads:
            return first_lead + max(leads.start - 1, 0)
        return first_lead + leads.start + (index - part.start) * len(leads) // len(part)

    def build(key: str, part: range, leads: range, customers: range) -> list[tuple[Any, ...]]:
        sample = samples[key]
        n = len(sample)
        out = []
        for k in part:
            row = list(sample[k % n])
            if key == "customers":
                row[c_id] = first_customer + k
                row[c_phone] = f"{REF_PHONE_PREFIX}{k:08d}"
            elif key == "leads":
                row[l_id] = first_lead + k
                mine = k - part.start
                if mine < len(customers):
                    row[l_customer] = first_customer + customers.start + mine
                else:
                    row[l_customer] = next(next_known, None)
                    if row[l_customer] is None:
                        raise SystemExit("too few customers for the reference: raise --customers")
            elif key == "events" or key == "tasks":
                lead = lead_of(k, part, leads)
                if key == "events":
                    seq["seq"] = seq["seq"] + 1 if lead == seq["lead"] else 1
                    seq["lead"] = lead
                    row[e_lead], row[e_seq] = lead, seq["seq"]
                else:
                    row[t_lead] = lead
            elif key == "tallies":
                row[d_day] = (base_day + timedelta(days=k)).strftime("%Y-%m-%d")
            else:  # import_rows
                row[i_row] = k + 2
                row[i_digest] = f"{k:064x}"
                if row[i_lead] is not None:
                    row[i_lead] = lead_of(k, part, leads)
            out.append(tuple(row))
        return out

    seconds = dict.fromkeys([key for _t, key in SCHEMA_TABLES] + ["commits"], 0.0)
    cpu = dict.fromkeys(seconds, 0.0)
    for start in range(0, rows, batch_rows):
        stop = min(start + batch_rows, rows)
        leads = span("leads", start, stop)
        customers = span("customers", start, stop)
        for table, key in SCHEMA_TABLES:
            clock, process = time.perf_counter(), time.process_time()
            part = span(key, start, stop)
            if part:
                target.write(table, columns[key], build(key, part, leads, customers))
            seconds[key] += time.perf_counter() - clock
            cpu[key] += time.process_time() - process
        clock, process = time.perf_counter(), time.process_time()
        target.commit()
        seconds["commits"] += time.perf_counter() - clock
        cpu["commits"] += time.process_time() - process
    seconds["cpu"] = sum(cpu.values()) - cpu["import_rows"]
    written = {key: n - before[key] for key, n in _counted(target, dealer, job).items()}
    target.close()
    return seconds, written


def _counted(db: RawDatabase, dealer: int, job: int) -> dict[str, int]:
    return {
        key: db.select(
            f"SELECT count(*) FROM {table} WHERE "
            + ("job_id = ?" if key == "import_rows" else "dealer_id = ?"),
            (job if key == "import_rows" else dealer,),
        )[0][0]
        for table, key in SCHEMA_TABLES
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="rows in the CSV")
    parser.add_argument(
        "--customers", type=int, default=DEFAULT_CUSTOMERS, help="customers already there"
    )
    parser.add_argument(
        "--database-url",
        help="e.g. postgres://postgres@127.0.0.1:5432/dcc_ingest_bench (dropped and created); "
        "default: a fresh SQLite file under var/bench/",
    )
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--keep", action="store_true", help="keep the database and the CSV")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the import and print the top functions"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument("--stage", choices=("setup", "import"), help=argparse.SUPPRESS)
    parser.add_argument("--csv", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rows < 1 or args.customers < 0:
        parser.error("--rows must be at least 1 and --customers at least 0")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.stage:
        result = child_setup(args) if args.stage == "setup" else child_import(args)
        print("RESULT " + json.dumps(result, ensure_ascii=False), flush=True)
        return

    VAR_DIR.mkdir(parents=True, exist_ok=True)
    tag = f"{args.rows}-{args.customers}"
    args.csv = str(VAR_DIR / f"ingest-{tag}.csv")
    sqlite_file = None
    if args.database_url:
        url = args.database_url
        if not urlsplit(url).scheme.startswith("postgres"):
            raise SystemExit("--database-url must be a postgres:// URL (SQLite is the default)")
        recreate_postgres(url)
    else:
        sqlite_file = VAR_DIR / f"ingest-{tag}.sqlite3"
        remove_sqlite(sqlite_file)
        url = f"sqlite:///{sqlite_file}"
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="dcc.settings",
        DATABASE_URL=url,
        DCC_VAR_DIR=str(VAR_DIR),
        DEBUG="false",
        PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
    )
    vendor = "postgresql" if sqlite_file is None else "sqlite"
    print(
        f"DCC import benchmark: {args.rows:,} rows into a dealer with {args.customers:,} "
        f"customers on {vendor} ({url}); {os.cpu_count()} CPUs"
    )
    setup = run_child("setup", args, env)
    print(
        f"channels: {len(setup['channels'])}"
        + (f" (added {', '.join(setup['added_channels'])})" if setup["added_channels"] else "")
        + f"; rows: {setup['new_numbers']:,} new numbers, {setup['known_numbers']:,} of "
        f"existing customers, {setup['repeat_rows']:,} repeats within the file, "
        f"{setup['lifecycle_rows']:,} with a lifecycle"
    )
    # The same-schema reference writes into a copy of the database as the import finds it.
    if sqlite_file is None:
        copy_url = urlsplit(url)._replace(path=urlsplit(url).path + "_ref").geturl()
    else:
        copy_url = f"sqlite:///{VAR_DIR / f'ingest-ref-{tag}.sqlite3'}"
    copy_database(url, copy_url)

    print("\nimport (start_import + run_import, child process):", flush=True)
    ours = run_child("import", args, env)
    seconds = ours["seconds"]
    rows_rate = ours["rows"] / seconds
    print(
        f"  status {ours['status']}: {ours['rows']:,} rows in {seconds:,.1f} s = "
        f"{rows_rate:,.0f} rows/s, {ours['leads'] / seconds:,.0f} leads/s "
        f"({ours['leads']:,} leads)"
    )
    print(
        "  outcomes: "
        + ", ".join(
            f"{key} {ours[key]:,}"
            for key in ("created", "touched", "rejected", "already_imported", "skipped")
        )
    )
    for message, n in ours["reasons"]:
        print(f"    rejected {n:,}× {message}")
    print(f"  queries: {ours['queries']:,} ({ours['queries'] / max(ours['rows'], 1):.1f} a row)")
    written = ours["written"]
    print("  wrote: " + ", ".join(f"{key} {n:,}" for key, n in written.items()))
    peak = ours["maxrss_mb"]
    print(f"  peak RSS: {peak:,.0f} MB (ru_maxrss; VmHWM {ours['hwm_mb']:,.0f} MB)")

    print("\nsingle-table reference (for information):", flush=True)
    if sqlite_file is None:
        label = "PostgreSQL COPY + INSERT … ON CONFLICT DO NOTHING"
        raw_seconds, kept = raw_postgres(url, Path(args.csv), setup["dealer"])
    else:
        label = "sqlite3 executemany INSERT OR IGNORE"
        raw_seconds, kept = raw_sqlite(
            VAR_DIR / f"ingest-raw-{tag}.sqlite3", Path(args.csv), setup["dealer"]
        )
    raw_rate = args.rows / raw_seconds
    print(
        f"  {label}: {args.rows:,} rows in {raw_seconds:,.2f} s = {raw_rate:,.0f} rows/s "
        f"({kept:,} distinct numbers kept)"
    )

    how = "COPY" if sqlite_file is None else "executemany"
    print(
        f"\nsame-schema reference ({how} into the real tables of a copy of the database the "
        f"import started from, a transaction per {ours['batch_rows']:,} rows):",
        flush=True,
    )
    took, wrote = same_schema(
        url,
        copy_url,
        rows=args.rows,
        dealer=setup["dealer"],
        job=ours["job"],
        counts=written,
        batch_rows=ours["batch_rows"],
    )
    for key, n in wrote.items():
        same = "" if n == written[key] else f" (the import wrote {written[key]:,})"
        print(f"  {key}: {n:,} rows in {took[key]:,.2f} s{same}")
    print(f"  commits: {took['commits']:,.2f} s")
    cpu = took.pop("cpu")
    schema_seconds = sum(took.values()) - took["import_rows"]
    schema_rate = args.rows / schema_seconds
    full_rate = args.rows / (schema_seconds + took["import_rows"])
    print(
        f"  customers, leads, tallies, events, tasks: {schema_seconds:,.2f} s = "
        f"{schema_rate:,.0f} input rows/s"
    )
    print(f"  with the import's row records too: {full_rate:,.0f} input rows/s")
    drop_database(copy_url)

    single = rows_rate / raw_rate
    ratio = rows_rate / schema_rate
    print(f"\nimport: {rows_rate:,.0f} rows/s")
    print(f"ratio import / single table: {single:.4f} (1 : {1 / single:,.0f})")
    print(
        f"ratio import / same schema: {ratio:.3f} "
        f"(with the row records: {rows_rate / full_rate:.3f})"
    )
    if sqlite_file is not None:
        # SQLite works in the process that calls it: CPU seconds are the cost of either side
        # whatever else the machine is doing, where wall time on a busy machine is not.
        print(
            f"CPU seconds (SQLite's work included): import {ours['cpu_seconds']:,.2f}, same "
            f"schema {cpu:,.2f}: ratio {cpu / ours['cpu_seconds']:.3f}"
        )
    met = "met" if ratio >= TARGET_RATIO else "NOT met"
    print(f"target import >= {TARGET_RATIO} × same schema: {met}")
    met = "met" if peak < TARGET_RSS_MB else "NOT met"
    print(f"target peak RSS < {TARGET_RSS_MB:.0f} MB: {met} ({peak:,.0f} MB)")
    if args.rows < DEFAULT_ROWS:
        eta = DEFAULT_ROWS / rows_rate / 3600
        print(f"at this rate {DEFAULT_ROWS:,} rows would take {eta:,.1f} h")

    if not args.keep:
        Path(args.csv).unlink(missing_ok=True)
        if sqlite_file is not None:
            remove_sqlite(sqlite_file)
        else:
            recreate_postgres(url, create=False)


if __name__ == "__main__":
    main()
