"""The production topology on this machine, on loopback: `make prod-up`, `make prod-down`.

    python tools/prod.py up      PostgreSQL database dcc_prod (made if missing, migrated), Redis
                                 if it answers, gunicorn web processes, `dcc db_worker`
                                 processes and `dcc tick` every few minutes; waits for /readyz
    python tools/prod.py down    stops exactly what `up` started (by its pid files), nothing else
    python tools/prod.py status  what runs

Each process is started in a session of its own, its id (= its process group) written to
PROD_DIR/<name>.pid; `down` signals those groups only: SIGTERM, then SIGKILL after 30 s.

Tuned by the environment (defaults in brackets):
  PROD_DIR [var/prod]            pid files, logs (log/), metric files, DCC's var folder
  PROD_PORT [8100]               gunicorn listens on 127.0.0.1:PROD_PORT (no nginx here)
  PROD_WEB [4]  PROD_THREADS [4] web processes and threads each (4 × 4 served the load bench
                                 best on 2 cores: a process waiting on the database leaves the
                                 core to another)
  PROD_WORKERS [2]               `dcc db_worker` processes
  PROD_TICK_SECONDS [300]        `dcc tick` every so often
  PROD_FIGURES_SECONDS [30]      DCC_FIGURES_SECONDS: dashboards' figures shared this long
  PROD_DATABASE_URL [postgres://postgres@127.0.0.1:5432/dcc_prod]
  PROD_REDIS_URL [redis://127.0.0.1:6379/0] ("" for none)
  DEMO=1                         load the demo dealers into an empty database first
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
STOP_SECONDS = 30
READY_SECONDS = 90


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def prod_dir() -> Path:
    return Path(_env("PROD_DIR", str(ROOT / "var" / "prod"))).resolve()


def port() -> int:
    return int(_env("PROD_PORT", "8100"))


def database_url() -> str:
    return _env("PROD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dcc_prod")


def say(message: str) -> None:
    print(f"prod: {message}", flush=True)


# ---------------------------------------------------------------- the services of the machine


def ensure_database(url: str) -> None:
    """Create the database if PostgreSQL answers and it is not there yet."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl().replace("postgres://", "postgresql://", 1)
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as connection:
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [name]
            ).fetchone()
            if not exists:
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                say(f"database {name} created")
    except psycopg.OperationalError as error:
        sys.exit(f"prod: PostgreSQL does not answer at {parts.hostname}:{parts.port}: {error}")


def redis_url() -> str:
    """The Redis URL if Redis answers (and the client is installed), else ""."""
    url = _env("PROD_REDIS_URL", "redis://127.0.0.1:6379/0")
    if not url:
        return ""
    try:
        import redis
    except ImportError:
        say("no Redis client installed (pip install -e '.[redis]'): each process counts alone")
        return ""
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as error:
        say(f"Redis does not answer at {url} ({error}): each process counts alone")
        return ""
    return url


