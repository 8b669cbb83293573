"""Forms of the student pages. They parse what was typed; the rules live in students.validation."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from xueji.core import codes
from xueji.core.exports import mask_document_number
from xueji.core.idnumbers import normalize
from xueji.geo.forms import DivisionPicker
from xueji.schools.models import School, SchoolClass, grade_label
from xueji.schools.selectors import class_get
from xueji.students.selectors import (
    SearchArea,
    school_in_area_named,
    search_area,
    search_choices,
)
from xueji.students.validation import FamilyMemberData, StudentData

BLANK: list[tuple[Any, Any]] = [("", "—")]
MAX_FAMILY_MEMBERS = 6
DEFAULT_FAMILY_SIZE = 2

# The fields of StudentData the form carries under the same names.
BASIC_FIELDS = (
    "name",
    "sex",
    "birth_date",
    "ethnicity",
    "id_doc_type",
    "id_number",
    "nationality",
    "overseas_status",
    "health",
    "hukou_nature",
)
PLACE_FIELDS = ("birthplace_code", "hukou_division_code", "native_place_code")
OTHER_FIELDS = (
    "former_name",
    "address",
    "phone",
    "attendance_mode",
    "entry_method",
    "left_behind",
    "disability_type",
)
FLAG_FIELDS = (
    "only_child",
    "attended_preschool",
    "migrant_child",
    "orphan",
    "martyr_family",
    "inclusive_education",
    "needs_aid",
    "needs_school_bus",
)


def _nationality_choices() -> list[tuple[str, str]]:
    language = "zh_CN" if (get_language() or "").startswith("zh") else "en"
    return [
        (code, codes.nationality_label(code, language))
        for code, _name in codes.nationality_choices()
    ]


def class_choices(classes: Iterable[SchoolClass]) -> list[tuple[Any, Any]]:
    """Classes grouped by grade, for a select."""
    grouped: dict[int, list[tuple[int, str]]] = {}
    for school_class in classes:
        grouped.setdefault(school_class.grade, []).append((school_class.pk, school_class.name))
    return [*BLANK, *((grade_label(grade), options) for grade, options in grouped.items())]


class StudentRegistrationForm(forms.Form):
    """新生注册: basic and other information; family members come in a formset alongside."""

    school_class = forms.TypedChoiceField(
        label=_("Class"),
        coerce=int,
        help_text=_("The class the child will sit in. Classes are opened by the school registrar."),
    )
    start_date = forms.DateField(
        label=_("Date of entry"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty for today."),
    )

    # Basic information (基础信息)
    # Its length is a rule of students.validation, which says the limit (a maxlength in the
    # browser would cut a pasted name short without a word).
    name = forms.CharField(
        label=_("Name"),
        required=False,
        help_text=_("As written in the household register."),
    )
    sex = forms.ChoiceField(label=_("Sex"), choices=codes.Sex.choices, widget=forms.RadioSelect)
    birth_date = forms.DateField(
        label=_("Birth date"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Must agree with the ID number."),
    )
    birthplace_code = forms.CharField(
        label=_("Birthplace"),
        required=False,
        widget=DivisionPicker,
        help_text=_("Choose the province, then the city, then the county."),
    )
    native_place_code = forms.CharField(
        label=_("Native place"),
        required=False,
        widget=DivisionPicker,
        help_text=_("Optional. Province or city is enough if the county is not known."),
    )
    ethnicity = forms.ChoiceField(label=_("Ethnicity"), choices=BLANK + codes.ETHNICITY_CHOICES)
    nationality = forms.ChoiceField(label=_("Nationality or region"), initial="CHN")
    id_doc_type = forms.ChoiceField(
        label=_("Identity document type"),
        choices=codes.IdDocType.choices,
        initial=codes.IdDocType.RESIDENT_ID,
        help_text=_(
            "A resident ID card gives the formal G student number; any other choice gives a "
            "J number, changed to G when a resident ID is added later."
        ),
    )
    id_number = forms.CharField(
        label=_("Identity document number"),
        required=False,
        max_length=32,
        help_text=_(
            "A resident ID number has 18 characters; the last one may be X. "
            "Leave empty for “No document yet”."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    overseas_status = forms.ChoiceField(
        label=_("Hong Kong, Macao, Taiwan, overseas Chinese or foreign"),
        choices=codes.OverseasStatus.choices,
        initial=codes.OverseasStatus.NO,
    )
    health = forms.ChoiceField(
        label=_("Health"), choices=codes.Health.choices, initial=codes.Health.GOOD
    )
    hukou_division_code = forms.CharField(
        label=_("Household registration place"),
        required=False,
        widget=DivisionPicker,
        help_text=_("Where the child’s hukou is registered."),
    )
    hukou_nature = forms.ChoiceField(
        label=_("Household registration type"), choices=BLANK + codes.HukouNature.choices
    )

    # Other information (其他信息)
    former_name = forms.CharField(label=_("Former name"), required=False, max_length=64)
    address = forms.CharField(label=_("Home address"), required=False, max_length=200)
    phone = forms.CharField(
        label=_("Contact phone"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    attendance_mode = forms.ChoiceField(
        label=_("Day student or boarding"),
        choices=codes.AttendanceMode.choices,
        initial=codes.AttendanceMode.DAY,
    )
    entry_method = forms.ChoiceField(
        label=_("Entry method"), choices=codes.EntryMethod.choices, initial=codes.EntryMethod.NEARBY
    )
    left_behind = forms.ChoiceField(
        label=_("Left-behind child"),
        choices=codes.LeftBehind.choices,
        initial=codes.LeftBehind.NO,
        help_text=_("Whether the parents work away from home."),
    )
    disability_type = forms.ChoiceField(
        label=_("Disability"),
        choices=codes.DisabilityType.choices,
        initial=codes.DisabilityType.NONE,
    )
    only_child = forms.BooleanField(label=_("Only child"), required=False)
    attended_preschool = forms.BooleanField(
        label=_("Attended preschool"), required=False, initial=True
    )
    migrant_child = forms.BooleanField(label=_("Child of a migrant worker"), required=False)
    orphan = forms.BooleanField(label=_("Orphan"), required=False)
    martyr_family = forms.BooleanField(
        label=_("Child of a martyr or veteran family"), required=False
    )
    inclusive_education = forms.BooleanField(label=_("Learning in a regular class"), required=False)
    needs_aid = forms.BooleanField(label=_("Needs financial aid"), required=False)
    needs_school_bus = forms.BooleanField(
        label=_("Needs the school bus (lives more than 2 km away)"), required=False
    )

    age_confirmation = forms.CharField(
        label=_("Reason for registering at this age"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example: late entry after illness, or moved from abroad."),
    )

    # Fields the validation requires although the form lets them through empty.
    shown_required = ("name", "birthplace_code", "hukou_nature")

    def __init__(self, *args: Any, user: Any, classes: Iterable[SchoolClass], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["school_class"].choices = class_choices(classes)  # type: ignore[attr-defined]
        self.fields["nationality"].choices = _nationality_choices()  # type: ignore[attr-defined]
        for name in ("birthplace_code", "native_place_code", "hukou_division_code"):
            self.fields[name].widget.user = user  # type: ignore[attr-defined]
        for name in self.shown_required:
            self.fields[name].show_required = True  # type: ignore[attr-defined]

    def sections(self) -> dict[str, list[forms.BoundField]]:
        return {
            "basic": [self[name] for name in BASIC_FIELDS],
            "places": [self[name] for name in PLACE_FIELDS],
            "other": [self[name] for name in OTHER_FIELDS],
            "flags": [self[name] for name in FLAG_FIELDS],
        }

    def student_data(self, family: list[FamilyMemberData]) -> StudentData:
        """The data as far as the form read it: a field it refused counts as empty (a birth
        date as None), so that the registration's own rules check every other field."""
        values: dict[str, Any] = {
            name: self.cleaned_data.get(name, "")
            for name in BASIC_FIELDS + PLACE_FIELDS + OTHER_FIELDS
        }
        values["birth_date"] = self.cleaned_data.get("birth_date")
        values.update({name: self.cleaned_data.get(name, False) for name in FLAG_FIELDS})
        return StudentData(**values, family=family)


