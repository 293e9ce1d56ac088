"""Demo data: two dealers of one brand with a full staff and a few hundred leads whose
history was made through the real actions, so every screen and the ledger look real."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts.models import Brand, Dealer, Membership, Region, Staff
from accounts.roles import Role
from leads.assignment import is_pool_lead
from leads.batch import Batch
from leads.models import CallOutcome, Channel, HandoffReason, Lead
from leads.setup.defaults import DEFAULT_CHANNELS, set_up_dealer
from leads.stages import Grade, Stage
from leads.teams import set_up_teams

DEMO_PASSWORD = "dcc-demo-2026"

# username, display name, roles
DEMO_STAFF: list[tuple[str, str, tuple[Role, ...]]] = [
    ("gm", "周建国", (Role.GM,)),
    ("sales_manager", "吴海峰", (Role.SALES_MANAGER,)),
    ("marketing", "郑丽", (Role.MARKETING_MANAGER,)),
    ("platform", "孙悦", (Role.PLATFORM_SPECIALIST,)),
    ("dcc_lead", "李娜", (Role.DCC_SUPERVISOR,)),
    ("agent1", "王小明", (Role.DCC_AGENT,)),
    ("agent2", "刘芳", (Role.DCC_AGENT,)),
    ("agent3", "陈静", (Role.DCC_AGENT,)),
    ("showroom", "赵强", (Role.SHOWROOM_MANAGER,)),
    ("consultant1", "张伟", (Role.CONSULTANT,)),
    ("consultant2", "杨洋", (Role.CONSULTANT,)),
    ("consultant3", "黄磊", (Role.CONSULTANT,)),
    ("owner_ops", "林晓", (Role.OWNER_OPS,)),
    ("auditor", "何敏", (Role.AUDITOR,)),
]
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰文辉建国海峰红梅晨宇浩然欣怡"
    "子涵雨轩思远佳琪"
)
CAR_MODELS = ["星途 S7", "星途 SUV X5", "星途 EV3", "星途 MPV M8"]
FRESH_LEADS = 12
# Of the fresh leads, the first few came in while every agent was busy: the DCC supervisor
# holds them in the pool, for an agent to claim from the queue.
POOL_LEADS = 3
MOBILE_PREFIXES = ["138", "139", "136", "150", "151", "186", "187", "158", "177", "199"]


@dataclass
class DemoResult:
    dealers: list[Dealer]
    leads: int  # loaded by this run (none when the dealers were already full)
    logins: list[tuple[str, str]]
    total: int = 0  # the demo dealers' leads in all
    still_new: int = 0  # of those, waiting for their first call
    in_pool: int = 0  # of those, held for an agent to claim

    def summary(self) -> str:
        """What was loaded, in numbers that match what the screens then show."""
        codes = ", ".join(dealer.code for dealer in self.dealers)
        return (
            f"Demo: {codes}; {self.leads} leads loaded ({self.total} in all), "
            f"{self.still_new} still new (waiting for their first call), "
            f"{self.in_pool} of them in the pool for agents to claim."
        )


def _staff(username: str, name: str) -> Staff:
    staff, created = Staff.objects.get_or_create(username=username, defaults={"display_name": name})
    if created:
        staff.set_password(DEMO_PASSWORD)
        staff.save()
    return staff


def _mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def load_demo(*, leads_per_dealer: int = 300, seed: int = 2026) -> DemoResult:
    """Create (or top up) the demo world; safe to run twice."""
    rng = random.Random(seed)
    with transaction.atomic():
        brand, _ = Brand.objects.get_or_create(code="xingtu", defaults={"name": "星途汽车"})
        east, _ = Region.objects.get_or_create(
            brand=brand, code="east", defaults={"name": "华东区"}
        )
        dealers = [
            Dealer.objects.get_or_create(
                code=code, defaults={"region": east, "name": name, "city": city}
            )[0]
            for code, name, city in [
                ("SH001", "上海浦东星途4S店", "上海"),
                ("SZ001", "苏州园区星途4S店", "苏州"),
            ]
        ]
        logins: list[tuple[str, str]] = []
        for index, dealer in enumerate(dealers):
            set_up_dealer(dealer)
            _name_channels_in_chinese(dealer)
            suffix = "" if index == 0 else f"_{dealer.code.lower()}"
            for username, name, roles in DEMO_STAFF:
                staff = _staff(username + suffix, name if index == 0 else name + "(苏)")
                for role in roles:
                    Membership.objects.get_or_create(staff=staff, dealer=dealer, role=role)
                if index == 0:
                    logins.append((staff.username, ", ".join(str(r.label) for r in roles)))
            set_up_teams(dealer)  # its people in the default groups, now that they are in
        hq = _staff("hq", "总部运营 钱程")
        for dealer in dealers:
            Membership.objects.get_or_create(staff=hq, dealer=dealer, role=Role.HEADQUARTERS)
        logins.append((hq.username, str(Role.HEADQUARTERS.label)))
    total = 0
    for dealer in dealers:
        with transaction.atomic():  # one commit per dealer, not one per action
            total += _demo_history(dealer, rng, leads_per_dealer)
    waiting = Lead.objects.filter(dealer__in=dealers, stage=Stage.NEW)
    return DemoResult(
        dealers=dealers,
        leads=total,
        logins=logins,
        total=Lead.objects.filter(dealer__in=dealers).count(),
        still_new=waiting.count(),
        in_pool=sum(is_pool_lead(lead) for lead in waiting.filter(first_response_at__isnull=True)),
    )


def _name_channels_in_chinese(dealer: Dealer) -> None:
    """The demo dealers are Chinese and name their channels as they say them (汽车之家, 400热线),
    as a real dealer keeps its own names; a channel the dealer renamed keeps its name."""
    with translation.override("zh-hans"):
        for code, default, *_rest in DEFAULT_CHANNELS:
            Channel.objects.filter(dealer=dealer, code=code, name=default).update(
                name=gettext(default)
            )


def _demo_history(dealer: Dealer, rng: random.Random, leads_per_dealer: int) -> int:
    """Top the dealer up to `leads_per_dealer` leads; return how many were made."""
    missing = max(leads_per_dealer - Lead.objects.filter(dealer=dealer).count(), 0)
    # Written the way imports are: the batch executor, the actions' own decisions in bulk.
    batch = Batch(dealer)
    phones = [_mobile(rng) for _ in range(missing)]
    batch.begin(phones=phones, external_ids=(), size=missing)
    for index, phone in enumerate(phones):
        # The first few arrived this morning and wait for their first call.
        fresh = index < FRESH_LEADS
        age = (
            timedelta(minutes=rng.uniform(1, 240))
            if fresh
            else timedelta(days=rng.triangular(0.2, 90, 5))
        )
        pooled = index < POOL_LEADS
        with batch.row():
            _demo_lead(batch, phone, rng, age=age, untouched=fresh, pooled=pooled)
    batch.write()
    return missing


def _people(dealer: Dealer, role: Role) -> list[Staff]:
    return list(
        Staff.objects.filter(memberships__dealer=dealer, memberships__role=role).order_by("pk")
    )


def _demo_lead(
    batch: Batch,
    phone: str,
    rng: random.Random,
    *,
    age: timedelta,
    untouched: bool,
    pooled: bool = False,
) -> None:
    """One lead taken through a plausible history, each step an action, backdated.
    A `pooled` lead is held by the DCC supervisor and waits in the pool."""
    dealer = batch.dealer
    now = timezone.now()
    channels = list(Channel.objects.filter(dealer=dealer).exclude(code="walk_in"))
    platform = _people(dealer, Role.PLATFORM_SPECIALIST)[0]
    supervisor = _people(dealer, Role.DCC_SUPERVISOR)[0]
    showroom = _people(dealer, Role.SHOWROOM_MANAGER)[0]
    consultants = _people(dealer, Role.CONSULTANT)
    at: datetime = now - age
    if not untouched:
        at = min(
            timezone.localtime(at).replace(hour=rng.randrange(8, 21)), now - timedelta(hours=1)
        )
    intake = batch.create_lead(
        dealer=dealer,
        phone=phone,
        channel=rng.choice(channels),
        by=platform,
        name=rng.choice(SURNAMES)
        + rng.choice(["先生", "女士", rng.choice(GIVEN) + rng.choice(GIVEN)]),
        car_model=rng.choice(CAR_MODELS),
        owner=supervisor if pooled else None,
        at=at,
    )
    lead = intake.lead
    if pooled:
        return
    if not intake.created or ((now - at) < timedelta(hours=2) and rng.random() < 0.7):
        return  # still waiting for its first call
    agent = batch.person(lead.owner_id)

    def step(minutes: float) -> datetime | None:
        nonlocal at
        at = at + timedelta(minutes=minutes)
        return at if at < now else None

    if (when := step(rng.expovariate(1 / 25))) is None:
        return
    if rng.random() < 0.12:
        batch.log_call(lead=lead, by=agent, outcome=CallOutcome.NO_ANSWER, at=when)
        if (when := step(60 * 24)) is None:
            return
        batch.invalidate_lead(lead=lead, by=agent, reason="unreachable", at=when)
        return
    grade = rng.choices(list(Grade), weights=[10, 20, 30, 25, 15])[0]
    batch.log_call(
        lead=lead,
        by=agent,
        outcome=CallOutcome.REACHED,
        duration_seconds=rng.randrange(40, 600),
        grade=grade,
        at=when,
        note=rng.choice(["", "对价格敏感", "周末有空", "想看现车", "在比较竞品"]),
    )
    if grade == Grade.N or rng.random() < 0.35:
        if rng.random() < 0.3 and (when := step(60 * 24 * 5)):
            batch.request_defeat(
                lead=lead,
                by=agent,
                reason=rng.choice(["price", "postponed", "bought_competitor"]),
                at=when,
            )
            if rng.random() < 0.8 and (when := step(60 * 6)):
                batch.approve_defeat(lead=lead, by=supervisor, at=when)
        return
    if (when := step(rng.uniform(30, 60 * 24))) is None:
        return
    visit = when + timedelta(days=rng.uniform(1, 5))
    batch.book_appointment(lead=lead, by=agent, appointment_at=visit, at=when)
    consultant = rng.choice(consultants)
    if (when := step(rng.uniform(5, 120))) is None:
        return
    batch.hand_off(lead=lead, by=agent, to=consultant, reason=HandoffReason.APPOINTMENT, at=when)
    if visit > now or rng.random() < 0.35:
        return
    at = visit
    batch.record_arrival(lead=lead, by=consultant, at=visit)
    if (when := step(30)) and rng.random() < 0.7:
        batch.record_test_drive(lead=lead, by=consultant, at=when)
    if (when := step(30)) is None:
        return
    batch.record_quote(
        lead=lead, by=consultant, amount=Decimal(rng.randrange(160, 320) * 1000), at=when
    )
    if rng.random() < 0.55:
        if (when := step(60 * 24 * 3)) and rng.random() < 0.5:
            batch.request_defeat(lead=lead, by=consultant, reason="price", at=when)
            if rng.random() < 0.5 and (when := step(60 * 3)):
                batch.approve_defeat(lead=lead, by=showroom, at=when)
        return
    if (when := step(rng.uniform(60, 60 * 24 * 4))) is None:
        return
    batch.record_order(lead=lead, by=consultant, at=when)
    if (when := step(rng.uniform(60 * 24 * 3, 60 * 24 * 20))) is None:
        return
    batch.record_delivery(lead=lead, by=consultant, at=when)
