"""intake.files.open_table: CSV and XLSX exports in every encoding and shape dealers upload,
and every file that must be refused before a row is imported."""

from __future__ import annotations

import codecs
import csv
import hashlib
import inspect
import io
import random
import struct
import zipfile
from collections.abc import Callable
from datetime import date, datetime, time
from pathlib import Path

import pytest
import xlsxwriter

from dcc.errors import InvalidInput
from intake.files import FileError, cell_text, open_table

HEADER = "线索ID,客户姓名,手机号,意向车型,所在城市,提交时间\n"
ROWS = [
    "A001,张三,13812345678,宋PLUS DM-i,深圳,2026-01-05 13:00\n",
    "A002,李四,+86 139 1234 5678,汉EV,广州市,2026/1/6\n",
]


def write(tmp_path: Path, data: bytes, name: str = "export.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def read_all(path: Path, **limits: int) -> tuple[list[str], list[tuple[int, list[str]]]]:
    with open_table(path, **limits) as table:
        return table.headers, list(table.rows())


def make_xlsx(path: Path, fill: Callable[[xlsxwriter.Workbook], None]) -> Path:
    workbook = xlsxwriter.Workbook(str(path))
    fill(workbook)
    workbook.close()
    return path


# --- CSV ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "prefix", "expected"),
    [
        ("utf-8", b"", "utf-8"),
        ("utf-8", codecs.BOM_UTF8, "utf-8-sig"),
        ("gbk", b"", "gb18030"),
        ("gb18030", b"", "gb18030"),
        ("utf-16", b"", "utf-16"),  # Excel's "Unicode text" (the codec writes the BOM)
    ],
)
def test_text_encodings_are_detected_without_asking(
    tmp_path: Path, encoding: str, prefix: bytes, expected: str
) -> None:
    path = write(tmp_path, prefix + (HEADER + "".join(ROWS)).encode(encoding))
    with open_table(path) as table:
        assert (table.format, table.encoding) == ("csv", expected)
        assert table.headers == ["线索ID", "客户姓名", "手机号", "意向车型", "所在城市", "提交时间"]
        rows = list(table.rows())
    assert rows == [
        (2, ["A001", "张三", "13812345678", "宋PLUS DM-i", "深圳", "2026-01-05 13:00"]),
        (3, ["A002", "李四", "+86 139 1234 5678", "汉EV", "广州市", "2026/1/6"]),
    ]


def test_gbk_names_far_below_an_ascii_head_are_still_read_as_gbk(tmp_path: Path) -> None:
    ascii_rows = "".join(f"{n},13812345678,2026-01-05\n" for n in range(20_000))  # > 300 KB
    body = "name,mobile,created_at\n" + ascii_rows + "王五,13812345678,2026-01-05\n"
    path = write(tmp_path, body.encode("gbk"))
    with open_table(path) as table:
        assert table.encoding == "gb18030"
        *_, (number, cells) = table.rows()
    assert (number, cells[0]) == (20_002, "王五")


@pytest.mark.parametrize("delimiter", [",", "\t", ";", "|"])
def test_the_delimiter_is_sniffed_from_the_header(tmp_path: Path, delimiter: str) -> None:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerows([["姓名", "手机号", "备注"], ["张三", "13812345678", "a, b; c | d\te"]])
    headers, rows = read_all(write(tmp_path, out.getvalue().encode()))
    assert headers == ["姓名", "手机号", "备注"]
    assert rows == [(2, ["张三", "13812345678", "a, b; c | d\te"])]


def test_rows_is_a_lazy_generator_that_can_be_read_again(tmp_path: Path) -> None:
    path = write(tmp_path, (HEADER + "".join(ROWS * 500)).encode())
    with open_table(path) as table:
        rows = table.rows()
        assert inspect.isgenerator(rows)
        assert table.bytes_read() == 0
        next(rows)
        assert 0 < table.bytes_read() <= table.total_bytes
        assert sum(1 for _ in rows) == 999
        assert table.bytes_read() == table.total_bytes == path.stat().st_size
        assert sum(1 for _ in table.rows()) == 1000


