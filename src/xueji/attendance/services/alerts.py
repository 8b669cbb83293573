"""Symptom clusters (晨午检): several children of one class absent sick with the same symptom
within a few days (both province settings) raise an alert to the school and its county, once per
cluster (a cluster still growing updates its alert)."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Count, Max, Min

from xueji.attendance.models import Absence, ProvinceSettings, Reason, SymptomAlert
from xueji.attendance.rules import settings_for
from xueji.schools.models import SchoolClass


def alerts_raise_for_class(*, school_class: SchoolClass, on: datetime.date) -> list[SymptomAlert]:
    """Raise or widen the class's alerts for the days up to `on` (in the caller's transaction)."""
    rules = settings_for(school_class.school.county_id)
    since = on - datetime.timedelta(days=max(rules.cluster_days, 1) - 1)
    rows = (
        Absence.objects.filter(
            school_class=school_class, day__gte=since, day__lte=on, reason=Reason.SICK
        )
        .values("symptom")
        .annotate(n=Count("student_id", distinct=True), first=Min("day"), last=Max("day"))
        .filter(n__gte=rules.cluster_children)
    )
    raised: list[SymptomAlert] = []
    for row in rows:
        current = (
            SymptomAlert.objects.filter(
                school_class=school_class,
                symptom=row["symptom"],
                last_day__gte=since - datetime.timedelta(days=1),
            )
            .order_by("-last_day")
            .first()
        )
        if current is None:
            current = SymptomAlert.objects.create(
                school_class=school_class,
                school_id=school_class.school_id,
                symptom=row["symptom"],
                first_day=row["first"],
                last_day=row["last"],
                children=row["n"],
            )
        else:
            current.last_day = max(current.last_day, row["last"])
            current.children = max(current.children, row["n"])
            current.save(update_fields=["last_day", "children"])
        raised.append(current)
    return raised


def alerts_scan(*, on: datetime.date) -> int:
    """Every class with sick absences in the last days (the daily task's safety net)."""
    count = 0
    # Only the classes with a cluster under the smallest setting in force are looked at closely.
    smallest = ProvinceSettings.objects.aggregate(
        children=Min("cluster_children"), days=Max("cluster_days")
    )
    default = ProvinceSettings()
    children = min(smallest["children"] or default.cluster_children, default.cluster_children)
    days = max(smallest["days"] or default.cluster_days, default.cluster_days)
    since = on - datetime.timedelta(days=max(days, 1) - 1)
    class_ids: Any = (
        Absence.objects.filter(day__gte=since, day__lte=on, reason=Reason.SICK)
        .values("school_class_id", "symptom")
        .annotate(n=Count("student_id", distinct=True))
        .filter(n__gte=children)
        .values_list("school_class_id", flat=True)
        .distinct()
    )
    for school_class in SchoolClass.objects.filter(pk__in=list(class_ids)).select_related("school"):
        count += len(alerts_raise_for_class(school_class=school_class, on=on))
    return count


def alerts_raise_for_classes(
    *, pairs: set[tuple[int, datetime.date]], classes: dict[int, SchoolClass]
) -> int:
    """alerts_raise_for_class for many class-days (a card system's file): one query finds the
    classes with a cluster possible under the loosest setting in force; only those are looked
    at closely."""
    if not pairs:
        return 0
    smallest = ProvinceSettings.objects.aggregate(
        children=Min("cluster_children"), days=Max("cluster_days")
    )
    default = ProvinceSettings()
    children = min(smallest["children"] or default.cluster_children, default.cluster_children)
    days = max(smallest["days"] or default.cluster_days, default.cluster_days)
    first = min(d for _c, d in pairs) - datetime.timedelta(days=max(days, 1) - 1)
    last = max(d for _c, d in pairs)
    candidates = set(
        Absence.objects.filter(
            school_class_id__in={c for c, _d in pairs},
            day__gte=first,
            day__lte=last,
            reason=Reason.SICK,
        )
        .values("school_class_id", "symptom")
        .annotate(n=Count("student_id", distinct=True))
        .filter(n__gte=children)
        .values_list("school_class_id", flat=True)
    )
    count = 0
    for class_id, day in sorted(pairs, key=lambda pair: (pair[1], pair[0])):
        if class_id in candidates:
            count += len(alerts_raise_for_class(school_class=classes[class_id], on=day))
    return count
