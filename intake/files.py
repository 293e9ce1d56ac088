"""Open an uploaded spreadsheet export, CSV or XLSX, as a header and a stream of string rows.

Dealers upload whatever their platform or their Excel produced: GBK or UTF-8 text, a BOM or
not, commas or tabs, workbooks with numbers where text was meant. This module turns all of
that into `(row_number, cells)` without reading a CSV whole, and refuses what it can't read
safely (binary files, zip bombs, huge sheets) before anything is imported.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import posixpath
import re
import unicodedata
import zipfile
from abc import ABC, abstractmethod
from collections.abc import Generator, Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import IO, Self
from xml.etree.ElementTree import ParseError

import charset_normalizer
import python_calamine
from defusedxml import DefusedXmlException, ElementTree
from django.utils.translation import gettext as _

from dcc.errors import InvalidInput
from dcc.phone import PhoneError, normalise_phone
from intake.mapping import column_letter

MAX_FILE_BYTES = 1024**3  # what an upload may weigh
MAX_UNPACKED_BYTES = 1024**3  # what the parts of an XLSX may declare, unpacked, together
MAX_COMPRESSION_RATIO = 100  # real sheets pack 5-20x; more is a zip bomb
_RATIO_FLOOR = 1024**2  # parts smaller than this can't hurt, whatever their ratio
MAX_ZIP_ENTRIES = 10_000
# calamine holds the sheet's full rectangle in memory (~1 GB at this size) and aborts the
# process, uncatchably, when it can't allocate it: one stray value in cell XFD1048576 does that.
MAX_SHEET_CELLS = 30_000_000
_SAMPLE_BYTES = 64 * 1024
_CHUNK_BYTES = 1024**2
_HEADER_SEARCH_ROWS = 10  # a title line or two may sit above the header
_DELIMITERS = (",", "\t", ";", "|")
# A ZIP starts with a local file header, or is empty (end of central directory only).
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BINARY_MAGIC = (
    b"%PDF",
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"\x1f\x8b",
    b"Rar!",
    b"7z\xbc\xaf",
    b"\x7fELF",
    b"MZ",
)
# The reference of a cell with a value (not self-closing), e.g. <c r="AB12" t="s">. Only cells
# have an attribute r of letters and digits; rows have digits alone.
_CELL_REF = re.compile(rb' r="([A-Z]{1,3})([0-9]{1,7})"[^>/]*>')
_CELL_TAGS = (b"<c ", b"<c>", b":c ", b":c>")  # <c …>, also with a namespace prefix
_VALUED_CELL = re.compile(rb"<(?:\w+:)?c\b[^>]*?(?<!/)>")
_ROW_REF = re.compile(rb'<(?:\w+:)?row\b[^>]*?\sr="([0-9]{1,7})"')
_ROW_START = re.compile(rb"<(?:\w+:)?row\b")


class FileError(InvalidInput):
    """The file as a whole can't be imported. `code` says why: file_empty, file_too_large,
    file_binary, file_encoding, file_mixed_encoding, file_truncated, file_no_header,
    file_not_xlsx, file_old_excel, file_zip_bomb, file_sheet_too_large, file_corrupt, file_csv.
    `row` is where in the file the problem is, when one place is to blame."""

    code = "file_invalid"

    def __init__(self, message: str, *, code: str | None = None, row: int | None = None) -> None:
        super().__init__(message, code=code, field="file")
        self.row = row


class Table(ABC):
    """An opened export: its header and a lazy stream of its data rows, as strings.

    Use as a context manager (or call close()). `rows()` may be iterated more than once;
    each pass reads the file again from the top.
    """

    format: str  # "csv" or "xlsx"
    encoding: str | None  # the text encoding of a CSV; None for a workbook
    path: Path
    total_bytes: int
    headers: list[str]
    header_row: int  # 1-based, as the user sees it; a title line above it is skipped

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """Yield `(row_number, cells)` for every data row below the header, lazily.

        Blank rows are skipped (their numbers too, so numbers match the file). Rows shorter
        than the header are padded with ""; longer ones keep their extra cells. Raises
        FileError if the file turns out to be broken part-way (a CSV quote never closed).
        """
        width = len(self.headers)
        for number, cells in self._records():
            if number <= self.header_row or not any(cell.strip() for cell in cells):
                continue
            if len(cells) < width:
                cells = cells + [""] * (width - len(cells))
            yield number, cells

    @abstractmethod
    def bytes_read(self) -> int:
        """How far the current rows() pass has got, in bytes of the file (for progress)."""

    @abstractmethod
    def close(self) -> None:
        """Release open files; idempotent."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @abstractmethod
    def _records(self) -> Generator[tuple[int, list[str]]]:
        """Every row of the file from the top, blank ones included, numbered from 1."""

    def _read_header(self) -> None:
        records = self._records()
        try:
            self.header_row, self.headers = _find_header(records)
        finally:
            records.close()
        self._restart_progress()  # finding the header is not progress

    @abstractmethod
    def _restart_progress(self) -> None: ...


