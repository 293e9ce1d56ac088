"""The call-center providers a dealer can connect, one adapter each, all pure: a push in,
CallReports out (calls.report); the vendor's HTTP API for click-to-call and for reconciling
pushes that never came. docs/phone-providers.md maps each vendor's fields and codes.

Every adapter offers the same five things (`Provider`):

- parse(body, content_type) -> list[CallReport]: one push; PayloadError (naming the field)
  for anything unreadable, never another exception;
- authenticate(headers, body, query, credentials): BadCredentials unless the push is the
  dealer's provider's;
- acknowledge(ok, message) -> (status, body, content type): the answer the vendor expects;
  ok=False asks the vendor to push again later;
- dial(credentials, base_url, *, seat, customer_number, reference, timeout) -> call id, and
  calls_since(credentials, base_url, since, until) -> reports: ProviderError on failure;
- recording_hosts(credentials): where recordings may be fetched from; an entry starting with
  a dot stands for any host under that domain.

`credentials` is the dealer's settings for the provider, as strings: API keys (secret_id /
secret_key / sdk_app_id for TCCC; access_key_id / access_key_secret / instance_id for
Aliyun; access_key_id / access_key_secret for Clink), `caller` (the number to show),
push_username / push_password / push_token / push_secret for pushes, recording_hosts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from calls.providers import aliyun, clink, generic, tccc
from calls.providers.asterisk import report_from_row
from calls.providers.base import BadCredentials, ProviderError
from calls.report import CallReport


@dataclass(frozen=True)
class Provider:
    name: str
    label: str | Promise
    parse: Callable[[bytes, str], list[CallReport]]
    authenticate: Callable[[Mapping[str, str], bytes, Mapping[str, str], Mapping[str, str]], None]
    acknowledge: Callable[..., tuple[int, bytes, str]]
    dial: Callable[..., str]
    calls_since: Callable[[Mapping[str, str], str, datetime, datetime], list[CallReport]]
    recording_hosts: Callable[[Mapping[str, str]], tuple[str, ...]]
    default_base_url: str = ""  # the vendor's API address, when it has one


def _provider(module, label: str | Promise, default_base_url: str = "") -> Provider:
    return Provider(
        name=module.NAME,
        label=label,
        parse=module.parse,
        authenticate=module.authenticate,
        acknowledge=module.acknowledge,
        dial=module.dial,
        calls_since=module.calls_since,
        recording_hosts=module.recording_hosts,
        default_base_url=default_base_url,
    )


PROVIDERS: dict[str, Provider] = {
    "tccc": _provider(tccc, _("Tencent Cloud Contact Center"), "https://ccc.tencentcloudapi.com"),
    "aliyun": _provider(
        aliyun, _("Alibaba Cloud Contact Center"), "https://ccc.cn-shanghai.aliyuncs.com"
    ),
    "clink": _provider(clink, _("Tinet Clink"), "https://api-bj.clink.cn"),
    "generic": _provider(generic, _("Other (DCC JSON format)")),
}

__all__ = ["PROVIDERS", "BadCredentials", "Provider", "ProviderError", "report_from_row"]
