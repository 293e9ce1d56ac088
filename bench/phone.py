"""The phone system's records: how fast pushes come in, and how fast calls are counted.

    .venv/bin/python bench/phone.py [--database-url URL] [--dealers N] [--senders N]
                                    [--seconds S] [--kpi-calls N]

1. **Pushes.** A fresh database (SQLite file under var/bench/, or a PostgreSQL URL whose name
   contains "bench": dropped and created) gets a brand of `--dealers` dealers (default 500),
   each with a generic phone account (signed pushes), two DCC agents at seats and a 400 line,
   and a few hundred customers with open leads. A child process serves DCC with waitress on
   127.0.0.1 (8 threads), plus one extra address: `/bench/reference/<push key>/`, a minimal
   view that takes the same signed body and stores it as one row — the reference, measured
   in the same run. `--senders` threads (default 20) post realistic pushes for `--seconds`
   (default 30) to DCC's push address: a call rings, then its call detail (a third missed,
   the rest answered with a recording), calls from known customers and new numbers, across
   all dealers; then the same payloads to the reference for as long. Printed: calls/s
   (a call detail is a call), p50/p95/p99 per push, errors; the ratio DCC ÷ reference.
   Targets (issue 12, on PostgreSQL in the production topology): ≥ 150 calls/s, p99 < 300 ms,
   0 errors, ≥ 0.3 × the reference.
2. **Call KPIs.** `--kpi-calls` calls (default 1,000,000) of one dealer in one month written
   in bulk; every call metric of the registry for that month computed, timed (target
   < 150 ms).

Not measured here yet: the screen pop from the ringing push to the agent's browser with 50
Chromium agents (it needs the production topology with several web processes).

A benchmark, not a test: it prints and exits 0 unless the run itself breaks. The parent
never loads Django; the set-up, the server and the KPI timing run in child processes.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import logging
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from support import django_setup, recreate_postgres, remove_sqlite, run_stage

ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = ROOT / "var" / "bench"
PORT = 8765
SECRET = "bench-push-secret-0123456789abcdef"
CHINA = timezone(timedelta(hours=8))
CUSTOMERS_PER_DEALER = 40
TARGET_RATE = 150.0
TARGET_P99_MS = 300.0
TARGET_RATIO = 0.3
TARGET_KPI_MS = 150.0


# ---------------------------------------------------------------- child: set-up


def child_setup(args: argparse.Namespace) -> dict[str, Any]:
    django_setup()
    from django.core.management import call_command

    from accounts.models import Brand, Dealer, Membership, Region, Staff
    from accounts.roles import Role
    from calls.models import Line, LineKind, PhoneAccount, Seat
    from leads import actions
    from leads.models import Channel
    from leads.setup.defaults import set_up_dealer

    clock = time.perf_counter()
    call_command("migrate", verbosity=0)
    brand = Brand.objects.create(code="xingtu", name="星途汽车")
    region = Region.objects.create(brand=brand, code="east", name="华东区")
    rng = random.Random(args.seed)
    dealers = []
    for n in range(args.dealers):
        dealer = Dealer.objects.create(region=region, code=f"B{n:04d}", name=f"经销商{n}")
        set_up_dealer(dealer)
        account = PhoneAccount.objects.create(
            dealer=dealer, provider="generic", credentials={"push_secret": SECRET}
        )
        for seat in ("8001", "8002"):
            staff = Staff(username=f"agent{n}-{seat}")
            staff.set_unusable_password()
            staff.save()
            Membership.objects.create(staff=staff, dealer=dealer, role=Role.DCC_AGENT)
            Seat.objects.create(account=account, seat=seat, staff=staff)
        hotline = Channel.objects.get(dealer=dealer, code="hotline_400")
        line = f"400{n:07d}"
        Line.objects.create(dealer=dealer, number=line, kind=LineKind.HOTLINE_400, channel=hotline)
        known = [f"139{n:04d}{i:04d}" for i in range(CUSTOMERS_PER_DEALER)]
        for phone in known:
            actions.create_lead(dealer=dealer, phone=phone, channel=hotline, by=None)
        dealers.append({"key": account.push_key, "line": line, "known": known})
    print(f"set-up: {args.dealers} dealers in {time.perf_counter() - clock:.1f} s", flush=True)
    return {"dealers": dealers, "rng": rng.random()}


# ---------------------------------------------------------------- child: the server


def child_serve(args: argparse.Namespace) -> None:
    """DCC with waitress, and the reference view at /bench/reference/<key>/."""
    django_setup()
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application
    from django.db import connection
    from django.http import HttpResponse, JsonResponse
    from django.urls import path
    from django.views.decorators.csrf import csrf_exempt
    from waitress import serve

    from dcc_site.urls import urlpatterns

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_reference (key varchar(40), body text)")

    @csrf_exempt
    def reference(request, key: str) -> HttpResponse:
        body = request.body
        given = request.headers.get("X-DCC-Signature", "")
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(given, expected):
            return JsonResponse({"ok": False}, status=401)
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO bench_reference (key, body) VALUES (%s, %s)", [key, body.decode()]
            )
        return JsonResponse({"ok": True})

    module = type(sys)("bench_phone_urls")
    module.urlpatterns = [path("bench/reference/<str:key>/", reference), *urlpatterns]
    sys.modules["bench_phone_urls"] = module
    settings.ROOT_URLCONF = "bench_phone_urls"
    print("serving", flush=True)
    # waitress warns of every queued request; with 20 senders on 8 threads that is expected.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    serve(get_wsgi_application(), host="127.0.0.1", port=PORT, threads=8, _quiet=True)


# ---------------------------------------------------------------- child: call KPIs


def child_kpi(args: argparse.Namespace) -> dict[str, Any]:
    django_setup()
    from django.db import transaction

    from accounts.models import Dealer
    from calls.models import Call, Line
    from kpi.measures import Window
    from kpi.registry import METRICS
    from kpi.selectors import kpi_report

    dealer = Dealer.objects.order_by("pk").first()
    line = Line.objects.get(dealer=dealer)
    start = datetime(2026, 10, 1, tzinfo=CHINA)
    rng = random.Random(args.seed)
    clock = time.perf_counter()
    batch = []
    for n in range(args.kpi_calls):
        rang = start + timedelta(seconds=rng.randrange(31 * 86400))
        answered = rng.random() < 0.8
        inbound = rng.random() < 0.6
        talk = rng.randrange(20, 600) if answered else None
        batch.append(
            Call(
                dealer_id=dealer.pk,
                provider="generic",
                call_id=f"k{n}",
                direction="inbound" if inbound else "outbound",
                line_id=line.pk,
                line_number=line.number,
                number=f"13{rng.randrange(10**9):09d}",
                rang_at=rang,
                answered_at=rang + timedelta(seconds=8) if answered else None,
                ended_at=rang + timedelta(seconds=8 + (talk or 30)),
                wait_seconds=rng.randrange(2, 60),
                talk_seconds=talk,
                disposition="answered" if answered else "missed_in_queue",
                in_hours=9 <= rang.hour < 18,
                had_open_lead=rng.random() < 0.7,
            )
        )
        if len(batch) == 20_000:
            with transaction.atomic():
                Call.objects.bulk_create(batch)
            batch = []
    if batch:
        Call.objects.bulk_create(batch)
    print(f"{args.kpi_calls:,} calls written in {time.perf_counter() - clock:.1f} s", flush=True)
    keys = [key for key, metric in METRICS.items() if _is_call_metric(metric)]
    window = Window((dealer.pk,), start, start + timedelta(days=31))
    timings = []
    for _ in range(5):
        clock = time.perf_counter()
        kpi_report(window=window, metrics=keys)
        timings.append((time.perf_counter() - clock) * 1000)
    return {"metrics": keys, "ms": timings}


def _is_call_metric(metric: Any) -> bool:
    from kpi.measures import CALL_MEASURES, CALLBACK_MEASURES

    call_measures = {*CALL_MEASURES, *CALLBACK_MEASURES}
    return metric.numerator in call_measures


# ---------------------------------------------------------------- the parent: senders


def pushes(dealers: list[dict], rng: random.Random, n: int) -> list[tuple[str, dict]]:
    """A call's pushes: it rings at a seat, then its call detail."""
    dealer = dealers[rng.randrange(len(dealers))]
    number = rng.choice(dealer["known"]) if rng.random() < 0.5 else f"138{n:08d}"[:11]
    start = datetime(2026, 11, 18, 9, tzinfo=CHINA) + timedelta(seconds=rng.randrange(30000))
    call_id = f"b{n}"
    base = {
        "call_id": call_id,
        "direction": "inbound",
        "line_number": dealer["line"],
        "customer_number": number,
        "seat": rng.choice(["8001", "8002"]),
        "rang_at": start.isoformat(),
    }
    ringing = base | {"phase": "ringing"}
    if rng.random() < 0.33:
        ended = base | {
            "phase": "ended",
            "ended_at": (start + timedelta(seconds=30)).isoformat(),
            "wait_seconds": 30,
            "disposition": "missed_in_queue",
        }
    else:
        answered = start + timedelta(seconds=8)
        ended = base | {
            "phase": "ended",
            "answered_at": answered.isoformat(),
            "ended_at": (answered + timedelta(seconds=95)).isoformat(),
            "disposition": "answered",
            "recording_urls": [f"https://rec.example/{call_id}.mp3"],
        }
    return [(dealer["key"], ringing), (dealer["key"], ended)]


