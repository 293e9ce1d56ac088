"""Questionnaires: the default sales-satisfaction template, editing (each edit a new version,
so a visit keeps the questions it started with), and checking a visit's answers against them.

A question is a dict: `key` (unique in its version), `label`, `kind` (QuestionKind),
`options` (choices only), `complaint_if` (the answers that open a complaint: a score or NPS
at most this number, "no" or "yes" for a yes/no, a list of options for a choice; None for
none) and `category` (the complaint's category when it does).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import Dealer, Staff
from dcc.errors import InvalidInput
from owners.models import (
    ComplaintCategory,
    QuestionKind,
    Questionnaire,
    QuestionnairePurpose,
    QuestionnaireVersion,
)

Question = dict[str, Any]

DEFAULT_NAME = gettext_noop("Sales satisfaction")
# The eight factors of sales satisfaction, each scored 1–5 (a 1 or 2 is a complaint).
_FACTORS = [
    ("delivery_process", gettext_noop("Delivery process"), ComplaintCategory.DELIVERY),
    ("salesperson", gettext_noop("Salesperson"), ComplaintCategory.SALESPERSON),
    ("deal_terms", gettext_noop("Deal terms"), ComplaintCategory.PRICE),
    ("delivery_timing", gettext_noop("Delivery timing"), ComplaintCategory.DELIVERY),
    ("advertising", gettext_noop("Advertising"), ComplaintCategory.SALES_PROCESS),
    (
        "insurance_accessories",
        gettext_noop("Insurance and accessories"),
        ComplaintCategory.SALES_PROCESS,
    ),
    ("facilities", gettext_noop("Facilities"), ComplaintCategory.OTHER),
    ("paperwork", gettext_noop("Paperwork"), ComplaintCategory.SALES_PROCESS),
]
# The factors as the KPIs average them: (question key, label in English, translated on show).
FACTORS: list[tuple[str, str]] = [(key, label) for key, label, _category in _FACTORS]
DEFAULT_QUESTIONS: list[Question] = [
    *(
        {
            "key": key,
            "label": label,
            "kind": QuestionKind.SCORE.value,
            "complaint_if": 2,
            "category": category.value,
        }
        for key, label, category in _FACTORS
    ),
    {
        "key": "nps",
        "label": gettext_noop("How likely are you to recommend us to a friend (0–10)?"),
        "kind": QuestionKind.NPS.value,
        "complaint_if": None,
        "category": ComplaintCategory.OTHER.value,
    },
    {
        "key": "referral",
        "label": gettext_noop("May we ask you for a referral?"),
        "kind": QuestionKind.YES_NO.value,
        "complaint_if": None,
        "category": ComplaintCategory.OTHER.value,
    },
    {
        "key": "comment",
        "label": gettext_noop("Anything else you would like to tell us?"),
        "kind": QuestionKind.TEXT.value,
        "required": False,
        "complaint_if": None,
        "category": ComplaintCategory.OTHER.value,
    },
]
RANGES = {QuestionKind.SCORE: (1, 5), QuestionKind.NPS: (0, 10)}
KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def default_questionnaire(dealer: Dealer) -> Questionnaire:
    """The dealer's sales-satisfaction questionnaire, made on first use."""
    found = Questionnaire.objects.filter(dealer=dealer, is_default=True).first()
    if found is not None:
        return found
    with transaction.atomic():
        questionnaire, created = Questionnaire.objects.get_or_create(
            dealer=dealer,
            name=DEFAULT_NAME,
            defaults={"purpose": QuestionnairePurpose.SALES_SATISFACTION, "is_default": True},
        )
        if created:
            QuestionnaireVersion.objects.create(
                dealer=dealer, questionnaire=questionnaire, number=1, questions=DEFAULT_QUESTIONS
            )
    return questionnaire


def current_version(questionnaire: Questionnaire) -> QuestionnaireVersion:
    return questionnaire.versions.order_by("-number").first()


def label(question: Question) -> str:
    """The question in the reader's language (the default's labels are translated)."""
    return _(question["label"]) if question.get("label") else question["key"]


def answered(questions: list[Question], answers: dict[str, Any]) -> list[tuple[str, Any]]:
    """The answers given, as (question in the reader's language, answer), in the form's order."""
    return [(label(q), answers.get(q["key"])) for q in questions if q["key"] in answers]


def is_required(question: Question) -> bool:
    return question.get("required", question["kind"] != QuestionKind.TEXT)


def check_questions(questions: list[Question]) -> list[Question]:
    """Questions as stored, or InvalidInput naming what is wrong."""
    if not questions:
        raise InvalidInput(_("A questionnaire asks at least one question."), field="questions")
    seen: set[str] = set()
    tidy = []
    for position, question in enumerate(questions, start=1):
        key = str(question.get("key", "")).strip()
        if not KEY.match(key) or key in seen:
            raise InvalidInput(
                _("Question %(n)d needs its own short key (lower-case letters, digits, _).")
                % {"n": position},
                field="questions",
            )
        seen.add(key)
        kind = question.get("kind")
        if kind not in QuestionKind.values:
            raise InvalidInput(
                _("Question “%(key)s”: unknown kind.") % {"key": key}, field="questions"
            )
        options = [str(o).strip() for o in question.get("options") or [] if str(o).strip()]
        if kind == QuestionKind.CHOICE and len(options) < 2:
            raise InvalidInput(
                _("Question “%(key)s”: a choice needs at least two options.") % {"key": key},
                field="questions",
            )
        complaint_if = _complaint_rule(key, kind, question.get("complaint_if"), options)
        category = question.get("category") or ComplaintCategory.OTHER
        if category not in ComplaintCategory.values:
            category = ComplaintCategory.OTHER
        tidy.append(
            {
                "key": key,
                "label": str(question.get("label") or key).strip()[:200],
                "kind": kind,
                **({"options": options} if kind == QuestionKind.CHOICE else {}),
                **({"required": bool(question["required"])} if "required" in question else {}),
                "complaint_if": complaint_if,
                "category": str(category),
            }
        )
    return tidy