class FamilyMemberForm(forms.Form):
    relation = forms.ChoiceField(label=_("Relation"), choices=BLANK + codes.Relation.choices)
    missing_reason = forms.ChoiceField(
        label=_("Present or missing"),
        required=False,
        choices=[("", _("Present: fill in the details")), *codes.MissingReason.choices],
        help_text=_(
            "For a single-parent family or a parent who died, choose why the member is missing "
            "and leave the name empty."
        ),
    )
    name = forms.CharField(label=_("Name"), required=False)
    id_doc_type = forms.ChoiceField(
        label=_("Identity document type"), required=False, choices=BLANK + codes.IdDocType.choices
    )
    id_number = forms.CharField(
        label=_("Identity document number"),
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    phone = forms.CharField(
        label=_("Phone"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    employer = forms.CharField(label=_("Employer"), required=False, max_length=128)
    is_guardian = forms.BooleanField(label=_("Guardian"), required=False)

    def member_data(self) -> FamilyMemberData:
        """The member as far as the form read it (a field it refused counts as empty)."""
        cleaned = getattr(self, "cleaned_data", {})
        return FamilyMemberData(
            relation=cleaned.get("relation", ""),
            name=cleaned.get("name", ""),
            id_doc_type=cleaned.get("id_doc_type", ""),
            id_number=cleaned.get("id_number", ""),
            phone=cleaned.get("phone", ""),
            employer=cleaned.get("employer", ""),
            is_guardian=cleaned.get("is_guardian", False),
            missing_reason=cleaned.get("missing_reason", ""),
        )


class BaseFamilyFormSet(forms.BaseFormSet):
    def member_forms(self) -> list[forms.Form]:
        """The members to record: the first two always, added ones only if something was typed."""
        return [
            form
            for index, form in enumerate(self.forms)
            if index < DEFAULT_FAMILY_SIZE or form.has_changed()
        ]


FamilyFormSet = forms.formset_factory(
    FamilyMemberForm,
    formset=BaseFamilyFormSet,
    extra=0,
    max_num=MAX_FAMILY_MEMBERS,
    absolute_max=MAX_FAMILY_MEMBERS,
    validate_max=True,
)
DEFAULT_FAMILY = [
    {"relation": codes.Relation.FATHER},
    {"relation": codes.Relation.MOTHER},
]


def family_formset(data: Mapping[str, Any] | None = None) -> BaseFamilyFormSet:
    return cast(BaseFamilyFormSet, FamilyFormSet(data, initial=DEFAULT_FAMILY, prefix="family"))


def apply_field_errors(
    form: forms.Form,
    formset: BaseFamilyFormSet,
    members: list[forms.Form],
    errors: Mapping[str, list[ValidationError]],
) -> list[ValidationError]:
    """Put each service error next to the field it names; return the family-wide ones.

    Keys are StudentData field names ("id_number") or "family.<index>.<field>", where the
    index counts the members handed to the service.

    A field the form itself refused keeps the form's reason (it could not read the value, so
    the rules saw it empty and would only repeat that it is missing).
    """
    family_wide: list[ValidationError] = []
    for key, field_errors in errors.items():
        if key == "family":
            family_wide.extend(field_errors)
            continue
        if key.startswith("family."):
            _family, index, field_name = [*key.split(".", 2), "", ""][:3]
            if index.isdigit() and int(index) < len(members):
                member = members[int(index)]
                if field_name in member.fields:
                    if field_name not in member.errors:
                        member.add_error(field_name, field_errors)
                else:
                    member.add_error(None, field_errors)
                continue
            family_wide.extend(field_errors)
            continue
        if key in form.fields:
            if key not in form.errors:
                form.add_error(key, field_errors)
        else:
            form.add_error(None, field_errors)
    return family_wide


@dataclass(frozen=True)
class ErrorLink:
    """One problem of a form, for the list at its top: the id of the field's box to jump to
    ("" for a problem of the whole form), what the field is called, and the reason."""

    anchor: str
    label: str
    message: str


def field_anchor(field: forms.BoundField) -> str:
    """The id of a field's box (includes/field.html with anchored=True)."""
    return f"field-{field.html_name}"


def registration_error_summary(
    form: StudentRegistrationForm,
    formset: BaseFamilyFormSet,
    family_errors: list[ValidationError],
    age_question: str = "",
) -> list[ErrorLink]:
    """Every problem of the registration form in the order of the page, each with the link to
    its field: the page lists them all at its top."""
    links: list[ErrorLink] = []

    def of(bound: forms.BoundField, label: str) -> None:
        links.extend(ErrorLink(field_anchor(bound), label, str(e)) for e in bound.errors)

    age = form["age_confirmation"]
    if age_question:
        links.append(ErrorLink(field_anchor(age), str(age.label), age_question))
    else:
        of(age, str(age.label))
    links.extend(ErrorLink("", "", str(e)) for e in form.non_field_errors())
    for name in ("school_class", "start_date", *BASIC_FIELDS, *PLACE_FIELDS):
        of(form[name], str(form[name].label))
    family = str(_("Family members and guardians"))
    links.extend(ErrorLink("family", family, str(e)) for e in formset.non_form_errors())
    for number, member in enumerate(formset.forms, start=1):
        member_label = _("Family member %(number)s") % {"number": number}
        links.extend(
            ErrorLink(f"member-{member.prefix}", str(member_label), str(e))
            for e in member.non_field_errors()
        )
        for bound in member:
            of(bound, f"{member_label} · {bound.label}")
    links.extend(
        ErrorLink("family", family, str(message)) for error in family_errors for message in error
    )
    for name in (*OTHER_FIELDS, *FLAG_FIELDS):
        of(form[name], str(form[name].label))
    return links


class ResidentIdForm(forms.Form):
    """The resident ID number that gives a J- or L-numbered child the formal G number."""

    id_number = forms.CharField(
        label=_("Resident ID number"),
        max_length=32,
        help_text=_(
            "From the child's resident ID card or household register: 18 characters, the last "
            "one may be X. It must agree with the birth date and sex of the record."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    # Set by the confirmation step: the number was shown and the registrar confirmed it.
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)


class StudentSearchForm(forms.Form):
    """/students/search?q=&grade=&class=: what to look for, within which grade or class."""

    q = forms.CharField(
        label=_("Name, pinyin, initials or number"),
        required=False,
        max_length=64,
        widget=forms.TextInput(
            attrs={"type": "search", "autocomplete": "off", "spellcheck": "false"}
        ),
        help_text=_(
            "For example 张春铭, zhangchunming or zcm; or a full student number or ID number."
        ),
    )
    # A bureau's: the province (the nation's only), the county, the school (by its code).
    province = forms.ChoiceField(label=_("Province"), required=False)
    county = forms.ChoiceField(label=_("County"), required=False)
    school = forms.CharField(label=_("School"), required=False, widget=forms.Select)
    grade = forms.TypedChoiceField(label=_("Grade"), required=False, coerce=int, empty_value=None)
    class_id = forms.TypedChoiceField(
        label=_("Class"), required=False, coerce=int, empty_value=None
    )

    def __init__(
        self,
        *args: Any,
        grades: Iterable[int],
        classes: Iterable[SchoolClass],
        area: SearchArea | None = None,
        school_named: Callable[[str], School | None] | None = None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.area = area
        self.school_named = school_named
        self.chosen_school: School | None = None
        self._area_fields(area)
        classes = list(classes)
        self.classes = {school_class.pk: school_class for school_class in classes}
        self.fields["grade"].choices = [("", _("All grades"))] + [  # type: ignore[attr-defined]
            (grade, grade_label(grade)) for grade in grades
        ]
        if classes:
            choices = class_choices(classes)
            choices[0] = ("", _("All classes"))
            self.fields["class_id"].choices = choices  # type: ignore[attr-defined]
            # A new grade empties the class (behaviours.js), so the search does not go on
            # with a class of the grade before.
            self.fields["grade"].widget.attrs["data-clears"] = "#id_class"
        else:
            del self.fields["class_id"]

    def _area_fields(self, area: SearchArea | None) -> None:
        """The province, county and school fields a bureau narrows its search with, each
        listing only what lies in its area; school staff search their school and have none."""
        if area is None:
            for name in ("province", "county", "school"):
                del self.fields[name]
            return
        if area.provinces:
            self.fields["province"].choices = [("", _("All provinces"))] + [  # type: ignore[attr-defined]
                (d.code, d.name) for d in area.provinces
            ]
            # A new province empties the county and the school (behaviours.js).
            self.fields["province"].widget.attrs["data-clears"] = "#id_county, #id_school"
        else:
            del self.fields["province"]
        if area.own_county:
            del self.fields["county"]
        else:
            by_parent: dict[str, list[tuple[str, str]]] = {}
            for division in area.counties:
                parent = division.parent.name if division.parent else ""
                by_parent.setdefault(parent, []).append((division.code, division.name))
            county = self.fields["county"]
            county.choices = [("", _("All counties")), *by_parent.items()]  # type: ignore[attr-defined]
            county.widget.attrs["data-clears"] = "#id_school"
            if not area.counties:
                county.widget.attrs["disabled"] = True
                county.help_text = _("Choose the province first.")
        schools = [(school.code, f"{school.name} {school.code}") for school in area.schools]
        given = str(self.data.get("school") or "").strip() if self.is_bound else ""
        if given and self.school_named is not None and given not in dict(schools):
            # A school named by an address (an old bookmark, the home page's link), shown as
            # chosen although its county was not chosen first.
            found = self.school_named(given)
            if found is not None:
                schools.append((given, f"{found.name} {found.code}"))
        school = self.fields["school"]
        school.widget.choices = [("", _("All schools")), *schools]  # type: ignore[attr-defined]
        if not schools:
            school.widget.attrs["disabled"] = True
            school.help_text = _("Choose the county first.")

    def clean_school(self) -> str:
        text = str(self.cleaned_data.get("school") or "").strip()
        if not text:
            return ""
        found = self.school_named(text) if self.school_named is not None else None
        if found is None:
            raise ValidationError(
                _("There is no school with the code “%(code)s” in your area."),
                code="no_such_school",
                params={"code": text[:32]},
            )
        self.chosen_school = found
        return text

    @property
    def division_code(self) -> str:
        """The county chosen, else the province chosen ("" for neither)."""
        data = getattr(self, "cleaned_data", {})
        return str(data.get("county") or data.get("province") or "")

    def add_prefix(self, field_name: str) -> str:
        # The URL names the class parameter "class", a Python keyword.
        return "class" if field_name == "class_id" else super().add_prefix(field_name)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        # Without the class field a ?class= would be dropped unseen, and an export would then
        # hold the whole area instead of the class asked for.
        if "class_id" not in self.fields and self.data.get("class"):
            raise ValidationError(_("No class can be chosen here: search by grade instead."))
        # A class of another grade than the one chosen (the grade changed after the class was
        # picked) would find nobody and read as "this grade has no such student"; say so.
        school = self.chosen_school
        county, province = cleaned.get("county"), cleaned.get("province")
        if school is not None and (
            (county and school.county_id != county) or (province and school.province_id != province)
        ):
            self.add_error(
                "school",
                ValidationError(
                    _(
                        "%(name)s is not a school of the county or province chosen: choose one "
                        "of its schools, or all schools."
                    ),
                    code="school_of_another_area",
                    params={"name": school.name},
                ),
            )
        if county and province and county[:2] != province[:2]:
            self.add_error(
                "county",
                ValidationError(
                    _("The county chosen is not in the province chosen."),
                    code="county_of_another_province",
                ),
            )
        school_class = self.classes.get(cleaned.get("class_id") or 0)
        grade = cleaned.get("grade")
        if school_class is not None and grade is not None and school_class.grade != grade:
            self.add_error(
                "class_id",
                ValidationError(
                    _(
                        "%(name)s is a class of %(its_grade)s, not of %(grade)s: choose a class "
                        "of %(grade)s, or all classes."
                    ),
                    code="class_of_another_grade",
                    params={
                        "name": school_class.name,
                        "its_grade": grade_label(school_class.grade),
                        "grade": grade_label(grade),
                    },
                ),
            )
        return cleaned

    @property
    def has_criteria(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return bool(
            data.get("q")
            or data.get("grade") is not None
            or data.get("class_id")
            or data.get("school")
            or self.division_code
        )

    def query_string(self) -> str:
        """The criteria as URL parameters (q, province, county, school, grade, class), e.g. for
        the export buttons."""
        data = self.cleaned_data
        params = {
            "q": data.get("q"),
            "province": data.get("province"),
            "county": data.get("county"),
            "school": data.get("school"),
            "grade": data.get("grade"),
            "class": data.get("class_id"),
        }
        return urlencode({key: value for key, value in params.items() if value not in ("", None)})

    def described(self) -> list[str]:
        """The criteria in words, for a file name: county or province, grade, class, the query
        (a number masked). The school names the file itself (xueji.exports.records)."""
        data = self.cleaned_data
        school_class = self.classes.get(data.get("class_id") or 0)
        grade = school_class.grade if school_class else data.get("grade")
        parts = []
        if self.division_code and self.chosen_school is None and self.area is not None:
            names = {d.code: d.name for d in (*self.area.provinces, *self.area.counties)}
            parts.append(names.get(self.division_code, self.division_code))
        if grade is not None:
            parts.append(grade_label(grade))
        if school_class is not None:
            parts.append(school_class.name)
        if data.get("q"):
            parts.append(self.query_shown())
        return parts

    def query_shown(self) -> str:
        """The query as it may be written down (file names, the audit trail): a student or ID
        number masked, since those travel far beyond the registry."""
        query = self.cleaned_data.get("q", "").strip()
        if any(ch.isdigit() for ch in query):
            return mask_document_number(normalize(query))
        return query

    def filters(self) -> dict[str, Any]:
        """The criteria for the audit entry of an export."""
        data = self.cleaned_data
        filters = {
            "q": self.query_shown(),
            "province": data.get("province"),
            "county": data.get("county"),
            "school": data.get("school"),
            "grade": data.get("grade"),
            "class_id": data.get("class_id"),
        }
        return {key: value for key, value in filters.items() if value not in ("", None)}


def student_search_form(user: Any, data: Mapping[str, Any] | None) -> StudentSearchForm:
    """The search form with the places, grades and classes the user may narrow a search to; the
    search page and the records export build it alike, so an export holds what the page showed."""
    grades, classes = search_choices(user)
    given = data or {}
    wanted = str(given.get("class") or "")
    if not classes and wanted.isdigit():
        # A bureau's search of one class (from its roster): the class, if it is the bureau's.
        found = class_get(user, int(wanted))
        classes = [] if found is None else [found]
    area = search_area(
        user, province=str(given.get("province") or ""), county=str(given.get("county") or "")
    )
    return StudentSearchForm(
        data,
        grades=grades,
        classes=classes,
        area=area,
        school_named=lambda text: school_in_area_named(user, text),
    )