def open_table(
    path: Path,
    *,
    max_bytes: int = MAX_FILE_BYTES,
    max_unpacked_bytes: int = MAX_UNPACKED_BYTES,
    max_ratio: float = MAX_COMPRESSION_RATIO,
    max_cells: int = MAX_SHEET_CELLS,
) -> Table:
    """Open `path` as a Table, telling CSV from XLSX by content, never by the file name.

    Everything that makes a file unreadable is found here, before a row is handed out:
    size, emptiness, binary content, the text encoding (checked over the whole CSV, so a
    file that switches encoding half-way is refused rather than imported as gibberish),
    zip bombs and oversized sheets, and a missing header row.
    """
    path = Path(path)
    total = path.stat().st_size
    if total == 0:
        raise FileError(_("The file is empty."), code="file_empty")
    if total > max_bytes:
        raise FileError(
            _("The file is too large: %(size)s; at most %(limit)s can be imported at once.")
            % {"size": _size_text(total), "limit": _size_text(max_bytes)},
            code="file_too_large",
        )
    with path.open("rb") as handle:
        head = handle.read(_SAMPLE_BYTES)
    if head.startswith(_ZIP_MAGIC):
        table: Table = XlsxTable(
            path,
            total_bytes=total,
            max_unpacked_bytes=max_unpacked_bytes,
            max_ratio=max_ratio,
            max_cells=max_cells,
        )
    elif head.startswith(_OLE2_MAGIC):
        raise FileError(
            _(
                "This is an old-format Excel file (.xls) or a password-protected workbook. "
                "Open it in Excel or WPS and save it as .xlsx without a password, or as "
                "“CSV UTF-8”, then upload that file."
            ),
            code="file_old_excel",
        )
    elif head.startswith(_BINARY_MAGIC):
        raise _binary_error()
    else:
        table = CsvTable(path, total_bytes=total, head=head)
    try:
        table._read_header()
    except BaseException:
        table.close()
        raise
    return table


class CsvTable(Table):
    """Delimited text, decoded as it is read: memory stays flat whatever the file's size."""

    format = "csv"

    def __init__(self, path: Path, *, total_bytes: int, head: bytes) -> None:
        self.path = path
        self.total_bytes = total_bytes
        self.encoding = _detect_encoding(path, head)
        _check_whole_text(path, self.encoding)
        self.delimiter = _sniff_delimiter(head, self.encoding)
        self._handles: list[IO[bytes]] = []

    def bytes_read(self) -> int:
        if not self._handles:
            return 0
        handle = self._handles[-1]
        return self.total_bytes if handle.closed else min(handle.tell(), self.total_bytes)

    def close(self) -> None:
        for handle in self._handles:
            handle.close()

    def _restart_progress(self) -> None:
        self._handles = []

    def _records(self) -> Generator[tuple[int, list[str]]]:
        with self.path.open("rb") as raw:
            self._handles = [raw]
            text = io.TextIOWrapper(raw, encoding=self.encoding, newline="")
            reader = csv.reader(text, delimiter=self.delimiter, quotechar='"', strict=False)
            number = 0
            try:
                for number, cells in enumerate(reader, start=1):
                    yield number, cells
            except csv.Error as exc:
                raise FileError(
                    _(
                        "Row %(row)d can't be read as CSV: a cell runs on far too long, usually "
                        'because a quote mark (") is opened and never closed.'
                    )
                    % {"row": number + 1},
                    code="file_csv",
                    row=number + 1,
                ) from exc
            except UnicodeDecodeError as exc:  # the file changed since it was checked
                raise _mixed_encoding_error(
                    number + 1, first_row=0, first=self.encoding, second=""
                ) from exc