def _complaint_rule(key: str, kind: str, rule: Any, options: list[str]) -> Any:
    if rule in (None, "", []):
        return None
    wrong = InvalidInput(
        _("Question “%(key)s”: the answers that open a complaint do not fit the question.")
        % {"key": key},
        field="questions",
    )
    if kind in RANGES:
        low, high = RANGES[QuestionKind(kind)]
        try:
            value = int(rule)
        except (TypeError, ValueError):
            raise wrong from None
        if not low <= value <= high:
            raise wrong
        return value
    if kind == QuestionKind.YES_NO:
        if rule not in ("yes", "no"):
            raise wrong
        return rule
    if kind == QuestionKind.CHOICE:
        chosen = [rule] if isinstance(rule, str) else list(rule)
        if not set(chosen) <= set(options):
            raise wrong
        return chosen
    raise wrong  # free text opens no complaint by itself


def edit_questionnaire(
    *,
    questionnaire: Questionnaire,
    by: Staff,
    questions: list[Question],
    name: str | None = None,
) -> QuestionnaireVersion:
    """A new version of the questions (visits already started keep theirs)."""
    tidy = check_questions(questions)
    with transaction.atomic():
        locked = Questionnaire.objects.select_for_update().get(pk=questionnaire.pk)
        if name is not None and name.strip() and name.strip() != locked.name:
            locked.name = name.strip()[:100]
            locked.save(update_fields=["name"])
        last = current_version(locked)
        if last is not None and last.questions == tidy:
            return last
        return QuestionnaireVersion.objects.create(
            dealer_id=locked.dealer_id,
            questionnaire=locked,
            number=(last.number if last else 0) + 1,
            questions=tidy,
            created_by=by,
        )


def create_questionnaire(
    *, dealer: Dealer, by: Staff, name: str, purpose: str, questions: list[Question]
) -> Questionnaire:
    tidy = check_questions(questions)
    name = name.strip()[:100]
    if not name:
        raise InvalidInput(_("Give the questionnaire a name."), field="name")
    if Questionnaire.objects.filter(dealer=dealer, name=name).exists():
        raise InvalidInput(_("There is already a questionnaire of that name."), field="name")
    with transaction.atomic():
        questionnaire = Questionnaire.objects.create(dealer=dealer, name=name, purpose=purpose)
        QuestionnaireVersion.objects.create(
            dealer=dealer, questionnaire=questionnaire, number=1, questions=tidy, created_by=by
        )
    return questionnaire


# ---------------------------------------------------------------- answers


@dataclass(frozen=True)
class Complaint:
    """An answer that opens a complaint: the question's key, its category, the answer."""

    key: str
    category: str
    answer: Any


@dataclass(frozen=True)
class Checked:
    answers: dict[str, Any]
    score: Decimal | None  # the mean of the 1–5 scores
    nps: int | None
    complaints: list[Complaint]


def check_answers(questions: list[Question], raw: dict[str, Any]) -> Checked:
    """The answers as stored, or InvalidInput naming the question (field = its key)."""
    answers: dict[str, Any] = {}
    complaints: list[Complaint] = []
    for question in questions:
        key, kind = question["key"], QuestionKind(question["kind"])
        value = raw.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if is_required(question):
                raise InvalidInput(
                    _("Answer “%(question)s”.") % {"question": label(question)}, field=key
                )
            continue
        answer = _answer(question, kind, value)
        answers[key] = answer
        if _opens_complaint(question, kind, answer):
            complaints.append(Complaint(key, question.get("category", "other"), answer))
    scores = [
        answers[q["key"]]
        for q in questions
        if q["kind"] == QuestionKind.SCORE and q["key"] in answers
    ]
    score = (
        (Decimal(sum(scores)) / len(scores)).quantize(Decimal("0.01"), ROUND_HALF_UP)
        if scores
        else None
    )
    nps = next(
        (
            answers[q["key"]]
            for q in questions
            if q["kind"] == QuestionKind.NPS and q["key"] in answers
        ),
        None,
    )
    return Checked(answers, score, nps, complaints)


def _answer(question: Question, kind: QuestionKind, value: Any) -> Any:
    if kind in RANGES:
        low, high = RANGES[kind]
        try:
            number = int(str(value).strip())
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            raise InvalidInput(
                _("“%(question)s” is answered from %(low)d to %(high)d.")
                % {"question": label(question), "low": low, "high": high},
                field=question["key"],
            )
        return number
    if kind == QuestionKind.YES_NO:
        text = str(value).strip().lower()
        if text in ("yes", "true", "1"):
            return "yes"
        if text in ("no", "false", "0"):
            return "no"
        raise InvalidInput(
            _("“%(question)s” is answered yes or no.") % {"question": label(question)},
            field=question["key"],
        )
    if kind == QuestionKind.CHOICE:
        text = str(value).strip()
        if text not in question.get("options", []):
            raise InvalidInput(
                _("“%(question)s”: choose one of the options.") % {"question": label(question)},
                field=question["key"],
            )
        return text
    return str(value).strip()[:2000]


def _opens_complaint(question: Question, kind: QuestionKind, answer: Any) -> bool:
    rule = question.get("complaint_if")
    if rule is None:
        return False
    if kind in RANGES:
        return answer <= rule
    if kind == QuestionKind.CHOICE:
        return answer in rule
    if kind == QuestionKind.YES_NO:
        return answer == rule
    return False
