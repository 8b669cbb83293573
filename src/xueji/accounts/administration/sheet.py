"""Reading the accounts sheet safely: the upload is checked before calamine opens it (an .xlsx
of at most 2 MB, a zip of bounded parts, no DOCTYPE or ENTITY in any XML part whether in UTF-8,
UTF-16 or UTF-32, no cell beyond column Z or row MAX_ROWS + 1, since calamine allocates the whole
rectangle up to the furthest cell), then its first sheet is read as text.

The imports' checks (xueji.imports.safety) sit beside this app in the layers and cannot be
imported from here; an accounts sheet is small and of one kind, so these few bounds suffice.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import IO, Any

from django.utils.translation import gettext_lazy as _
from python_calamine import CalamineError, CalamineWorkbook

from xueji.core.errors import ServiceError

MAX_BYTES = 2 * 2**20
MAX_ROWS = 2000
MAX_MEMBERS = 64
MAX_UNCOMPRESSED = 32 * 2**20
MAX_RATIO = 200
MAX_COLUMN = 26  # Z

_FORBIDDEN_XML = [
    marker.encode(encoding)
    for marker in ("<!doctype", "<!entity")
    for encoding in ("ascii", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
]
_CELL_REF = re.compile(rb"<(?:\w+:)?c\b[^>]*?\br=\"([A-Z]+)([0-9]+)\"")
_ROW_REF = re.compile(rb"<(?:\w+:)?row\b[^>]*?\br=\"([0-9]+)\"")


class SheetRefused(ServiceError):
    """The file as a whole cannot be read as the accounts sheet (or, from the bulk creation,
    no longer passes its checks: `errors` in the details)."""


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + (letter - ord("A") + 1)
    return number


def _check_xlsx(content: bytes) -> None:
    if not content:
        raise SheetRefused("file_empty", _("The file is empty."))
    if len(content) > MAX_BYTES:
        raise SheetRefused(
            "file_too_large", _("The accounts sheet is larger than 2 MB: split it by school.")
        )
    if not content.startswith(b"PK\x03\x04"):
        raise SheetRefused(
            "not_xlsx",
            _("The accounts sheet must be an Excel workbook (.xlsx): save it as .xlsx."),
        )
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
            if len(members) > MAX_MEMBERS or "[Content_Types].xml" not in archive.namelist():
                raise SheetRefused(
                    "not_xlsx",
                    _("The accounts sheet must be an Excel workbook (.xlsx): save it as .xlsx."),
                )
            if sum(member.file_size for member in members) > MAX_UNCOMPRESSED or any(
                member.compress_size and member.file_size / member.compress_size > MAX_RATIO
                for member in members
            ):
                raise SheetRefused(
                    "file_bomb", _("The file unpacks to far more than a sheet of accounts holds.")
                )
            for member in members:
                if not member.filename.endswith((".xml", ".rels")):
                    continue
                data = archive.read(member)  # bounded above: at most MAX_UNCOMPRESSED in all
                lowered = data.lower()
                if any(marker in lowered for marker in _FORBIDDEN_XML):
                    raise SheetRefused(
                        "xml_entities",
                        _("The file holds XML declarations that a workbook never needs."),
                    )
                if member.filename.startswith("xl/worksheets/"):
                    _check_extent(data)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError):
        raise SheetRefused(
            "file_unreadable", _("The file cannot be read as an Excel workbook (.xlsx).")
        ) from None


def _check_extent(sheet_xml: bytes) -> None:
    rows = [int(number) for number in _ROW_REF.findall(sheet_xml)]
    cells = _CELL_REF.findall(sheet_xml)
    furthest_row = max([*rows, *(int(number) for _letters, number in cells)], default=0)
    furthest_column = max((_column_number(letters) for letters, _number in cells), default=0)
    if furthest_row > MAX_ROWS + 1 or furthest_column > MAX_COLUMN:
        raise SheetRefused(
            "sheet_too_large",
            _(
                "The sheet reaches beyond column Z or row %(rows)d: at most %(accounts)d "
                "accounts per sheet, in the columns of the template."
            )
            % {"rows": MAX_ROWS + 1, "accounts": MAX_ROWS},
        )


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a code or phone typed as a number
    return str(value).strip()


def read_sheet(stream: IO[bytes]) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the non-blank rows (with their row numbers) of the first sheet."""
    content = stream.read(MAX_BYTES + 1)
    _check_xlsx(content)
    try:
        with CalamineWorkbook.from_filelike(io.BytesIO(content)) as workbook:
            sheet = workbook.get_sheet_by_index(0)
        table = sheet.to_python(skip_empty_area=False)
    except (CalamineError, OSError, ValueError):
        raise SheetRefused(
            "file_unreadable", _("The file cannot be read as an Excel workbook (.xlsx).")
        ) from None
    if not table:
        raise SheetRefused("no_rows", _("The sheet is empty: fill in one account per row."))
    header = [_text(cell) for cell in table[0]]
    rows = [
        (number, [_text(cell) for cell in cells])
        for number, cells in enumerate(table[1:], start=2)
        if any(_text(cell) for cell in cells)
    ]
    return header, rows
