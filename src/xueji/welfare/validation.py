"""Reading the files a bureau loads (finance head counts, civil-affairs family lists, the bank's
result file): CSV or a workbook (python-calamine), checked all or nothing, every bad row and
field named in Chinese and in English.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from python_calamine import CalamineError, CalamineWorkbook

from xueji.core.errors import ServiceError
from xueji.core.jobs import in_both_languages

MAX_FILE_BYTES = 20 * 2**20
MAX_ROWS = 200_000
NAMED_ERRORS = 200


def field_error(code: str, message: Any) -> ValidationError:
    return ValidationError(message, code=code)


@dataclass(frozen=True)
class Column:
    key: str
    headers: tuple[str, ...]  # accepted headings (Chinese first)


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str
    message_en: str


class FileRefused(ServiceError):
    """The file was refused as a whole; `errors` names each bad row and field (nothing was
    written)."""

    def __init__(self, code: str, message: Any, errors: Sequence[RowError] = ()):
        self.errors = list(errors)
        super().__init__(
            code,
            message,
            errors=[
                {"row": e.row, "column": e.column, "message": e.message, "message_en": e.message_en}
                for e in self.errors[:NAMED_ERRORS]
            ],
            error_count=len(self.errors),
        )


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _rows(data: bytes) -> list[list[str]]:
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        try:
            workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
            sheet = workbook.get_sheet_by_index(0).to_python()
        except (CalamineError, ValueError, IndexError) as error:
            raise FileRefused(
                "unreadable_workbook", _("The workbook cannot be read: save it again as .xlsx.")
            ) from error
        return [[_cell(v) for v in row] for row in sheet]
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise FileRefused("unreadable_text", _("The file is neither UTF-8 nor GB18030 text."))
    if "\x00" in text:
        raise FileRefused("not_a_table", _("The file is not a CSV table."))
    return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]


def read_table(
    data: bytes,
    columns: Sequence[Column],
    check: Callable[[dict[str, str], Callable[[str, Any], None]], Any],
) -> list[Any]:
    """Every row checked by `check(row, report)`; returns what it returned for each row, or
    raises FileRefused naming every problem (row numbers as the spreadsheet shows them)."""
    if not data:
        raise FileRefused("file_empty", _("The file is empty."))
    if len(data) > MAX_FILE_BYTES:
        raise FileRefused("file_too_large", _("The file is larger than 20 MB."))
    rows = [row for row in _rows(data) if any(cell for cell in row)]
    if not rows:
        raise FileRefused("file_empty", _("The file is empty."))
    if len(rows) > MAX_ROWS + 1:
        raise FileRefused("too_many_rows", _("The file has more than 200,000 rows."))
    heading = [h.strip() for h in rows[0]]
    positions: dict[str, int] = {}
    errors: list[RowError] = []
    for column in columns:
        for name in column.headers:
            if name in heading:
                positions[column.key] = heading.index(name)
                break
        else:
            zh, en = in_both_languages(
                _("The column %(column)s is missing."), {"column": column.headers[0]}
            )
            errors.append(RowError(1, column.headers[0], zh, en))
    if errors:
        raise FileRefused("missing_columns", _("The file lacks required columns."), errors)
    results: list[Any] = []
    for number, raw in enumerate(rows[1:], start=2):
        values = {key: (raw[index] if index < len(raw) else "") for key, index in positions.items()}

        def report(key: str, message: Any, *, _row: int = number) -> None:
            zh, en = in_both_languages(message)
            header = next(c.headers[0] for c in columns if c.key == key)
            errors.append(RowError(_row, header, zh, en))

        results.append(check(values, report))
    if errors:
        raise FileRefused("invalid_rows", _("Some rows are invalid: nothing was loaded."), errors)
    return results


def parse_fen(text: str) -> int | None:
    """An amount in yuan (at most two decimals) as integer fen, or None when malformed."""
    text = text.replace(",", "").strip()
    if not text or text.startswith(("-", "+")):
        return None
    whole, _dot, part = text.partition(".")
    if not whole.isdigit() or (part and not part.isdigit()) or len(part) > 2 or len(whole) > 12:
        return None
    return int(whole) * 100 + int((part + "00")[:2])


def yuan(fen: int) -> str:
    """Fen shown as yuan with two decimals (no float on the way)."""
    return f"{fen // 100}.{fen % 100:02d}"
