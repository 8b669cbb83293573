"""The checks that find the wrong class, not just the wrong total.

Each check runs over the class-by-class cells of the schools' reports in force under a unit (a
school's own, or every school of a division), and names the classes and the children behind it:
- cells that changed by more than the round's threshold since the previous round;
- ages impossible for the grade;
- classes with no confirmed verification (核查) in the term of the census date;
- children with open anomalies (a duplicate pair not yet resolved, a hollow record 空挂) counted
  in the report, from xueji.identity and xueji.attendance where those capabilities are present.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, OuterRef, Sum
from django.utils.translation import gettext as _

from xueji.reporting.models import Cell, ReportTable, UnitLevel, UnitReport
from xueji.reporting.selectors import (
    ChildLine,
    _school_submissions,
    cell_children,
    child_lines,
    counted_in_classes,
    describe_key,
    figures_of,
    live_figures,
    previous_unit,
)
from xueji.schools.models import SchoolClass, Term, grade_label
from xueji.students.models import Student
from xueji.verification.models import CheckOutcome, StudentCheck

# Ages (completed years on the census date) a grade can hold: grade 1 holds 6-year-olds, so
# grade g is typically g + 5; a child 3 years younger or 6 years older than that is a typing
# error somewhere (a birth year or a grade), not a child.
YOUNGEST_OFFSET = 2
OLDEST_OFFSET = 11
LIMIT = 50


def age_possible(grade: int, age: int) -> bool:
    return grade + YOUNGEST_OFFSET <= age <= grade + OLDEST_OFFSET


@dataclass
class NamedClass:
    id: int
    school: str
    name: str
    count: int


@dataclass
class Finding:
    kind: str
    title: str
    detail: str
    classes: list[NamedClass] = field(default_factory=list)
    children: list[ChildLine] = field(default_factory=list)


@dataclass
class Checks:
    findings: list[Finding]
    # Checks that could not run, and why (a capability not present yet).
    skipped: list[str]

    def of(self, kind: str) -> list[Finding]:
        return [f for f in self.findings if f.kind == kind]


def _class_cells(unit: UnitReport) -> Any:
    cells = Cell.objects.filter(school_class__isnull=False)
    if unit.level == UnitLevel.SCHOOL:
        return cells.filter(submission_id=unit.submission_id or 0)
    return cells.filter(submission_id__in=_school_submissions(unit))


def _named(rows: Any) -> list[NamedClass]:
    return [NamedClass(c, str(s), f"{grade_label(int(g))} {n}", int(k)) for c, s, g, n, k in rows]


CLASS_COLUMNS = (
    "school_class_id",
    "school_class__school__name",
    "school_class__grade",
    "school_class__name",
)


def changed_cells(unit: UnitReport) -> list[Finding]:
    """Cells that moved by more than the round's threshold since the previous round, with the
    classes of the report behind each (and the children for a school)."""
    old_unit = previous_unit(unit)
    if old_unit is None or old_unit.submission_id is None:
        return []
    new = figures_of(unit.submission_id) if unit.submission_id else live_figures(unit)
    old = figures_of(old_unit.submission_id)
    threshold = unit.round.threshold_percent
    findings = []
    for key in sorted(set(new) | set(old), key=str):
        if key[0] == ReportTable.MOVEMENT:
            continue
        before, after = old.get(key, 0), new.get(key, 0)
        if abs(after - before) <= max(1, before * threshold / 100):
            continue
        table, grade, age, sex, category = key
        cell: dict[str, Any] = {"table": table}
        for name, value in (("grade", grade), ("age", age), ("sex", sex), ("category", category)):
            if value not in (None, ""):
                cell[name] = value
        cells = _class_cells(unit).filter(**cell)
        classes = _named(
            cells.values_list(*CLASS_COLUMNS).annotate(n=Sum("count")).order_by("-n")[:LIMIT]
        )
        children = (
            cell_children(unit, cell, [c.id for c in classes], limit=LIMIT)
            if unit.level == UnitLevel.SCHOOL
            else []
        )
        findings.append(
            Finding(
                "changed",
                f"{ReportTable(table).label}: {describe_key(key)}",
                _("%(before)s last round, %(after)s now (more than %(threshold)s%%).")
                % {"before": before, "after": after, "threshold": threshold},
                classes,
                children,
            )
        )
        if len(findings) >= LIMIT:
            break
    return findings


def impossible_ages(unit: UnitReport) -> list[Finding]:
    """Grade × age cells of a class whose age the grade cannot hold."""
    rows = (
        _class_cells(unit)
        .filter(table=ReportTable.GRADE_AGE_SEX)
        .values_list(*CLASS_COLUMNS, "grade", "age")
        .annotate(n=Sum("count"))
        .order_by("school_class__school__code", "grade", "age")
    )
    findings = []
    for class_id, school, class_grade, name, grade, age, n in rows:
        if grade is None or age is None or age_possible(int(grade), int(age)):
            continue
        named = NamedClass(class_id, str(school), f"{grade_label(int(class_grade))} {name}", int(n))
        cell = {"table": ReportTable.GRADE_AGE_SEX, "grade": grade, "age": age}
        findings.append(
            Finding(
                "age",
                _("%(grade)s, aged %(age)s") % {"grade": grade_label(int(grade)), "age": age},
                _("%(count)s children aged %(age)s in %(grade)s: a birth date or a grade is wrong.")
                % {"count": n, "age": age, "grade": grade_label(int(grade))},
                [named],
                cell_children(unit, cell, [class_id], limit=LIMIT),
            )
        )
        if len(findings) >= LIMIT:
            break
    return findings


def term_of(day: datetime.date) -> Term | None:
    return Term.objects.filter(start_date__lte=day, end_date__gte=day).first()


def unverified_classes(unit: UnitReport) -> list[Finding]:
    """Classes in the report with no record confirmed by their class teacher in a verification
    window of the census date's term."""
    census = unit.round.census_date
    term = term_of(census)
    confirmed = StudentCheck.objects.filter(
        school_class_id=OuterRef("school_class_id"), outcome=CheckOutcome.CONFIRMED
    )
    if term is not None:
        confirmed = confirmed.filter(window__term=term)
    else:
        confirmed = confirmed.filter(
            window__opens_on__lte=census,
            window__closes_on__gte=census - datetime.timedelta(days=183),
        )
    rows = (
        _class_cells(unit)
        .filter(table__in=[ReportTable.GRADE_AGE_SEX, ReportTable.ETHNICITY])
        .values_list(*CLASS_COLUMNS)
        .annotate(n=Sum("count"), verified=Exists(confirmed))
        .filter(verified=False)
        .order_by("school_class__school__code", "school_class__grade", "school_class__number")
    )
    seen: dict[int, NamedClass] = {}
    for class_id, school, grade, name, _n, _verified in rows:
        if class_id in seen:
            continue
        seen[class_id] = NamedClass(class_id, str(school), f"{grade_label(int(grade))} {name}", 0)
    if not seen:
        return []
    # The head count of each class: from the grade × age × sex table, else the report's first.
    counts = dict(
        _class_cells(unit)
        .filter(school_class_id__in=list(seen), table=unit.round.tables[0])
        .values_list("school_class_id")
        .annotate(n=Sum("count"))
    )
    for class_id, named in seen.items():
        named.count = int(counts.get(class_id, 0))
    classes = list(seen.values())
    children = (
        child_lines(counted_in_classes(census, [c.id for c in classes]).distinct(), census, LIMIT)
        if unit.level == UnitLevel.SCHOOL
        else []
    )
    return [
        Finding(
            "unverified",
            _("Classes with no confirmed verification in the term"),
            _("%(count)s classes: no class teacher confirmed a record of them in a window.")
            % {"count": len(classes)},
            classes[:LIMIT],
            children,
        )
    ]


