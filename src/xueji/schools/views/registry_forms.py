"""The forms of the registry's pages. They only read what was typed: every rule is the
service's (xueji.schools.registry), which reports all bad fields at once, each on its field."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xueji.geo.selectors import county_level_divisions
from xueji.schools.models import (
    GRADE_LABELS,
    Ownership,
    School,
    SchoolKind,
    UrbanRural,
)
from xueji.schools.selectors import SchoolState

GRADE_CHOICES = [
    ("", _("As usual for the kind")),
    *((str(g), label) for g, label in GRADE_LABELS.items()),
]


def county_choices(user: Any) -> list[tuple[str, Any]]:
    """The county-level divisions of the user's area, grouped by city (a city without counties
    is its own group)."""
    groups: dict[str, tuple[str, list[tuple[str, str]]]] = {}
    for county in county_level_divisions(user):
        city_code = county.city_code or county.code
        city_name = (
            county.name
            if county.code == city_code
            else (county.parent.name if county.parent else "")
        )
        groups.setdefault(city_code, (city_name, []))[1].append(
            (county.code, f"{county.name} ({county.code})")
        )
    return [(name, options) for _code, (name, options) in sorted(groups.items())]


class _Required:
    """A field the service requires: marked * on the page, checked by the service."""

    show_required = True


class RequiredCharField(_Required, forms.CharField):
    pass


class RequiredChoiceField(_Required, forms.ChoiceField):
    pass


class SchoolForm(forms.Form):
    """Registration (with the code and the county) or an edit (without them)."""

    code = RequiredCharField(
        label=_("School code (学校标识码)"),
        required=False,
        max_length=10,
        help_text=_("The 10-digit national school code."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    name = RequiredCharField(label=_("School name"), required=False, max_length=128)
    kind = RequiredChoiceField(
        label=_("Kind of school"), required=False, choices=[("", "—"), *SchoolKind.choices]
    )
    county = RequiredChoiceField(label=_("County"), required=False)
    first_grade = forms.TypedChoiceField(
        label=_("First grade taught"),
        required=False,
        choices=GRADE_CHOICES,
        coerce=int,
        empty_value=None,
    )
    last_grade = forms.TypedChoiceField(
        label=_("Last grade taught"),
        required=False,
        choices=GRADE_CHOICES,
        coerce=int,
        empty_value=None,
        help_text=_("A school may teach fewer grades than its kind (e.g. a five-year primary)."),
    )
    address = RequiredCharField(label=_("Address"), required=False, max_length=200)
    ownership = RequiredChoiceField(
        label=_("Public or private"),
        required=False,
        choices=Ownership.choices,
        initial=Ownership.PUBLIC,
        widget=forms.RadioSelect,
    )
    urban_rural = RequiredChoiceField(
        label=_("Urban–rural classification code"),
        required=False,
        choices=[("", "—"), *UrbanRural.choices],
        help_text=_("The National Bureau of Statistics' code of the place (统计用城乡划分代码)."),
    )
    boarding = forms.BooleanField(label=_("Boarding school"), required=False)
    central_school_code = forms.CharField(
        label=_("Central school's code (teaching points only)"),
        required=False,
        max_length=10,
        help_text=_(
            "A teaching point (教学点) is managed by a central school (中心校) of the same "
            "county: its 10-digit school code."
        ),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, user: Any, school: School | None = None, **kwargs: Any):
        if school is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": school.name,
                    "kind": school.kind,
                    "first_grade": school.first_grade,
                    "last_grade": school.last_grade,
                    "address": school.address,
                    "ownership": school.ownership,
                    "urban_rural": school.urban_rural,
                    "boarding": school.boarding,
                    "central_school_code": school.central_school.code
                    if school.central_school is not None
                    else "",
                },
            )
        super().__init__(*args, **kwargs)
        self.use_required_attribute = False
        if school is None:
            county: Any = self.fields["county"]
            county.choices = [("", "—"), *county_choices(user)]
        else:
            del self.fields["code"]
            del self.fields["county"]

    def stated(self) -> dict[str, Any]:
        """What was typed, as the service's keyword arguments."""
        data = self.cleaned_data
        values = {
            "name": data["name"],
            "kind": data["kind"],
            "first_grade": data["first_grade"],
            "last_grade": data["last_grade"],
            "address": data["address"],
            "ownership": data["ownership"],
            "urban_rural": data["urban_rural"],
            "boarding": data["boarding"],
            "central_school_code": data["central_school_code"],
        }
        if "code" in self.fields:
            values.update(code=data["code"], county_code=data["county"])
        return values


class RegistryFilterForm(forms.Form):
    """The filters of the registry's list."""

    q = forms.CharField(
        label=_("School name or code"),
        required=False,
        max_length=64,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("e.g. 第一小学 or 4403040001")}
        ),
    )
    county = forms.ChoiceField(label=_("County"), required=False)
    kind = forms.ChoiceField(
        label=_("Kind of school"), required=False, choices=[("", _("Any")), *SchoolKind.choices]
    )
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[
            (SchoolState.OPEN, _("Open")),
            (SchoolState.CLOSED, _("Closed or merged")),
            (SchoolState.ANY, _("Any")),
        ],
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        county: Any = self.fields["county"]
        county.choices = [("", _("Any")), *county_choices(user)]


class MergeForm(forms.Form):
    """The school to merge into, then the confirmation of the number of children shown."""

    into_school = forms.TypedChoiceField(
        label=_("Merge into"), coerce=int, empty_value=None, required=False
    )
    pupils = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, targets: list[School], **kwargs: Any):
        super().__init__(*args, **kwargs)
        into: Any = self.fields["into_school"]
        into.choices = [("", "—"), *((s.pk, f"{s.name} ({s.code})") for s in targets)]
