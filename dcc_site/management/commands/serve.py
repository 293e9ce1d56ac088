"""`dcc serve`: migrate, collect static files and serve the app with waitress.

This is the embedded way to run DCC (one process, SQLite under var/ by default); production
may run the same command behind a TLS proxy, or any WSGI server on `dcc_site.wsgi.application`.
"""

import threading
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Migrate the database, collect static files and serve DCC over HTTP with waitress."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
        parser.add_argument("--port", type=int, default=8000, help="port to listen on (0: any)")
        parser.add_argument("--threads", type=int, default=8, help="worker threads")
        parser.add_argument(
            "--demo",
            action="store_true",
            help="load the demo dealers and leads first if the database has no dealer yet",
        )

    def handle(self, *args, host, port, threads, demo, **options):
        if threads < 1:
            raise CommandError("--threads must be at least 1")
        verbosity = options["verbosity"]

        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        # WhiteNoise warns about a missing STATIC_ROOT even when there is nothing to collect.
        Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
        if demo:
            from accounts.models import Dealer

            if not Dealer.objects.exists():
                if verbosity:
                    self.stdout.write("No dealer yet: loading the demo data.")
                call_command("demo", verbosity=verbosity)

        self._start_task_worker(verbosity)

        from waitress.server import create_server

        from dcc_site.wsgi import application

        try:
            server = create_server(application, host=host, port=port, threads=threads, ident="dcc")
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc}") from exc

        listening = getattr(server, "effective_listen", None) or [
            (server.effective_host, server.effective_port)
        ]
        for addr, bound_port in listening:
            shown = f"[{addr}]" if ":" in str(addr) else addr
            self.stdout.write(self.style.SUCCESS(f"DCC is running at http://{shown}:{bound_port}/"))
        self.stdout.write("Press Ctrl+C to stop.")
        self.stdout.flush()
        try:
            server.run()
        except KeyboardInterrupt:
            pass
        finally:
            server.close()

    def _start_task_worker(self, verbosity: int) -> None:
        """Run queued background work (imports) in a thread of this process, so the embedded
        set-up needs nothing else running. DCC_TASK_WORKER=external leaves it to separate
        `dcc db_worker` processes."""
        mode = settings.DCC_TASK_WORKER
        if mode == "external":
            return
        if mode != "embedded":
            raise CommandError(f"DCC_TASK_WORKER must be 'embedded' or 'external', not {mode!r}")
        from django.utils.crypto import get_random_string
        from django_tasks_db.management.commands.db_worker import Worker

        from intake.uploads import fail_interrupted

        fail_interrupted()  # this process is the only worker, so nothing else runs them

        worker = Worker(
            queue_names=["default"],
            interval=1,
            batch=False,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=f"serve-{get_random_string(16)}",
            excluded_queue_names=[],
        )
        # A daemon thread: it ends with the server. Signals stay with waitress; an import cut
        # off by a stop is finished by "Run again".
        threading.Thread(target=worker.run, name="dcc-task-worker", daemon=True).start()
        # And the periodic upkeep that cron runs at scale (absences, stalled imports, the
        # evening's daily reports).
        threading.Thread(target=_tick_forever, name="dcc-tick", daemon=True).start()
        if verbosity:
            self.stdout.write("Background tasks and periodic upkeep run in this process.")


TICK_EVERY = 300  # seconds


def _tick_forever() -> None:
    """`dcc tick` every few minutes, for the embedded set-up that has no cron."""
    import io
    import logging
    import time

    from django.db import close_old_connections

    while True:
        time.sleep(TICK_EVERY)
        try:
            call_command("tick", stdout=io.StringIO())
        except Exception:  # upkeep must never take the server down; say so in the log
            logging.getLogger("dcc").exception("periodic upkeep failed")
        finally:
            close_old_connections()