def send_for(
    seconds: float, senders: int, dealers: list[dict], path: str, seed: int
) -> dict[str, Any]:
    """`senders` threads posting calls' pushes to `path` for `seconds`."""
    latencies: list[float] = []
    errors: list[str] = []
    calls = 0
    lock = threading.Lock()
    stop = time.perf_counter() + seconds
    counter = iter(range(10**9))

    def sender(index: int) -> None:
        nonlocal calls
        rng = random.Random(f"{seed}-{index}")
        while time.perf_counter() < stop:
            with lock:
                n = next(counter)
            for key, payload in pushes(dealers, rng, n):
                body = json.dumps(payload).encode()
                signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
                request = urllib.request.Request(
                    f"http://127.0.0.1:{PORT}/{path}/{key}/",
                    body,
                    {"Content-Type": "application/json", "X-DCC-Signature": signature},
                    method="POST",
                )
                clock = time.perf_counter()
                try:
                    with urllib.request.urlopen(request, timeout=30) as answer:
                        answer.read()
                        ok = answer.status == 200
                except (urllib.error.URLError, OSError) as error:
                    ok = False
                    with lock:
                        errors.append(str(error)[:100])
                elapsed = (time.perf_counter() - clock) * 1000
                with lock:
                    latencies.append(elapsed)
                    if not ok and len(errors) < 1000:
                        errors.append("status")
            with lock:
                calls += 1

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(senders)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    took = time.perf_counter() - began
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "calls": calls,
        "rate": calls / took,
        "p50": cuts[49],
        "p95": cuts[94],
        "p99": cuts[98],
        "errors": len(errors),
        "first_error": errors[0] if errors else "",
    }


