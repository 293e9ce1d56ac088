"""The stage machine: the one place that says which action may move a lead from which stage
to which, who may perform it, and what it needs.

    new → contacted → appointed → arrived → ordered → delivered
    exits: invalid (reason) and defeated (reason, requested by the owner, approved by a
    supervisor); reactivation brings an exited lead back to contacted.

Skipping forward is allowed where real life skips (a walk-in arrives without appointment);
going back is not, except reactivation.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.roles import SUPERVISORS, Role
from dcc.errors import NotPermitted, TransitionNotAllowed


class Stage(models.TextChoices):
    NEW = "new", _("New")
    CONTACTED = "contacted", _("Contacted")
    APPOINTED = "appointed", _("Appointed")
    ARRIVED = "arrived", _("Arrived")
    ORDERED = "ordered", _("Ordered")
    DELIVERED = "delivered", _("Delivered")
    INVALID = "invalid", _("Invalid")
    DEFEATED = "defeated", _("Defeated")


OPEN_STAGES = (Stage.NEW, Stage.CONTACTED, Stage.APPOINTED, Stage.ARRIVED, Stage.ORDERED)
INVITE_STAGES = (Stage.NEW, Stage.CONTACTED, Stage.APPOINTED)
EXIT_STAGES = (Stage.INVALID, Stage.DEFEATED)


class Grade(models.TextChoices):
    H = "H", _("H · buys within 7 days")
    A = "A", _("A · within 15 days")
    B = "B", _("B · within 30 days")
    C = "C", _("C · within 3 months")
    N = "N", _("N · no intent yet / unreachable")


GRADES = frozenset(Grade.values)  # for membership tests: Django builds `values` at each call

# Follow up at least every … days; a dealer may override each in GradePolicy.
DEFAULT_FOLLOW_UP_DAYS = {Grade.H: 1, Grade.A: 3, Grade.B: 7, Grade.C: 15, Grade.N: 2}


class Action(models.TextChoices):
    LOG_CALL = "log_call", _("Log call")
    GRADE = "grade", _("Grade")
    APPOINT = "appoint", _("Book appointment")
    CANCEL_APPOINTMENT = "cancel_appointment", _("Cancel appointment")
    ARRIVE = "arrive", _("Check in arrival")
    TEST_DRIVE = "test_drive", _("Record test drive")
    QUOTE = "quote", _("Record quote")
    ORDER = "order", _("Record order")
    DELIVER = "deliver", _("Record delivery")
    INVALIDATE = "invalidate", _("Mark invalid")
    REQUEST_DEFEAT = "request_defeat", _("Request defeat")
    APPROVE_DEFEAT = "approve_defeat", _("Approve defeat")
    REJECT_DEFEAT = "reject_defeat", _("Reject defeat")
    REACTIVATE = "reactivate", _("Reactivate")
    HAND_OFF = "hand_off", _("Hand off")
    CLAIM = "claim", _("Claim")
    RETURN_VISIT = "return_visit", _("Record return visit")
    OVERTURN = "overturn", _("Overturn by audit")


FRONT_LINE = frozenset({Role.DCC_AGENT, Role.DCC_SUPERVISOR, Role.CONSULTANT})
SHOWROOM_WORKERS = frozenset({Role.CONSULTANT, Role.SHOWROOM_MANAGER})
SHOWROOM_OVERSEERS = frozenset({Role.SHOWROOM_MANAGER, Role.SALES_MANAGER, Role.GM})


@dataclass(frozen=True)
class ActionSpec:
    """from_stages: where the action may start. to_stage: where it leads (None: stays).
    performers: roles that may do it on leads they own. overseers: roles that may do it on
    any lead of their dealer. needs: what the caller must supply."""

    from_stages: tuple[Stage, ...]
    to_stage: Stage | None
    performers: frozenset[Role]
    overseers: frozenset[Role] = SUPERVISORS
    needs: tuple[str, ...] = ()
    # True: only while a defeat request is pending; False: only while none is; None: either.
    defeat_pending: bool | None = False


SPECS: dict[Action, ActionSpec] = {
    Action.LOG_CALL: ActionSpec(
        OPEN_STAGES, None, FRONT_LINE | {Role.OWNER_OPS}, needs=("outcome",), defeat_pending=None
    ),
    Action.GRADE: ActionSpec(OPEN_STAGES, None, FRONT_LINE, needs=("grade",)),
    Action.APPOINT: ActionSpec(
        (Stage.NEW, Stage.CONTACTED, Stage.APPOINTED),
        Stage.APPOINTED,
        FRONT_LINE,
        needs=("appointment_at",),
    ),
    Action.CANCEL_APPOINTMENT: ActionSpec((Stage.APPOINTED,), None, FRONT_LINE),
    Action.ARRIVE: ActionSpec(
        (Stage.NEW, Stage.CONTACTED, Stage.APPOINTED),
        Stage.ARRIVED,
        SHOWROOM_WORKERS | {Role.DCC_SUPERVISOR},
    ),
    Action.TEST_DRIVE: ActionSpec(
        (Stage.ARRIVED, Stage.ORDERED), None, SHOWROOM_WORKERS, SHOWROOM_OVERSEERS
    ),
    Action.QUOTE: ActionSpec(
        (Stage.ARRIVED, Stage.ORDERED), None, SHOWROOM_WORKERS, SHOWROOM_OVERSEERS
    ),
    Action.ORDER: ActionSpec((Stage.ARRIVED,), Stage.ORDERED, SHOWROOM_WORKERS, SHOWROOM_OVERSEERS),
    Action.DELIVER: ActionSpec(
        (Stage.ORDERED,), Stage.DELIVERED, SHOWROOM_WORKERS, SHOWROOM_OVERSEERS
    ),
    Action.INVALIDATE: ActionSpec(INVITE_STAGES, Stage.INVALID, FRONT_LINE, needs=("reason",)),
    Action.REQUEST_DEFEAT: ActionSpec(
        (Stage.CONTACTED, Stage.APPOINTED, Stage.ARRIVED, Stage.ORDERED),
        None,
        FRONT_LINE,
        needs=("reason",),
    ),
    # Approval is a supervisor's alone, never the requester's own.
    Action.APPROVE_DEFEAT: ActionSpec(
        (Stage.CONTACTED, Stage.APPOINTED, Stage.ARRIVED, Stage.ORDERED),
        Stage.DEFEATED,
        frozenset(),
        defeat_pending=True,
    ),
    Action.REJECT_DEFEAT: ActionSpec(
        (Stage.CONTACTED, Stage.APPOINTED, Stage.ARRIVED, Stage.ORDERED),
        None,
        frozenset(),
        defeat_pending=True,
    ),
    Action.REACTIVATE: ActionSpec(EXIT_STAGES, Stage.CONTACTED, frozenset()),
    Action.HAND_OFF: ActionSpec(OPEN_STAGES, None, FRONT_LINE, defeat_pending=None),
    # Any agent may claim a new lead held in the pool (by a non-agent); actions.claim_lead
    # refuses leads that an agent already holds.
    Action.CLAIM: ActionSpec((Stage.NEW,), None, frozenset(), frozenset({Role.DCC_AGENT})),
    # Owner operations call every new owner after delivery, whoever sold the car.
    Action.RETURN_VISIT: ActionSpec(
        (Stage.DELIVERED,), None, frozenset(), SUPERVISORS | {Role.OWNER_OPS}
    ),
    # The customer audit group found a defeat or an invalid mark wrong: the lead is worked again.
    Action.OVERTURN: ActionSpec(
        EXIT_STAGES, Stage.CONTACTED, frozenset(), SUPERVISORS | {Role.AUDITOR}
    ),
}


def check_stage(action: Action, *, stage: str, defeat_pending: bool) -> Stage | None:
    """Raise TransitionNotAllowed unless `action` may start from `stage`; return the stage it
    leads to (None when the stage stays)."""
    spec = SPECS[action]
    current = Stage(stage)
    if current not in spec.from_stages:
        raise TransitionNotAllowed(
            _("“%(action)s” is not possible while the lead is %(stage)s.")
            % {"action": action.label, "stage": current.label},
            code="transition_not_allowed",
        )
    if spec.defeat_pending is True and not defeat_pending:
        raise TransitionNotAllowed(
            _("No defeat request is pending on this lead."), code="no_defeat_pending"
        )
    if spec.defeat_pending is False and defeat_pending:
        raise TransitionNotAllowed(
            _("A defeat request is waiting for a supervisor's decision."), code="defeat_pending"
        )
    return spec.to_stage


def may_perform(action: Action, *, roles: frozenset[str], is_owner: bool) -> bool:
    """Whether a person holding `roles` at the lead's dealer may perform `action`."""
    spec = SPECS[action]
    if roles & spec.overseers:
        return True
    return is_owner and bool(roles & spec.performers)


def check_performer(action: Action, *, roles: frozenset[str], is_owner: bool) -> None:
    if not may_perform(action, roles=roles, is_owner=is_owner):
        raise NotPermitted(
            _("You may not “%(action)s” on this lead.") % {"action": action.label},
            code="not_permitted",
        )


def is_open(stage: str) -> bool:
    return stage in OPEN_STAGES
