"""Forms of the verification pages: they parse; the rules live in the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xueji.corrections.basic import BASIC_FIELDS, current_values
from xueji.corrections.forms import MultipleFileField, MultipleFileInput
from xueji.students.family import CONTACT_FIELDS, contact_field
from xueji.students.forms import StudentRegistrationForm
from xueji.students.services import OTHER_INFO_FIELDS

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


# ---- the guardians' record check sheets (核对表) ------------------------------------------------


class ConfirmedSheetForm(forms.Form):
    """A sheet the guardian signed as correct."""

    signed_by = forms.CharField(
        label=_("Signed by"),
        max_length=64,
        required=False,
        help_text=_("The guardian's name as signed, e.g. 张伟 (father)."),
    )
    note = forms.CharField(
        label=_("Note"), max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class CorrectedSheetForm(ConfirmedSheetForm):
    """The record as the guardian corrected it on the sheet: key data (a correction request,
    with the scanned sheet as evidence), other information and family contacts (at once)."""

    reason = forms.CharField(
        label=_("Reason for the key-data correction"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Needed when key data change: what the guardian corrected, and on what."),
    )
    evidence = MultipleFileField(
        label=_("The signed sheet, scanned"),
        required=False,
        widget=MultipleFileInput(attrs={"accept": ".jpg,.jpeg,.png,.pdf"}),
        help_text=_("Needed when key data change: JPG, PNG or PDF, at most 2 MB each."),
    )

    def __init__(self, *args: Any, user: Any, student: Any, **kwargs: Any):
        initial = {
            **current_values(student),
            **{name: getattr(student, name) for name in OTHER_INFO_FIELDS},
        }
        self.members = [m for m in student.family.all() if not m.missing_reason]
        for member in self.members:
            for name in CONTACT_FIELDS:
                initial[contact_field(member.ordinal, name)] = getattr(member, name)
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        template = dict(StudentRegistrationForm(user=user, classes=[]).fields)
        for field in BASIC_FIELDS:
            self.fields[field.name] = template[field.name]
        for name in OTHER_INFO_FIELDS:
            self.fields[name] = template[name]
        for member in self.members:
            who = f"{member.get_relation_display()} {member.name}"
            self.fields[contact_field(member.ordinal, "phone")] = forms.CharField(
                label=_("%(who)s: phone") % {"who": who}, max_length=20, required=False
            )
            self.fields[contact_field(member.ordinal, "employer")] = forms.CharField(
                label=_("%(who)s: employer") % {"who": who}, max_length=128, required=False
            )

    def basic_fields(self) -> list[forms.BoundField]:
        return [self[f.name] for f in BASIC_FIELDS]

    def other_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in OTHER_INFO_FIELDS]

    def contact_fields(self) -> list[forms.BoundField]:
        return [
            self[contact_field(m.ordinal, name)] for m in self.members for name in CONTACT_FIELDS
        ]

    def basic(self) -> dict[str, Any]:
        return {f.name: self.cleaned_data.get(f.name) for f in BASIC_FIELDS}

    def other(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in OTHER_INFO_FIELDS}

    def contacts(self) -> dict[int, dict[str, str]]:
        return {
            m.ordinal: {
                name: self.cleaned_data.get(contact_field(m.ordinal, name)) or ""
                for name in CONTACT_FIELDS
            }
            for m in self.members
        }
