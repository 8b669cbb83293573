"""Forms of the change pages: they parse what was typed and uploaded; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xueji.access.models import ScopeLevel
from xueji.access.scope import scope_of
from xueji.changes.kinds import FILED_BY_OWN_SCHOOL, GuardianRequest, spec_of
from xueji.changes.models import OPERATION_CHOICES, ChangeKind, ChangeState, Initiator
from xueji.changes.queues import NO_FILTERS, Box, Flag, QueueFilters, boxes_of, may_filter_places
from xueji.changes.rules import EDITABLE_RULES, RULE_LABELS
from xueji.corrections.forms import MultipleFileField, MultipleFileInput
from xueji.schools.views.registry_forms import county_choices
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


DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ChangeForm(forms.Form):
    """A change filed from the student's record page (any kind but a transfer). Only the kinds
    possible for this child are offered (xueji.changes.policy.kinds_offered), and each kind shows
    its own fields (xueji.changes.kinds: own_fields): 新班级 for a class change, the first and last
    day for a suspension."""

    kind = forms.ChoiceField(label=_("Kind of change"))
    to_class = forms.TypedChoiceField(
        label=_("New class"),
        coerce=int,
        empty_value=None,
        help_text=_("Another class of the same grade in this school."),
    )
    suspended_from = forms.DateField(
        label=_("Suspended from"),
        widget=DATE_INPUT,
        help_text=_("The first day the child is away."),
    )
    suspended_until = forms.DateField(
        label=_("Suspended until"),
        widget=DATE_INPUT,
        help_text=_("The last day of the suspension; the child then resumes (复学)."),
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
            "Required when the guardian asks for the change: JPG, PNG or PDF, at most 2 MB."
        ),
    )
    evidence = _evidence_field(
        _("Evidence"),
        _("E.g. a medical or death certificate, a visa: JPG, PNG or PDF, at most 2 MB each."),
    )

    # The fields every kind has; the others are some kind's own (KindSpec.own_fields).
    COMMON = ("kind", "reason", "evidence")

    def __init__(
        self, *args: Any, classes: list[Any], kinds: list[ChangeKind], kind: str = "", **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        # Only the kinds possible for this child are offered; another kind posted (a form left
        # open while the record changed) goes to the service, which names the reason.
        kind_field = self.fields["kind"]
        kind_field.choices = [("", "—")] + [  # type: ignore[attr-defined]
            (k.value, k.label) for k in RECORD_KINDS
        ]
        kind_field.widget.choices = [("", "—")] + [  # type: ignore[attr-defined]
            (k.value, k.label) for k in kinds
        ]
        self.fields["to_class"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (c.pk, f"{grade_label(c.grade)} {c.name}") for c in classes
        ]
        # The kind chosen (posted, or asked for in the address) decides the fields shown and
        # checked; without one, only the choice of kind.
        chosen = self.data.get("kind", "") if self.is_bound else kind
        offered = kinds if not self.is_bound else RECORD_KINDS
        self.chosen_kind = chosen if chosen in {k.value for k in offered} else ""
        for name in list(self.fields):
            if name not in self.COMMON and name not in self.kind_fields(self.chosen_kind):
                del self.fields[name]

    @staticmethod
    def kind_fields(kind: str) -> tuple[str, ...]:
        """The fields of a kind besides the common ones: its own, then whose decision it is and
        the guardian's request unless the school alone records it (a dropout, a death, a class
        change)."""
        if not kind:
            return ()
        spec = spec_of(kind)
        decided_by_guardian = spec.guardian_request != GuardianRequest.NEVER
        return spec.own_fields + (("initiator", "guardian_request") if decided_by_guardian else ())

    @property
    def initiator_value(self) -> str:
        """Whose decision: as chosen, or the school's where the school alone records it."""
        if "initiator" in self.fields:
            return str(self.cleaned_data["initiator"])
        return Initiator.SCHOOL


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


# ---- the queues' filters (查询 / 重置) --------------------------------------------------------


class QueueFilterForm(forms.Form):
    """The filters of a queue: the box (a tab), kind, state, overdue or held, the days filed and
    the child's name; a bureau also a county (above a county) and a school of its area."""

    box = forms.ChoiceField(required=False, widget=forms.HiddenInput)
    kind = forms.ChoiceField(
        label=_("Kind of change"),
        required=False,
        choices=[("", _("All kinds")), *ChangeKind.choices],
    )
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("All states")), *ChangeState.choices]
    )
    flag = forms.ChoiceField(
        label=_("Overdue or held"),
        required=False,
        choices=[("", _("Any")), *Flag.choices],
    )
    filed_from = forms.DateField(label=_("Filed from"), required=False, widget=DATE_INPUT)
    filed_until = forms.DateField(label=_("Filed until"), required=False, widget=DATE_INPUT)
    name = forms.CharField(label=_("Student's name"), required=False, max_length=64)
    county = forms.ChoiceField(label=_("County"), required=False)
    school = forms.CharField(
        label=_("School"),
        required=False,
        max_length=64,
        help_text=_("The 10-digit school code, or part of the name."),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        scope = scope_of(user)
        self.boxes = boxes_of(scope)
        self.fields["box"].choices = [(b.value, b.label) for b in self.boxes]  # type: ignore[attr-defined]
        if not may_filter_places(scope):
            del self.fields["county"], self.fields["school"]
        elif scope is not None and scope.level == ScopeLevel.COUNTY:
            del self.fields["county"]
        else:
            self.fields["county"].choices = [("", _("Every county")), *county_choices(user)]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("filed_from"), data.get("filed_until")
        if first and last and last < first:
            self.add_error(
                "filed_until", _("The last day filed comes on or after the first (%s).") % first
            )
        return data

    @property
    def chosen_box(self) -> str:
        """The box asked for, or the first the user has."""
        wanted = self.cleaned_data.get("box") if self.is_valid() else ""
        return wanted or (self.boxes[0].value if self.boxes else Box.ALL.value)

    def filters(self) -> QueueFilters:
        """The filters as typed (valid: the form was checked), none where the form is not."""
        if not self.is_bound or not self.is_valid():
            return NO_FILTERS
        data = self.cleaned_data
        return QueueFilters(
            kind=data.get("kind") or "",
            state=data.get("state") or "",
            flag=data.get("flag") or "",
            filed_from=data.get("filed_from"),
            filed_until=data.get("filed_until"),
            name=(data.get("name") or "").strip(),
            county=data.get("county") or "",
            school=(data.get("school") or "").strip(),
        )