def test_title_lines_blank_rows_short_rows_and_multiline_cells(tmp_path: Path) -> None:
    text = (
        "汽车之家线索导出 2026-01-05\n"
        "\n"
        "姓名,手机号,备注\n"
        "张三,13812345678\n"
        ",,\n"
        "\n"
        '李四,13912345678,"第一行\n第二行"\n'
        "王五,13712345678,x,extra\n"
    )
    with open_table(write(tmp_path, text.encode())) as table:
        assert (table.header_row, table.headers) == (3, ["姓名", "手机号", "备注"])
        rows = list(table.rows())
    assert rows == [
        (4, ["张三", "13812345678", ""]),  # padded to the header
        (7, ["李四", "13912345678", "第一行\n第二行"]),  # numbered as Excel shows the rows
        (8, ["王五", "13712345678", "x", "extra"]),
    ]


def test_formula_text_is_kept_as_text(tmp_path: Path) -> None:
    text = "name,mobile\n\"=cmd|' /C calc'!A0\",13812345678\n=1+1,+8613812345678\n"
    _, rows = read_all(write(tmp_path, text.encode()))
    assert rows == [
        (2, ["=cmd|' /C calc'!A0", "13812345678"]),
        (3, ["=1+1", "+8613812345678"]),
    ]


def test_format_comes_from_content_not_the_file_name(tmp_path: Path) -> None:
    csv_named_xlsx = write(tmp_path, b"name,mobile\nx,13812345678\n", "leads.xlsx")
    with open_table(csv_named_xlsx) as table:
        assert table.format == "csv"
    xlsx_named_csv = make_xlsx(tmp_path / "leads.csv", _simple_sheet)
    with open_table(xlsx_named_csv) as table:
        assert table.format == "xlsx"


# --- refusals ----------------------------------------------------------------------------------


def _random_binary() -> bytes:
    noise = bytes(b for b in random.Random(7).randbytes(4000) if b not in b"\n\x00")
    return noise[:1000] + b"\x00" + noise[1000:]


def _high_bytes_without_nul() -> bytes:
    return bytes(range(0x80, 0x100)) * 40


REFUSED: list[tuple[str, bytes, str, int | None]] = [
    ("empty", b"", "file_empty", None),
    ("only blank lines", b"\n\n \r\n,,,\n", "file_empty", None),
    ("utf-8 BOM and nothing else", codecs.BOM_UTF8, "file_empty", None),
    ("binary garbage with NUL bytes", b"name,mobile\n" + _random_binary(), "file_binary", 2),
    ("high bytes that are no text", _high_bytes_without_nul(), "file_encoding", None),
    ("control characters", b"\x01\x02\x03\x04\x05\x06" * 50, "file_binary", None),
    ("a PNG image", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "file_binary", None),
    ("a PDF", b"%PDF-1.7\n" + b"x" * 100, "file_binary", None),
    (
        "an old .xls or encrypted workbook",
        bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 512,
        "file_old_excel",
        None,
    ),
    (
        "data where the header should be",
        b"13812345678,Zhang\n13912345678,Li\n",
        "file_no_header",
        1,
    ),
    (
        "UTF-8 rows, then GBK rows pasted in",
        "姓名,手机号\n张三,13812345678\n".encode() + "李四,13912345678\n".encode("gbk"),
        "file_mixed_encoding",
        3,
    ),
    (
        "UTF-8 rows, then GBK rows, all far below an ASCII head",
        b"name,mobile\n"
        + b"x,13812345678\n" * 100_000
        + "王小明,13812345678\n".encode()
        + "李四,13912345678\n".encode("gbk"),
        "file_mixed_encoding",
        100_003,
    ),
    (
        "GBK rows, then UTF-8 rows pasted in",
        "姓名,手机号\n张三,13812345678\n".encode("gbk")
        + "宋,13912345678\n李四一,13712345678\n".encode(),
        "file_mixed_encoding",
        3,
    ),
    (
        "GBK rows, then UTF-8 rows that GBK would decode as gibberish",
        "姓名,手机号,城市\n张三,13812345678,深圳\n".encode("gbk")
        + "王小明,13912345678,广州市\n".encode(),
        "file_mixed_encoding",
        3,
    ),
    ("cut off inside a character", "姓名,手机号\n张".encode()[:-1], "file_truncated", 2),
    (
        "GBK, cut off inside a character",
        "姓名,手机号\n张三,13812345678\n李".encode("gbk")[:-1],
        "file_truncated",
        3,
    ),
]


