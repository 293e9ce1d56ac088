"""The platform webhook endpoint. No user behind it: the signature over the body is the
authentication. Thin: find the channel, hand the raw request to intake.webhooks, answer."""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest, HttpResponse
from ninja import Header, Router, Schema
from ninja.responses import Status

from dcc.metrics import push_received
from dcc.schema import Text
from intake import adf, webhooks

router = Router(tags=["intake"], auth=None)


# Deliberately no customer data: the platform has it already, and a leaked secret must not
# become a way to read the dealer's customers.
class WebhookOut(Schema):
    """What became of the enquiry, and the dealer's lead it belongs to."""

    outcome: Literal["created", "touched", "duplicate"]
    lead_id: int


class ErrorOut(Schema):
    code: str
    message: str
    field: str | None = None


_ADF_BODY = {
    "schema": {"type": "string", "description": "An ADF document with one <prospect>."},
}
_REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "description": (
            "JSON, or ADF XML mapped as prospect/id → external_id, customer/contact/name → "
            "name, customer/contact/phone (cellphone preferred) → mobile, vehicle/model → "
            "car_model, customer/comments → note, requestdate → created_at."
        ),
        "content": {
            "application/json": {"schema": webhooks.WebhookEnquiry.model_json_schema()},
            **{kind: _ADF_BODY for kind in sorted(adf.CONTENT_TYPES)},
        },
    }
}
_ERRORS = {status: ErrorOut for status in (401, 404, 413, 415, 422, 429)}


@router.post(
    # The dealer is in the path because channel codes are unique per dealer only.
    "/{dealer_code}/{channel_code}",
    response={200: WebhookOut, 201: WebhookOut, **_ERRORS},
    summary="Receive a platform enquiry",
    openapi_extra=_REQUEST_BODY,
)
def receive_enquiry(
    request: HttpRequest,
    response: HttpResponse,
    dealer_code: Text,
    channel_code: Text,
    signature: str | None = Header(
        None,
        alias=webhooks.SIGNATURE_HEADER,
        description="`sha256=` and the hex HMAC-SHA256 of the raw body with the channel's secret.",
    ),
) -> Status:
    """Record one enquiry from a platform: 201 `created`; 200 `touched` when the number has an
    open lead; 200 `duplicate` with the first answer's lead when the `external_id` was sent
    before, so platforms may retry safely. At most the channel's rate per minute (429 with
    `Retry-After`)."""
    channel = webhooks.webhook_channel(dealer_code=dealer_code, channel_code=channel_code)
    try:
        intake = webhooks.receive_enquiry(
            channel=channel,
            body=request.body,
            content_type=request.content_type or "",
            charset=request.content_params.get("charset"),
            signature=signature,
        )
    except webhooks.RateLimited as error:
        response["Retry-After"] = str(error.retry_after)
        return Status(error.status, error.as_dict())
    push_received("webhook")
    return Status(
        201 if intake.created else 200, {"outcome": intake.outcome.value, "lead_id": intake.lead.pk}
    )
