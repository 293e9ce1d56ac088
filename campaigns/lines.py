"""Calls on a campaign's own line are the campaign's return, like its capture codes' forms: an
inbound call on the line, rung within the campaign's days, credits its lead to the campaign.

The first campaign wins, as on the capture page (campaigns.capture): a lead captured from the
call (留资, the caller was unknown) is the campaign's lead; a caller who already had a lead
makes a repeat enquiry for the campaign (CampaignTouch) and the lead keeps its channel and its
campaign. Crediting an older lead of another channel to the campaign would count it twice,
once in its channel's cost per lead and once in the campaign's."""

from __future__ import annotations

from django.utils import timezone

from calls.models import Call
from calls.report import Direction
from campaigns.models import Campaign, CampaignLead, CampaignTouch


def campaign_of_call(call: Call) -> Campaign | None:
    """The campaign whose line the call came in on and whose days it rang within (the latest
    started, should two campaigns share a line at once)."""
    if call.direction != Direction.INBOUND or call.line_id is None or call.rang_at is None:
        return None
    day = timezone.localdate(call.rang_at)
    return (
        Campaign.objects.filter(
            dealer_id=call.dealer_id, line_id=call.line_id, starts_on__lte=day, ends_on__gte=day
        )
        .order_by("-starts_on", "-pk")
        .first()
    )


def credit_call(call: Call) -> CampaignLead | CampaignTouch | None:
    """Credit the call's lead to the campaign of its line (once per call); None when the call
    is no campaign's or was credited already. Runs as the call settles (calls.listeners)."""
    if call.lead_id is None:
        return None
    campaign = campaign_of_call(call)
    if campaign is None:
        return None
    if (
        CampaignTouch.objects.filter(call=call).exists()
        or CampaignLead.objects.filter(call=call).exists()
    ):
        return None
    at = call.rang_at
    if call.captured and not CampaignLead.objects.filter(lead_id=call.lead_id).exists():
        return CampaignLead.objects.create(
            dealer_id=call.dealer_id, lead_id=call.lead_id, campaign=campaign, call=call, at=at
        )
    return CampaignTouch.objects.create(
        dealer_id=call.dealer_id, lead_id=call.lead_id, campaign=campaign, call=call, at=at
    )