@pytest.mark.parametrize(
    ("data", "code", "row"), [case[1:] for case in REFUSED], ids=[case[0] for case in REFUSED]
)
def test_unreadable_files_are_refused_clearly_and_left_alone(
    tmp_path: Path, data: bytes, code: str, row: int | None
) -> None:
    path = write(tmp_path, data)
    digest = hashlib.sha256(data).hexdigest()
    with pytest.raises(FileError) as caught:
        open_table(path)
    error = caught.value
    assert isinstance(error, InvalidInput)
    assert (error.code, error.row, error.field) == (code, row, "file")
    assert len(error.message) > 15 and "%(" not in error.message
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


def test_refusal_codes_are_distinct_per_cause() -> None:
    by_cause = {case[0]: case[2] for case in REFUSED}
    assert len({by_cause[c] for c in ("empty", "a PNG image", "high bytes that are no text")}) == 3
    assert by_cause["UTF-8 rows, then GBK rows pasted in"] != by_cause["empty"]


def test_a_file_over_the_size_limit_is_refused_before_reading(tmp_path: Path) -> None:
    path = write(tmp_path, (HEADER + "".join(ROWS)).encode())
    with pytest.raises(FileError) as caught:
        open_table(path, max_bytes=100)
    assert caught.value.code == "file_too_large"
    assert "at most" in caught.value.message


def test_a_quote_never_closed_fails_at_its_row(tmp_path: Path) -> None:
    text = "name,mobile\n" + "ok,13812345678\n" * 20 + '"broken,13812345678\n'
    text += "x,13812345678\n" * 12_000
    with open_table(write(tmp_path, text.encode())) as table:
        rows = table.rows()
        assert len([next(rows) for _ in range(20)]) == 20
        with pytest.raises(FileError) as caught:
            next(rows)
    assert (caught.value.code, caught.value.row) == ("file_csv", 22)


def test_a_quote_never_closed_near_the_top_fails_at_open(tmp_path: Path) -> None:
    text = 'name,mobile\n"broken,13812345678\n' + "x,13812345678\n" * 12_000
    with pytest.raises(FileError) as caught:
        open_table(write(tmp_path, text.encode()))
    assert (caught.value.code, caught.value.row) == ("file_csv", 2)


# --- XLSX --------------------------------------------------------------------------------------


def _simple_sheet(workbook: xlsxwriter.Workbook) -> None:
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, ["name", "mobile"])
    sheet.write_row(1, 0, ["张三", "13812345678"])


