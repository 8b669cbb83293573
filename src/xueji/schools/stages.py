"""The stages of schooling (学段) and where each ends: a child graduates (毕业) only at the end
of a stage, not at whatever grade its school happens to stop.

    学前 (preschool)        grades -2 … 0    ends at 0 (大班)
    小学 (primary)          grades  1 … 6    ends at 6; at 5 in a five-year primary (五四制)
    初中 (junior high)      grades  7 … 9    ends at 9
    高中 (senior high)      grades 10 … 12   ends at 12

A school whose last grade ends no stage (a 教学点 of grades 1–4, an incomplete primary of
grades 1–3 or 1–4) sends its top grade on to the next grade elsewhere: a teaching point's
pupils to its central school (中心校); the year end moves them (xueji.yearend.engine), or lists
them for the registrar where there is no school to move them to.

One definition, as a Python predicate for one school, a filter for querysets reaching a
school, and the same condition in SQL for the set-based year end.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from xueji.schools.models import SchoolKind

# The last grade of each stage: 大班, 六年级, 初三, 高三.
STAGE_LAST_GRADES: tuple[int, ...] = (0, 6, 9, 12)

# 五四制: where primary school lasts five years, a primary school teaching up to grade 5 ends
# the primary stage there (the school registry lets a primary school narrow its grades to 1–5
# for this). A teaching point's grade 5 ends nothing: its pupils go on to the central school.
FIVE_YEAR_PRIMARY_LAST_GRADE = 5


def ends_stage(kind: str, grade: int) -> bool:
    """Does `grade`, as the last grade of a school of `kind`, end a stage (its pupils
    graduate)?"""
    if grade in STAGE_LAST_GRADES:
        return True
    return kind == SchoolKind.PRIMARY and grade == FIVE_YEAR_PRIMARY_LAST_GRADE


def school_ends_stage(school: Any) -> bool:
    """Do the pupils of the school's last grade graduate from a stage?"""
    return ends_stage(school.kind, school.last_grade)


def ends_stage_sql(alias: str) -> str:
    """The same condition on the school aliased `alias` in SQL (its last grade ends a stage)."""
    grades = ", ".join(str(grade) for grade in STAGE_LAST_GRADES)
    return (
        f"({alias}.last_grade IN ({grades}) OR ({alias}.kind = '{SchoolKind.PRIMARY.value}' "
        f"AND {alias}.last_grade = {FIVE_YEAR_PRIMARY_LAST_GRADE}))"
    )


def ends_stage_q(prefix: str = "") -> Q:
    """The same condition as a filter on a model reaching School through `prefix` ("school__";
    "" for School itself)."""
    return Q(**{f"{prefix}last_grade__in": STAGE_LAST_GRADES}) | Q(
        **{f"{prefix}kind": SchoolKind.PRIMARY, f"{prefix}last_grade": FIVE_YEAR_PRIMARY_LAST_GRADE}
    )
