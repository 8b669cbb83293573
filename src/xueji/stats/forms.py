"""Parsing of the statistics pages' parameters: area, date, school year, period, level, and the
drill-down's name search and page. Every parameter is checked at once; a page with a wrong one
answers 400 with the page itself, each message next to its field (xueji.stats.views)."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xueji.stats import dates
from xueji.stats.selectors.areas import QUERY_MAX
from xueji.stats.targets import BadTarget, TargetSpec


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class StatsParams(forms.Form):
    scope = forms.CharField(required=False, max_length=64, label=_("Area"))
    date = forms.DateField(required=False, label=_("Date"), widget=DateInput())
    year = forms.IntegerField(
        required=False,
        min_value=dates.FIRST_SCHOOL_YEAR,
        max_value=9999,
        label=_("School year"),
    )
    start = forms.DateField(required=False, label=_("From"), widget=DateInput())
    end = forms.DateField(required=False, label=_("To"), widget=DateInput())
    level = forms.ChoiceField(
        required=False,
        choices=[
            ("", _("Default")),
            ("county", _("Counties")),
            ("city", _("Cities")),
            ("province", _("Provinces")),
        ],
        label=_("Places"),
    )
    q = forms.CharField(
        required=False,
        max_length=QUERY_MAX,
        strip=True,
        label=_("Name or code"),
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=10**6, label=_("Page"))

    def clean_scope(self) -> TargetSpec | None:
        text = self.cleaned_data.get("scope") or ""
        if not text:
            return None
        try:
            return TargetSpec.parse(text)
        except BadTarget:
            raise forms.ValidationError(_("There is no such area."), code="bad_scope") from None

    def _day(self, field: str) -> datetime.date | None:
        value: datetime.date | None = self.cleaned_data.get(field)
        if value is not None:
            problem = dates.date_problem(value, field)
            if problem is not None:
                raise forms.ValidationError(problem, code="bad_date")
        return value

    def clean_date(self) -> datetime.date | None:
        return self._day("date")

    def clean_start(self) -> datetime.date | None:
        return self._day("start")

    def clean_end(self) -> datetime.date | None:
        return self._day("end")


def parse(data: Any, fields: Sequence[str]) -> StatsParams:
    """The query string read as a page's parameters, the area and `fields` (what the page does
    not read is not checked): the form, every wrong parameter among its errors."""
    form = StatsParams(data)
    for name in list(form.fields):
        if name != "scope" and name not in fields:
            del form.fields[name]
    form.is_valid()
    return form


def iso(value: datetime.date | None) -> str:
    return value.isoformat() if value else ""