def test_xlsx_cells_become_the_strings_the_user_meant(tmp_path: Path) -> None:
    def fill(workbook: xlsxwriter.Workbook) -> None:
        day = workbook.add_format({"num_format": "yyyy-mm-dd"})
        moment = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        chinese = workbook.add_format({"num_format": 'yyyy"年"m"月"d"日"'})
        sheet = workbook.add_worksheet("线索")
        sheet.write_row(0, 0, ["客户姓名", "手机号", "提交时间", "到店时间", "备注", "公式", "数"])
        sheet.write_string(1, 0, "张三😀")
        sheet.write_number(1, 1, 13812345678)  # a mobile stored as a number
        sheet.write_datetime(1, 2, datetime(2026, 1, 5, 13, 0), moment)
        sheet.write_datetime(1, 3, datetime(2026, 1, 5), day)
        sheet.write_string(1, 4, "=cmd|' /C calc'!A0")  # text that looks like a formula
        sheet.write_formula(1, 5, "=1+1", None, 0)  # a formula: its cached value, not run
        sheet.write_number(1, 6, 0.1 + 0.2)
        sheet.write_number(2, 1, 13912345678.0)
        sheet.write_datetime(2, 2, datetime(2026, 1, 6), chinese)
        sheet.write_boolean(2, 6, True)

    path = make_xlsx(tmp_path / "export.xlsx", fill)
    with open_table(path) as table:
        assert (table.format, table.encoding, table.header_row) == ("xlsx", None, 1)
        assert table.headers == ["客户姓名", "手机号", "提交时间", "到店时间", "备注", "公式", "数"]
        rows = table.rows()
        assert inspect.isgenerator(rows)
        rows = list(rows)
        assert table.bytes_read() == table.total_bytes
    assert rows == [
        (
            2,
            [
                "张三😀",
                "13812345678",
                "2026-01-05T13:00:00",
                "2026-01-05",
                "=cmd|' /C calc'!A0",
                "0",
                "0.3",
            ],
        ),
        (3, ["", "13912345678", "2026-01-06", "", "", "", "TRUE"]),
    ]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        ("  kept as is ", "  kept as is "),
        (13812345678.0, "13812345678"),
        (46027.5, "46027.5"),
        (-0.0, "0"),
        (1e21, "1000000000000000000000"),
        (1.5e-7, "0.00000015"),
        (7, "7"),
        (False, "FALSE"),
        (datetime(2026, 1, 5, 12, 59, 59, 999_600), "2026-01-05T13:00:00"),
        (date(2026, 1, 5), "2026-01-05"),
        (time(13, 5), "13:05:00"),
    ],
)
def test_cell_text(value: object, text: str) -> None:
    assert cell_text(value) == text


def test_xlsx_data_away_from_a1_keeps_row_numbers_and_column_letters(tmp_path: Path) -> None:
    def fill(workbook: xlsxwriter.Workbook) -> None:
        sheet = workbook.add_worksheet()
        sheet.write(0, 0, "线索导出")  # a title line
        sheet.write_row(2, 2, ["name", "mobile"])
        sheet.write_row(3, 2, ["张三", 13812345678])

    with open_table(make_xlsx(tmp_path / "offset.xlsx", fill)) as table:
        assert (table.header_row, table.headers) == (3, ["", "", "name", "mobile"])
        assert list(table.rows()) == [(4, ["", "", "张三", "13812345678"])]


def test_the_first_visible_sheet_is_read(tmp_path: Path) -> None:
    def fill(workbook: xlsxwriter.Workbook) -> None:
        hidden = workbook.add_worksheet("hidden")
        hidden.write_row(0, 0, ["wrong", "sheet"])
        hidden.hide()
        shown = workbook.add_worksheet("leads")
        shown.write_row(0, 0, ["name", "mobile"])
        shown.activate()

    with open_table(make_xlsx(tmp_path / "sheets.xlsx", fill)) as table:
        assert table.headers == ["name", "mobile"]


