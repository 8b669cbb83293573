"""A report as an Excel workbook in the layout of the national basic statistical tables
(基层统计报表): a first sheet saying whose report it is, its census date, its state and who
prepared and confirmed it; then one sheet per table, headed by the same lines. Text cells go
through xueji.core.exports' safe_cell (never a formula; identifiers masked); the export needs
the export permission and is written to the audit trail before the file goes out."""

from __future__ import annotations

import io
from typing import Any

import xlsxwriter
from django.db import transaction
from django.http import HttpResponse
from django.utils.translation import gettext as _

from xueji.audit.services import audit_record
from xueji.core.exports import FORMATS, XLSX_OPTIONS, content_disposition, safe_cell
from xueji.core.names import person_name
from xueji.exports.files import require_export
from xueji.reporting.models import UnitReport, UnitState
from xueji.reporting.selectors import figures_of, live_figures, shown_tables, unit_name


def _sheet_name(title: str, used: set[str]) -> str:
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in title).strip("'")[:28] or "Sheet"
    name, n = cleaned, 2
    while name in used:
        name = f"{cleaned[:26]}{n}"
        n += 1
    used.add(name)
    return name


def head_lines(unit: UnitReport) -> list[tuple[str, str]]:
    """Whose report, on which day, in which state, prepared and confirmed by whom."""
    state = UnitState(unit.state).label
    lines = [
        (_("Round"), unit.round.title),
        (_("Reporting unit"), unit_name(unit)),
        (_("Census date"), unit.round.census_date.isoformat()),
        (_("State"), str(state)),
    ]
    if unit.submission is not None:
        lines.append(
            (
                _("Figures taken"),
                f"{unit.submission.taken_at:%Y-%m-%d %H:%M} "
                f"{person_name(unit.submission.taken_by)} (#{unit.submission.number})",
            )
        )
    else:
        lines.append((_("Figures taken"), _("Not yet: counted from the registry now")))
    if unit.prepared_by_id:
        lines.append((_("Prepared by"), person_name(unit.prepared_by)))
    if unit.confirmed_by_id:
        lines.append(
            (
                _("Confirmed by"),
                f"{person_name(unit.confirmed_by)} {unit.confirmed_at:%Y-%m-%d %H:%M}",
            )
        )
    if unit.state == UnitState.RETURNED:
        lines.append((_("Returned because"), unit.return_reason))
    return lines


def workbook(unit: UnitReport) -> bytes:
    figures = figures_of(unit.submission_id) if unit.submission_id else live_figures(unit)
    output = io.BytesIO()
    book = xlsxwriter.Workbook(output, {**XLSX_OPTIONS, "in_memory": True})
    bold = book.add_format({"bold": True})
    used: set[str] = set()
    head = head_lines(unit)
    cover = book.add_worksheet(_sheet_name(_("Report"), used))
    cover.set_column(0, 0, 18)
    cover.set_column(1, 1, 48)
    for r, (label, value) in enumerate(head):
        cover.write_string(r, 0, safe_cell(label), bold)
        cover.write_string(r, 1, safe_cell(value))
    for table in shown_tables(unit.round, figures):
        sheet = book.add_worksheet(_sheet_name(table.title, used))
        sheet.set_column(0, 0, 24)
        sheet.write_string(0, 0, safe_cell(table.title), bold)
        row = 1
        for label, value in head[:4]:
            sheet.write_string(row, 0, safe_cell(label))
            sheet.write_string(row, 1, safe_cell(value))
            row += 1
        row += 1
        sheet.write_string(row, 0, safe_cell(table.corner), bold)
        for c, column in enumerate(table.columns, start=1):
            sheet.write_string(row, c, safe_cell(column), bold)
        for shown in table.rows:
            row += 1
            label = ("  " + shown.label) if shown.sub else shown.label
            sheet.write_string(row, 0, safe_cell(label), bold if shown.strong else None)
            for c, cell in enumerate(shown.cells, start=1):
                sheet.write_number(row, c, cell.value)
    book.close()
    return output.getvalue()


def workbook_response(*, actor: Any, unit: UnitReport) -> HttpResponse:
    require_export(actor, "xlsx", False)
    content = workbook(unit)
    name = f"{unit_name(unit)}-{unit.round.census_date.isoformat()}-{_('statistics report')}"
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="export",
            detail={
                "table": "reporting.unit",
                "format": "xlsx",
                "unit": unit.pk,
                "state": unit.state,
                "submission": unit.submission_id,
                "revealed": False,
            },
        )
    response = HttpResponse(content, content_type=FORMATS["xlsx"])
    response["Content-Disposition"] = content_disposition(name, "xlsx", f"report-{unit.pk}")
    response["Cache-Control"] = "no-store"
    return response
