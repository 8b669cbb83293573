"""What the reports share: the labels of grades, ages and choices, the two table layouts
(grade × age × sex; one dimension by sex), the exits' kinds, and today."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Hashable, Iterable
from typing import Any, cast

from django.utils import timezone
from django.utils.translation import gettext as _

from xueji.core import codes
from xueji.schools.models import grade_label
from xueji.stats import definitions, sql
from xueji.stats.tables import HIDDEN, Shown, Table, table_of

SEXES = (codes.Sex.MALE.value, codes.Sex.FEMALE.value)
HIDDEN_DERIVED = HIDDEN


def grade_name(value: Hashable) -> str:
    return grade_label(int(cast(int, value)))


def age_label(age: Hashable) -> str:
    return _("%(age)s yrs") % {"age": age}


def choice_labels(choices: Iterable[tuple[str, Any]]) -> dict[str, str]:
    return {str(value): str(label) for value, label in choices}


def sex_columns() -> list[tuple[str, dict[str, Hashable]]]:
    return [
        (_("Total"), {}),
        (_("Boys"), {"sex": codes.Sex.MALE.value}),
        (_("Girls"), {"sex": codes.Sex.FEMALE.value}),
    ]


def age_table(
    shown: Shown,
    *,
    key: str,
    title: str,
    where: dict[str, Hashable] | None = None,
) -> Table:
    """Grade × age × sex: a row per grade with a boys' and a girls' row under it; a column per
    age in completed years; totals along both."""
    where = where or {}
    cube = shown.cube
    grades = [g for g in cube.values[cube.dims.index("grade")] if cube.get(**where, grade=g)]
    ages = [a for a in cube.values[cube.dims.index("age")] if cube.get(**where, age=a)]
    rows: list[tuple[str, dict[str, Hashable], bool, int]] = []
    for grade in grades:
        rows.append((grade_name(grade), {**where, "grade": grade}, False, 0))
        rows.append((_("Boys"), {**where, "grade": grade, "sex": SEXES[0]}, False, 1))
        rows.append((_("Girls"), {**where, "grade": grade, "sex": SEXES[1]}, False, 1))
    rows.append((_("All grades"), dict(where), True, 0))
    rows.append((_("Boys"), {**where, "sex": SEXES[0]}, True, 1))
    rows.append((_("Girls"), {**where, "sex": SEXES[1]}, True, 1))
    columns: list[tuple[str, dict[str, Hashable]]] = [(_("Total"), {})]
    columns += [(age_label(a), {"age": a}) for a in ages]
    return table_of(
        shown,
        key=key,
        title=title,
        definition=definitions.grade_age_sex(),
        corner=_("Grade"),
        rows=rows,
        columns=columns,
    )


def one_way_table(
    shown: Shown,
    dimension: str,
    *,
    key: str,
    title: str,
    definition: str,
    corner: str,
    label: Callable[[Hashable], str],
    keep_empty: bool = False,
    where: dict[str, Hashable] | None = None,
) -> Table:
    """A row per value of one dimension (by sex in columns when the cube has sex), and a total."""
    where = where or {}
    cube = shown.cube
    values = [
        v
        for v in cube.values[cube.dims.index(dimension)]
        if keep_empty or cube.get(**{dimension: v})
    ]
    rows = [(label(v), {**where, dimension: v}, False, 0) for v in values]
    rows.append((_("Total"), dict(where), True, 0))
    columns = sex_columns() if "sex" in cube.dims else [(_("Children"), {})]
    return table_of(
        shown,
        key=key,
        title=title,
        definition=definition,
        corner=corner,
        rows=rows,
        columns=columns,
    )


def local_today() -> datetime.date:
    return timezone.localdate()


def unit_corner(level: str | None) -> str:
    return {
        "province": _("Province"),
        "city": _("City"),
        "county": _("County"),
        "school": _("School"),
        "class": _("Class"),
    }.get(level or "", "")


def exit_kind(state: str) -> str:
    if state in sql.GRADUATED_STATES:
        return "graduated"
    if state in sql.DROPOUT_STATES:
        return "dropped_out"
    return "other"
