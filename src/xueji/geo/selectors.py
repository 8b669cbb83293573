"""Reads of divisions and bureaus."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from xueji.access.scope import divisions_visible, scope_of
from xueji.geo.models import Division, DivisionLevel


def divisions_list(
    user: Any, *, parent_code: str | None = None, level: str | None = None
) -> QuerySet[Division]:
    """Divisions inside the user's scope, optionally the children of one or of one level."""
    divisions = Division.objects.filter(divisions_visible(scope_of(user)))
    if parent_code is not None:
        divisions = divisions.filter(parent_id=parent_code)
    if level == DivisionLevel.COUNTY:
        # A city without counties (东莞, 中山, 儋州, 嘉峪关) is a county as well as a city.
        divisions = divisions.filter(county_level=True)
    elif level is not None:
        divisions = divisions.filter(level=level)
    return divisions.order_by("code")


def county_level_divisions(user: Any) -> QuerySet[Division]:
    """The county-level divisions inside the user's scope (where schools are), with their
    parents, by code."""
    return (
        Division.objects.filter(divisions_visible(scope_of(user)), county_level=True)
        .select_related("parent")
        .order_by("code")
    )


def division_exists(code: str) -> bool:
    """Whether a code names a current division."""
    return Division.objects.filter(code=code).exists()


def division_get(user: Any, code: str) -> Division | None:
    """One division inside the user's scope, with its parent, or None."""
    return (
        Division.objects.filter(divisions_visible(scope_of(user)))
        .select_related("parent")
        .filter(code=code)
        .first()
    )
