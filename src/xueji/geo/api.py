"""API of administrative divisions (GB/T 2260): provinces, cities, counties."""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Field, Router, Schema

from xueji.access.decorators import endpoint_requires
from xueji.access.policy import Action
from xueji.core.api import COMMON_ERRORS, DivisionCode, ErrorOut, caller
from xueji.core.errors import NotFound
from xueji.geo.selectors import division_get, divisions_list

router = Router(tags=["divisions"])


class DivisionOut(Schema):
    code: str
    name: str
    level: str
    parent_code: str | None = None
    county_level: bool = Field(
        False,
        description="A county, or a city without counties (东莞, 中山 …) that is its own county",
    )

    @staticmethod
    def resolve_parent_code(obj: object) -> str | None:
        return getattr(obj, "parent_id", None)


@router.get("", response={200: list[DivisionOut], **COMMON_ERRORS})
@endpoint_requires(Action.DIVISION_VIEW)
def list_divisions(
    request: HttpRequest,
    parent: DivisionCode | None = None,
    level: Literal["province", "city", "county"] | None = None,
) -> object:
    """Divisions in your scope: the children of `parent`, or those of one `level`
    (province, city, county: every county-level division, cities without counties included);
    with neither, the provinces."""
    if parent is None and level is None:
        level = "province"
    return divisions_list(caller(request), parent_code=parent, level=level)


@router.get("/{code}", response={200: DivisionOut, 404: ErrorOut, **COMMON_ERRORS})
@endpoint_requires(Action.DIVISION_VIEW)
def get_division(request: HttpRequest, code: DivisionCode) -> object:
    """One division by its 6-digit code."""
    division = division_get(caller(request), code)
    if division is None:
        raise NotFound("division_not_found", _("No such administrative division."))
    return division
