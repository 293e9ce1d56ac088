"""/metrics: Prometheus' text format.

Request figures (latency by view, statuses, …) are django-prometheus' middleware's, counted in
each process; with several web processes (PROMETHEUS_MULTIPROC_DIR set) they are read from
that folder, every process's added up. The work waiting and under way is read from the
database at each scrape, so any process gives the same answer: the task queue (django-tasks'
database backend), the imports running, and how old the newest call is.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST


class WorkCollector:
    """Gauges read from the database when Prometheus scrapes."""

    def collect(self) -> Iterator[Metric]:
        from django_tasks.base import TaskResultStatus
        from django_tasks_db.models import DBTaskResult

        from calls.models import Call
        from intake.models import ImportJob, ImportStatus

        now = timezone.now()
        up = GaugeMetricFamily("dcc_database_up", "Whether the database answered this scrape.")
        try:
            tasks = list(
                DBTaskResult.objects.filter(
                    status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]
                )
                .values("queue_name", "status")
                .annotate(n=Count("id"), oldest=Min("enqueued_at"))
            )
            imports = list(
                ImportJob.objects.filter(status=ImportStatus.RUNNING).values(
                    "pk", "dealer__code", "rows_done", "bytes_done", "bytes_total"
                )
            )
            newest_call = Call.objects.order_by("-pk").values_list("created_at", flat=True)[:1]
            newest_call = list(newest_call)
        except Exception:  # the scrape still answers, saying the database did not
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up

        waiting = GaugeMetricFamily(
            "dcc_tasks_waiting", "Background tasks queued, not started yet.", labels=["queue"]
        )
        running = GaugeMetricFamily(
            "dcc_tasks_running", "Background tasks a worker is running.", labels=["queue"]
        )
        oldest = GaugeMetricFamily(
            "dcc_tasks_oldest_waiting_seconds",
            "How long the oldest queued task has waited (0: none waits).",
            labels=["queue"],
        )
        for row in tasks:
            if row["status"] == TaskResultStatus.READY:
                waiting.add_metric([row["queue_name"]], row["n"])
                oldest.add_metric([row["queue_name"]], (now - row["oldest"]).total_seconds())
            else:
                running.add_metric([row["queue_name"]], row["n"])
        if not any(row["status"] == TaskResultStatus.READY for row in tasks):
            waiting.add_metric(["default"], 0)
            oldest.add_metric(["default"], 0)
        yield from (waiting, running, oldest)

        count = GaugeMetricFamily("dcc_imports_running", "Import jobs running now.")
        count.add_metric([], len(imports))
        rows = GaugeMetricFamily(
            "dcc_import_rows_done",
            "Rows read so far by a running import.",
            labels=["job", "dealer"],
        )
        share = GaugeMetricFamily(
            "dcc_import_progress_ratio",
            "Share of a running import's file read so far (0 to 1).",
            labels=["job", "dealer"],
        )
        for job in imports:
            labels = [str(job["pk"]), job["dealer__code"]]
            rows.add_metric(labels, job["rows_done"])
            total = job["bytes_total"]
            share.add_metric(labels, min(1.0, job["bytes_done"] / total) if total else 0.0)
        yield from (count, rows, share)

        age = GaugeMetricFamily(
            "dcc_newest_call_age_seconds",
            "How long ago the newest call was first pushed by a phone provider (none: absent).",
        )
        if newest_call:
            age.add_metric([], (now - newest_call[0]).total_seconds())
        yield age


WORK = CollectorRegistry(auto_describe=False)
WORK.register(WorkCollector())


def exposition() -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted)
    else:
        counted = REGISTRY
    return generate_latest(counted) + generate_latest(WORK), CONTENT_TYPE_LATEST