def environment(redis: str) -> dict[str, str]:
    base = prod_dir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DCC_", "PROMETHEUS_"))}
    env.pop("REDIS_URL", None)
    env |= {
        "DJANGO_SETTINGS_MODULE": "dcc.settings",
        "DATABASE_URL": database_url(),
        "DCC_VAR_DIR": str(base / "var"),
        "DCC_TASK_WORKER": "external",
        "DCC_LOG_FORMAT": "json",
        "DCC_FIGURES_SECONDS": _env("PROD_FIGURES_SECONDS", "30"),
        "PROMETHEUS_MULTIPROC_DIR": str(base / "metrics"),
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DCC_BIND": f"127.0.0.1:{port()}",
        "DCC_WEB_PROCESSES": _env("PROD_WEB", "4"),
        "DCC_WEB_THREADS": _env("PROD_THREADS", "4"),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    if redis:
        env["REDIS_URL"] = redis
    return env


# ---------------------------------------------------------------- processes and pid files


def pid_files() -> list[Path]:
    return sorted(prod_dir().glob("*.pid"))


def members(group: int) -> list[int]:
    """Live (not zombie) processes of a process group."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses.
        fields = text[text.rindex(")") + 2 :].split()
        if fields[0] != "Z" and int(fields[2]) == group:
            found.append(int(stat.parent.name))
    return found


def start(name: str, command: list[str], env: dict[str, str]) -> int:
    logs = prod_dir() / "log"
    with open(logs / f"{name}.log", "ab") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: `down` stops it and its children
        )
    (prod_dir() / f"{name}.pid").write_text(f"{process.pid}\n")
    return process.pid


def running() -> dict[str, int]:
    alive = {}
    for pid_file in pid_files():
        group = int(pid_file.read_text().split()[0])
        if members(group):
            alive[pid_file.stem] = group
    return alive


def wait_ready(seconds: int) -> bool:
    url = f"http://127.0.0.1:{port()}/readyz"
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                if answer.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        if not running().get("web"):
            return False
        time.sleep(0.5)
    return False


def dcc(args: list[str], env: dict[str, str]) -> None:
    subprocess.run([str(BIN / "dcc"), *args], cwd=ROOT, env=env, check=True)


def up() -> None:
    base = prod_dir()
    if alive := running():
        sys.exit(f"prod: already running ({', '.join(alive)}): make prod-down first")
    for old in pid_files():
        old.unlink()
    (base / "log").mkdir(parents=True, exist_ok=True)
    metrics = base / "metrics"
    metrics.mkdir(exist_ok=True)
    for stale in metrics.glob("*.db"):  # multiprocess metric files of an earlier run
        stale.unlink()

    ensure_database(database_url())
    env = environment(redis_url())
    say(f"database {database_url()}, cache {env.get('REDIS_URL') or 'in each process'}")
    dcc(["migrate", "--no-input", "-v", "0"], env)
    dcc(["collectstatic", "--no-input", "-v", "0"], env)
    if _env("DEMO", "") == "1":
        dcc(["shell", "-c", DEMO_IF_EMPTY], env)

    started = {"web": start("web", [str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py"], env)}
    for number in range(1, int(_env("PROD_WORKERS", "2")) + 1):
        started[f"worker-{number}"] = start(
            f"worker-{number}",
            [str(BIN / "dcc"), "db_worker", "--worker-id", f"prod-{number}", "--interval", "1"],
            env,
        )
    started["tick"] = start(
        "tick", [sys.executable, __file__, "tick-loop", _env("PROD_TICK_SECONDS", "300")], env
    )
    say("started " + ", ".join(f"{name} ({pid})" for name, pid in started.items()))
    if not wait_ready(READY_SECONDS):
        say(f"/readyz did not answer 200 within {READY_SECONDS} s; see {base / 'log'}")
        down()
        sys.exit(1)
    say(f"ready at http://127.0.0.1:{port()}/ (logs in {base / 'log'}; make prod-down to stop)")


DEMO_IF_EMPTY = (
    "from accounts.models import Dealer\n"
    "from django.core.management import call_command\n"
    "Dealer.objects.exists() or call_command('demo')\n"
)


def down() -> None:
    files = pid_files()
    if not files:
        say("nothing to stop")
        return
    groups = {f: int(f.read_text().split()[0]) for f in files}
    for pid_file, group in groups.items():
        if members(group):
            say(f"stopping {pid_file.stem} ({group})")
            os.killpg(group, signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    while time.monotonic() < deadline and any(members(g) for g in groups.values()):
        time.sleep(0.2)
    for pid_file, group in groups.items():
        if members(group):
            say(f"{pid_file.stem} ({group}) still running after {STOP_SECONDS} s: killed")
            os.killpg(group, signal.SIGKILL)
        pid_file.unlink()
    say("stopped")


def status() -> None:
    alive = running()
    for pid_file in pid_files():
        state = "running" if pid_file.stem in alive else "gone"
        say(f"{pid_file.stem}: {state} ({pid_file.read_text().strip()})")
    if not pid_files():
        say("nothing started")


def tick_loop(every: int) -> None:
    """`dcc tick` now and then every `every` seconds (a systemd timer does this in deploy/).
    A stop reaches a tick under way too: each of its jobs picks up where it left off."""
    stopping = False

    def stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    while not stopping:
        subprocess.run([str(BIN / "dcc"), "tick"], cwd=ROOT, check=False)
        for _ in range(every * 10):
            if stopping:
                break
            time.sleep(0.1)


def main(argv: list[str]) -> None:
    match argv:
        case ["up"]:
            up()
        case ["down"]:
            down()
        case ["status"]:
            status()
        case ["tick-loop", every]:
            tick_loop(int(every))
        case _:
            sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