def _zip(path: Path, parts: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


def _declare_size(path: Path, part: str, size: int) -> None:
    """Rewrite the uncompressed size a zip declares for `part`, in both of its headers."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        offset = archive.getinfo(part).header_offset
    struct.pack_into("<I", data, offset + 22, size)
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + length] == part.encode():
            struct.pack_into("<I", data, at + 24, size)
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))


def test_a_highly_compressible_part_is_a_zip_bomb(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as part:
            for _ in range(40):
                part.write(b" " * 1024**2)  # 40 MB of nothing packs to ~40 KB
    assert path.stat().st_size < 200_000
    with pytest.raises(FileError) as caught:
        open_table(path)
    assert caught.value.code == "file_zip_bomb"


def test_a_part_declaring_a_huge_size_is_a_zip_bomb(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path / "declared.xlsx", _simple_sheet)
    _declare_size(path, "xl/worksheets/sheet1.xml", 0xFFFF_FFF0)
    with pytest.raises(FileError) as caught:
        open_table(path)
    assert caught.value.code == "file_zip_bomb"


def test_zip_limits_are_configurable(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path / "small.xlsx", _simple_sheet)
    with pytest.raises(FileError) as caught:
        open_table(path, max_unpacked_bytes=1000)
    assert caught.value.code == "file_zip_bomb"


def test_a_part_lying_small_about_its_size_is_refused(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path / "liar.xlsx", _simple_sheet)
    _declare_size(path, "xl/worksheets/sheet1.xml", 10)
    with pytest.raises(FileError) as caught:
        open_table(path)
    assert caught.value.code == "file_corrupt"


def test_a_stray_value_far_away_is_refused_not_loaded(tmp_path: Path) -> None:
    # calamine would allocate the whole 1,048,576 × 16,384 rectangle and abort the process.
    def fill(workbook: xlsxwriter.Workbook) -> None:
        sheet = workbook.add_worksheet()
        sheet.write_row(0, 0, ["name", "mobile"])
        sheet.write(1_048_575, 16_383, "x")

    with pytest.raises(FileError) as caught:
        open_table(make_xlsx(tmp_path / "far.xlsx", fill))
    assert caught.value.code == "file_sheet_too_large"
    assert "XFD1048576" in caught.value.message


def test_cells_without_references_far_down_are_refused_too(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path / "plain.xlsx", _simple_sheet)
    text = '<c t="inlineStr"><is><t>x</t></is></c>'
    sheet = (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<sheetData><row r="1">{text * 2}</row><row r="1048576">{text * 30}</row></sheetData>'
        "</worksheet>"
    )
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    with pytest.raises(FileError) as caught:
        open_table(_zip(tmp_path / "unreferenced.xlsx", parts))
    assert caught.value.code == "file_sheet_too_large"


def test_formatted_empty_cells_far_away_are_harmless(tmp_path: Path) -> None:
    def fill(workbook: xlsxwriter.Workbook) -> None:
        sheet = workbook.add_worksheet()
        sheet.write_row(0, 0, ["name", "mobile"])
        sheet.write_row(1, 0, ["张三", "13812345678"])
        sheet.write_blank(1_048_575, 16_383, None, workbook.add_format({"bold": True}))

    _, rows = read_all(make_xlsx(tmp_path / "styled.xlsx", fill))
    assert rows == [(2, ["张三", "13812345678"])]


@pytest.mark.parametrize(
    ("parts", "code"),
    [
        ({"readme.txt": b"hello"}, "file_not_xlsx"),
        ({"word/document.xml": b"<w/>", "[Content_Types].xml": b"<x/>"}, "file_not_xlsx"),
        ({"xl/workbook.bin": b"\0"}, "file_not_xlsx"),
        ({"xl/workbook.xml": b"<workbook/>"}, "file_empty"),
        ({"xl/workbook.xml": b"<not xml"}, "file_corrupt"),
        (
            {"xl/workbook.xml": b'<!DOCTYPE x [<!ENTITY a "aaaa">]><workbook>&a;</workbook>'},
            "file_corrupt",
        ),
    ],
)
def test_zips_that_are_no_workbook(tmp_path: Path, parts: dict[str, bytes], code: str) -> None:
    with pytest.raises(FileError) as caught:
        open_table(_zip(tmp_path / "archive.zip", parts))
    assert caught.value.code == code


def test_a_damaged_zip_is_refused(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path / "whole.xlsx", _simple_sheet)
    broken = write(tmp_path, path.read_bytes()[:2000], "broken.xlsx")
    with pytest.raises(FileError) as caught:
        open_table(broken)
    assert caught.value.code == "file_corrupt"


def test_a_workbook_whose_header_is_data(tmp_path: Path) -> None:
    def fill(workbook: xlsxwriter.Workbook) -> None:
        sheet = workbook.add_worksheet()
        sheet.write_row(0, 0, ["张三", 13812345678])

    with pytest.raises(FileError) as caught:
        open_table(make_xlsx(tmp_path / "noheader.xlsx", fill))
    assert (caught.value.code, caught.value.row) == ("file_no_header", 1)
    assert "13812345678" in caught.value.message
