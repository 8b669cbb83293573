"""Parsing of the statistics pages' parameters: area, date, school year, period, level."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xueji.stats.targets import BadTarget, TargetSpec


class BadParameters(ValueError):
    """A parameter that cannot be read (the page answers 400 with the reason)."""


class StatsParams(forms.Form):
    scope = forms.CharField(required=False, label=_("Area"))
    date = forms.DateField(required=False, label=_("Date"))
    year = forms.IntegerField(
        required=False, min_value=1949, max_value=9999, label=_("School year")
    )
    start = forms.DateField(required=False, label=_("From"))
    end = forms.DateField(required=False, label=_("To"))
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

    def clean_scope(self) -> TargetSpec | None:
        text = self.cleaned_data.get("scope") or ""
        if not text:
            return None
        try:
            return TargetSpec.parse(text)
        except BadTarget:
            raise forms.ValidationError(_("There is no such area."), code="bad_scope") from None


def parse(data: Any) -> dict[str, Any]:
    """The parameters found in a query string; BadParameters names the first that is wrong."""
    form = StatsParams(data)
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        raise BadParameters(f"{field}: {errors[0]}")
    return form.cleaned_data


def iso(value: datetime.date | None) -> str:
    return value.isoformat() if value else ""
