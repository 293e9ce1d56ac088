"""What load balancers, process managers and Prometheus ask a web process.

- `/healthz` (liveness): the process answers. Touches nothing else, so a slow database does
  not get every web process restarted at once.
- `/readyz` (readiness): the database answers and has every migration of this code, and the
  cache answers. 503 naming what failed: the balancer sends no traffic here meanwhile.
- `/metrics`: Prometheus' text format (dcc_site.metrics), to loopback callers that did not
  come through the proxy, or to `Authorization: Bearer DCC_METRICS_TOKEN`.

They answer in a middleware ahead of the host check and the HTTPS redirect, because probes
ask by address over plain HTTP from the private network; none of them reads the Host header
or a cookie.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse

log = logging.getLogger(__name__)

# Once this process saw every migration applied it stays so: the code it runs does not change
# under it, and the check costs a read of every migration file.
_migrated = False


def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "alive"})


def _database() -> str | None:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return None


def _migrations() -> str | None:
    global _migrated
    if _migrated:
        return None
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _backwards in plan[:5])
        return f"{len(plan)} migration(s) not applied: {names}"
    _migrated = True
    return None


def _cache() -> str | None:
    key = "dcc:readyz"
    value = str(time.monotonic_ns())
    cache.set(key, value, timeout=30)
    if cache.get(key) != value:
        return "the cache did not give back what was just put in it"
    return None


CHECKS: dict[str, Callable[[], str | None]] = {
    "database": _database,
    "migrations": _migrations,
    "cache": _cache,
}


def readyz(request: HttpRequest) -> HttpResponse:
    checks: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            problem = check()
        except Exception as error:  # whatever broke, the answer is "not ready", and why
            problem = f"{type(error).__name__}: {error}"
        checks[name] = problem or "ok"
        if problem:
            log.warning("not ready: %s: %s", name, problem)
            if name == "database":
                checks["migrations"] = "not checked"
                break
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status=200 if ready else 503,
    )


def may_read_metrics(request: HttpRequest) -> bool:
    """A loopback caller that did not come through the proxy (which adds X-Forwarded-For), or
    the bearer of the metrics token."""
    token = settings.DCC_METRICS_TOKEN
    sent = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return True
    if "X-Forwarded-For" in request.headers:
        return False
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def metrics(request: HttpRequest) -> HttpResponse:
    if not may_read_metrics(request):
        return HttpResponse(
            "Metrics are for loopback callers or the bearer of DCC_METRICS_TOKEN.\n",
            status=403,
            content_type="text/plain; charset=utf-8",
        )
    from dcc_site.metrics import exposition

    body, content_type = exposition()
    return HttpResponse(body, content_type=content_type)


PROBES: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    "/healthz": healthz,
    "/readyz": readyz,
    "/metrics": metrics,
}


class ProbeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path_info.rstrip("/") or "/")
        if probe is None:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            response = HttpResponse(status=405)
            response["Allow"] = "GET, HEAD"
            return response
        response = probe(request)
        response["Cache-Control"] = "no-store"
        return response
