"""Forms of the verification pages: they parse; the rules live in the services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class WindowForm(forms.Form):
    opens_on = forms.DateField(label=_("First day"), widget=DATE)
    closes_on = forms.DateField(label=_("Last day"), widget=DATE)


class ReportForm(forms.Form):
    note = forms.CharField(
        label=_("What is wrong"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("E.g. “the birth date is 2019-03-05 in the household register”."),
    )
