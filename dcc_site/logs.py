"""Every log record carries the id of the request it was written in (django-guid keeps it for
the request; "-" outside one: the task worker, `dcc tick`)."""

import logging

from django_guid import get_guid


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = get_guid() or "-"
        return True
