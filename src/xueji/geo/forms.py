"""A cascading province → city → county picker for division codes (htmx refreshes the lists)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.urls import reverse

from xueji.geo.selectors import divisions_list

_CODE = re.compile(r"^[0-9]{6}$")


def split_code(code: str) -> tuple[str, str, str]:
    """(province, city, county) codes of a division code; the parts not named are empty."""
    if not _CODE.match(code or ""):
        return "", "", ""
    if code.endswith("0000"):
        return code, "", ""
    if code.endswith("00"):
        return code[:2] + "0000", code, ""
    return code[:2] + "0000", code[:4] + "00", code


def chosen_code(province: str, city: str, county: str) -> str:
    """The most precise division the three selects name, ignoring a choice its parent overrules.

    When the province changes, the city and county still selected belong to the old province;
    they are dropped rather than combined into a place that does not exist.
    """
    province = province if _CODE.match(province or "") else ""
    city = city if _CODE.match(city or "") and city[:2] == province[:2] else ""
    county = county if _CODE.match(county or "") and city and county[:4] == city[:4] else ""
    return county or city or province


class DivisionPicker(forms.Widget):
    """Three selects; the value is the code of the most precise one chosen."""

    template_name = "geo/widgets/division_picker.html"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.user: Any = None

    def value_from_datadict(self, data: Any, files: Any, name: str) -> str:
        return chosen_code(
            data.get(f"{name}__province", ""), data.get(f"{name}__city", ""), data.get(name, "")
        )

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data and f"{name}__province" not in data

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        province, city, county = split_code(str(value or ""))
        widget = context["widget"]
        widget.update(
            province=province,
            city=city,
            county=county,
            provinces=list(divisions_list(self.user, level="province")),
            cities=list(divisions_list(self.user, parent_code=province)) if province else [],
            counties=list(divisions_list(self.user, parent_code=city)) if city else [],
            picker_url=reverse("geo:division_picker"),
        )
        return context
