"""Counts as cubes with their margins, small-cell suppression over them, and tables made of them.

A statistic here is a cube: counts of children by a few dimensions (grade, age, sex, …), with every
margin (the totals over any dimension) derived from the same cells, so that every total shown is
the sum of the figures it totals. Suppression works on the cube: cells from 1 to threshold − 1 are
hidden (primary suppression); then, wherever a total and all but one of the figures it totals
would be visible, letting the hidden one be worked out by subtraction, the smallest other figure
of that line is hidden too (complementary suppression), until no line gives a hidden cell away.
Tables (for pages, exports and the API) and chart data are laid out from the suppressed cube, so
the three show the same thing.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


class _Total:
    """The coordinate of a margin: all values of a dimension together."""

    _instance: _Total | None = None

    def __new__(cls) -> _Total:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "TOTAL"

    def __reduce__(self) -> str:
        return "TOTAL"


TOTAL: Any = _Total()
# What a figure hidden to protect a small one (or worked out from a hidden one) shows.
HIDDEN = "×"
Coord = tuple[Hashable, ...]


class Cube:
    """Counts over named dimensions, each with its ordered values, and all their margins."""

    def __init__(
        self,
        dims: Sequence[str],
        values: Sequence[Sequence[Hashable]],
        counts: dict[Coord, int],
    ) -> None:
        if len(dims) != len(values):
            raise ValueError("one list of values per dimension")
        self.dims = tuple(dims)
        self.values = tuple(tuple(v) for v in values)
        self._cells: dict[Coord, int] = {}
        for coord, count in counts.items():
            if len(coord) != len(self.dims):
                raise ValueError(f"{coord!r} does not have {len(self.dims)} coordinates")
            for index, value in enumerate(coord):
                if value not in self.values[index]:
                    raise ValueError(f"{value!r} is not a value of {self.dims[index]}")
            for mask in itertools.product((False, True), repeat=len(self.dims)):
                margin = tuple(TOTAL if m else v for v, m in zip(coord, mask, strict=True))
                self._cells[margin] = self._cells.get(margin, 0) + count

    @classmethod
    def from_rows(
        cls,
        dims: Sequence[str],
        rows: Iterable[Sequence[Any]],
        values: Sequence[Sequence[Hashable] | None] | None = None,
    ) -> Cube:
        """A cube from (key, …, count) rows; a dimension's values are given or found in the rows
        (sorted). Rows with the same key are added up."""
        counts: dict[Coord, int] = {}
        for row in rows:
            key = tuple(row[: len(dims)])
            counts[key] = counts.get(key, 0) + int(row[len(dims)])
        found = [sorted({key[i] for key in counts}, key=_sort_key) for i in range(len(dims))]
        chosen = [
            list(given) + [v for v in found[i] if v not in given] if given is not None else found[i]
            for i, given in enumerate(values or [None] * len(dims))
        ]
        return cls(dims, chosen, counts)

    def __getitem__(self, coord: Coord) -> int:
        return self._cells.get(tuple(coord), 0)

    def get(self, **where: Hashable) -> int:
        """The count at the named coordinates; dimensions not named are totalled."""
        unknown = set(where) - set(self.dims)
        if unknown:
            raise KeyError(f"no dimension {sorted(unknown)}")
        return self[tuple(where.get(dim, TOTAL) for dim in self.dims)]

    @property
    def total(self) -> int:
        return self[(TOTAL,) * len(self.dims)]

    def coords(self) -> Iterable[Coord]:
        """Every cell and margin, zeros included."""
        return itertools.product(*[(*values, TOTAL) for values in self.values])

    def groups(self) -> Iterable[tuple[Coord, list[Coord]]]:
        """Each margin with the cells it totals (one line of the cube along one dimension)."""
        for index, values in enumerate(self.values):
            for coord in self.coords():
                if coord[index] is TOTAL:
                    members = [(*coord[:index], v, *coord[index + 1 :]) for v in values]
                    yield coord, members

    def suppressed(self, threshold: int) -> frozenset[Coord]:
        """The cells and margins to hide so that no count from 1 to threshold − 1 shows or can be
        worked out from the totals of its lines."""
        if threshold <= 1:
            return frozenset()
        hidden = {c for c in self.coords() if 0 < self[c] < threshold}
        if not hidden:
            return frozenset()
        groups = list(self.groups())
        order = {coord: i for i, coord in enumerate(self.coords())}
        changed = True
        while changed:
            changed = False
            for margin, members in groups:
                line = [margin, *members]
                if sum(1 for c in line if c in hidden) != 1:
                    continue
                # The smallest other non-zero figure of the line, so that the two hidden cells
                # share an unknown split; a zero could be known to be zero from its other lines,
                # so when only zeros are left, the total is hidden instead.
                visible = [c for c in members if c not in hidden and self[c] > 0]
                pick = min(visible, key=lambda c: (self[c], order[c])) if visible else margin
                hidden.add(pick)
                changed = True
        return frozenset(hidden)


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (2, "")
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, int):
        return (0, value)
    return (1, str(value))


@dataclass(frozen=True)
class Cell:
    """A figure as shown: its value (None when suppressed or not a count) and its text."""

    value: int | None
    display: str
    suppressed: bool = False


@dataclass
class Row:
    label: str
    cells: list[Cell]
    total: bool = False
    level: int = 0
    key: Any = None
    link: str = ""
    note: str = ""
    # The code of what the row is about (a division's, a school's 学校标识码), when it has one.
    code: str = ""


@dataclass
class Table:
    """A table of figures with its definition, laid out from a (suppressed) cube."""

    key: str
    title: str
    definition: str
    corner: str
    columns: list[str]
    rows: list[Row] = field(default_factory=list)
    column_keys: list[Any] = field(default_factory=list)
    suppressed: bool = False

    def column(self, index: int) -> list[Cell]:
        return [row.cells[index] for row in self.rows]

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": str(self.title),
            "definition": str(self.definition),
            "corner": str(self.corner),
            "columns": [str(c) for c in self.columns],
            "rows": [
                {
                    "label": str(row.label),
                    "total": row.total,
                    "cells": [
                        cell.value if cell.value is not None else cell.display for cell in row.cells
                    ],
                }
                for row in self.rows
            ],
            "suppressed": self.suppressed,
        }


class Shown:
    """Reads figures out of a cube as cells, hiding what suppression hides."""

    def __init__(self, cube: Cube, threshold: int, suppress: bool) -> None:
        self.cube = cube
        self.threshold = threshold
        self.hidden = cube.suppressed(threshold) if suppress else frozenset()

    @property
    def any_hidden(self) -> bool:
        return bool(self.hidden)

    def cell(self, **where: Hashable) -> Cell:
        coord = tuple(where.get(dim, TOTAL) for dim in self.cube.dims)
        if coord in self.hidden:
            small = 0 < self.cube[coord] < self.threshold
            return Cell(None, f"<{self.threshold}" if small else HIDDEN, suppressed=True)
        value = self.cube[coord]
        return Cell(value, f"{value:,}")

    def value(self, **where: Hashable) -> int | None:
        return self.cell(**where).value


def table_of(
    shown: Shown,
    *,
    key: str,
    title: str,
    definition: str,
    corner: str,
    rows: Sequence[tuple[str, Mapping[str, Hashable], bool, int]],
    columns: Sequence[tuple[str, Mapping[str, Hashable]]],
) -> Table:
    """A table whose cell (row, column) is the cube's figure at the row's and column's
    coordinates together; rows are (label, coordinates, is a total, indent level)."""
    return Table(
        key=key,
        title=title,
        definition=definition,
        corner=corner,
        columns=[label for label, _where in columns],
        column_keys=[where for _label, where in columns],
        rows=[
            Row(
                label=label,
                cells=[shown.cell(**row_where, **col_where) for _l, col_where in columns],
                total=is_total,
                level=level,
                key=row_where,
            )
            for label, row_where, is_total, level in rows
        ],
        suppressed=shown.any_hidden,
    )


def labelled(values: Iterable[Hashable], label: Callable[[Any], str]) -> list[tuple[str, Any]]:
    return [(label(value), value) for value in values]
