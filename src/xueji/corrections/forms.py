"""Forms of the correction pages: the fields of the registration form, prefilled with the
record; they parse, the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xueji.corrections.basic import BASIC_FIELDS, current_values
from xueji.students.forms import StudentRegistrationForm
from xueji.students.services import OTHER_INFO_FIELDS


def _registration_fields(user: Any) -> dict[str, forms.Field]:
    return dict(StudentRegistrationForm(user=user, classes=[]).fields)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name; what they hold is checked by the service."""

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


class CorrectionForm(forms.Form):
    """The corrected basic information, the reason and the evidence."""

    reason = forms.CharField(
        label=_("Reason and evidence"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What was wrong, and which document shows the right value."),
    )
    evidence = MultipleFileField(
        label=_("Evidence files"),
        required=False,
        widget=MultipleFileInput(attrs={"accept": ".jpg,.jpeg,.png,.pdf"}),
        help_text=_("JPG, PNG or PDF, at most 2 MB each, up to 5 files."),
    )

    def __init__(self, *args: Any, user: Any, student: Any, **kwargs: Any):
        kwargs.setdefault("initial", current_values(student))
        super().__init__(*args, **kwargs)
        template = _registration_fields(user)
        for field in BASIC_FIELDS:
            self.fields[field.name] = template[field.name]
        self.order_fields([f.name for f in BASIC_FIELDS] + ["reason", "evidence"])

    def basic_fields(self) -> list[forms.BoundField]:
        return [self[f.name] for f in BASIC_FIELDS]

    def changes(self) -> dict[str, Any]:
        return {f.name: self.cleaned_data.get(f.name) for f in BASIC_FIELDS}


class DecisionForm(forms.Form):
    note = forms.CharField(
        label=_("Note"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class OtherInfoForm(forms.Form):
    """The other (non-basic) information the registrar edits directly."""

    def __init__(self, *args: Any, user: Any, student: Any, **kwargs: Any):
        kwargs.setdefault("initial", {name: getattr(student, name) for name in OTHER_INFO_FIELDS})
        super().__init__(*args, **kwargs)
        template = _registration_fields(user)
        for name in OTHER_INFO_FIELDS:
            self.fields[name] = template[name]

    def text_fields(self) -> list[forms.BoundField]:
        return [
            self[n] for n in OTHER_INFO_FIELDS if not isinstance(self.fields[n], forms.BooleanField)
        ]

    def flag_fields(self) -> list[forms.BoundField]:
        return [
            self[n] for n in OTHER_INFO_FIELDS if isinstance(self.fields[n], forms.BooleanField)
        ]

    def changes(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in OTHER_INFO_FIELDS}