def wait_for_server(child: subprocess.Popen) -> None:
    for _ in range(300):
        if child.poll() is not None:
            raise SystemExit("the server stopped before it answered")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/login/", timeout=2).read()
            return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise SystemExit("the server did not answer")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="", help="postgres://…bench… (default SQLite)")
    parser.add_argument("--dealers", type=int, default=500)
    parser.add_argument("--senders", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--kpi-calls", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--stage", choices=["setup", "serve", "kpi"], help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.stage == "serve":
        child_serve(args)
        return
    if args.stage:
        result = child_setup(args) if args.stage == "setup" else child_kpi(args)
        print("RESULT " + json.dumps(result, ensure_ascii=False), flush=True)
        return
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    if args.database_url:
        url = args.database_url
        if not urlsplit(url).scheme.startswith("postgres"):
            raise SystemExit("--database-url must be a postgres:// URL (SQLite is the default)")
        recreate_postgres(url)
    else:
        path = VAR_DIR / "phone.sqlite3"
        remove_sqlite(path)
        url = f"sqlite:///{path}"
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="dcc.settings",
        DATABASE_URL=url,
        DCC_VAR_DIR=str(VAR_DIR),
        DCC_RECORDING_DIR=str(VAR_DIR / "recordings"),
        DCC_TASK_WORKER="external",  # recordings are not fetched during the run
        DEBUG="false",
        PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
    )
    script = [sys.executable, str(Path(__file__).resolve())]
    common = ["--dealers", str(args.dealers), "--seed", str(args.seed)]
    print(f"DCC phone benchmark on {urlsplit(url).scheme}: {args.dealers} dealers, "
          f"{args.senders} senders, {args.seconds:.0f} s each; {os.cpu_count()} CPUs")  # fmt: skip
    setup = run_stage("setup", [*script, "--stage", "setup", *common], env)
    server = subprocess.Popen([*script, "--stage", "serve", *common], env=env)
    try:
        wait_for_server(server)
        dcc = send_for(args.seconds, args.senders, setup["dealers"], "phone/push", args.seed)
        reference = send_for(
            args.seconds, args.senders, setup["dealers"], "bench/reference", args.seed
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    for name, figures in (("DCC push address", dcc), ("reference (one row)", reference)):
        print(
            f"{name}: {figures['calls']:,} calls, {figures['rate']:.1f} calls/s, "
            f"p50 {figures['p50']:.0f} ms, p95 {figures['p95']:.0f} ms, "
            f"p99 {figures['p99']:.0f} ms, {figures['errors']} errors"
            + (f" (first: {figures['first_error']})" if figures["errors"] else "")
        )
    ratio = dcc["rate"] / reference["rate"] if reference["rate"] else 0.0
    print(f"ratio DCC / reference: {ratio:.2f}")
    for label, met in (
        (f"≥ {TARGET_RATE:.0f} calls/s", dcc["rate"] >= TARGET_RATE),
        (f"p99 < {TARGET_P99_MS:.0f} ms", dcc["p99"] < TARGET_P99_MS),
        ("0 errors", dcc["errors"] == 0),
        (f"≥ {TARGET_RATIO} × the reference", ratio >= TARGET_RATIO),
    ):
        print(f"target {label}: {'met' if met else 'NOT met'}")
    if args.kpi_calls:
        kpi = run_stage(
            "kpi", [*script, "--stage", "kpi", *common, "--kpi-calls", str(args.kpi_calls)], env
        )
        best, median = min(kpi["ms"]), statistics.median(kpi["ms"])
        print(
            f"call KPIs ({len(kpi['metrics'])} metrics) of one dealer's month at "
            f"{args.kpi_calls:,} calls: best {best:.0f} ms, median {median:.0f} ms"
        )
        print(f"target < {TARGET_KPI_MS:.0f} ms: {'met' if median < TARGET_KPI_MS else 'NOT met'}")


if __name__ == "__main__":
    main()
