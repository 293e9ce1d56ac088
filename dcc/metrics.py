"""Figures the apps count as things happen, for Prometheus (read at /metrics: dcc_site.probes).

The last push received, by kind (`call`: a phone provider's push, `webhook`: a platform's
enquiry): Prometheus' `time() - dcc_push_last_received_timestamp_seconds` is how long nothing
came in. With several web processes each keeps its own and /metrics gives the newest."""

from prometheus_client import Gauge

PUSH_RECEIVED = Gauge(
    "dcc_push_last_received_timestamp_seconds",
    "When the last push of this kind was received and stored (Unix time).",
    ["kind"],
    multiprocess_mode="max",
)


def push_received(kind: str) -> None:
    PUSH_RECEIVED.labels(kind=kind).set_to_current_time()
