"""Demo data: the audit group's week at a demo dealer, through the real actions. Last week's
sample drawn with a seed from the demo's, about half of it audited with varied scores, one
exit found wrong (an overturn recommended, for a supervisor to carry out), and one failed
audit appealed by the person audited, waiting for a supervisor's decision."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from accounts.models import Dealer, Membership, Staff
from accounts.roles import Role
from audit import actions, sources
from audit.models import AuditResult, AuditSample, AuditTask, TaskStatus

FINDINGS = {
    AuditResult.PASS: ["", "", "流程规范", "邀约话术到位"],
    AuditResult.FAIL: ["未按话术确认购车时间", "未邀约到店", "需求挖掘不充分"],
    AuditResult.OVERTURN: ["回访客户仍有购车意向，战败理由不成立"],
}
APPEAL_REASON = "客户当时明确表示只想了解价格，已按话术邀约，请复核录音。"


@dataclass
class AuditWeek:
    week: str = ""
    drawn: int = 0
    audited: int = 0
    overturns: int = 0
    appeals: int = 0
    skipped: bool = False

    def summary(self, code: str) -> str:
        if self.skipped:
            return f"{code}: the audit week was played already."
        if not self.drawn:
            return f"{code}: nothing to audit last week."
        return (
            f"{code}: {self.drawn} items of the week of {self.week} drawn, {self.audited} "
            f"audited, {self.overturns} overturn recommended, {self.appeals} appeal waiting."
        )


def play_audit_week(dealer: Dealer, seed: int) -> AuditWeek:
    """Draw and half-audit last week's sample (this week's when last week had no recorded
    calls, as on a Sunday: the demo's calls are of the last seven days); once: skipped when
    drawn."""
    auditor = _person(dealer, Role.AUDITOR)
    if auditor is None:
        return AuditWeek()
    this_week = actions.week_of(timezone.localdate())
    weeks = [this_week - timedelta(days=7), this_week]
    if AuditSample.objects.filter(dealer=dealer, week__in=weeks).exists():
        return AuditWeek(skipped=True)
    week = (
        weeks[0]
        if sources.source(sources.CALL).work(dealer, *actions.week_window(weeks[0]))
        else this_week
    )
    draw = actions.draw_sample(dealer=dealer, week=week, by=auditor, seed=seed)
    if not draw.tasks:
        return AuditWeek()
    rng = random.Random(f"{seed}-audit-{dealer.pk}")
    played = AuditWeek(week=draw.week.isoformat(), drawn=draw.tasks)
    tasks = list(
        AuditTask.objects.filter(sample__in=draw.samples, status=TaskStatus.OPEN).order_by("pk")
    )
    chosen = sorted(rng.sample(tasks, len(tasks) // 2), key=lambda task: task.pk)
    # The exit to overturn: the first one drawn, if the week had any.
    exits = [task for task in chosen if sources.source(task.source).may_overturn]
    to_overturn = exits[0] if exits else None
    # One audit fails for sure: the one its person appeals.
    to_fail = next((task for task in chosen if task != to_overturn), None)
    for task in chosen:
        form = actions.ensure_form(dealer, task.source)
        items = list(form.items.all())
        if task == to_overturn:
            result, scores = AuditResult.OVERTURN, {item.pk: 0 for item in items}
        else:
            # Most lose a few points here and there; some one thing badly.
            weak = task == to_fail or rng.random() < 0.3
            scores = {
                item.pk: (
                    rng.randint(0, item.points // 2)
                    if task == to_fail or (weak and rng.random() < 0.5)
                    else item.points - rng.choice([0, 0, 0, item.points // 5])
                )
                for item in items
            }
            total = actions.total_percent(items, scores)
            result = AuditResult.PASS if total >= actions.PASS_MARK else AuditResult.FAIL
        audit = actions.submit_audit(
            task=task,
            by=auditor,
            form=form,
            scores=scores,
            result=result,
            finding=rng.choice(FINDINGS[AuditResult(result)]),
        )
        played.audited += 1
        played.overturns += result == AuditResult.OVERTURN
        if task == to_fail:
            actions.appeal(audit=audit, by=audit.person, reason=APPEAL_REASON)
            played.appeals += 1
    return played


def _person(dealer: Dealer, role: Role) -> Staff | None:
    membership = (
        Membership.objects.filter(dealer=dealer, role=role, is_active=True)
        .select_related("staff")
        .order_by("staff_id")
        .first()
    )
    return membership.staff if membership else None
