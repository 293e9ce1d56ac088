"""intake.rows.parse_row and friends: one row of strings becomes a clean LeadRow, a RowError
that says what is wrong where, or nothing (a blank row)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import xlsxwriter
from hypothesis import assume, given
from hypothesis import strategies as st

from dcc.errors import InvalidInput
from dcc.phone import PhoneError, PhoneKind, normalise_phone
from intake.files import open_table
from intake.mapping import ColumnMapping
from intake.rows import (
    CANONICAL_COLUMNS,
    FORMULA_STARTS,
    LeadRow,
    RowError,
    describe_error,
    parse_datetime,
    parse_row,
    safe_cell,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAPPING = ColumnMapping.detect(list(CANONICAL_COLUMNS))


def row(**cells: str) -> list[str]:
    """A row in the canonical layout, with `cells` filled in and a valid mobile by default."""
    values = {"mobile": "13812345678"} | cells
    return [values.get(name, "") for name in CANONICAL_COLUMNS]


def parse(cells: list[str], number: int = 7) -> LeadRow | RowError | None:
    return parse_row(cells, MAPPING, row_number=number, tz=SHANGHAI)


def ok(cells: list[str]) -> LeadRow:
    result = parse(cells)
    assert isinstance(result, LeadRow), result
    return result


def refused(cells: list[str], field: str) -> RowError:
    result = parse(cells)
    assert isinstance(result, RowError), result
    assert (result.row_number, result.field) == (7, field)
    assert result.raw == tuple(cells)
    assert result.message and "%(" not in result.message
    return result


# --- a whole row ---------------------------------------------------------------------------------


def test_a_full_row_is_cleaned_and_typed() -> None:
    lead = ok(
        row(
            external_id=" A-001 ",
            name=" 张三 ",
            mobile="+86 138 1234 5678",
            channel="autohome",
            model="宋PLUS\nDM-i",
            city="深圳",
            created_at="2026/1/5 9:30",
            grade=" a ",
            owner="zhang.wei",
            contacted_at="2026-01-05 09:45",
            defeated_at="",
            defeat_reason="price",
            invalid_reason="",
            note=" 第一行\n第二行 ",
        )
    )
    assert lead == LeadRow(
        row_number=7,
        phone=normalise_phone("13812345678"),
        external_id="A-001",
        name="张三",
        channel="autohome",
        car_model="宋PLUS DM-i",
        city="深圳",
        grade="A",
        owner="zhang.wei",
        created_at=datetime(2026, 1, 5, 9, 30, tzinfo=SHANGHAI),
        contacted_at=datetime(2026, 1, 5, 9, 45, tzinfo=SHANGHAI),
        defeat_reason="price",
        note="第一行\n第二行",
    )


@pytest.mark.parametrize(
    "cells", [[], [""], ["", "  ", "\t"], row(mobile="  ") and ["\u3000"] * 18]
)
def test_an_empty_row_is_skipped_not_an_error(cells: list[str]) -> None:
    assert parse(cells) is None


def test_columns_missing_from_the_file_or_the_row_are_empty() -> None:
    mapping = ColumnMapping.detect(["姓名", "手机号", "备注"])
    lead = parse_row(["张三", "13812345678"], mapping, row_number=2, tz=SHANGHAI)
    assert isinstance(lead, LeadRow)
    assert (lead.name, lead.note, lead.created_at, lead.grade) == ("张三", "", None, "")


# --- phones --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mobile",
    [
        "13812345678",
        "+86 138 1234 5678",
        "+86-138-1234-5678",
        "0086 13812345678",
        "8613812345678",
        "(+86) 138 1234 5678",
        "１３８１２３４５６７８",
        "＋８６　１３８１２３４５６７８",
        " 138\u200b1234 5678 ",
        "'+8613812345678",  # as safe_cell wrote it into a rejected-rows file
    ],
)
def test_mobiles_as_people_write_them_are_accepted(mobile: str) -> None:
    phone = ok(row(mobile=mobile)).phone
    assert (phone.number, phone.kind) == ("13812345678", PhoneKind.MOBILE)


@pytest.mark.parametrize(
    ("mobile", "code"),
    [
        ("", "phone_empty"),
        ("1381234", "phone_length"),
        ("138123456789", "phone_length"),
        ("138abc45678", "phone_letters"),
        ("138-1234-567x", "phone_letters"),
        ("138#12345678", "phone_characters"),
        ("4008123123", "phone_service_number"),
        ("+1 415 555 0100", "phone_not_chinese"),
    ],
)
def test_bad_mobiles_are_refused_with_row_and_field(mobile: str, code: str) -> None:
    error = refused(row(mobile=mobile, name="张三"), "mobile")
    with pytest.raises(PhoneError) as caught:
        normalise_phone(mobile)
    assert caught.value.code == code
    assert error.message == caught.value.message


def test_a_row_error_reads_as_row_column_and_problem() -> None:
    mapping = ColumnMapping.detect(["客户姓名", "手机号"])
    error = parse_row(["张三", "1381234"], mapping, row_number=12, tz=SHANGHAI)
    assert isinstance(error, RowError)
    assert describe_error(error, mapping) == (
        "Row 12, column B “手机号”: A mobile number has 11 digits, but 7 digits were given."
    )
    whole_row = RowError(row_number=3, field="", message="Duplicate.", raw=())
    assert describe_error(whole_row, mapping) == "Row 3: Duplicate."


# --- dates ---------------------------------------------------------------------------------------

AT_1300 = datetime(2026, 1, 5, 13, 0, tzinfo=SHANGHAI)
MIDNIGHT = datetime(2026, 1, 5, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026/1/5", MIDNIGHT),
        ("2026-01-05", MIDNIGHT),
        ("2026-01-05 13:00", AT_1300),
        ("2026-01-05 13:00:00", AT_1300),
        ("2026/01/05 13:00:00.000", AT_1300),
        ("2026年1月5日", MIDNIGHT),
        ("2026年1月5日 13:00", AT_1300),
        ("2026年1月5日13:00", AT_1300),
        ("2026年01月05日 13时00分", AT_1300),
        ("２０２６年１月５日　１３：００", AT_1300),
        ("2026.1.5", MIDNIGHT),
        ("2026.1.5 13:00", AT_1300),
        ("2026-01-05T13:00", AT_1300),
        ("2026-01-05T13:00:00", AT_1300),  # as an XLSX date cell arrives
        ("2026-01-05T05:00:00Z", AT_1300),
        ("2026-01-05T13:00:00+08:00", AT_1300),
        ("2026-01-05 00:00:00-05:00", datetime(2026, 1, 5, 13, tzinfo=SHANGHAI)),
        ("2026/1/5 下午1:00:00", AT_1300),
        ("2026/1/5 上午12:30", datetime(2026, 1, 5, 0, 30, tzinfo=SHANGHAI)),
        ("2026-01-05 1:00 PM", AT_1300),
        ("46027", MIDNIGHT),  # Excel serial numbers, 1900 date system
        ("46027.5", datetime(2026, 1, 5, 12, tzinfo=SHANGHAI)),
        ("46027.541666666664", AT_1300),
        ("20260105", MIDNIGHT),
        ("202601051300", AT_1300),
        ("20260105130000", AT_1300),
        ("1767589200", AT_1300),  # Unix seconds
        ("1767589200000", AT_1300),  # and milliseconds
        ("", None),
        ("  ", None),
    ],
)
def test_dates_in_every_format_exports_use(text: str, expected: datetime | None) -> None:
    parsed = parse_datetime(text, tz=SHANGHAI)
    assert parsed == expected
    if parsed is not None:
        assert parsed.tzinfo is not None


def test_naive_times_are_in_the_dealers_zone() -> None:
    urumqi = ZoneInfo("Asia/Urumqi")
    assert parse_datetime("2026-01-05 13:00", tz=urumqi) == datetime(2026, 1, 5, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("yesterday", "is not a date we can read"),
        ("1/5/2026", "is not a date we can read"),  # day and month can't be told apart
        ("26-01-05", "is not a date we can read"),
        ("13:00", "is not a date we can read"),
        ("5", "is not a date we can read"),  # a shifted column, not serial 5 = 1900-01-05
        ("-46027", "is not a date we can read"),
        ("2026-02-30", "is not a real date or time"),
        ("2026-13-01", "is not a real date or time"),
        ("2026-01-05 25:00", "is not a real date or time"),
        ("2026/1/5 下午13:00", "is not a real date or time"),
        ("2026-01-05 13:00 下午", "is not a date we can read"),
        ("=DATE(2026,1,5)", "is not a date we can read"),
    ],
)
def test_bad_dates_are_refused_saying_what_was_written(text: str, problem: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_datetime(text, tz=SHANGHAI)
    assert caught.value.code == "invalid_date"
    assert caught.value.message.startswith(f"“{text}” {problem}")


@pytest.mark.parametrize("name", [n for n in CANONICAL_COLUMNS if n.endswith("_at")])
def test_a_bad_date_in_any_lifecycle_column_is_a_row_error_there(name: str) -> None:
    error = refused(row(**{name: "2026-02-30"}), name)
    assert "2026-02-30" in error.message


def test_a_huge_bad_date_is_shortened_in_the_message() -> None:
    error = refused(row(created_at="x" * 10_000), "created_at")
    assert len(error.message) < 200


moments = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2099, 12, 31, 23, 59, 59)
).map(lambda moment: moment.replace(microsecond=0))

FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y.%m.%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日%H时%M分%S秒",
    "%Y%m%d%H%M%S",
]


@given(moments, st.sampled_from(FORMATS), st.booleans())
def test_formatted_datetimes_read_back(moment: datetime, fmt: str, unpadded: bool) -> None:
    text = moment.strftime(fmt)
    if unpadded and "%Y%m" not in fmt:  # 2026/1/5 9:05:00 as Excel writes it
        text = text.replace("-0", "-").replace("/0", "/").replace(" 0", " ").replace("年0", "年")
    assert parse_datetime(text, tz=SHANGHAI) == moment.replace(tzinfo=SHANGHAI)


@given(moments)
def test_excel_serial_numbers_read_back(moment: datetime) -> None:
    serial = (moment - datetime(1899, 12, 30)) / timedelta(days=1)
    assert parse_datetime(repr(serial), tz=SHANGHAI) == moment.replace(tzinfo=SHANGHAI)


@given(moments)
def test_dates_alone_are_midnight(moment: datetime) -> None:
    day = moment.replace(hour=0, minute=0, second=0)
    assert parse_datetime(f"{day.year}/{day.month}/{day.day}", tz=SHANGHAI) == day.replace(
        tzinfo=SHANGHAI
    )


@given(st.text(max_size=40))
def test_any_text_is_a_date_or_a_clear_refusal(text: str) -> None:
    try:
        parsed = parse_datetime(text, tz=SHANGHAI)
    except InvalidInput as error:
        assert error.code == "invalid_date"
    else:
        assert parsed is None or parsed.tzinfo is not None


# --- grades and text limits ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grade", "expected"),
    [("h", "H"), (" A ", "A"), ("Ｂ", "B"), ("C级", "C"), ("n", "N"), ("", "")],
)
def test_grades_are_upper_cased(grade: str, expected: str) -> None:
    assert ok(row(grade=grade)).grade == expected


@pytest.mark.parametrize("grade", ["X", "AA", "1", "高"])
def test_unknown_grades_are_refused(grade: str) -> None:
    error = refused(row(grade=grade), "grade")
    assert "H, A, B, C or N" in error.message


@pytest.mark.parametrize(
    ("name", "attribute", "limit"),
    [
        ("name", "name", 100),
        ("external_id", "external_id", 100),
        ("model", "car_model", 100),
        ("city", "city", 64),
        ("channel", "channel", 100),
        ("owner", "owner", 150),
        ("defeat_reason", "defeat_reason", 100),
        ("invalid_reason", "invalid_reason", 100),
        ("note", "note", 2000),
    ],
)
def test_text_fits_its_model_field(name: str, attribute: str, limit: int) -> None:
    assert getattr(ok(row(**{name: "字" * limit})), attribute) == "字" * limit
    error = refused(row(**{name: "字" * (limit + 1)}), name)
    assert f"{limit + 1} characters" in error.message and f"at most {limit}" in error.message


def test_a_ten_thousand_character_name_is_refused() -> None:
    error = refused(row(name="张" * 10_000), "name")
    assert error.message == "Name is too long: 10000 characters, at most 100 are allowed."


def test_emoji_names_are_fine() -> None:
    assert ok(row(name="小王😀🚗")).name == "小王😀🚗"
    assert ok(row(name="👨‍👩‍👧" * 14)).name == "👨‍👩‍👧" * 14


def test_nul_characters_are_dropped() -> None:
    assert ok(row(name="张\x00三")).name == "张三"


# --- formulas ------------------------------------------------------------------------------------

FORMULAS = ["=cmd|' /C calc'!A0", "=1+1", "+SUM(A1:A2)", "-2+3", "@SUM(A1)", '=HYPERLINK("x")']


@pytest.mark.parametrize("formula", FORMULAS)
def test_formula_text_is_kept_as_text(formula: str) -> None:
    lead = ok(row(name=formula, note=formula, model=formula))
    assert (lead.name, lead.note, lead.car_model) == (formula, formula, formula)


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("+8613812345678", "'+8613812345678"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("张三", "张三"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_safe_cell_neutralises_formulas(text: str, safe: str) -> None:
    assert safe_cell(text) == safe


@given(st.text())
def test_safe_cells_never_start_a_formula(text: str) -> None:
    safe = safe_cell(text)
    assert not safe.startswith(FORMULA_STARTS)
    assert safe_cell(safe) == safe


printable = st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Zs", "Zl", "Zp"))


@given(st.text(printable, min_size=1, max_size=300))
def test_a_safe_cell_imports_as_the_original(text: str) -> None:
    """A corrected rejected-rows file imports as the original rows would have (except text
    that itself starts with ' and a formula character, which is read as safe_cell's)."""
    assume(not (text.startswith("'") and text[1:].startswith(FORMULA_STARTS)))
    lead = ok(row(note=safe_cell(text), name=safe_cell(text[:100])))
    assert (lead.note, lead.name) == (text, text[:100])


# --- from files ----------------------------------------------------------------------------------


def test_a_gbk_export_with_chinese_headers_parses(tmp_path: Path) -> None:
    text = (
        "客户姓名,手机号,意向车型,留资时间,意向等级,备注\n"
        "张三,138 1234 5678,宋PLUS,2026年1月5日 13:00,h,=cmd|' /C calc'!A0\n"
        "李四,1381234,汉EV,2026/1/6,A,\n"
        ",,,,,\n"
        "王五,13912345678,秦,2026-02-30,B,\n"
    )
    path = tmp_path / "autohome.csv"
    path.write_bytes(text.encode("gbk"))
    with open_table(path) as table:
        mapping = ColumnMapping.detect(table.headers)
        results = [parse_row(c, mapping, row_number=n, tz=SHANGHAI) for n, c in table.rows()]
    first, second, third = results
    assert isinstance(first, LeadRow)
    assert (first.name, first.phone.number, first.car_model, first.grade, first.note) == (
        "张三",
        "13812345678",
        "宋PLUS",
        "H",
        "=cmd|' /C calc'!A0",
    )
    assert first.created_at == AT_1300
    assert isinstance(second, RowError) and (second.row_number, second.field) == (3, "mobile")
    assert isinstance(third, RowError) and (third.row_number, third.field) == (5, "created_at")
    assert describe_error(third, mapping).startswith("Row 5, column D “留资时间”: “2026-02-30”")


def test_an_xlsx_with_a_numeric_mobile_and_a_date_cell_parses(tmp_path: Path) -> None:
    path = tmp_path / "export.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet()
    moment = workbook.add_format({"num_format": "yyyy/m/d h:mm"})
    sheet.write_row(0, 0, ["姓名", "手机号码", "创建时间", "到店日期"])
    sheet.write_string(1, 0, "张三")
    sheet.write_number(1, 1, 13812345678)
    sheet.write_datetime(1, 2, datetime(2026, 1, 5, 13, 0), moment)
    sheet.write_number(1, 3, 46027)  # a date that lost its format: a bare serial number
    workbook.close()
    with open_table(path) as table:
        mapping = ColumnMapping.detect(table.headers)
        ((number, cells),) = table.rows()
    lead = parse_row(cells, mapping, row_number=number, tz=SHANGHAI)
    assert isinstance(lead, LeadRow)
    assert (lead.row_number, lead.phone.number) == (2, "13812345678")
    assert (lead.created_at, lead.arrived_at) == (AT_1300, MIDNIGHT)


@given(st.from_regex(r"\d{4}-\d\d-\d\d(?: \d\d:\d\d(?::\d\d)?)?", fullmatch=True))
def test_plain_dates_read_fast_the_same_as_the_full_reader(text):
    """2026-01-05 13:00:00, the shape most exports use, skips the general reader; the
    result (or the error) is the same."""
    from intake.rows import _parse_moment

    try:
        expected = _parse_moment(text, SHANGHAI)
    except ValueError:
        with pytest.raises(InvalidInput, match="not a real date"):
            parse_datetime(text, tz=SHANGHAI)
    else:
        assert parse_datetime(text, tz=SHANGHAI) == expected
