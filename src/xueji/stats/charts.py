"""The data each chart draws, taken from the tables it illustrates (hidden figures stay hidden:
a suppressed cell is drawn as a gap, never as its value). static/js/stats.js turns these into
ECharts options; the pages carry them as JSON data blocks (json_script), not inline scripts."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from xueji.stats.tables import Row, Table


def _value(row: Row, index: int) -> int | None:
    return row.cells[index].value


def _body(table: Table) -> list[Row]:
    return [row for row in table.rows if not row.total and row.level == 0]


def sex_bars(table: Table, title: str = "") -> dict[str, Any]:
    """Boys and girls stacked, one bar per row of a (value × sex) table."""
    rows = _body(table)
    return {
        "type": "bar",
        "title": title or str(table.title),
        "categories": [str(row.label) for row in rows],
        "series": [
            {"name": _("Boys"), "data": [_value(row, 1) for row in rows], "stack": "sex"},
            {"name": _("Girls"), "data": [_value(row, 2) for row in rows], "stack": "sex"},
        ],
    }


def total_bars(table: Table, title: str = "", column: int = 0) -> dict[str, Any]:
    rows = [row for row in _body(table) if row.cells[column].value != 0]
    return {
        "type": "bar",
        "title": title or str(table.title),
        "categories": [str(row.label) for row in rows],
        "series": [{"name": str(table.columns[column]), "data": [_value(r, column) for r in rows]}],
    }


def pie(table: Table, title: str = "") -> dict[str, Any]:
    rows = [row for row in _body(table) if row.cells[0].value]
    return {
        "type": "pie",
        "title": title or str(table.title),
        "data": [{"name": str(row.label), "value": _value(row, 0)} for row in rows],
    }


def age_pyramid(table: Table) -> dict[str, Any]:
    """Boys to the left, girls to the right, one bar per age (all grades)."""
    boys = next(row for row in table.rows if row.total and row.key.get("sex") == "1")
    girls = next(row for row in table.rows if row.total and row.key.get("sex") == "2")
    ages = [str(label) for label in table.columns[1:]]
    return {
        "type": "pyramid",
        "title": _("Age and sex"),
        "categories": ages,
        "series": [
            {"name": _("Boys"), "data": [c.value for c in boys.cells[1:]]},
            {"name": _("Girls"), "data": [c.value for c in girls.cells[1:]]},
        ],
    }


def grade_age_heatmap(table: Table) -> dict[str, Any]:
    """Children of each grade (rows) and age (columns)."""
    rows = _body(table)
    points = [
        [x, y, cell.value]
        for y, row in enumerate(rows)
        for x, cell in enumerate(row.cells[1:])
        if cell.value
    ]
    return {
        "type": "heatmap",
        "title": _("Grade and age"),
        "x": [str(label) for label in table.columns[1:]],
        "y": [str(row.label) for row in rows],
        "data": points,
        "max": max((p[2] for p in points), default=0),
    }


def matrix_heatmap(table: Table) -> dict[str, Any]:
    rows = _body(table)
    columns = [str(c) for c in table.columns[:-1]]
    points = [
        [x, y, cell.value]
        for y, row in enumerate(rows)
        for x, cell in enumerate(row.cells[:-1])
        if cell.value
    ]
    return {
        "type": "heatmap",
        "title": str(table.title),
        "x": columns,
        "y": [str(row.label) for row in rows],
        "data": points,
        "max": max((p[2] for p in points), default=0),
    }


def sankey(links: list[tuple[str, str, int]]) -> dict[str, Any]:
    """Origins on the left, destinations on the right (a place can be both: two nodes)."""
    origins = sorted({o for o, _d, _n in links})
    destinations = sorted({d for _o, d, _n in links})
    return {
        "type": "sankey",
        "title": _("Flows between places"),
        "nodes": [{"name": f"{o} ▸", "label": o} for o in origins]
        + [{"name": f"▸ {d}", "label": d} for d in destinations],
        "links": [{"source": f"{o} ▸", "target": f"▸ {d}", "value": n} for o, d, n in links],
    }


def net_bars(table: Table) -> dict[str, Any]:
    rows = [row for row in table.rows if row.cells[2].value is not None]
    return {
        "type": "bar",
        "title": str(table.title),
        "categories": [str(row.label) for row in rows],
        "series": [{"name": str(table.columns[2]), "data": [row.cells[2].value for row in rows]}],
    }
