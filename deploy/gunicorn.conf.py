"""gunicorn's settings for DCC's web processes (`gunicorn -c deploy/gunicorn.conf.py`).

Threaded workers (gthread): every page and the call panel's short poll (docs/calls.md) is a
short request, so a few processes of a few threads each serve many agents; no request is held
open, so nothing needs an event loop. Tuned by the environment:

  DCC_BIND            address to listen on (127.0.0.1:8000; behind nginx keep it on loopback)
  DCC_WEB_PROCESSES   worker processes (2: one per core on a small machine)
  DCC_WEB_THREADS     threads per process (8)
"""

import os

bind = os.environ.get("DCC_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("DCC_WEB_PROCESSES", "2"))
worker_class = "gthread"
threads = int(os.environ.get("DCC_WEB_THREADS", "8"))
wsgi_app = "dcc_site.wsgi:application"

# A request taking a minute is a fault (imports run in the workers, not here); a stop lets
# requests under way finish first.
timeout = 60
graceful_timeout = 30
keepalive = 5  # below nginx's upstream keepalive_timeout, so nginx closes first
# A worker is replaced after a few thousand requests, in case anything grows.
max_requests = 5000
max_requests_jitter = 500

# Access log on standard output, one line a request, with its id (the X-Request-ID the app
# answered, also in each of the request's log lines) and its time in milliseconds.
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s'
errorlog = "-"


def child_exit(server, worker) -> None:
    """A worker's metric files are kept as dead once it exits, so /metrics stops counting its
    live gauges (prometheus_client's multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
