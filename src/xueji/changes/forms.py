"""Forms of the change pages: they parse what was typed and uploaded; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xueji.changes.kinds import FILED_BY_OWN_SCHOOL
from xueji.changes.models import Initiator
from xueji.corrections.forms import MultipleFileField, MultipleFileInput
from xueji.students.templatetags.student_tags import grade_label

ACCEPT = ".jpg,.jpeg,.png,.pdf"

# The kinds filed from a student's record page (a transfer is filed by the receiving school).
RECORD_KINDS = list(FILED_BY_OWN_SCHOOL)


class FindChildForm(forms.Form):
    """The receiving registrar finds the child by the student number and the name, both exact."""

    number = forms.CharField(
        label=_("Student number"),
        max_length=32,
        help_text=_("The lifelong student number the guardian gives (e.g. G + ID number)."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "class": "mono"}),
    )
    name = forms.CharField(
        label=_("Name"),
        max_length=64,
        help_text=_("The child's name exactly as registered."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


def _evidence_field(label: Any, help_text: Any, *, required: bool = False) -> MultipleFileField:
    return MultipleFileField(
        label=label,
        required=required,
        widget=MultipleFileInput(attrs={"accept": ACCEPT}),
        help_text=help_text,
    )


class TransferForm(forms.Form):
    """The transfer application: the class that takes the child, the reason, the guardian's
    request and the evidence (the child is the one found just before)."""

    to_class = forms.TypedChoiceField(label=_("Class that takes the child"), coerce=int)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why the family moves (e.g. the parents work here now)."),
    )
    guardian_request = forms.FileField(
        label=_("The guardian's written request"),
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
        help_text=_(
            "A scan or photo of the guardian's signed request: JPG, PNG or PDF, at most 2 MB."
        ),
    )
    evidence = _evidence_field(
        _("Other evidence"),
        _("E.g. proof of residence or of the parents' work: JPG, PNG or PDF, at most 2 MB each."),
    )

    def __init__(self, *args: Any, classes: list[Any], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["to_class"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (c.pk, f"{grade_label(c.grade)} {c.name}") for c in classes
        ]


class ChangeForm(forms.Form):
    """A change filed from the student's record page (any kind but a transfer)."""

    kind = forms.ChoiceField(
        label=_("Kind of change"), choices=[(k.value, k.label) for k in RECORD_KINDS]
    )
    to_class = forms.TypedChoiceField(
        label=_("New class"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("Only for a class change."),
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    initiator = forms.ChoiceField(
        label=_("Whose decision"),
        choices=Initiator.choices,
        initial=Initiator.GUARDIAN,
        widget=forms.RadioSelect,
        help_text=_(
            "In compulsory education a school may not decide a withdrawal or a repeated grade "
            "on its own."
        ),
    )
    guardian_request = forms.FileField(
        label=_("The guardian's written request"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
        help_text=_(
            "Required when the guardian asks for the change (except a dropout, a death or a "
            "class change): JPG, PNG or PDF, at most 2 MB."
        ),
    )
    evidence = _evidence_field(
        _("Evidence"),
        _("E.g. a medical or death certificate, a visa: JPG, PNG or PDF, at most 2 MB each."),
    )

    def __init__(self, *args: Any, classes: list[Any], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["to_class"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (c.pk, f"{grade_label(c.grade)} {c.name}") for c in classes
        ]


class DecisionForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when you reject."),
    )


class NoticeForm(forms.Form):
    """The period of the public notice."""

    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}))
