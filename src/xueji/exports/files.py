"""Every file of a table that goes out (a download, or the bytes of a small table): the export
permission checked (and the reveal permission, to unmask), the audit entry written before the
first byte. The cells, the lines and the files themselves are xueji.core.exports' (pure).

Views use `export_response` (rows of a Column list) or `lines_response` (lines already laid out,
as statistics tables are); `export_table` gives the bytes of a small table.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import FileResponse, StreamingHttpResponse

from xueji.access.policy import Action
from xueji.access.scope import require
from xueji.audit.services import audit_record
from xueji.core.exports import (
    FORMATS,
    Column,
    content_disposition,
    csv_chunks,
    safe_filename,
    table_cells,
    to_csv,
    to_xlsx,
    write_xlsx,
)


def require_export(actor: Any, fmt: str, reveal: bool) -> None:
    """PermissionRefused unless the actor may export (and, to unmask, reveal numbers)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    require(actor, Action.EXPORT)
    if reveal:
        require(actor, Action.STUDENT_REVEAL_ID)


def _audit(actor: Any, detail: dict[str, Any]) -> None:
    with transaction.atomic():
        audit_record(actor=actor, action="export", detail=detail)


def export_detail(
    *, name: str, fmt: str, rows: int | None, reveal: bool, **detail: Any
) -> dict[str, Any]:
    """What an export's audit entry says, whether the file went out at once or was written in
    the background: the table, the format, the rows, whether numbers were revealed, and more."""
    return {"table": name, "format": fmt, "rows": rows, "revealed": reveal, **detail}


def columns_detail(
    columns: list[Column], filters: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """For the audit entry of a table's export: its columns, and what its rows were chosen by."""
    detail: dict[str, Any] = {"columns": [column.key for column in columns]}
    if filters:
        detail["filters"] = dict(filters)
    return detail


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content_type: str
    content: bytes
    rows: int


def export_table(
    *,
    actor: Any,
    name: str,
    columns: list[Column],
    rows: Iterable[Any],
    fmt: str,
    reveal: bool = False,
) -> ExportFile:
    """Export a small table the caller has already selected within their scope, as bytes of
    `fmt` ("csv" or "xlsx"). Needs the export permission, and the reveal permission to unmask;
    recorded in the audit trail."""
    require_export(actor, fmt, reveal)
    counted = list(rows)
    content = (
        to_csv(columns, counted, reveal=reveal)
        if fmt == "csv"
        else to_xlsx(columns, counted, reveal=reveal, sheet=name)
    )
    _audit(
        actor,
        export_detail(
            name=name, fmt=fmt, rows=len(counted), reveal=reveal, **columns_detail(columns)
        ),
    )
    return ExportFile(
        filename=safe_filename(name, fmt),
        content_type=FORMATS[fmt],
        content=content,
        rows=len(counted),
    )


def _count(rows: Any) -> int | None:
    """The number of rows without reading them: a queryset is counted by the database."""
    if isinstance(rows, QuerySet):
        return rows.count()
    if isinstance(rows, list | tuple):
        return len(rows)
    return None


def lines_response(
    *,
    actor: Any,
    name: str,
    lines: Iterable[list[Any]],
    fmt: str,
    detail: dict[str, Any],
    rows: int | None = None,
    reveal: bool = False,
    bold: Callable[[int, int], bool] = lambda r, c: r == 0,
    widths: Mapping[int, float] | None = None,
    fallback: str = "",
) -> Any:
    """An HTTP response streaming lines of safe cells as CSV, or sending them as XLSX written
    to a temporary file; audited (with `detail`) before the first byte goes out. The file is
    called `name`, or `fallback` (ASCII) by clients that cannot read a UTF-8 file name."""
    require_export(actor, fmt, reveal)
    if fmt == "csv":
        _audit(actor, export_detail(name=name, fmt=fmt, rows=rows, reveal=reveal, **detail))
        response: Any = StreamingHttpResponse(csv_chunks(lines), content_type=FORMATS[fmt])
    else:
        handle = tempfile.NamedTemporaryFile(suffix=".xlsx")  # noqa: SIM115 - the response closes it
        written = write_xlsx(handle.name, lines, sheet=name, bold=bold, widths=widths)
        rows = max(written - 1, 0)
        _audit(actor, export_detail(name=name, fmt=fmt, rows=rows, reveal=reveal, **detail))
        handle.seek(0)
        response = FileResponse(handle, content_type=FORMATS[fmt])
    response["Content-Disposition"] = content_disposition(name, fmt, fallback)
    response["Cache-Control"] = "no-store"
    return response


def export_response(
    *,
    actor: Any,
    name: str,
    columns: list[Column],
    rows: Iterable[Any],
    fmt: str,
    reveal: bool = False,
    count: int | None = None,
    filters: Mapping[str, Any] | None = None,
) -> Any:
    """Rows the caller selected within their scope (a list, a queryset or any iterator, read
    once) as a streamed CSV or XLSX response; masked unless revealed, audited (`count` names
    the number of rows of an iterator for the audit entry of a CSV, `filters` what the rows
    were chosen by)."""
    return lines_response(
        actor=actor,
        name=name,
        lines=table_cells(columns, rows, reveal=reveal),
        fmt=fmt,
        rows=_count(rows) if count is None else count,
        reveal=reveal,
        detail=columns_detail(columns, filters),
    )
