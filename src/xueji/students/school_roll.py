"""The record's side of a school's roll, registered with xueji.schools.pupils: the school system
counts a school's pupils and moves them all when the school merges into another, without
importing the record (which sits above it)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from xueji.students.bulk import placements_move_school
from xueji.students.models import Placement


class SchoolRoll:
    """The children whose open placement is at a school (在籍, 休学, 转学中 alike: each is
    counted at the school until the placement closes)."""

    @staticmethod
    def _open(school_id: int) -> Any:
        return Placement.objects.filter(school_id=school_id, end_date__isnull=True)

    def count(self, school_id: int) -> int:
        return int(self._open(school_id).count())

    def grades(self, school_id: int) -> set[int]:
        return set(self._open(school_id).values_list("grade", flat=True).distinct())

    def classes(self, school_id: int) -> set[int]:
        return set(self._open(school_id).values_list("school_class_id", flat=True).distinct())

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
        return placements_move_school(
            from_school_id=from_school_id,
            to_school_id=to_school_id,
            class_map=class_map,
            on=on,
            actor_id=getattr(actor, "pk", None),
            detail=detail,
        )
