"""Forms of the change pages: they parse what was typed and uploaded; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xueji.changes.kinds import FILED_BY_OWN_SCHOOL
from xueji.changes.models import OPERATION_CHOICES, Initiator
from xueji.changes.rules import EDITABLE_RULES, RULE_LABELS
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


# ---- closed periods and province rules ------------------------------------------------------

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ClosedPeriodForm(forms.Form):
    """A closed period's days; on the page that adds one, also the operation and (for the
    ministry) the province it is for."""

    operation = forms.ChoiceField(label=_("Operation closed"), choices=OPERATION_CHOICES)
    province = forms.ChoiceField(
        label=_("For"),
        required=False,
        help_text=_("The whole nation, or one province."),
    )
    starts_on = forms.DateField(label=_("First day"), widget=DATE)
    ends_on = forms.DateField(label=_("Last day"), widget=DATE)
    every_year = forms.BooleanField(
        label=_("Every year on the same days, from this year on"), required=False
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(
        self, *args: Any, provinces: list[Any] | None = None, editing: bool = False, **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["operation"]
        if provinces is None or editing:
            del self.fields["province"]
        else:
            self.fields["province"].choices = [  # type: ignore[attr-defined]
                ("", _("The whole nation")),
                *((p.code[:2], p.name) for p in provinces),
            ]


class LiftForm(forms.Form):
    reason = forms.CharField(
        label=_("Why it is lifted"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class AdoptDefaultsForm(forms.Form):
    operation = forms.ChoiceField(choices=OPERATION_CHOICES)
    province = forms.CharField(required=False, max_length=2)


class ProvinceRulesForm(forms.Form):
    """Every rule of a province's page (xueji.changes.rules.EDITABLE_RULES) and the reason."""

    reason = forms.CharField(
        label=_("Why the rules change"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("E.g. the number and date of the province's notice."),
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        rules = {
            name: forms.BooleanField(label=RULE_LABELS[name], required=False)
            for name in EDITABLE_RULES
        }
        self.fields = {**rules, **self.fields}  # type: ignore[assignment]

    def rules(self) -> dict[str, bool]:
        return {name: bool(self.cleaned_data.get(name)) for name in EDITABLE_RULES}
