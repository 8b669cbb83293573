"""The dimensions a breakdown counts children by, each with its title, definition, values and
labels."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from xueji.core import codes
from xueji.schools.models import SchoolKind
from xueji.stats import definitions
from xueji.stats.selectors.common import choice_labels


@dataclass(frozen=True)
class Dimension:
    key: str
    title: Callable[[], str]
    definition: Callable[[], str]
    values: Callable[[], list[str]]
    label: Callable[[Hashable], str]


def _from_choices(choices: Callable[[], Iterable[tuple[str, Any]]]) -> Callable[[Hashable], str]:
    def label(value: Hashable) -> str:
        return choice_labels(choices()).get(str(value), str(value))

    return label


DIMENSIONS: dict[str, Dimension] = {
    "ethnicity": Dimension(
        "ethnicity",
        lambda: _("Ethnicity"),
        definitions.ethnicity,
        lambda: [],
        lambda v: codes.ETHNICITY_NAMES.get(str(v), str(v)),
    ),
    "hukou_nature": Dimension(
        "hukou_nature",
        lambda: _("Household registration type (户口性质)"),
        definitions.hukou_nature,
        lambda: list(codes.HukouNature.values),
        _from_choices(lambda: codes.HukouNature.choices),
    ),
    "left_behind": Dimension(
        "left_behind",
        lambda: _("Left-behind children (留守儿童)"),
        definitions.left_behind,
        lambda: list(codes.LeftBehind.values),
        _from_choices(lambda: codes.LeftBehind.choices),
    ),
    "migrant_child": Dimension(
        "migrant_child",
        lambda: _("Children of migrant workers (随迁子女)"),
        definitions.migrant_child,
        lambda: ["1", "0"],
        lambda v: _("Child of a migrant worker") if str(v) == "1" else _("Other children"),
    ),
    "disability": Dimension(
        "disability",
        lambda: _("Disability"),
        definitions.disability,
        lambda: list(codes.DisabilityType.values),
        _from_choices(lambda: codes.DisabilityType.choices),
    ),
    "boarding": Dimension(
        "boarding",
        lambda: _("Day students and boarders"),
        definitions.boarding,
        lambda: list(codes.AttendanceMode.values),
        _from_choices(lambda: codes.AttendanceMode.choices),
    ),
    "school_kind": Dimension(
        "school_kind",
        lambda: _("Kind of school"),
        definitions.school_kind,
        lambda: list(SchoolKind.values),
        _from_choices(lambda: SchoolKind.choices),
    ),
}