def _anomaly_sources(on: datetime.date) -> tuple[dict[str, set[Any]], list[str]]:
    """The children with open anomalies, by kind, from the capabilities present."""
    sources: dict[str, set[Any]] = {}
    skipped: list[str] = []
    try:
        from xueji.identity.selectors import students_in_open_duplicate_pairs
    except ImportError:
        skipped.append(_("Duplicates: the identity capability is not installed yet."))
    else:
        sources["duplicate"] = set(students_in_open_duplicate_pairs())
    try:
        from xueji.attendance.selectors import hollow_student_ids
    except ImportError:
        skipped.append(_("Hollow records: the attendance capability is not installed yet."))
    else:
        sources["hollow"] = set(hollow_student_ids(on=on))
    return sources, skipped


def open_anomalies(unit: UnitReport) -> tuple[list[Finding], list[str]]:
    """Children counted in the report's classes who are in an open duplicate pair or flagged
    as hollow on the census date."""
    census = unit.round.census_date
    sources, skipped = _anomaly_sources(census)
    wanted = set().union(*sources.values()) if sources else set()
    if not wanted:
        return [], skipped
    class_ids = list(
        _class_cells(unit)
        .filter(table=unit.round.tables[0])
        .values_list("school_class_id", flat=True)
        .distinct()
    )
    findings = []
    titles = {
        "duplicate": _("Children in a duplicate pair not yet resolved"),
        "hollow": _("Hollow records (空挂) counted in the report"),
    }
    for kind, ids in sources.items():
        if not ids:
            continue
        found = counted_in_classes(census, class_ids).filter(pk__in=list(ids)).distinct()
        lines = child_lines(found, census, LIMIT)
        if not lines:
            continue
        per_class = (
            Student.objects.filter(pk__in=[line.id for line in lines])
            .filter(placements__school_class_id__in=class_ids)
            .values_list("placements__school_class_id")
            .annotate(n=Count("pk", distinct=True))
        )
        counts = {c: int(n) for c, n in per_class}
        classes = [
            NamedClass(c.pk, c.school.name, f"{grade_label(c.grade)} {c.name}", counts[c.pk])
            for c in SchoolClass.objects.filter(pk__in=list(counts)).select_related("school")
        ]
        findings.append(
            Finding(
                kind,
                titles[kind],
                _("%(count)s children are counted in the report.") % {"count": len(lines)},
                classes,
                lines,
            )
        )
    return findings, skipped


def unit_checks(unit: UnitReport) -> Checks:
    """Every check on a report, each naming its classes and children."""
    anomalies, skipped = open_anomalies(unit)
    findings = [
        *changed_cells(unit),
        *impossible_ages(unit),
        *unverified_classes(unit),
        *anomalies,
    ]
    return Checks(findings, skipped)
