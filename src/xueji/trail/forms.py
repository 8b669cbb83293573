"""The auditors' search form: it parses the query string; audit_search decides."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from xueji.trail.selectors import AuditFilters


class DateInput(forms.DateInput):
    input_type = "date"


class AuditSearchForm(forms.Form):
    student = forms.CharField(
        label=_("Student"),
        required=False,
        max_length=64,
        help_text=_("Student number (current or former) or the record's identifier."),
    )
    user = forms.CharField(label=_("User name"), required=False, max_length=150)
    action = forms.CharField(
        label=_("Action"),
        required=False,
        max_length=64,
        help_text=_("An action, or its beginning: “student.” finds every student action."),
    )
    since = forms.DateField(label=_("From"), required=False, widget=DateInput)
    until = forms.DateField(label=_("To"), required=False, widget=DateInput)
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    after = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def filters(self) -> AuditFilters:
        data = self.cleaned_data
        return AuditFilters(
            student=data["student"],
            user=data["user"],
            action=data["action"],
            since=data["since"],
            until=data["until"],
            before=data["before"],
            after=data["after"],
        )
