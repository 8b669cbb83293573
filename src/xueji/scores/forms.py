"""Forms of the score pages: they parse; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xueji.core.names import person_name
from xueji.schools.models import grade_label
from xueji.scores.models import Subject


class AssignmentForm(forms.Form):
    school_class = forms.TypedChoiceField(label=_("Class"), coerce=int)
    subject = forms.ChoiceField(label=_("Subject"), choices=Subject.choices)
    teacher = forms.TypedChoiceField(label=_("Subject teacher"), coerce=int)

    def __init__(self, *args: Any, classes: list[Any], teachers: list[Any], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["school_class"].choices = [  # type: ignore[attr-defined]
            (c.pk, f"{grade_label(c.grade)} {c.name}") for c in classes
        ]
        self.fields["teacher"].choices = [  # type: ignore[attr-defined]
            (t.pk, person_name(t)) for t in teachers
        ]