class XlsxTable(Table):
    """The first visible worksheet of an Office Open XML workbook, read by calamine.

    calamine loads the sheet's cells into compact native memory at open; rows become Python
    strings one at a time. The zip and extent checks bound what that load may cost.
    """

    format = "xlsx"
    encoding = None

    def __init__(
        self,
        path: Path,
        *,
        total_bytes: int,
        max_unpacked_bytes: int,
        max_ratio: float,
        max_cells: int,
    ) -> None:
        self.path = path
        self.total_bytes = total_bytes
        self._done = 0
        self._workbook: python_calamine.CalamineWorkbook | None = None
        try:
            with zipfile.ZipFile(path) as archive:
                _check_zip(archive, max_unpacked_bytes=max_unpacked_bytes, max_ratio=max_ratio)
                self.sheet_name, sheet_part = _first_sheet(archive)
                _check_sheet_extent(archive, sheet_part, max_cells=max_cells)
        except (
            zipfile.BadZipFile,
            zipfile.LargeZipFile,
            KeyError,
            EOFError,
            ParseError,
            DefusedXmlException,
            RuntimeError,  # a part encrypted with a zip password
            NotImplementedError,  # a compression method zipfile does not know
        ) as exc:
            raise _corrupt_error(exc) from exc
        try:
            self._workbook = python_calamine.CalamineWorkbook.from_path(str(path))
            self._sheet = self._workbook.get_sheet_by_name(self.sheet_name)
        except python_calamine.CalamineError as exc:
            self.close()
            raise _corrupt_error(exc) from exc
        start = self._sheet.start
        self._first_row, self._first_col = start if start else (0, 0)
        self._height = self._sheet.height

    def bytes_read(self) -> int:
        if not self._height:
            return self.total_bytes
        return min(self.total_bytes, self.total_bytes * self._done // self._height)

    def close(self) -> None:
        if self._workbook is not None:
            self._workbook.close()
            self._workbook = None

    def _restart_progress(self) -> None:
        self._done = 0

    def _records(self) -> Generator[tuple[int, list[str]]]:
        pad = [""] * self._first_col  # keep column letters true when data starts right of A
        self._done = 0
        try:
            for offset, values in enumerate(self._sheet.iter_rows()):
                self._done = offset + 1
                yield self._first_row + offset + 1, pad + [cell_text(value) for value in values]
        except python_calamine.CalamineError as exc:
            raise _corrupt_error(exc) from exc


def cell_text(value: object) -> str:
    """A workbook cell as the text the user meant, so that every cell is a string.

    Numbers lose Excel's float look (13812345678.0 → "13812345678", and at most 15 significant
    digits, as Excel shows them); dates and times become ISO strings; formulas are never
    evaluated: calamine gives the value Excel cached, and text that merely looks like a
    formula stays text.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number_text(value)
    if isinstance(value, datetime):
        if value.microsecond >= 500_000:  # Excel stores times as day fractions; round them
            value += timedelta(seconds=1)
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, timedelta):
        seconds = round(value.total_seconds())
        sign = "-" if seconds < 0 else ""
        hours, rest = divmod(abs(seconds), 3600)
        return f"{sign}{hours}:{rest // 60:02d}:{rest % 60:02d}"
    return str(value)


def _number_text(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    text = format(value, ".15g")
    if "e" in text:
        text = format(Decimal(text), "f")
    return "0" if text == "-0" else text


# --- header -------------------------------------------------------------------------------


def _find_header(records: Iterator[tuple[int, list[str]]]) -> tuple[int, list[str]]:
    """The header is the first row as wide as the data; a one-cell title line above it (some
    platform exports start with "线索导出 2026-01-05") is skipped."""
    seen: list[tuple[int, list[str]]] = []
    for number, cells in records:
        if any(cell.strip() for cell in cells):
            seen.append((number, cells))
            if len(seen) == _HEADER_SEARCH_ROWS:
                break
    if not seen:
        raise FileError(_("The file has no data: every row is blank."), code="file_empty")
    widest = max(_filled(cells) for _number, cells in seen)
    number, cells = next(row for row in seen if _filled(row[1]) >= min(2, widest))
    headers = [_clean_header(cell) for cell in cells]
    while headers and not headers[-1]:
        headers.pop()
    for cell in headers:
        if _is_phone(cell):
            raise FileError(
                _(
                    "Row %(row)d should name the columns, but it holds data such as "
                    "“%(cell)s”. Add a first row with the column names (for example “name” "
                    "and “mobile”) and upload the file again."
                )
                % {"row": number, "cell": cell},
                code="file_no_header",
                row=number,
            )
    return number, headers


def _filled(cells: list[str]) -> int:
    return sum(1 for cell in cells if cell.strip())


def _clean_header(cell: str) -> str:
    return " ".join(cell.replace("\ufeff", "").split())


def _is_phone(text: str) -> bool:
    if not any(ch.isdigit() for ch in text):
        return False
    try:
        normalise_phone(text)
    except PhoneError:
        return False
    return True


# --- text -------------------------------------------------------------------------------------


def _detect_encoding(path: Path, head: bytes) -> str:
    """UTF-8 when the text is valid UTF-8, else GB18030 (which reads GBK and GB2312), else
    whatever charset-normalizer is sure of. charset-normalizer alone misjudges the short,
    digit-heavy samples exports are made of (it called a GBK lead list ISO-8859-5), so it
    only gets the files that are neither."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # Excel's "Unicode text"
    if b"\x00" in head:
        raise _binary_error(head[: head.index(b"\x00")].count(b"\n") + 1)
    sample = _non_ascii_sample(path)
    if sample is None:
        if _looks_binary(head.decode("ascii")):
            raise _binary_error()
        return "utf-8"  # plain ASCII
    for encoding in ("utf-8", "gb18030"):
        text = _decode_or_none(sample, encoding)
        if text is not None:
            if _looks_binary(text):
                raise _binary_error()
            return encoding
    # Neither reads all of it: perhaps a mix. Take the encoding the text starts in, and let
    # _check_whole_text say where it changes.
    first = next((line for line in sample.split(b"\n")[:-1] if not line.isascii()), b"")
    if first and _decode_or_none(first, "utf-8") is not None:
        return "utf-8"
    if first and _is_gbk_line(first):
        return "gb18030"
    best = charset_normalizer.from_bytes(sample).best()
    text = _decode_or_none(sample, best.encoding) if best is not None else None
    if best is not None and text is not None and not _looks_binary(text):
        return best.encoding
    raise FileError(
        _(
            "The file's text can't be read: it is neither UTF-8 nor GBK/GB18030. Open it in "
            "Excel or WPS, save it as “CSV UTF-8”, and upload that file."
        ),
        code="file_encoding",
    )


def _is_gbk_line(line: bytes) -> bool:
    text = _decode_or_none(line, "gb18030")
    return text is not None and not _looks_binary(text)


def _non_ascii_sample(path: Path) -> bytes | None:
    """A sample starting at the line with the first non-ASCII byte: a long ASCII head (ids,
    numbers) says nothing about the encoding of the names further down."""
    non_ascii = re.compile(rb"[\x80-\xff]")
    with path.open("rb") as handle:
        offset = 0
        while chunk := handle.read(_CHUNK_BYTES):
            found = None if chunk.isascii() else non_ascii.search(chunk)
            if found is not None:
                # Everything before it is ASCII, so any byte there starts a character.
                handle.seek(max(0, offset + found.start() - 4096))
                return handle.read(_SAMPLE_BYTES)
            offset += len(chunk)
    return None


def _decode_or_none(sample: bytes, encoding: str) -> str | None:
    try:
        # final=False: the sample may end inside a character.
        return codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
    except (UnicodeDecodeError, LookupError):
        return None


def _looks_binary(text: str) -> bool:
    controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f\v")
    return controls > max(2, len(text) // 100)


def _check_whole_text(path: Path, encoding: str) -> None:
    """Read the whole file once, streaming, before any row is imported: refuse binary junk,
    a file cut off mid-character, and a file that mixes encodings (rows pasted in from another
    export), which would otherwise be imported as gibberish. About a second for 200 MB."""
    if encoding.startswith("utf-16"):
        _check_wide_text(path, encoding)
        return
    scan_for_utf8 = not encoding.startswith("utf-8")
    lines = 0  # complete lines before `block`
    first_text = first_utf8 = first_other = 0  # 1-based rows; 0 = none yet
    pending = b""
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(_CHUNK_BYTES)
            data = pending + chunk
            # Whole lines only: in these encodings a newline byte is never part of a character.
            cut = data.rfind(b"\n") + 1 if chunk and len(data) < 16 * _CHUNK_BYTES else len(data)
            block, pending = data[:cut], data[cut:]
            if b"\x00" in block:
                raise _binary_error(lines + block[: block.index(b"\x00")].count(b"\n") + 1)
            if not first_text and not block.isascii():
                first_text = lines + block[: _first_non_ascii(block)].count(b"\n") + 1
            try:
                block.decode(encoding)
            except UnicodeDecodeError as exc:
                row = lines + block[: exc.start].count(b"\n") + 1
                if not chunk and exc.end == len(block):
                    raise _truncated_error(row) from exc
                raise _mixed_encoding_error(
                    row, first_row=first_text, first=encoding, second=""
                ) from exc
            if scan_for_utf8 and not block.isascii():
                for index, line in enumerate(block.split(b"\n")):
                    if line.isascii():
                        continue
                    try:
                        is_utf8 = _clearly_utf8(line.decode("utf-8"))
                    except UnicodeDecodeError:
                        first_other = first_other or lines + index + 1
                    else:
                        if is_utf8:
                            first_utf8 = first_utf8 or lines + index + 1
                    if first_utf8 and first_other:
                        earlier, later = sorted((first_utf8, first_other))
                        names = (
                            ("utf-8", encoding) if earlier == first_utf8 else (encoding, "utf-8")
                        )
                        raise _mixed_encoding_error(
                            later, first_row=earlier, first=names[0], second=names[1]
                        )
            lines += block.count(b"\n")
            if not chunk and not pending:
                return


def _check_wide_text(path: Path, encoding: str) -> None:
    decoder = codecs.getincrementaldecoder(encoding)()
    lines = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK_BYTES):
            try:
                lines += decoder.decode(chunk).count("\n")
            except UnicodeDecodeError as exc:
                raise _mixed_encoding_error(
                    lines + 1, first_row=0, first=encoding, second=""
                ) from exc
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise _truncated_error(lines + 1) from exc


def _first_non_ascii(data: bytes) -> int:
    found = re.search(rb"[\x80-\xff]", data)
    return found.start() if found else len(data)


def _clearly_utf8(text: str) -> bool:
    """Whether a line that decodes as UTF-8 is really UTF-8 Chinese, not GBK bytes that happen
    to decode: at least three non-ASCII characters, all of them CJK. GBK text passes this about
    once in a billion lines; short GBK names alone decode as UTF-8 far more often."""
    wide = [ch for ch in text if ord(ch) > 0x7F]
    return len(wide) >= 3 and all(
        "\u3000" <= ch <= "\u303f"
        or "\u3400" <= ch <= "\u4dbf"
        or "\u4e00" <= ch <= "\u9fff"
        or "\uff00" <= ch <= "\uffef"
        for ch in wide
    )


def _sniff_delimiter(head: bytes, encoding: str) -> str:
    """Comma unless the header line splits into more cells on tab, semicolon or bar."""
    text = _decode_or_none(head, encoding) or ""
    for line in text.lstrip("\ufeff").splitlines()[:_HEADER_SEARCH_ROWS]:
        counts = {d: len(next(csv.reader([line], delimiter=d), [])) for d in _DELIMITERS}
        best = max(_DELIMITERS, key=lambda d: counts[d])  # ties go to the comma
        if counts[best] > 1:
            return best
    return ","


# --- workbooks ----------------------------------------------------------------------------


def _check_zip(archive: zipfile.ZipFile, *, max_unpacked_bytes: int, max_ratio: float) -> None:
    """Refuse archives that are not workbooks, and zip bombs, from the sizes the archive
    declares; calamine's zip reader stops at a part that outgrows its declared size."""
    names = {info.filename.lower() for info in archive.infolist()}
    if "xl/workbook.xml" not in names:
        raise FileError(_not_xlsx_message(names), code="file_not_xlsx")
    infos = archive.infolist()
    if len(infos) > MAX_ZIP_ENTRIES:
        raise _bomb_error()
    if sum(info.file_size for info in infos) > max_unpacked_bytes:
        raise _bomb_error()
    for info in infos:
        if info.file_size > _RATIO_FLOOR and info.file_size > max_ratio * max(
            info.compress_size, 1
        ):
            raise _bomb_error()


def _not_xlsx_message(names: set[str]) -> str:
    if "xl/workbook.bin" in names:
        return _(
            "This is a binary Excel workbook (.xlsb). Save it as .xlsx or “CSV UTF-8” and "
            "upload that file."
        )
    if any(name.startswith(("word/", "ppt/")) for name in names) or "mimetype" in names:
        return _(
            "This is an office document, not an Excel workbook. Upload the .xlsx or .csv "
            "export itself."
        )
    return _("This is a ZIP archive, not an Excel workbook. Upload the .xlsx or .csv file itself.")


def _first_sheet(archive: zipfile.ZipFile) -> tuple[str, str]:
    """(name, part path) of the first visible worksheet, as Excel would open it."""
    names = {info.filename.lower(): info.filename for info in archive.infolist()}
    workbook = ElementTree.fromstring(archive.read(names["xl/workbook.xml"]))
    rels_name = names.get("xl/_rels/workbook.xml.rels")
    rels = ElementTree.fromstring(archive.read(rels_name)) if rels_name else None
    targets: dict[str, tuple[str, str]] = {}
    for rel in rels.iter() if rels is not None else ():
        if _local(rel.tag) == "Relationship":
            target = rel.get("Target", "")
            part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            targets[rel.get("Id", "")] = (posixpath.normpath(part), rel.get("Type", ""))
    sheets = []
    for element in workbook.iter():
        if _local(element.tag) != "sheet":
            continue
        rel_id = next((v for k, v in element.attrib.items() if _local(k) == "id"), "")
        part, kind = targets.get(rel_id, ("", ""))
        if kind.endswith("/worksheet") and part.lower() in names:
            visible = element.get("state", "visible") == "visible"
            sheets.append((not visible, element.get("name", ""), names[part.lower()]))
    if not sheets:
        raise FileError(_("The workbook has no worksheet with data."), code="file_empty")
    _hidden, name, part = min(sheets, key=lambda sheet: sheet[0])  # stable: first visible
    return name, part


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _check_sheet_extent(archive: zipfile.ZipFile, part: str, *, max_cells: int) -> None:
    """Find the sheet's last used row and column from its XML, streaming, and refuse a sheet
    whose rectangle calamine could not hold (see MAX_SHEET_CELLS). About half of calamine's
    own reading time; the cost of not letting one cell take the process down."""
    last_row = last_col = unreferenced_width = 0
    tail = b""
    with archive.open(part) as stream:
        while True:
            chunk = stream.read(_CHUNK_BYTES)
            data = tail + chunk
            cut = data.rfind(b"<")
            if not chunk or cut < 0:
                cut = len(data)
            block, tail = data[:cut], data[cut:]
            refs = _CELL_REF.findall(block)
            if refs:
                last_col = max(last_col, max(map(_column_number, {c for c, _r in refs})))
                last_row = max(last_row, max(map(int, {r for _c, r in refs})))
            # Cheap count first; the exact one only when some cell may lack a reference.
            tags = sum(block.count(tag) for tag in _CELL_TAGS)
            if tags > len(refs) and len(_VALUED_CELL.findall(block)) > len(refs):
                # Cells without a reference sit in their row, wherever that row says it is,
                # one column after the other.
                rows = [int(r) for r in _ROW_REF.findall(block)]
                last_row = max(last_row, *rows) if rows else last_row
                pieces = _ROW_START.split(block)
                widest = max(len(_VALUED_CELL.findall(piece)) for piece in pieces)
                unreferenced_width = max(unreferenced_width, widest)
            if not chunk:
                break
    last_col += unreferenced_width
    if last_row * last_col > max_cells:
        raise FileError(
            _(
                "The first sheet spans %(rows)s rows × %(columns)s columns, too large to "
                "read. Usually a stray value far below or right of the data causes this "
                "(look around cell %(cell)s): delete those rows and columns, save, and upload "
                "again."
            )
            % {
                "rows": f"{last_row:,}",
                "columns": f"{last_col:,}",
                "cell": f"{column_letter(last_col - 1)}{last_row}",
            },
            code="file_sheet_too_large",
        )


def _column_number(letters: bytes) -> int:
    number = 0
    for byte in letters:
        number = number * 26 + byte - 64
    return number


# --- errors -------------------------------------------------------------------------------


def _binary_error(row: int | None = None) -> FileError:
    return FileError(
        _(
            "This is not a spreadsheet export: the file holds binary data, not text. Upload "
            "the .xlsx or .csv file that the platform or Excel produced."
        ),
        code="file_binary",
        row=row,
    )


def _mixed_encoding_error(row: int, *, first_row: int, first: str, second: str) -> FileError:
    """`second` "" when all we know is that row `row` is not in `first`."""
    advice = _(
        "This happens when rows from another export are pasted in. Open the file in Excel or "
        "WPS, save it as “CSV UTF-8”, and upload that file."
    )
    if not first_row or first_row >= row:
        problem = _("Row %(row)d can't be read as %(encoding)s like the rest of the file.") % {
            "row": row,
            "encoding": _encoding_name(first),
        }
    elif not second:
        problem = _(
            "The file mixes text encodings: row %(first_row)d is in %(first)s, but row %(row)d "
            "is not."
        ) % {"first_row": first_row, "first": _encoding_name(first), "row": row}
    else:
        problem = _(
            "The file mixes text encodings: row %(first_row)d is in %(first)s, row %(row)d in "
            "%(second)s."
        ) % {
            "first_row": first_row,
            "first": _encoding_name(first),
            "row": row,
            "second": _encoding_name(second),
        }
    return FileError(f"{problem} {advice}", code="file_mixed_encoding", row=row)


def _truncated_error(row: int) -> FileError:
    return FileError(
        _(
            "The file ends in the middle of a character: it was cut off while being exported or "
            "uploaded. Export it again and upload the whole file."
        ),
        code="file_truncated",
        row=row,
    )


def _encoding_name(encoding: str) -> str:
    return {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "gb18030": "GBK/GB18030"}.get(
        encoding, encoding.upper()
    )


def _bomb_error() -> FileError:
    return FileError(
        _(
            "This workbook unpacks to far more data than a spreadsheet export holds (a “zip "
            "bomb”), so it was not opened. Export the data again, or save it as “CSV UTF-8”."
        ),
        code="file_zip_bomb",
    )


def _corrupt_error(exc: BaseException) -> FileError:
    return FileError(
        _(
            "The workbook is damaged and can't be read (%(detail)s). Open it in Excel or WPS, "
            "save it again, and upload the new file."
        )
        % {"detail": str(exc)[:200] or type(exc).__name__},
        code="file_corrupt",
    )


def _size_text(size: int) -> str:
    if size >= 1024**3:
        return f"{size / 1024**3:.1f} GB"
    return f"{size / 1024**2:.1f} MB"
