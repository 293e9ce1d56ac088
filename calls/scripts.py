"""Which call script (话术) fits a call: the dealer's own, most specific first (purpose, stage
and grade, then purpose and stage, then purpose alone), else the product's default for the
purpose. Editing a script keeps its earlier versions (the audit group scores a call against
the version in force when it was made)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from accounts.models import Dealer, Staff
from calls.models import Call, Script, ScriptPurpose
from calls.report import Direction
from leads.models import Lead
from leads.stages import Stage

DEFAULT_SCRIPTS = {
    ScriptPurpose.FIRST_CALL: _(
        "Hello, this is {agent} from {dealer}. You left your number on {channel} asking about "
        "the {model}: is now a good time? — Ask: which version and colour, buying for "
        "yourself or family, when do you plan to buy, which other cars are you comparing, "
        "trade-in? — Offer a test drive this week and book the time."
    ),
    ScriptPurpose.INBOUND: _(
        "Thank you for calling {dealer}, this is {agent}, how may I help? — Ask the caller's "
        "name and the model they are interested in, then their plan: when, budget, trade-in. "
        "— Invite them to the showroom and agree a time; confirm the number to send the "
        "address to."
    ),
    ScriptPurpose.INVITATION: _(
        "Hello, this is {agent} from {dealer}. The {model} you asked about is in the "
        "showroom now, with this month's offer. — Ask which day suits them, morning or "
        "afternoon; book the visit and tell them who will receive them."
    ),
    ScriptPurpose.REMINDER: _(
        "Hello, this is {agent} from {dealer}, a reminder of your visit: {appointment}. "
        "Your consultant has the car ready for a test drive. — Confirm the time, the "
        "number of people, and offer directions or parking."
    ),
    ScriptPurpose.RETURN_VISIT: _(
        "Hello, this is {agent} from {dealer}: thank you for choosing us. How is the car? "
        "— Ask about delivery, the consultant, and anything unclear; note every complaint. "
        "— Ask whether friends or family are looking for a car."
    ),
    ScriptPurpose.REACTIVATION: _(
        "Hello, this is {agent} from {dealer}. Some time ago you were looking at the "
        "{model}: have you bought a car yet? — If not: what held you back, and would a "
        "new offer or a test drive help? Book a visit if they are open to it."
    ),
}

PURPOSE_BY_STAGE = {
    Stage.NEW: ScriptPurpose.FIRST_CALL,
    Stage.CONTACTED: ScriptPurpose.INVITATION,
    Stage.APPOINTED: ScriptPurpose.REMINDER,
    Stage.DELIVERED: ScriptPurpose.RETURN_VISIT,
    Stage.DEFEATED: ScriptPurpose.REACTIVATION,
    Stage.INVALID: ScriptPurpose.REACTIVATION,
}


@dataclass(frozen=True)
class ScriptText:
    purpose: ScriptPurpose
    title: str
    body: str
    version: int | None  # None: the product's default


def purpose_of(call: Call | None, lead: Lead | None) -> ScriptPurpose:
    if lead is None:
        return ScriptPurpose.INBOUND
    if call is not None and call.direction == Direction.INBOUND and lead.stage == Stage.NEW:
        return ScriptPurpose.INBOUND
    return PURPOSE_BY_STAGE.get(Stage(lead.stage), ScriptPurpose.INVITATION)


class _Blanks(dict):
    def __missing__(self, key: str) -> str:
        return "…"


def fill(text: str, **values: object) -> str:
    """The script with {agent}, {dealer}, {channel}, {model}, {appointment} filled in; an
    unknown or empty placeholder shows as "…" (a dealer's typo never breaks the panel)."""
    known = _Blanks({k: str(v) for k, v in values.items() if v})
    try:
        return text.format_map(known)
    except (ValueError, IndexError, AttributeError):
        return text


def script_for(dealer: Dealer, *, purpose: ScriptPurpose, lead: Lead | None) -> ScriptText:
    stage, grade = (lead.stage, lead.grade) if lead else ("", "")
    candidates = Script.objects.filter(dealer=dealer, purpose=purpose, is_current=True).filter(
        stage__in={stage, ""}, grade__in={grade, ""}
    )
    # Most specific first: a stage match weighs more than a grade match.
    best = max(
        candidates,
        key=lambda s: (s.stage == stage and bool(stage), s.grade == grade and bool(grade)),
        default=None,
    )
    if best is not None:
        return ScriptText(purpose, best.title, best.body, best.version)
    return ScriptText(purpose, str(purpose.label), str(DEFAULT_SCRIPTS[purpose]), None)


def save_script(
    dealer: Dealer,
    *,
    by: Staff,
    purpose: ScriptPurpose,
    title: str,
    body: str,
    stage: str = "",
    grade: str = "",
) -> Script:
    """A new version of the dealer's script for (purpose, stage, grade); the one in force
    before is kept, no longer current."""
    key = {"dealer": dealer, "purpose": purpose, "stage": stage, "grade": grade}
    with transaction.atomic():
        versions = Script.objects.select_for_update().filter(**key)
        latest = versions.aggregate(latest=Max("version"))["latest"] or 0
        versions.filter(is_current=True).update(is_current=False)
        return Script.objects.create(
            **key, title=title, body=body, version=latest + 1, is_current=True, created_by=by
        )
