"""Which column of an export holds which canonical field (CANONICAL_COLUMNS).

Every platform and every dealer names columns differently: 手机号, 联系电话, Mobile, “客户手机
(必填)”. A dealer's saved mapping wins, then the platform preset, then the known names
(aliases), then a cautious guess for the few fields whose names vary most. The result is
shown to the user before anything is imported, so every choice records where it came from.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from dcc.errors import InvalidInput

# The canonical import format; only `mobile` is required.
CANONICAL_COLUMNS = (
    "external_id",
    "name",
    "mobile",
    "channel",
    "model",
    "city",
    "created_at",
    "grade",
    "owner",
    "contacted_at",
    "appointed_at",
    "arrived_at",
    "ordered_at",
    "delivered_at",
    "defeated_at",
    "defeat_reason",
    "invalid_reason",
    "note",
)

# Known column names per canonical field, most specific first: when two columns of a file
# match the same field, the one matching the earlier name is taken. Compared normalised
# (see normalise_header), so spacing, case, underscores and full-width forms don't matter.
ALIASES: dict[str, tuple[str, ...]] = {
    "external_id": (
        "external_id",
        "lead_id",
        "clue_id",
        "线索ID",
        "线索编号",
        "线索编码",
        "线索号",
        "线索单号",
        "平台线索ID",
        "外部编号",
        "外部ID",
        "询价单号",
        "询价ID",
        "ID",
        "编号",
    ),
    "name": (
        "name",
        "customer_name",
        "customer",
        "full_name",
        "contact_name",
        "contact",
        "姓名",
        "客户姓名",
        "客户名称",
        "客户名",
        "客户",
        "联系人",
        "联系人姓名",
        "用户姓名",
        "用户名称",
        "真实姓名",
        "客户称呼",
        "称呼",
        "用户昵称",
        "昵称",
        "nickname",
    ),
    "mobile": (
        "mobile",
        "mobile_phone",
        "mobile_number",
        "cellphone",
        "cell_phone",
        "phone",
        "phone_number",
        "telephone",
        "tel",
        "contact_number",
        "手机",
        "手机号",
        "手机号码",
        "客户手机",
        "客户手机号",
        "客户手机号码",
        "用户手机号",
        "联系手机",
        "移动电话",
        "电话",
        "电话号码",
        "联系电话",
        "客户电话",
        "联系号码",
        "留资电话",
        "联系方式",
        "号码",
    ),
    "channel": (
        "channel",
        "source",
        "lead_source",
        "source_channel",
        "media",
        "platform",
        "渠道",
        "渠道名称",
        "来源",
        "线索来源",
        "来源渠道",
        "渠道来源",
        "线索渠道",
        "客户来源",
        "获客渠道",
        "信息来源",
        "媒体",
        "媒体来源",
        "来源平台",
        "平台",
    ),
    "model": (
        "model",
        "car_model",
        "vehicle_model",
        "model_of_interest",
        "intended_model",
        "series",
        "car_series",
        "vehicle",
        "意向车型",
        "意向车系",
        "车型",
        "车系",
        "咨询车型",
        "关注车型",
        "询价车型",
        "感兴趣车型",
        "意向车款",
        "车款",
    ),
    "city": (
        "city",
        "所在城市",
        "城市",
        "客户城市",
        "客户所在城市",
        "用户城市",
        "用户所在城市",
        "所在地",
        "所在地区",
        "地区",
        "区域",
        "号码归属地",
        "手机归属地",
        "归属地",
    ),
    "created_at": (
        "created_at",
        "created",
        "create_time",
        "created_time",
        "creation_time",
        "lead_time",
        "submit_time",
        "submitted_at",
        "创建时间",
        "线索创建时间",
        "留资时间",
        "提交时间",
        "询价时间",
        "报名时间",
        "登记时间",
        "录入时间",
        "线索时间",
        "获取时间",
        "来电时间",
        "创建日期",
        "date",
        "日期",
        "时间",
    ),
    "grade": (
        "grade",
        "intent_grade",
        "intent_level",
        "level",
        "意向等级",
        "客户等级",
        "线索等级",
        "意向级别",
        "客户级别",
        "等级",
        "级别",
        "评级",
    ),
    "owner": (
        "owner",
        "assignee",
        "consultant",
        "salesperson",
        "sales",
        "agent",
        "负责人",
        "跟进人",
        "销售顾问",
        "跟进顾问",
        "所属顾问",
        "顾问",
        "邀约专员",
        "DCC专员",
        "跟进销售",
        "所属销售",
        "销售",
        "归属人",
    ),
    "contacted_at": (
        "contacted_at",
        "first_contact",
        "first_contact_time",
        "first_call_time",
        "首次联系时间",
        "首次跟进时间",
        "首次外呼时间",
        "首呼时间",
        "首次响应时间",
        "联系时间",
    ),
    "appointed_at": (
        "appointed_at",
        "appointment_time",
        "appointment",
        "邀约时间",
        "预约时间",
        "预约到店时间",
        "邀约到店时间",
        "预约日期",
    ),
    "arrived_at": (
        "arrived_at",
        "arrival_time",
        "visit_time",
        "到店时间",
        "到店日期",
        "实际到店时间",
        "首次到店时间",
        "进店时间",
    ),
    "ordered_at": (
        "ordered_at",
        "order_time",
        "order_date",
        "下单时间",
        "订车时间",
        "订单时间",
        "订单日期",
        "成交时间",
        "签约时间",
    ),
    "delivered_at": (
        "delivered_at",
        "delivery_time",
        "delivery_date",
        "交车时间",
        "交车日期",
        "交付时间",
        "提车时间",
    ),
    "defeated_at": (
        "defeated_at",
        "defeat_time",
        "lost_at",
        "战败时间",
        "战败日期",
        "流失时间",
    ),
    "defeat_reason": (
        "defeat_reason",
        "lost_reason",
        "战败原因",
        "流失原因",
    ),
    "invalid_reason": (
        "invalid_reason",
        "无效原因",
        "无效理由",
        "作废原因",
    ),
    "note": (
        "note",
        "notes",
        "remark",
        "remarks",
        "comment",
        "comments",
        "memo",
        "备注",
        "备注信息",
        "客户备注",
        "说明",
        "留言",
        "客户留言",
    ),
}

# When no name matches exactly: a column whose name ends like this is probably the field
# ("车主手机", "购车人电话"); shown to the user as a guess. Only fields whose names vary this much.
_GUESS_SUFFIXES: dict[str, tuple[str, ...]] = {
    "mobile": ("手机", "手机号", "手机号码", "电话", "电话号码", "mobile", "phone", "tel"),
    "name": ("姓名",),
    "model": ("车型", "车系"),
    "city": ("城市",),
}

IGNORE = ""  # a preset's or saved mapping's "this column is not imported"


@dataclass(frozen=True)
class Preset:
    """A platform's export: its column names in order of preference, and its channel code
    (the import's channel when the file has no channel column)."""

    name: str
    channel: str
    columns: tuple[tuple[str, str], ...]  # (header, canonical field or IGNORE)

    @property
    def label(self) -> str:
        return {"autohome": _("Autohome"), "yiche": _("Yiche"), "dongchedi": _("Dongchedi")}.get(
            self.name, self.name
        )


# Modelled on the dealer-console lead exports of each platform. Their own sub-source columns
# ("线索来源": 车系页询底价, 降价通知 …) are not our channels, so they are ignored rather than
# left for the aliases to take.
PRESETS: dict[str, Preset] = {
    "autohome": Preset(
        name="autohome",
        channel="autohome",
        columns=(
            ("线索ID", "external_id"),
            ("询价单号", "external_id"),
            ("客户姓名", "name"),
            ("手机号码", "mobile"),
            ("手机号", "mobile"),
            ("意向车系", "model"),
            ("意向车型", "model"),
            ("所在城市", "city"),
            ("询价时间", "created_at"),
            ("提交时间", "created_at"),
            ("线索来源", IGNORE),
            ("线索类型", IGNORE),
            ("所在省份", IGNORE),
            ("备注", "note"),
        ),
    ),
    "yiche": Preset(
        name="yiche",
        channel="yiche",
        columns=(
            ("线索编号", "external_id"),
            ("客户名称", "name"),
            ("客户姓名", "name"),
            ("联系电话", "mobile"),
            ("手机号", "mobile"),
            ("意向车型", "model"),
            ("城市", "city"),
            ("所在城市", "city"),
            ("线索创建时间", "created_at"),
            ("创建时间", "created_at"),
            ("下发时间", IGNORE),
            ("线索来源", IGNORE),
            ("线索类型", IGNORE),
            ("省份", IGNORE),
            ("备注", "note"),
        ),
    ),
    "dongchedi": Preset(
        name="dongchedi",
        channel="dongchedi",
        columns=(
            ("线索id", "external_id"),
            ("用户姓名", "name"),
            ("用户手机号", "mobile"),
            ("手机号", "mobile"),
            ("意向车系", "model"),
            ("意向车型", "model"),
            ("用户所在城市", "city"),
            ("所在城市", "city"),
            ("留资时间", "created_at"),
            ("线索创建时间", "created_at"),
            ("线索下发时间", IGNORE),
            ("线索来源", IGNORE),
            ("线索类型", IGNORE),
            ("用户所在省份", IGNORE),
            ("备注", "note"),
        ),
    ),
}

_SEPARATORS = re.compile(r"[\s_\-.·/\\:*#'\"]+")
_BRACKETED = re.compile(r"[(\[【〔<][^)\]】〕>]*[)\]】〕>]")


class MappingError(InvalidInput):
    """The columns can't be mapped. `code`: no_mobile_column, duplicate_mapping,
    unknown_column, unknown_preset; `field` is the canonical column (or "preset")."""

    code = "invalid_mapping"


def normalise_header(text: str) -> str:
    """A column name reduced to what identifies it: full-width forms folded, case ignored,
    spaces, underscores and punctuation removed, and a bracketed note such as “(必填)” or
    “【选填】” dropped when something is left without it."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    folded = "".join(ch for ch in folded if unicodedata.category(ch) != "Cf")
    unbracketed = _BRACKETED.sub("", folded)
    if _SEPARATORS.sub("", unbracketed):
        folded = unbracketed
    # Again: dropping a space can leave a letter next to its combining accent.
    return unicodedata.normalize("NFKC", _SEPARATORS.sub("", folded))


_ALIAS_KEYS = {
    name: frozenset(normalise_header(alias) for alias in aliases)
    for name, aliases in ALIASES.items()
}


def field_label(name: str) -> str:
    """The user's name for a canonical column."""
    labels = {
        "external_id": _("External ID"),
        "name": _("Name"),
        "mobile": _("Mobile"),
        "channel": _("Channel"),
        "model": _("Model of interest"),
        "city": _("City"),
        "created_at": _("Created at"),
        "grade": _("Grade"),
        "owner": _("Owner"),
        "contacted_at": _("Contacted at"),
        "appointed_at": _("Appointment made at"),
        "arrived_at": _("Arrived at"),
        "ordered_at": _("Ordered at"),
        "delivered_at": _("Delivered at"),
        "defeated_at": _("Defeated at"),
        "defeat_reason": _("Defeat reason"),
        "invalid_reason": _("Invalid reason"),
        "note": _("Note"),
    }
    return labels.get(name, name)


def column_letter(index: int) -> str:
    """0 → "A", 26 → "AA": how Excel and WPS name a column."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def preset_choices() -> list[tuple[str, str]]:
    """(name, label) of every preset, for a select box."""
    return [(name, preset.label) for name, preset in PRESETS.items()]


@dataclass(frozen=True)
class ColumnMapping:
    """Canonical column → index of the file's column that holds it (fields not in `columns`
    are not in the file), with how each was found and what the user should check."""

    headers: tuple[str, ...]
    columns: Mapping[str, int]
    sources: Mapping[str, str] = field(default_factory=dict)  # saved/preset/alias/guess
    preset: str | None = None
    warnings: tuple[str, ...] = ()

    @classmethod
    def detect(
        cls,
        headers: Sequence[str],
        preset: str | None = None,
        saved: Mapping[str, str] | None = None,
    ) -> ColumnMapping:
        """Map `headers`: the saved mapping (canonical → header text; "" = don't import) wins,
        then the preset's names, then the aliases, then a guess by name ending.

        A saved column missing from this file falls back to detection with a warning. Raises
        MappingError when no column holds the mobile number, or when the saved mapping uses
        one column for two fields.
        """
        preset = preset or None  # a form's "no preset"
        if preset is not None and preset not in PRESETS:
            raise MappingError(
                _("There is no preset called “%(preset)s”; choose one of: %(choices)s.")
                % {"preset": preset, "choices": ", ".join(PRESETS)},
                code="unknown_preset",
                field="preset",
            )
        builder = _Builder(tuple(headers))
        if saved:
            builder.apply_saved(saved)
        if preset is not None:
            builder.apply_preset(PRESETS[preset])
        builder.apply_aliases()
        builder.apply_guesses()
        if "mobile" not in builder.columns:
            raise MappingError(
                _no_mobile_message(builder.headers), code="no_mobile_column", field="mobile"
            )
        builder.note_leftovers()
        ordered = {
            name: builder.columns[name] for name in CANONICAL_COLUMNS if name in builder.columns
        }
        return cls(
            headers=builder.headers,
            columns=ordered,
            sources={name: builder.sources[name] for name in ordered},
            preset=preset,
            warnings=tuple(builder.warnings),
        )

    def index(self, name: str) -> int | None:
        return self.columns.get(name)

    def cell(self, cells: Sequence[str], name: str) -> str:
        """The row's cell for canonical column `name`; "" when unmapped or the row is short."""
        index = self.columns.get(name)
        if index is None or index >= len(cells):
            return ""
        return cells[index]

    def header(self, name: str) -> str:
        index = self.columns.get(name)
        return "" if index is None else self.headers[index]

    def where(self, name: str) -> str:
        """Where a field is in the file, for messages: column C “手机号”."""
        index = self.columns.get(name)
        if index is None:
            return field_label(name)
        return _where(index, self.headers[index])

    @property
    def channel(self) -> str:
        """The preset's channel code ("" without a preset): the channel of rows that have none."""
        return PRESETS[self.preset].channel if self.preset else ""

    def as_saved(self) -> dict[str, str]:
        """The mapping as a dealer saves it (canonical → header text), for the next import."""
        return {name: self.headers[index] for name, index in self.columns.items()}

    def describe(self) -> list[str]:
        """Lines that show the user what will be imported from where, what won't, and what
        to check, in that order."""
        lines = []
        for name, index in self.columns.items():
            lines.append(
                _("%(field)s ← %(where)s (%(source)s)")
                % {
                    "field": field_label(name),
                    "where": _where(index, self.headers[index]),
                    "source": self._source_text(self.sources.get(name, "")),
                }
            )
        used = set(self.columns.values())
        for index, header in enumerate(self.headers):
            if index not in used and header:
                lines.append(_("Not imported: %(where)s") % {"where": _where(index, header)})
        lines.extend(self.warnings)
        return lines

    def _source_text(self, source: str) -> str:
        if source == "saved":
            return _("your saved mapping")
        if source == "preset" and self.preset:
            return _("the %(preset)s preset") % {"preset": PRESETS[self.preset].label}
        if source == "guess":
            return _("guessed from the column name; please check")
        return _("known column name")


class _Builder:
    """The mutable state of one detect() call: which field has which column so far."""

    def __init__(self, headers: tuple[str, ...]) -> None:
        self.headers = headers
        self.keys = [normalise_header(header) for header in headers]
        self.columns: dict[str, int] = {}
        self.sources: dict[str, str] = {}
        self.claimed: set[int] = set()  # taken by a field, or ignored on purpose
        self.settled: set[str] = set()  # fields decided, mapped or deliberately not
        self.warnings: list[str] = []

    def apply_saved(self, saved: Mapping[str, str]) -> None:
        first_use: dict[str, str] = {}  # normalised header → the field that uses it
        for name, header in saved.items():
            if name not in CANONICAL_COLUMNS:
                raise MappingError(
                    _("The saved mapping names “%(column)s”, which is not a column we import.")
                    % {"column": name},
                    code="unknown_column",
                    field=name,
                )
            key = normalise_header(header)
            if header != IGNORE and key in first_use:
                raise MappingError(
                    _(
                        "The mapping uses the column “%(header)s” for both %(first)s and "
                        "%(second)s; a column can fill only one field."
                    )
                    % {
                        "header": header,
                        "first": field_label(first_use[key]),
                        "second": field_label(name),
                    },
                    code="duplicate_mapping",
                    field=name,
                )
            first_use[key] = name
        for name, header in saved.items():
            if header == IGNORE:
                self.settled.add(name)
                continue
            index = self._find(normalise_header(header), name)
            if index is None:
                self.warnings.append(
                    _(
                        "Your saved mapping takes %(field)s from the column “%(header)s”, which "
                        "this file does not have; the column was looked for by name instead."
                    )
                    % {"field": field_label(name), "header": header}
                )
                continue
            self._take(name, index, "saved")

    def apply_preset(self, preset: Preset) -> None:
        for header, name in preset.columns:
            key = normalise_header(header)
            for index, found in enumerate(self.keys):
                if found != key or index in self.claimed:
                    continue
                if name == IGNORE:
                    self.claimed.add(index)
                elif name not in self.settled:
                    self._take(name, index, "preset")
                break

    def apply_aliases(self) -> None:
        for name in CANONICAL_COLUMNS:
            if name in self.settled:
                continue
            for alias in ALIASES[name]:
                index = self._find(normalise_header(alias), name)
                if index is not None:
                    self._take(name, index, "alias")
                    break

    def apply_guesses(self) -> None:
        for name, suffixes in _GUESS_SUFFIXES.items():
            if name in self.settled:
                continue
            for index, key in enumerate(self.keys):
                if index not in self.claimed and key.endswith(suffixes):
                    self._take(name, index, "guess")
                    break

    def note_leftovers(self) -> None:
        """Warn about unused columns that also look like a mapped field, so the user can
        see the choice that was made (say “手机号” over “联系电话”)."""
        for index, key in enumerate(self.keys):
            if index in self.claimed or not key:
                continue
            for name, keys in _ALIAS_KEYS.items():
                if name in self.columns and key in keys:
                    self.warnings.append(
                        _(
                            "%(where)s also looks like %(field)s; %(chosen)s is used, so this "
                            "column is not imported."
                        )
                        % {
                            "where": _where(index, self.headers[index]),
                            "field": field_label(name),
                            "chosen": _where(self.columns[name], self.headers[self.columns[name]]),
                        }
                    )
                    break

    def _find(self, key: str, name: str) -> int | None:
        """The first unclaimed column called `key`; warns when there are more of them."""
        matches = [i for i, found in enumerate(self.keys) if found == key and key]
        free = [i for i in matches if i not in self.claimed]
        if not free:
            return None
        if len(matches) > 1:
            self.warnings.append(
                _(
                    "The file has more than one column called “%(header)s” (columns "
                    "%(columns)s); %(field)s is taken from column %(chosen)s."
                )
                % {
                    "header": self.headers[free[0]],
                    "columns": ", ".join(column_letter(i) for i in matches),
                    "field": field_label(name),
                    "chosen": column_letter(free[0]),
                }
            )
        return free[0]

    def _take(self, name: str, index: int, source: str) -> None:
        self.columns[name] = index
        self.sources[name] = source
        self.claimed.add(index)
        self.settled.add(name)


def _where(index: int, header: str) -> str:
    if not header:
        return _("column %(column)s (no name)") % {"column": column_letter(index)}
    return _("column %(column)s “%(header)s”") % {"column": column_letter(index), "header": header}


def _no_mobile_message(headers: tuple[str, ...]) -> str:
    shown = [f"“{header}”" for header in headers if header][:30]
    if len([header for header in headers if header]) > 30:
        shown.append("…")
    if not shown:
        return _(
            "No column holds the mobile number: the file's columns have no names. Name the "
            "column with the customer's mobile “mobile” or “手机号”, or choose it in the mapping."
        )
    return _(
        "No column holds the mobile number. The file's columns are: %(headers)s. Name the "
        "column with the customer's mobile “mobile” or “手机号”, or choose it in the mapping."
    ) % {"headers": ", ".join(shown)}
