"""KPI read times at headquarters scale: D dealers × L leads, and the same numbers in DuckDB.

    .venv/bin/python bench/kpi.py [--dealers D] [--leads-per-dealer L] [--database-url URL]

A fresh database (by default a SQLite file under $DCC_VAR_DIR/bench/, else var/bench/; a
PostgreSQL URL is dropped and created here, and its database name must contain "bench") gets
one brand, D dealers in a few cities, each with its people (8 DCC agents among them) and the
default channels, and L leads per dealer over the last twelve months with the history the
real actions leave: the leads are replayed through leads.batch.Batch (the same checks,
hash-chained events and tasks as leads.actions) and written a batch at a time.

Four reads are timed (a warm-up, then the median of --runs):

1. a dealer's month dashboard: kpi_report of one dealer for last month, all metrics, total,
   by channel and by agent (two reports);
2. a dealer's year by month: kpi_report by="month" over the last twelve months;
3. headquarters' ranking of every dealer for last month (kpi.headquarters.ranking);
4. the dealers × funnel stages heat map for last month (kpi.headquarters.heat_map).

Targets: dealer views under 150 ms, headquarters views under 1 s. The columns the reports
need (leads, events, return-visit tasks, channels, dealers) are then exported from the same
database into an in-memory DuckDB, the equivalent SQL of each read is timed the same way, and
every metric's numerator and denominator per group (ranks too) is compared with ours.

The parent process never loads Django: it starts the children (load, time) and does the
DuckDB part itself, reading the database with sqlite3 or psycopg. This is a benchmark, not a
test: it prints and exits 0 unless the run itself breaks.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from support import (  # bench/support, beside this script
    CHANNEL_WEIGHTS,
    django_setup,
    explain,
    recreate_postgres,
    remove_sqlite,
    run_stage,
)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DEALERS = 500
DEFAULT_LEADS = 20_000
DEFAULT_REPLAYED = 25
SEED = 2026
BATCH = 2_000
DAYS = 365
TARGET_DEALER_MS = 150.0
TARGET_HQ_MS = 1_000.0
RANK_METRIC = "lead_close_rate"
# (city, share of the dealers)
CITIES = (("上海", 5), ("北京", 4), ("广州", 3), ("深圳", 3), ("杭州", 2), ("成都", 2))
REGIONS = {"上海": "east", "杭州": "east", "北京": "north", "广州": "south", "深圳": "south"}
REGION_NAMES = {"east": "华东区", "north": "华北区", "south": "华南区", "west": "西南区"}
# key, display name, role, how many
STAFF_PLAN = [
    ("gm", "总经理", "gm", 1),
    ("dcc_lead", "DCC主管", "dcc_supervisor", 1),
    ("agent", "坐席", "dcc_agent", 8),
    ("showroom", "展厅经理", "showroom_manager", 1),
    ("consultant", "顾问", "consultant", 4),
    ("owner_ops", "客服", "owner_ops", 1),
]
GRADES = ("H", "A", "B", "C")
GRADE_WEIGHTS = (10, 25, 40, 25)
VIEWS = ("dealer_month", "dealer_year", "hq_ranking", "hq_heatmap")
LABELS = {
    "dealer_month": "dealer month dashboard (total, by channel, by agent)",
    "dealer_year": "dealer year by month",
    "hq_ranking": f"headquarters ranking ({RANK_METRIC})",
    "hq_heatmap": "headquarters heat map (dealers × stages)",
}
TARGETS = {
    "dealer_month": TARGET_DEALER_MS,
    "dealer_year": TARGET_DEALER_MS,
    "hq_ranking": TARGET_HQ_MS,
    "hq_heatmap": TARGET_HQ_MS,
}
STRIDE = 7_919_333  # coprime with 10^8: index -> number is a bijection
OFFSET = 12_345_678


def phone_of(index: int) -> str:
    prefixes = ("138", "139", "136", "150", "151", "186", "187", "158", "177", "199")
    return prefixes[index % 10] + f"{(index * STRIDE + OFFSET) % 10**8:08d}"


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


# ---------------------------------------------------------------- children (Django)


def child_load(args: argparse.Namespace) -> dict[str, Any]:
    """Migrate; the brand, its dealers with their people and channels; the leads."""
    django_setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.db.models import Count
    from django.utils import timezone

    from accounts.models import Brand, Dealer, Membership, Region, Staff
    from leads.batch import Batch
    from leads.demo import CAR_MODELS, GIVEN, SURNAMES
    from leads.models import Channel, Event, Lead, ReasonCode, ReasonKind, Task
    from leads.setup.defaults import set_up_dealer

    clock = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrate: {time.perf_counter() - clock:.1f} s", flush=True)
    rng = random.Random(args.seed)
    now = timezone.now()

    clock = time.perf_counter()
    brand = Brand.objects.create(code="xingtu", name="星途汽车")
    regions: dict[str, Region] = {}
    cities = [city for city, share in CITIES for _ in range(share)]
    plans = []
    for index in range(args.dealers):
        city = cities[index % len(cities)]
        region_code = REGIONS.get(city, "west")
        if region_code not in regions:
            regions[region_code] = Region.objects.create(
                brand=brand, code=region_code, name=REGION_NAMES[region_code]
            )
        dealer = Dealer.objects.create(
            region=regions[region_code],
            code=f"D{index + 1:04d}",
            name=f"{city}星途{index + 1}号店",
            city=city,
        )
        set_up_dealer(dealer)
        people: dict[str, list[Staff]] = {}
        for key, name, role, count in STAFF_PLAN:
            for number in range(1, count + 1):
                suffix = "" if count == 1 else str(number)
                staff = Staff(
                    username=f"{dealer.code.lower()}_{key}{suffix}",
                    display_name=f"{name}{suffix}",
                )
                staff.set_unusable_password()
                staff.save()
                Membership.objects.create(staff=staff, dealer=dealer, role=role)
                people.setdefault(key, []).append(staff)
        # How well the dealer works: scales its booking, arrival and order rates.
        plans.append((dealer, people, rng.uniform(0.7, 1.25)))
    print(
        f"dealers: {args.dealers:,} with their people and channels in "
        f"{time.perf_counter() - clock:.1f} s",
        flush=True,
    )

    clock = time.perf_counter()
    last_report = clock
    written = 0
    index = 0
    for dealer, people, quality in plans[: args.replayed]:
        channels = {c.code: c for c in Channel.objects.filter(dealer=dealer)}
        codes = [code for code in CHANNEL_WEIGHTS if code in channels]
        weights = [CHANNEL_WEIGHTS[code] for code in codes]
        reasons = {
            kind: list(
                ReasonCode.objects.filter(dealer=dealer, kind=kind).values_list("code", flat=True)
            )
            for kind in (ReasonKind.INVALID, ReasonKind.DEFEAT)
        }
        staff_by_id = {s.pk: s for group in people.values() for s in group}
        batch = Batch(dealer, now=now)
        offsets = sorted((rng.uniform(60, DAYS * 86_400) for _ in range(args.leads)), reverse=True)
        for start in range(0, args.leads, BATCH):
            chunk = offsets[start : start + BATCH]
            phones = [phone_of(index + n) for n in range(len(chunk))]
            with transaction.atomic():
                batch.begin(phones=phones, external_ids=[], size=len(chunk))
                for phone, offset in zip(phones, chunk, strict=True):
                    with batch.row():
                        live_lead(
                            batch,
                            rng,
                            dealer=dealer,
                            phone=phone,
                            channel=channels[rng.choices(codes, weights)[0]],
                            created=now - timedelta(seconds=offset),
                            now=now,
                            people=people,
                            staff_by_id=staff_by_id,
                            quality=quality,
                            reasons=reasons,
                            name=rng.choice(SURNAMES) + rng.choice(GIVEN),
                            model=rng.choice(CAR_MODELS),
                        )
                batch.write()
            index += len(chunk)
            written += len(chunk)
        tick = time.perf_counter()
        if tick - last_report >= 30 or dealer is plans[: args.replayed][-1][0]:
            last_report = tick
            total = min(args.dealers, args.replayed) * args.leads
            rate = written / (tick - clock)
            print(
                f"  {written:,} / {total:,} leads, {rate:,.0f} leads/s, "
                f"about {(total - written) / rate / 60:,.1f} min to go",
                flush=True,
            )
    if args.dealers > args.replayed:
        tick = time.perf_counter()
        copied = copy_dealers([dealer for dealer, _people, _quality in plans], args.replayed)
        written += copied
        print(
            f"copied {args.replayed:,} dealers' leads to {args.dealers - args.replayed:,} more: "
            f"{copied:,} leads in {(time.perf_counter() - tick) / 60:.1f} min",
            flush=True,
        )
    took = time.perf_counter() - clock
    if connection.vendor == "postgresql" or args.analyze:
        statement = "VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE"
        tick = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(statement)
        print(f"{statement}: {time.perf_counter() - tick:.1f} s", flush=True)
    events = Event.objects.count()
    tasks = Task.objects.count()
    stages = dict(Lead.objects.values_list("stage").annotate(n=Count("id")))
    return {
        "leads": written,
        "events": events,
        "tasks": tasks,
        "stages": stages,
        "seconds": took,
    }


def copy_dealers(dealers: list[Any], replayed: int) -> int:
    """Give dealer i ≥ `replayed` the customers, leads, events, tasks and daily tallies of
    dealer i mod `replayed`, copied in SQL with ids shifted: a read benchmark needs the rows,
    and replaying 10,000,000 leads would take hours. The copies' hash chains do not verify
    (a lead's id is in its events' hashes); no read here looks at them."""
    from django.db import connection, transaction
    from django.db.models import Max, Min

    from accounts.models import Membership
    from leads.models import Channel, Customer, DailyTally, Event, Lead, Task

    def first_ids(model: Any, field: str) -> dict[int, int]:
        rows = model.objects.values("dealer_id").annotate(first=Min(field)).order_by()
        return {row["dealer_id"]: row["first"] for row in rows}

    staff = first_ids(Membership, "staff_id")
    channels = first_ids(Channel, "id")
    lead_span = Lead.objects.aggregate(n=Max("id"))["n"]
    customer_span = Customer.objects.aggregate(n=Max("id"))["n"]
    quote = connection.ops.quote_name
    shifted_by = {  # column → what shifts it
        "id": "own",
        "lead_id": "lead",
        "customer_id": "customer",
        "channel_id": "channel",
        **{c: "staff" for c in ("owner_id", "created_by_id", "first_owner_id", "consultant_id")},
        **{c: "staff" for c in ("actor_id", "from_owner_id", "to_owner_id", "assignee_id")},
    }
    copied = 0
    for index, dealer in enumerate(dealers[replayed:], start=replayed):
        source = dealers[index % replayed]
        copy = index // replayed  # the how-manieth copy of its source: ids shift by that
        shift = {
            "lead": copy * lead_span,
            "customer": copy * customer_span,
            "staff": staff[dealer.pk] - staff[source.pk],
            "channel": channels[dealer.pk] - channels[source.pk],
        }
        with transaction.atomic(), connection.cursor() as cursor:
            for model, own in (
                (Customer, "customer"),
                (Lead, "lead"),
                (Event, None),
                (Task, None),
                (DailyTally, None),
            ):
                columns = [
                    f.column
                    for f in model._meta.concrete_fields
                    if not (f.column == "id" and own is None)
                ]
                values = []
                for column in columns:
                    by = own if shifted_by.get(column) == "own" else shifted_by.get(column)
                    if column == "dealer_id":
                        values.append(str(dealer.pk))
                    elif by:
                        values.append(f"{quote(column)} + {shift[by]}")
                    else:
                        values.append(quote(column))
                table = quote(model._meta.db_table)
                names = ", ".join(quote(c) for c in columns)
                cursor.execute(
                    f"INSERT INTO {table} ({names}) SELECT {', '.join(values)} FROM {table} "
                    f"WHERE dealer_id = %s",
                    [source.pk],
                )
                if model is Lead:
                    copied += cursor.rowcount
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in (Customer, Lead):
                table = model._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {quote(table)}))"
                )
    return copied


def live_lead(
    batch: Any,
    rng: random.Random,
    *,
    dealer: Any,
    phone: str,
    channel: Any,
    created: datetime,
    now: datetime,
    people: dict[str, list[Any]],
    staff_by_id: dict[int, Any],
    quality: float,
    reasons: dict[str, list[str]],
    name: str,
    model: str,
) -> None:
    """One lead's life as the actions leave it: enquiry, first call (in time or late, or
    never), grading, sometimes a repeat enquiry, an appointment, arrival, order, delivery,
    or an invalid mark or an approved defeat. Steps that would lie in the future are not
    taken."""
    from leads.models import CallOutcome

    intake = batch.create_lead(
        dealer=dealer,
        phone=phone,
        channel=channel,
        by=None,
        name=name,
        car_model=model,
        at=created,
    )
    lead = intake.lead
    agent = staff_by_id[lead.owner_id]
    showroom = people["showroom"][0]
    supervisor = people["dcc_lead"][0]
    fate = rng.random()
    if fate < 0.07:
        return  # nobody ever called
    budget = lead.sla_deadline - created
    if rng.random() < 0.75:
        at = created + budget * rng.uniform(0.05, 1.0)
    else:
        at = lead.sla_deadline + timedelta(minutes=rng.uniform(1, 24 * 60))
    if at >= now:
        return

    def defeat(when: datetime) -> None:
        if when >= now:
            return
        batch.request_defeat(lead=lead, by=agent, reason=rng.choice(reasons["defeat"]), at=when)
        approved = when + timedelta(hours=rng.uniform(0.5, 30))
        if approved < now:
            batch.approve_defeat(lead=lead, by=supervisor, at=approved)

    if fate < 0.17:  # invalid: a wrong number, no intent, a job seeker …
        outcome = CallOutcome.REACHED if rng.random() < 0.6 else CallOutcome.POWERED_OFF
        batch.log_call(lead=lead, by=agent, outcome=outcome, at=at)
        at += timedelta(minutes=rng.uniform(1, 600))
        if at < now:
            batch.invalidate_lead(lead=lead, by=agent, reason=rng.choice(reasons["invalid"]), at=at)
        return
    grade = rng.choices(GRADES, GRADE_WEIGHTS)[0]
    if rng.random() < 0.2:  # not reached the first time
        batch.log_call(lead=lead, by=agent, outcome=CallOutcome.NO_ANSWER, at=at)
        at += timedelta(hours=rng.uniform(2, 30))
        if at >= now or rng.random() < 0.35:
            return
    batch.log_call(lead=lead, by=agent, outcome=CallOutcome.REACHED, grade=grade, at=at)
    if rng.random() < 0.06:  # the customer enquires again on another platform
        again = at + timedelta(hours=rng.uniform(1, 72))
        if again >= now:
            return
        batch.create_lead(
            dealer=dealer, phone=phone, channel=channel, by=None, car_model=model, at=again
        )
        at = again
    if rng.random() >= min(0.95, 0.48 * quality):
        if rng.random() < 0.3:
            defeat(at + timedelta(days=rng.uniform(3, 40)))
        return
    booked = at + timedelta(minutes=rng.uniform(2, 2 * 24 * 60))
    if booked >= now:
        return
    visit = booked + timedelta(hours=rng.uniform(20, 7 * 24))
    batch.book_appointment(lead=lead, by=agent, appointment_at=visit, at=booked)
    if visit >= now:
        return
    if rng.random() >= min(0.95, 0.62 * quality):
        if rng.random() < 0.35:
            defeat(visit + timedelta(days=rng.uniform(1, 20)))
        return
    arrived = visit + timedelta(minutes=rng.uniform(-60, 90))
    arrived = max(arrived, booked + timedelta(minutes=1))
    batch.record_arrival(lead=lead, by=showroom, at=arrived)
    if rng.random() >= min(0.9, 0.36 * quality):
        if rng.random() < 0.5:
            defeat(arrived + timedelta(days=rng.uniform(2, 25)))
        return
    ordered = arrived + timedelta(hours=rng.uniform(0.5, 10 * 24))
    if ordered >= now:
        return
    batch.record_order(lead=lead, by=showroom, at=ordered)
    if rng.random() < 0.9:
        delivered = ordered + timedelta(days=rng.uniform(3, 35))
        if delivered < now:
            batch.record_delivery(lead=lead, by=showroom, at=delivered)


def _plain(number: object) -> object:
    if isinstance(number, Decimal):
        return f"{number:.2f}"
    return number


def child_time(args: argparse.Namespace) -> dict[str, Any]:
    """Time the four reads; keep their numbers and the windows for the DuckDB side."""
    django_setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounts.models import Dealer
    from kpi.bottlenecks import STAGE_METRICS
    from kpi.headquarters import LOWER_IS_BETTER, heat_map, ranking
    from kpi.registry import METRICS
    from kpi.selectors import day_window, kpi_report

    today = timezone.localdate()
    last = today.replace(day=1) - timedelta(days=1)
    first = last.replace(day=1)
    year_first = first
    for _ in range(11):
        year_first = (year_first - timedelta(days=1)).replace(day=1)
    dealers = list(Dealer.objects.order_by("code").values_list("pk", "code", "city"))
    everyone = [pk for pk, _code, _city in dealers]
    one = everyone[0]
    month = day_window(dealer_ids=[one], first=first, last=last)
    year = day_window(dealer_ids=[one], first=year_first, last=last)
    tz = timezone.get_current_timezone()
    offsets = {tz.utcoffset(datetime(year_first.year, m, 15)) for m in range(1, 13)} | {
        tz.utcoffset(datetime(today.year, m, 15)) for m in range(1, 13)
    }
    if len(offsets) != 1:
        raise SystemExit(f"{tz} changes its UTC offset during the year: not supported here")

    def utc(moment: datetime) -> str:
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")

    reads: dict[str, Callable[[], Any]] = {
        "dealer_month": lambda: (
            kpi_report(window=month, by="channel"),
            kpi_report(window=month, by="agent"),
        ),
        "dealer_year": lambda: kpi_report(window=year, by="month"),
        "hq_ranking": lambda: ranking(
            dealer_ids=everyone, metric=RANK_METRIC, first=first, last=last
        ),
        "hq_heatmap": lambda: heat_map(dealer_ids=everyone, first=first, last=last),
    }
    timings: dict[str, Any] = {}
    numbers: dict[str, Any] = {}
    for view, read in reads.items():
        result = read()  # warm-up
        with CaptureQueriesContext(connection) as captured:
            read()
        queries = [(float(q["time"]) * 1000, q["sql"]) for q in captured.captured_queries]
        runs, cpu = [], []
        for _ in range(args.runs):
            started, cpu_started = time.perf_counter(), time.process_time()
            result = read()
            runs.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
        ms = median_ms(runs)
        slow = ms > TARGETS[view] or args.explain
        slowest = sorted(queries, reverse=True)[:3]
        timings[view] = {
            "median_ms": ms,
            "min_ms": min(runs) * 1000,
            "cpu_ms": median_ms(cpu),
            "queries": len(queries),
            "sql_ms": sum(t for t, _sql in queries),
            "slowest": [(t, sql[:600]) for t, sql in slowest] if slow else [],
            "plan": explain(slowest[0][1]) if slow and slowest else [],
        }
        numbers[view] = read_numbers(view, result)
        print(f"  {LABELS[view]}: {ms:,.1f} ms ({len(queries)} queries)", flush=True)
    return {
        "timings": timings,
        "numbers": numbers,
        "metrics": {key: [m.numerator, m.denominator, str(m.unit)] for key, m in METRICS.items()},
        "stage_metrics": list(STAGE_METRICS),
        "lower_is_better": RANK_METRIC in LOWER_IS_BETTER,
        "dealer": one,
        "dealer_code": dealers[0][1],
        "dealers": [[pk, city] for pk, _code, city in dealers],
        "month": [utc(month.start), utc(month.end)],
        "year": [utc(year.start), utc(year.end)],
        "month_label": first.strftime("%Y-%m"),
        "year_label": f"{year_first:%Y-%m} – {last:%Y-%m}",
        "utc_offset_s": int(offsets.pop().total_seconds()),
        "vendor": connection.vendor,
    }


def read_numbers(view: str, result: Any) -> dict[str, dict[str, list]]:
    """Each group's metrics as [numerator, denominator] (ranking: with the ranks)."""

    def group_numbers(group: Any) -> dict[str, list]:
        return {
            key: [_plain(value.numerator), _plain(value.denominator)]
            for key, value in group.values.items()
        }

    found: dict[str, dict[str, list]] = {}
    if view == "dealer_month":
        by_channel, by_agent = result
        found["total"] = group_numbers(by_channel.total)
        for report, by in ((by_channel, "channel"), (by_agent, "agent")):
            for group in report.groups:
                found[f"{by}:{group.key}"] = group_numbers(group)
    elif view == "dealer_year":
        found["total"] = group_numbers(result.total)
        for group in result.groups:
            found[f"month:{group.key.isoformat()}"] = group_numbers(group)
    elif view == "hq_ranking":
        for row in result.rows:
            found[f"dealer:{row.dealer.pk}"] = {
                result.metric.key: [
                    _plain(row.value.numerator),
                    _plain(row.value.denominator),
                    row.rank,
                    row.city_rank,
                ]
            }
    else:
        for row in result.rows:
            found[f"dealer:{row.dealer.pk}"] = {
                key: [cell.rate.numerator, cell.rate.denominator] for key, cell in row.cells.items()
            }
    return found


