"""Writes of divisions and bureaus."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from xueji.audit.services import audit_record
from xueji.geo.gb2260 import current_divisions
from xueji.geo.models import BureauLevel, Division, EducationBureau

BUREAU_SUFFIX = "教育局"


def load_divisions(division_model: Any, bureau_model: Any) -> int:
    """Upsert every current division and its education bureau; returns the number of divisions.

    Takes the model classes so that the data migration can run it with historical models.
    """
    rows = list(current_divisions())
    # The first data migration runs with the table as it was before the county-level mark.
    marked = any(field.name == "county_level" for field in division_model._meta.get_fields())
    division_model.objects.bulk_create(
        [
            division_model(
                code=r.code,
                name=r.name,
                level=r.level,
                parent_id=r.parent_code,
                **({"county_level": r.county_level} if marked else {}),
            )
            for r in rows
        ],
        update_conflicts=True,
        unique_fields=["code"],
        update_fields=["name", "level", "parent", *(["county_level"] if marked else [])],
        batch_size=1000,
    )
    if not bureau_model.objects.filter(level=BureauLevel.NATION).exists():
        bureau_model.objects.create(name="中华人民共和国教育部", level=BureauLevel.NATION)
    existing = set(
        bureau_model.objects.exclude(division=None).values_list("division_id", flat=True)
    )
    bureau_model.objects.bulk_create(
        [
            bureau_model(name=f"{r.name}{BUREAU_SUFFIX}", level=r.level, division_id=r.code)
            for r in rows
            if r.code not in existing
        ],
        batch_size=1000,
    )
    return len(rows)


def divisions_refresh(*, actor: Any) -> int:
    """Bring the division table up to date with the installed GB/T 2260 data."""
    with transaction.atomic():
        count = load_divisions(Division, EducationBureau)
        audit_record(actor=actor, action="geo.divisions_refresh", detail={"divisions": count})
    return count
