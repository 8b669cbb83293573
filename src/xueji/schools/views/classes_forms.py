"""The forms of the pages of years and classes. They only read what was typed: the rules are
the services' (xueji.schools.classes), which report a bad field next to it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xueji.core.names import person_name
from xueji.schools.classes import MAX_CLASS_NUMBER
from xueji.schools.models import grade_label


def _teacher_choices(teachers: list[Any]) -> list[tuple[Any, Any]]:
    return [("", _("(none)")), *((t.pk, person_name(t)) for t in teachers)]


class ClassForm(forms.Form):
    """A class to open in the year shown."""

    grade = forms.TypedChoiceField(label=_("Grade"), coerce=int)
    number = forms.IntegerField(label=_("Class number"), min_value=1, max_value=MAX_CLASS_NUMBER)
    name = forms.CharField(
        label=_("Class name"),
        max_length=32,
        required=False,
        help_text=_("Empty: “n班” after its number."),
    )
    class_teacher = forms.ChoiceField(label=_("Class teacher"), required=False)

    def __init__(self, *args: Any, grades: range, teachers: list[Any], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["grade"].choices = [(g, grade_label(g)) for g in grades]  # type: ignore[attr-defined]
        self.fields["class_teacher"].choices = _teacher_choices(teachers)  # type: ignore[attr-defined]


class ClassTeacherForm(forms.Form):
    class_teacher = forms.ChoiceField(label=_("Class teacher"), required=False)

    def __init__(self, *args: Any, teachers: list[Any], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["class_teacher"].choices = _teacher_choices(teachers)  # type: ignore[attr-defined]


class CopyForm(forms.Form):
    """The copy of last year's classes one grade up, as confirmed on its page."""

    year = forms.IntegerField()
    keep_class_teachers = forms.BooleanField(
        label=_("Keep each class's class teacher (跟班)"), required=False
    )
    confirmed = forms.IntegerField(min_value=0)