# ---------------------------------------------------------------- parent (no Django)


def run_child(stage: str, args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    """Run this script as `stage` in a fresh interpreter; its last stdout line is JSON."""
    command = [sys.executable, __file__, "--stage", stage, "--dealers", str(args.dealers)]
    command += ["--leads-per-dealer", str(args.leads), "--seed", str(args.seed)]
    command += ["--runs", str(args.runs), "--replayed", str(args.replayed)]
    command += [
        flag for flag, on in (("--analyze", args.analyze), ("--explain", args.explain)) if on
    ]
    return run_stage(stage, command, env)


# What the DuckDB side needs, as (table, columns with DuckDB types, SQLite query, PostgreSQL
# query). Times leave both databases as naive UTC.
EXPORTS = (
    (
        "leads",
        {
            "id": "BIGINT",
            "dealer_id": "BIGINT",
            "channel_id": "BIGINT",
            "created_at": "TIMESTAMP",
            "stage": "VARCHAR",
            "first_response_at": "TIMESTAMP",
            "sla_deadline": "TIMESTAMP",
        },
        "SELECT id, dealer_id, channel_id, created_at, stage, first_response_at, sla_deadline "
        "FROM leads_lead",
        "SELECT id, dealer_id, channel_id, created_at AT TIME ZONE 'UTC', stage, "
        "first_response_at AT TIME ZONE 'UTC', sla_deadline AT TIME ZONE 'UTC' FROM leads_lead",
    ),
    (
        "events",
        {
            "lead_id": "BIGINT",
            "dealer_id": "BIGINT",
            "seq": "INTEGER",
            "kind": "VARCHAR",
            "occurred_at": "TIMESTAMP",
            "to_owner_id": "BIGINT",
            "outcome": "VARCHAR",
        },
        "SELECT lead_id, dealer_id, seq, kind, occurred_at, to_owner_id, "
        "CASE WHEN kind = 'called' THEN json_extract(data, '$.outcome') END FROM leads_event",
        "SELECT lead_id, dealer_id, seq, kind, occurred_at AT TIME ZONE 'UTC', to_owner_id, "
        "CASE WHEN kind = 'called' THEN data ->> 'outcome' END FROM leads_event",
    ),
    (
        "tasks",
        {
            "lead_id": "BIGINT",
            "dealer_id": "BIGINT",
            "due_at": "TIMESTAMP",
            "closed_at": "TIMESTAMP",
            "outcome": "VARCHAR",
        },
        "SELECT lead_id, dealer_id, due_at, closed_at, outcome FROM leads_task "
        "WHERE kind = 'return_visit'",
        "SELECT lead_id, dealer_id, due_at AT TIME ZONE 'UTC', closed_at AT TIME ZONE 'UTC', "
        "outcome FROM leads_task WHERE kind = 'return_visit'",
    ),
    (
        "channels",
        {"id": "BIGINT", "dealer_id": "BIGINT", "grp": "VARCHAR", "monthly_spend": "DECIMAL(12,2)"},
        'SELECT id, dealer_id, "group", monthly_spend FROM leads_channel',
        'SELECT id, dealer_id, "group", monthly_spend FROM leads_channel',
    ),
    (
        "dealers",
        {"id": "BIGINT", "city": "VARCHAR"},
        "SELECT id, city FROM accounts_dealer",
        "SELECT id, city FROM accounts_dealer",
    ),
)


def export(url: str, sqlite_file: Path | None, folder: Path) -> dict[str, tuple[Path, int]]:
    """Each table of EXPORTS as a CSV file (PostgreSQL: COPY … TO STDOUT)."""
    files: dict[str, tuple[Path, int]] = {}
    if sqlite_file is not None:
        conn = sqlite3.connect(sqlite_file)
        for table, _columns, query, _pg in EXPORTS:
            path = folder / f"duck-{table}.csv"
            rows = 0
            with path.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                cursor = conn.execute(query)
                while chunk := cursor.fetchmany(50_000):
                    writer.writerows(chunk)
                    rows += len(chunk)
            files[table] = (path, rows)
        conn.close()
        return files
    import psycopg

    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        for table, _columns, _query, query in EXPORTS:
            path = folder / f"duck-{table}.csv"
            rows = 0
            statement = f"COPY ({query}) TO STDOUT WITH (FORMAT csv)"
            with path.open("wb") as handle, cursor.copy(statement) as copy:
                for block in copy:
                    handle.write(block)
                    rows += bytes(block).count(b"\n")
            files[table] = (path, rows)
    return files


def load_duckdb(files: dict[str, tuple[Path, int]]) -> Any:
    import duckdb

    con = duckdb.connect()  # in memory
    for table, columns, _sqlite, _pg in EXPORTS:
        path, _rows = files[table]
        types = ", ".join(f"'{name}': '{kind}'" for name, kind in columns.items())
        con.execute(
            f"CREATE TABLE {table} AS SELECT * FROM read_csv('{path}', header = false, "
            f"columns = {{{types}}}, timestampformat = 'auto')"
        )
    return con


# The first event of each kind that puts a lead in an event measure (kpi.measures).
FIRSTS = {
    "contacted": "kind = 'called' AND outcome = 'reached'",
    "appointed": "kind = 'appointment_set'",
    "arrived": "kind = 'arrived'",
    "ordered": "kind = 'ordered'",
    "delivered": "kind = 'delivered'",
    "defeated": "kind = 'defeat_approved'",
    "closed": "kind IN ('delivered', 'defeat_approved', 'invalidated')",
}
LEAD_CONDITIONS = {
    "leads": "TRUE",
    "valid": "stage <> 'invalid'",
    "invalid": "stage = 'invalid'",
    "with_sla": "sla_deadline > created_at",
    "on_time": "sla_deadline > created_at AND first_response_at <= sla_deadline",
}


def month_shares(start: datetime, end: datetime, offset: int) -> list[tuple[date, float]]:
    """As kpi.measures._month_shares: each local month the window touches, with the share
    of the month it covers (start and end are naive UTC)."""
    shift = timedelta(seconds=offset)
    start, end = start + shift, end + shift
    cursor = start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    shares = []
    while cursor < end:
        following = (cursor + timedelta(days=32)).replace(day=1)
        covered = min(end, following) - max(start, cursor)
        if covered.total_seconds() > 0:
            shares.append((cursor.date(), covered / (following - cursor)))
        cursor = following
    return shares


def duck_ctes(
    measures: set[str], dealers: list[int], window: list[str], bys: list[str | None], offset: int
) -> str:
    """`ev` (each lead's agent and first event of each kind), `f` (leads with those) and `m`
    (measure, dimension, key, n): the CTEs of every read, without the WITH."""
    ids = ", ".join(str(pk) for pk in dealers)
    s, e = (f"TIMESTAMP '{moment}'" for moment in window)
    # Only the first events the measures need; both CTEs computed once (MATERIALIZED).
    firsts = "".join(
        f",\n    arg_min(occurred_at, seq) FILTER (WHERE {condition}) AS {name}"
        for name, condition in FIRSTS.items()
        if name in measures
    )
    ctes = [
        "ev AS MATERIALIZED (\n  SELECT lead_id, max(to_owner_id) FILTER (WHERE seq = 1) AS "
        f"agent{firsts}\n  FROM events WHERE dealer_id IN ({ids}) GROUP BY lead_id)",
        "f AS MATERIALIZED (\n  SELECT l.id, l.dealer_id, l.channel_id, l.created_at, l.stage, "
        "l.first_response_at, l.sla_deadline, ev.* EXCLUDE (lead_id)\n"
        f"  FROM leads l LEFT JOIN ev ON ev.lead_id = l.id WHERE l.dealer_id IN ({ids}))",
    ]

    def key(by: str | None, dated: str, channel: str = "f.channel_id") -> str:
        return {
            None: "NULL",
            "channel": channel,
            "agent": "f.agent",
            "dealer": "f.dealer_id",
            "month": f"date_trunc('month', {dated} + INTERVAL {offset} SECOND)::DATE",
        }[by]

    selects = []
    for by in bys:
        label = by or "total"
        for measure in sorted(measures):
            head = f"SELECT '{measure}' AS measure, '{label}' AS dim"
            if measure in LEAD_CONDITIONS:
                where = f"f.created_at >= {s} AND f.created_at < {e}"
                selects.append(
                    f"{head}, CAST({key(by, 'f.created_at')} AS VARCHAR) AS key, "
                    f"count(*)::DOUBLE AS n FROM f WHERE {where} AND "
                    f"{LEAD_CONDITIONS[measure]} GROUP BY ALL"
                )
            elif measure in FIRSTS:
                column = f"f.{measure}"
                selects.append(
                    f"{head}, CAST({key(by, column)} AS VARCHAR) AS key, count(*)::DOUBLE AS n "
                    f"FROM f WHERE {column} >= {s} AND {column} < {e} GROUP BY ALL"
                )
            elif measure == "touches":
                selects.append(
                    f"{head}, CAST({key(by, 't.occurred_at')} AS VARCHAR) AS key, "
                    f"count(*)::DOUBLE AS n FROM events t JOIN f ON f.id = t.lead_id "
                    f"WHERE t.dealer_id IN ({ids}) AND t.kind = 'touched' "
                    f"AND t.occurred_at >= {s} AND t.occurred_at < {e} GROUP BY ALL"
                )
            elif measure.startswith("return_visits"):
                extra = ""
                if measure == "return_visits_on_time":
                    extra = " AND k.outcome = 'done' AND k.closed_at <= k.due_at"
                selects.append(
                    f"{head}, CAST({key(by, 'k.due_at')} AS VARCHAR) AS key, "
                    f"count(DISTINCT k.lead_id)::DOUBLE AS n "
                    f"FROM tasks k JOIN f ON f.id = k.lead_id "
                    f"WHERE k.dealer_id IN ({ids}) AND k.due_at >= {s} AND k.due_at < {e} "
                    f"AND coalesce(k.outcome, '') <> 'superseded'{extra} GROUP BY ALL"
                )
            elif measure == "spend":
                if by == "agent":
                    continue  # spend belongs to no person
                start, end = (datetime.fromisoformat(moment) for moment in window)
                months = ", ".join(
                    f"(DATE '{first}', {share!r})"
                    for first, share in month_shares(start, end, offset)
                )
                group = {
                    None: "NULL",
                    "channel": "c.id",
                    "dealer": "c.dealer_id",
                    "month": "mo.month",
                }[by]
                selects.append(
                    f"{head}, CAST({group} AS VARCHAR) AS key, "
                    f"sum(c.monthly_spend::DOUBLE * mo.share) AS n "
                    f"FROM channels c, (VALUES {months}) mo(month, share) "
                    f"WHERE c.dealer_id IN ({ids}) AND c.monthly_spend > 0 GROUP BY ALL"
                )
            else:
                raise KeyError(measure)
    ctes.append("m AS (\n  " + "\n  UNION ALL ".join(selects) + ")")
    return ",\n".join(ctes)


def duck_reads(info: dict[str, Any]) -> dict[str, tuple[str, Callable[[list], dict]]]:
    """Each read as one DuckDB statement, and how its rows become the numbers of ours."""
    metrics = info["metrics"]
    offset = info["utc_offset_s"]
    everyone = [pk for pk, _city in info["dealers"]]
    rank_num, rank_den, _unit = metrics[RANK_METRIC]

    def needed(keys: list[str]) -> set[str]:
        return {metrics[k][0] for k in keys} | {metrics[k][1] for k in keys if metrics[k][1]}

    def plain(measure: str, n: float | None) -> object:
        if measure == "spend":
            return f"{Decimal(repr(n or 0)).quantize(Decimal('0.01'))}"
        return int(n or 0)

    def grouped(rows: list, keys: list[str], groups: list[str] | None = None) -> dict:
        found: dict[str, dict[str, object]] = {}
        for measure, dim, key, n in rows:
            group = "total" if dim == "total" else f"{dim}:{key}"
            found.setdefault(group, {})[measure] = plain(measure, n)
        for group in groups or []:
            found.setdefault(group, {})
        numbers = {}
        for group, values in found.items():
            numbers[group] = {}
            for key in keys:
                numerator, denominator, unit = metrics[key]
                if unit == "money" and group.startswith("agent:"):
                    continue
                zero = "0.00" if numerator == "spend" else 0
                den = None if denominator is None else values.get(denominator, 0)
                numbers[group][key] = [values.get(numerator, zero), den]
        return numbers

    all_keys = list(metrics)
    stage_keys = info["stage_metrics"]
    dealer_groups = [f"dealer:{pk}" for pk in everyone]
    month_sql = duck_ctes(
        needed(all_keys), [info["dealer"]], info["month"], [None, "channel", "agent"], offset
    )
    year_sql = duck_ctes(needed(all_keys), [info["dealer"]], info["year"], [None, "month"], offset)
    heat_sql = duck_ctes(needed(stage_keys), everyone, info["month"], ["dealer"], offset)
    order = "ASC" if info["lower_is_better"] else "DESC"
    rank_sql = (
        "WITH "
        + duck_ctes({rank_num, rank_den}, everyone, info["month"], ["dealer"], offset)
        + ",\np AS (SELECT CAST(key AS BIGINT) AS dealer_id, "
        f"sum(n) FILTER (WHERE measure = '{rank_num}') AS num, "
        f"sum(n) FILTER (WHERE measure = '{rank_den}') AS den FROM m GROUP BY 1),\n"
        "v AS (SELECT d.id, d.city, coalesce(p.num, 0) AS num, coalesce(p.den, 0) AS den, "
        "CASE WHEN coalesce(p.den, 0) > 0 THEN coalesce(p.num, 0) / p.den END AS value "
        "FROM dealers d LEFT JOIN p ON p.dealer_id = d.id)\n"
        "SELECT id, num, den, "
        f"CASE WHEN value IS NOT NULL THEN rank() OVER (PARTITION BY value IS NULL "
        f"ORDER BY value {order}) END, "
        f"CASE WHEN value IS NOT NULL THEN rank() OVER (PARTITION BY city, value IS NULL "
        f"ORDER BY value {order}) END FROM v"
    )

    def ranks(rows: list) -> dict:
        return {
            f"dealer:{pk}": {RANK_METRIC: [int(num), int(den), rank, city_rank]}
            for pk, num, den, rank, city_rank in rows
        }

    select = "\nSELECT measure, dim, key, n FROM m"
    return {
        "dealer_month": ("WITH " + month_sql + select, lambda rows: grouped(rows, all_keys)),
        "dealer_year": ("WITH " + year_sql + select, lambda rows: grouped(rows, all_keys)),
        "hq_ranking": (rank_sql, ranks),
        "hq_heatmap": (
            "WITH " + heat_sql + select,
            lambda rows: grouped(rows, stage_keys, dealer_groups),
        ),
    }


def differences(ours: dict, theirs: dict) -> tuple[list[str], int]:
    """What differs between two reads' numbers, and how many values were compared."""
    found = []
    compared = 0
    for group in sorted(set(ours) | set(theirs)):
        if group not in theirs:
            found.append(f"{group}: only in ours {ours[group]}")
            continue
        if group not in ours:
            found.append(f"{group}: only in DuckDB {theirs[group]}")
            continue
        for key in sorted(set(ours[group]) | set(theirs[group])):
            a, b = ours[group].get(key), theirs[group].get(key)
            compared += len(a or b or ())
            if a != b:
                found.append(f"{group} {key}: ours {a}, DuckDB {b}")
    return found, compared


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dealers", type=int, default=DEFAULT_DEALERS, help="dealers (500)")
    parser.add_argument(
        "--leads-per-dealer",
        dest="leads",
        type=int,
        default=DEFAULT_LEADS,
        help="leads at each dealer (20,000)",
    )
    parser.add_argument(
        "--database-url",
        help="e.g. postgres://postgres@127.0.0.1:5432/dcc_kpi_bench (dropped and created); "
        "default: a fresh SQLite file under $DCC_VAR_DIR/bench/",
    )
    parser.add_argument(
        "--replayed",
        type=int,
        default=DEFAULT_REPLAYED,
        help="dealers whose leads are replayed through the actions (25); the others get "
        "copies of theirs",
    )
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each read (5)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--reuse", action="store_true", help="time again on the database a --keep run left"
    )
    parser.add_argument("--analyze", action="store_true", help="ANALYZE after the load on SQLite")
    parser.add_argument(
        "--explain",
        action="store_true",
        help="print the slowest queries and a plan for every read, not only slow ones",
    )
    parser.add_argument("--stage", choices=("load", "time"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if min(args.dealers, args.leads, args.runs, args.replayed) < 1:
        parser.error("--dealers, --leads-per-dealer, --replayed and --runs must be at least 1")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.stage:
        result = child_load(args) if args.stage == "load" else child_time(args)
        print("RESULT " + json.dumps(result, ensure_ascii=False, default=str), flush=True)
        return

    var_dir = Path(os.environ.get("DCC_VAR_DIR") or ROOT / "var") / "bench"
    var_dir.mkdir(parents=True, exist_ok=True)
    tag = f"{args.dealers}x{args.leads}"
    sqlite_file = None
    if args.database_url:
        url = args.database_url
        if not urlsplit(url).scheme.startswith("postgres"):
            raise SystemExit("--database-url must be a postgres:// URL (SQLite is the default)")
        if "bench" not in urlsplit(url).path:
            raise SystemExit("refusing: the database name must contain 'bench'")
        if not args.reuse:
            recreate_postgres(url)
    else:
        sqlite_file = var_dir / f"kpi-{tag}.sqlite3"
        if not args.reuse:
            remove_sqlite(sqlite_file)
        elif not sqlite_file.exists():
            raise SystemExit(f"--reuse: no {sqlite_file} (run once with --keep)")
        url = f"sqlite:///{sqlite_file}"
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="dcc.settings",
        DATABASE_URL=url,
        DCC_VAR_DIR=str(var_dir),
        DEBUG="false",
        PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
    )
    vendor = "postgresql" if sqlite_file is None else "sqlite"
    total = args.dealers * args.leads
    print(
        f"DCC KPI benchmark: {args.dealers:,} dealers × {args.leads:,} leads = {total:,} leads "
        f"on {vendor} ({url}); {os.cpu_count()} CPUs"
    )
    if not args.reuse:
        loaded = run_child("load", args, env)
        print(
            f"loaded {loaded['leads']:,} leads, {loaded['events']:,} events, "
            f"{loaded['tasks']:,} tasks in {loaded['seconds'] / 60:,.1f} min "
            f"({loaded['leads'] / loaded['seconds']:,.0f} leads/s)"
        )
        stages = loaded["stages"]
        print(
            "  stages: "
            + ", ".join(f"{stage} {n:,} ({n / total:.0%})" for stage, n in sorted(stages.items()))
        )

    print(f"\nours (kpi.selectors / kpi.headquarters, median of {args.runs}):", flush=True)
    info = run_child("time", args, env)
    print(
        f"  dealer {info['dealer_code']}, month {info['month_label']}, "
        f"year {info['year_label']}, {len(info['dealers']):,} dealers"
    )

    print("\nDuckDB (in memory, loaded from CSV exported from the same database):", flush=True)
    clock = time.perf_counter()
    files = export(url, sqlite_file, var_dir)
    exported = time.perf_counter() - clock
    clock = time.perf_counter()
    con = load_duckdb(files)
    loaded_s = time.perf_counter() - clock
    import duckdb

    print(
        f"  duckdb {duckdb.__version__}: export {exported:,.1f} s, load {loaded_s:,.1f} s ("
        + ", ".join(f"{table} {rows:,}" for table, (_path, rows) in files.items())
        + ")"
    )
    for path, _rows in files.values():
        path.unlink(missing_ok=True)
    duck_times: dict[str, float] = {}
    equal: dict[str, list[str]] = {}
    compared: dict[str, tuple[int, int]] = {}
    for view, (sql, shape) in duck_reads(info).items():
        rows = con.execute(sql).fetchall()  # warm-up
        runs = []
        for _ in range(args.runs):
            started = time.perf_counter()
            rows = con.execute(sql).fetchall()
            runs.append(time.perf_counter() - started)
        duck_times[view] = median_ms(runs)
        equal[view], values = differences(info["numbers"][view], shape(rows))
        compared[view] = (len(info["numbers"][view]), values)
    con.close()

    print(
        f"\n{'read':<56} {'ours ms':>9} {'CPU ms':>8} {'queries':>7} {'DuckDB ms':>10} "
        f"{'ours/DuckDB':>11}  {'target':>8}  numbers"
    )
    for view in VIEWS:
        t = info["timings"][view]
        ratio = t["median_ms"] / duck_times[view] if duck_times[view] else float("inf")
        same = "EQUAL" if not equal[view] else f"DIFFERENT ({len(equal[view])})"
        print(
            f"{LABELS[view]:<56} {t['median_ms']:>9,.1f} {t['cpu_ms']:>8,.1f} "
            f"{t['queries']:>7} {duck_times[view]:>10,.1f} {ratio:>11,.1f}  "
            f"{'<' + format(TARGETS[view], ',.0f'):>8}  "
            f"{same}"
        )
    for view in VIEWS:
        t = info["timings"][view]
        met = "met" if t["median_ms"] < TARGETS[view] else "NOT met"
        print(f"target {LABELS[view]} < {TARGETS[view]:,.0f} ms: {met} ({t['median_ms']:,.1f} ms)")
    for view in VIEWS:
        groups, values = compared[view]
        verdict = "EQUAL" if not equal[view] else f"NOT equal, {len(equal[view])} differences"
        print(f"numbers {view}: {groups:,} groups, {values:,} values compared: {verdict}")
        for line in equal[view][:10]:
            print(f"  {view}: {line}")
    for view in VIEWS:
        t = info["timings"][view]
        if not t["slowest"]:
            continue
        print(f"\n{LABELS[view]}: {t['queries']} queries, {t['sql_ms']:,.1f} ms in SQL; slowest:")
        for ms, sql in t["slowest"]:
            print(f"  {ms:,.1f} ms  {sql}")
        print("  plan of the slowest:")
        for line in t["plan"]:
            print(f"    {line}")

    if not args.keep:
        if sqlite_file is not None:
            remove_sqlite(sqlite_file)
        else:
            recreate_postgres(url, create=False)


if __name__ == "__main__":
    main()
