"""What the school system asks of the layers above it when a school closes or merges.

The schools app registers, edits, closes and merges schools, but the children on a school's roll
are the record's (xueji.students), and the work under way at a school (changes of status,
corrections) belongs to the workflows above: importing them here would turn the layers upside
down. Instead they register at start-up, in their AppConfig.ready(), as access's limits are:
- students registers the pupils on roll (count them, their grades and classes, move them all to
  another school set-based: xueji.students.bulk.placements_move_school);
- a workflow registers a closure check: the unfinished business at a school that must end before
  the school closes or merges (each a sentence for the bureau, with how many).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured


class PupilsOnRoll(Protocol):
    """The children whose open placement is at a school."""

    def count(self, school_id: int) -> int: ...

    def grades(self, school_id: int) -> set[int]: ...

    def classes(self, school_id: int) -> set[int]:
        """The ids of the classes they sit in."""
        ...

    def move(
        self,
        *,
        actor: Any,
        from_school_id: int,
        to_school_id: int,
        class_map: Mapping[int, int],
        on: datetime.date,
        detail: Mapping[str, Any],
    ) -> int:
        """Move all of them, in the caller's transaction, each into the class `class_map`
        gives for its own; returns how many moved."""
        ...


# A closure check: given a school's id, the reasons it cannot close yet (empty when none).
ClosureCheck = Callable[[int], list[str]]

_pupils: list[PupilsOnRoll] = []
_closure_checks: dict[str, ClosureCheck] = {}


def register_pupils(pupils: PupilsOnRoll) -> None:
    """The record's side of a school's roll (xueji.students registers it when ready)."""
    _pupils[:] = [pupils]


def pupils_on_roll() -> PupilsOnRoll:
    if not _pupils:
        raise ImproperlyConfigured(
            "No app registered the pupils on roll: xueji.students registers them in its "
            "AppConfig.ready() (xueji.schools.pupils.register_pupils)."
        )
    return _pupils[0]


def register_closure_check(name: str, check: ClosureCheck) -> None:
    """From now on, a school with unfinished business of this kind cannot close or merge."""
    _closure_checks[name] = check


def closure_obstacles(school_id: int) -> list[str]:
    """Every registered reason the school cannot close or merge yet."""
    found: list[str] = []
    for _name, check in sorted(_closure_checks.items()):
        found.extend(check(school_id))
    return found
