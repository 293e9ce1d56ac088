"""intake.mapping: which column holds which field, from a saved mapping, a platform preset, the
known column names in English and Chinese, or a guess; and clear refusals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dcc.errors import InvalidInput
from intake.mapping import (
    ALIASES,
    CANONICAL_COLUMNS,
    IGNORE,
    PRESETS,
    ColumnMapping,
    MappingError,
    column_letter,
    field_label,
    normalise_header,
    preset_choices,
)

FULL_WIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)} | {" ": "\u3000"}


def mapped(headers: list[str], **kwargs: object) -> dict[str, str]:
    """field → header text, for readable assertions."""
    mapping = ColumnMapping.detect(headers, **kwargs)  # type: ignore[arg-type]
    return {name: headers[index] for name, index in mapping.columns.items()}


# --- the alias table ---------------------------------------------------------------------------


def test_every_canonical_column_has_aliases_and_a_label() -> None:
    assert set(ALIASES) == set(CANONICAL_COLUMNS)
    for name in CANONICAL_COLUMNS:
        assert normalise_header(name) in {normalise_header(alias) for alias in ALIASES[name]}
        assert any(ord(ch) > 0x2E80 for alias in ALIASES[name] for ch in alias), name
        assert field_label(name) != name


def test_no_column_name_means_two_fields() -> None:
    owner: dict[str, str] = {}
    for name, aliases in ALIASES.items():
        for alias in aliases:
            key = normalise_header(alias)
            assert owner.setdefault(key, name) == name, f"{alias!r}: {owner[key]} and {name}"


def test_row_numbers_are_never_taken_for_ids() -> None:
    assert "序号" not in ColumnMapping.detect(["序号", "手机号"]).as_saved().values()


# --- detection -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            ["Name", "Mobile", "Created_At", "Car Model", "CITY", "grade", "Owner", "Note"],
            {
                "name": "Name",
                "mobile": "Mobile",
                "created_at": "Created_At",
                "model": "Car Model",
                "city": "CITY",
                "grade": "grade",
                "owner": "Owner",
                "note": "Note",
            },
        ),
        (
            ["客户姓名", "手机号码", "留资时间", "意向车型", "负责人", "线索来源", "备注"],
            {
                "name": "客户姓名",
                "mobile": "手机号码",
                "created_at": "留资时间",
                "model": "意向车型",
                "owner": "负责人",
                "channel": "线索来源",
                "note": "备注",
            },
        ),
        (
            ["姓名", "联系电话", "线索创建时间", "车型", "跟进人", "渠道", "意向等级"],
            {
                "name": "姓名",
                "mobile": "联系电话",
                "created_at": "线索创建时间",
                "model": "车型",
                "owner": "跟进人",
                "channel": "渠道",
                "grade": "意向等级",
            },
        ),
        (  # full-width letters, spaces, required-field markers and bracketed notes
            ["＊客户名称", "手机号（必填）", "Ｍｏｄｅｌ", " 创建 时间 ", "销售顾问【选填】"],
            {
                "name": "＊客户名称",
                "mobile": "手机号（必填）",
                "model": "Ｍｏｄｅｌ",
                "created_at": " 创建 时间 ",
                "owner": "销售顾问【选填】",
            },
        ),
        (
            ["电话", "到店时间", "下单时间", "交车时间", "战败时间", "战败原因", "无效原因"],
            {
                "mobile": "电话",
                "arrived_at": "到店时间",
                "ordered_at": "下单时间",
                "delivered_at": "交车时间",
                "defeated_at": "战败时间",
                "defeat_reason": "战败原因",
                "invalid_reason": "无效原因",
            },
        ),
        (
            ["lead_id", "phone", "首次联系时间", "邀约时间", "所在城市", "来源"],
            {
                "external_id": "lead_id",
                "mobile": "phone",
                "contacted_at": "首次联系时间",
                "appointed_at": "邀约时间",
                "city": "所在城市",
                "channel": "来源",
            },
        ),
    ],
)
def test_columns_are_found_by_their_usual_names(
    headers: list[str], expected: dict[str, str]
) -> None:
    mapping = ColumnMapping.detect(headers)
    assert {name: headers[i] for name, i in mapping.columns.items()} == expected
    assert set(mapping.sources.values()) == {"alias"}


def test_the_more_specific_name_wins_and_the_other_is_pointed_out() -> None:
    mapping = ColumnMapping.detect(["联系电话", "姓名", "手机号"])
    assert mapping.header("mobile") == "手机号"
    assert mapping.where("mobile") == "column C “手机号”"
    (warning,) = mapping.warnings
    assert "column A “联系电话”" in warning and "column C “手机号”" in warning


def test_a_repeated_column_name_is_reported() -> None:
    mapping = ColumnMapping.detect(["手机号", "姓名", "手机号"])
    assert mapping.index("mobile") == 0
    assert any("columns A, C" in warning for warning in mapping.warnings)


def test_a_column_name_ending_like_a_mobile_is_a_guess_to_check() -> None:
    mapping = ColumnMapping.detect(["车主姓名", "车主手机", "电话状态"])
    assert (mapping.header("mobile"), mapping.sources["mobile"]) == ("车主手机", "guess")
    assert (mapping.header("name"), mapping.sources["name"]) == ("车主姓名", "guess")
    assert any("please check" in line for line in mapping.describe())


# --- presets -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("preset", "headers", "expected"),
    [
        (
            "autohome",
            [
                "线索ID",
                "客户姓名",
                "手机号码",
                "所在省份",
                "所在城市",
                "意向车系",
                "意向车型",
                "询价时间",
                "线索来源",
                "线索类型",
                "备注",
            ],
            {
                "external_id": "线索ID",
                "name": "客户姓名",
                "mobile": "手机号码",
                "city": "所在城市",
                "model": "意向车系",
                "created_at": "询价时间",
                "note": "备注",
            },
        ),
        (
            "yiche",
            [
                "线索编号",
                "客户名称",
                "联系电话",
                "省份",
                "城市",
                "意向车型",
                "线索创建时间",
                "下发时间",
                "线索来源",
            ],
            {
                "external_id": "线索编号",
                "name": "客户名称",
                "mobile": "联系电话",
                "city": "城市",
                "model": "意向车型",
                "created_at": "线索创建时间",
            },
        ),
        (
            "dongchedi",
            [
                "线索id",
                "用户姓名",
                "用户手机号",
                "意向车系",
                "意向车型",
                "用户所在省份",
                "用户所在城市",
                "线索下发时间",
                "留资时间",
                "线索来源",
            ],
            {
                "external_id": "线索id",
                "name": "用户姓名",
                "mobile": "用户手机号",
                "model": "意向车系",
                "city": "用户所在城市",
                "created_at": "留资时间",
            },
        ),
    ],
)
def test_platform_presets(preset: str, headers: list[str], expected: dict[str, str]) -> None:
    mapping = ColumnMapping.detect(headers, preset=preset)
    assert {name: headers[i] for name, i in mapping.columns.items()} == expected
    # The platform's own sub-sources are not our channels: the preset's channel is used.
    assert "channel" not in mapping.columns
    assert mapping.channel == preset
    assert "preset" in mapping.describe()[0]


def test_presets_are_listed_with_labels() -> None:
    assert preset_choices() == [
        ("autohome", "Autohome"),
        ("yiche", "Yiche"),
        ("dongchedi", "Dongchedi"),
    ]
    for preset in PRESETS.values():
        for header, name in preset.columns:
            assert name == IGNORE or name in CANONICAL_COLUMNS, header


def test_a_preset_column_missing_from_the_file_falls_back_to_aliases() -> None:
    assert mapped(["姓名", "电话", "车型"], preset="autohome") == {
        "name": "姓名",
        "mobile": "电话",
        "model": "车型",
    }


# --- saved mappings ------------------------------------------------------------------------------


def test_the_saved_mapping_wins_over_preset_and_aliases() -> None:
    headers = ["手机号码", "备用电话", "客户姓名", "所在城市", "意向车型"]
    saved = {"mobile": "备用电话", "city": IGNORE, "note": "意向车型"}
    mapping = ColumnMapping.detect(headers, preset="autohome", saved=saved)
    assert {name: headers[i] for name, i in mapping.columns.items()} == {
        "name": "客户姓名",
        "mobile": "备用电话",
        "note": "意向车型",
    }
    assert mapping.sources == {"name": "preset", "mobile": "saved", "note": "saved"}


def test_a_saved_mapping_round_trips() -> None:
    headers = ["客户", "Tel", "城市", "随便"]
    first = ColumnMapping.detect(headers, saved={"note": "随便"})
    again = ColumnMapping.detect(headers, saved=first.as_saved())
    assert again.columns == first.columns
    assert set(again.sources.values()) == {"saved"}


def test_a_saved_column_this_file_lacks_falls_back_with_a_warning() -> None:
    mapping = ColumnMapping.detect(["手机号", "姓名"], saved={"mobile": "联系手机"})
    assert mapping.header("mobile") == "手机号"
    assert any("联系手机" in warning for warning in mapping.warnings)


# --- refusals ------------------------------------------------------------------------------------


def test_no_mobile_column_names_the_columns_found() -> None:
    with pytest.raises(MappingError) as caught:
        ColumnMapping.detect(["客户姓名", "意向车型", "", "备注"])
    error = caught.value
    assert isinstance(error, InvalidInput)
    assert (error.field, error.code) == ("mobile", "no_mobile_column")
    assert "“客户姓名”, “意向车型”, “备注”" in error.message


def test_no_mobile_column_among_many_is_shortened() -> None:
    with pytest.raises(MappingError) as caught:
        ColumnMapping.detect([f"列{n}" for n in range(100)])
    assert "“列29”, …" in caught.value.message and "列30" not in caught.value.message


@pytest.mark.parametrize(
    ("kwargs", "code", "field"),
    [
        ({"saved": {"mobile": "手机", "name": "手机"}}, "duplicate_mapping", "name"),
        ({"saved": {"mobile": "手机", "phone": "手机"}}, "unknown_column", "phone"),
        ({"preset": "taobao"}, "unknown_preset", "preset"),
    ],
)
def test_contradictory_or_unknown_mappings_are_refused(
    kwargs: dict[str, object], code: str, field: str
) -> None:
    with pytest.raises(MappingError) as caught:
        ColumnMapping.detect(["手机", "姓名"], **kwargs)  # type: ignore[arg-type]
    assert (caught.value.code, caught.value.field) == (code, field)
    assert "%(" not in caught.value.message


# --- showing it ----------------------------------------------------------------------------------


def test_describe_says_what_comes_from_where_and_what_is_left_out() -> None:
    mapping = ColumnMapping.detect(["姓名", "手机号", "所在省份", "", "联系电话"])
    assert mapping.describe() == [
        "Name ← column A “姓名” (known column name)",
        "Mobile ← column B “手机号” (known column name)",
        "Not imported: column C “所在省份”",
        "Not imported: column E “联系电话”",
        "column E “联系电话” also looks like Mobile; column B “手机号” is used, so this column "
        "is not imported.",
    ]


def test_cells_are_read_through_the_mapping() -> None:
    mapping = ColumnMapping.detect(["姓名", "手机号", "备注"])
    assert mapping.cell(["张三", "138"], "mobile") == "138"
    assert mapping.cell(["张三", "138"], "note") == ""  # a short row
    assert mapping.cell(["张三", "138"], "city") == ""  # not in the file
    assert mapping.where("city") == "City"


@pytest.mark.parametrize(
    ("index", "letters"),
    [(0, "A"), (25, "Z"), (26, "AA"), (51, "AZ"), (702, "AAA"), (16383, "XFD")],
)
def test_column_letter(index: int, letters: str) -> None:
    assert column_letter(index) == letters


# --- the header normaliser -----------------------------------------------------------------------


@given(st.text())
def test_normalising_twice_changes_nothing(text: str) -> None:
    once = normalise_header(text)
    assert normalise_header(once) == once


@st.composite
def spelled(draw: st.DrawFn) -> tuple[str, str]:
    """(alias, the alias as some export might spell it)."""
    alias = draw(st.sampled_from([a for aliases in ALIASES.values() for a in aliases]))
    out = []
    for ch in alias:
        ch = ch.upper() if draw(st.booleans()) else ch.lower()
        if draw(st.booleans()) and ch in FULL_WIDTH:
            ch = FULL_WIDTH[ch]
        out.append(ch)
        out.append(draw(st.sampled_from(["", "", "", " ", "_", "\u3000", "-"])))
    text = draw(st.sampled_from(["", " ", "*", "＊"])) + "".join(out)
    return alias, text + draw(st.sampled_from(["", "(必填)", "（选填）", "【必填】", " "]))


@given(spelled())
def test_every_spelling_of_an_alias_is_recognised(case: tuple[str, str]) -> None:
    alias, text = case
    assert normalise_header(text) == normalise_header(alias)
    expected = next(name for name, aliases in ALIASES.items() if alias in aliases)
    if expected == "mobile":
        assert ColumnMapping.detect([text]).columns == {"mobile": 0}
    else:
        assert ColumnMapping.detect([text, "手机号"]).index(expected) == 0


@given(st.lists(st.text(max_size=12), max_size=8))
def test_any_headers_map_or_fail_cleanly(headers: list[str]) -> None:
    try:
        mapping = ColumnMapping.detect(headers)
    except MappingError as error:
        assert error.field == "mobile"
    else:
        assert mapping.index("mobile") is not None
        assert len(set(mapping.columns.values())) == len(mapping.columns)
        assert all(line.strip() for line in mapping.describe())
