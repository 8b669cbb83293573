"""Every national code list and every validator of the registration form, through the import
path: valid codes import, an invalid one is reported on its own cell with the form's reason."""

import datetime

import pytest

from xueji.core import codes
from xueji.core.idnumbers import make_resident_id
from xueji.imports import columns as cols
from xueji.imports.models import JobState
from xueji.imports.tests.sheets import header, row_of, xlsx_bytes
from xueji.students.models import Student
from xueji.students.validation import FamilyMemberData
from xueji.testing.factories import resident_id, student_data

pytestmark = pytest.mark.django_db

HEADERS = header()
MISSING_MOTHER = {"family.1.name": "", "family.1.missing_reason": "2"}


def _column(key: str) -> int:
    return [f.key for f in cols.fields_of(cols.STUDENTS)].index(key)


def _errors(job) -> set[tuple[int, str, str]]:  # type: ignore[no-untyped-def]
    return {(row, HEADERS[column].rstrip("*"), code) for row, column, _v, code, *_m in job.errors}


# The lists whose every code is tried on the student (or a family member); label or code.
LISTS = {
    "ethnicity": [code for code, _name in codes.ETHNICITY_CHOICES],
    "nationality": sorted(codes.nationality_codes()),
    "overseas_status": codes.OverseasStatus.values,
    "health": codes.Health.values,
    "hukou_nature": codes.HukouNature.values,
    "attendance_mode": codes.AttendanceMode.values,
    "entry_method": codes.EntryMethod.values,
    "left_behind": codes.LeftBehind.values,
    "disability_type": codes.DisabilityType.values,
    "family.0.relation": codes.Relation.values,
    "family.1.missing_reason": codes.MissingReason.values,
}


@pytest.mark.parametrize("key", sorted(LISTS))
def test_every_code_of_every_list_imports(upload, school, key):
    rows = []
    for n, code in enumerate(LISTS[key]):
        cells = {key: code, **(MISSING_MOTHER if key.startswith("family.1.") else {})}
        if n % 2:  # every other row gives the code as its drop-down entry, "01 汉族"
            field = cols.fields_of(cols.STUDENTS)[_column(key)]
            cells[key] = cols.choice_text(code, field.choices)
        rows.append(row_of(student_data(name="王" + "明亮华伟强"[n % 5] + "一"), **cells))
    job = upload(xlsx_bytes(rows))
    assert job.state == JobState.IMPORTED, job.errors[:3]
    assert Student.objects.filter(school=school).count() == len(LISTS[key])


@pytest.mark.parametrize("key", [*sorted(LISTS), "sex", "id_doc_type", "family.0.id_doc_type"])
def test_a_code_outside_its_list_is_refused_on_its_cell(upload, school, key):
    job = upload(xlsx_bytes([row_of(**{key: "ZZ"})]))
    assert job.state == JobState.INVALID
    header = cols.fields_of(cols.STUDENTS)[_column(key)].header
    assert (2, header, "invalid_choice") in _errors(job)
    assert Student.objects.count() == 0


def test_both_sexes_and_every_kind_of_document(upload, school):
    girl_born = datetime.date(2020, 6, 1)
    rows = [
        row_of(student_data(sex=codes.Sex.FEMALE, birth_date=girl_born,
                            id_number=resident_id(birth_date=girl_born, male=False))),
        row_of(student_data(id_doc_type=codes.IdDocType.PASSPORT, id_number="E12345678",
                            nationality="USA", overseas_status=codes.OverseasStatus.FOREIGN)),
        row_of(student_data(id_doc_type=codes.IdDocType.HONG_KONG, id_number="H1234567(8)",
                            overseas_status=codes.OverseasStatus.HONG_KONG)),
        row_of(student_data(id_doc_type=codes.IdDocType.NONE, id_number="")),
    ]  # fmt: skip
    job = upload(xlsx_bytes(rows))
    assert job.state == JobState.IMPORTED, job.errors
    kinds = sorted(Student.objects.filter(school=school).values_list("number_kind", flat=True))
    assert kinds == ["G", "J", "J", "J"]


BAD_CHECK = resident_id()[:-1] + ("0" if resident_id()[-1] != "0" else "1")


@pytest.mark.parametrize(
    ("cells", "header", "code"),
    [
        ({"name": ""}, "姓名", "required"),
        ({"name": "张3"}, "姓名", "invalid_name"),
        ({"birth_date": ""}, "出生日期", "required"),
        ({"birth_date": "2019-02-30"}, "出生日期", "not_a_date"),
        ({"birth_date": "1980-01-01"}, "出生日期", "birth_date_range"),
        ({"birthplace_code": ""}, "出生地", "required"),
        ({"birthplace_code": "999999"}, "出生地", "unknown_division"),
        ({"native_place_code": "999998"}, "籍贯", "unknown_division"),
        ({"hukou_division_code": "999997"}, "户口所在地", "unknown_division"),
        ({"id_number": ""}, "身份证件号", "required"),
        ({"id_number": BAD_CHECK}, "身份证件号", "id_check_character"),
        ({"id_number": make_resident_id("440304", datetime.date(2020, 3, 6), 11)},
         "身份证件号", "id_birth_date_mismatch"),
        ({"id_number": make_resident_id("440304", datetime.date(2020, 3, 5), 12)},
         "身份证件号", "id_sex_mismatch"),
        ({"id_number": 4.40304202003051e17}, "身份证件号", "number_lost_digits"),
        ({"id_doc_type": "Z"}, "身份证件号", "unexpected_number"),
        ({"id_doc_type": "6", "id_number": ""}, "身份证件号", "required"),
        ({"phone": "abc"}, "联系电话", "invalid_phone"),
        ({"only_child": "也许"}, "是否独生子女", "not_yes_no"),
        ({"grade": "初一"}, "年级", "not_a_number"),
        ({"class_number": 9}, "班号", "class_not_found"),
        ({"class_number": ""}, "班号", "required"),
        ({"family.0.relation": "", "family.0.name": "", "family.0.phone": "",
          "family.0.is_guardian": "", "family.1.relation": "", "family.1.name": ""},
         "家庭成员1关系", "family_required"),
        ({"family.1.missing_reason": "1"}, "家庭成员2缺失原因", "named_and_missing"),
        ({"family.1.name": ""}, "家庭成员2姓名", "name_or_missing_reason"),
        ({"family.0.name": "", "family.0.phone": "", "family.0.missing_reason": "1"},
         "家庭成员1是否监护人", "missing_guardian"),
        # Nobody marked guardian: the cell to fill is the first named member's 是否监护人.
        ({"family.0.is_guardian": "否"}, "家庭成员1是否监护人", "guardian_required"),
        ({"family.0.is_guardian": ""}, "家庭成员1是否监护人", "guardian_required"),
        ({"family.0.name": "", "family.0.phone": "", "family.0.is_guardian": "",
          "family.0.missing_reason": "1", "family.1.is_guardian": "否"},
         "家庭成员2是否监护人", "guardian_required"),
        ({"family.0.id_doc_type": "1", "family.0.id_number": "110105198001010000"},
         "家庭成员1证件号码", "id_check_character"),
        ({"family.0.phone": "12"}, "家庭成员1联系电话", "invalid_phone"),
    ],
)  # fmt: skip
def test_each_rule_of_the_form_is_reported_on_its_cell(upload, school, cells, header, code):
    job = upload(xlsx_bytes([row_of(**cells)]))
    assert job.state == JobState.INVALID
    assert (2, header, code) in _errors(job), job.errors
    assert Student.objects.count() == 0


def test_a_single_parent_family_passes(upload, school):
    data = student_data(
        family=[
            FamilyMemberData(relation="52", name="李娜", is_guardian=True),
            FamilyMemberData(relation="51", missing_reason="1"),
        ]
    )
    job = upload(xlsx_bytes([row_of(data)]))
    assert job.state == JobState.IMPORTED, job.errors


def test_the_missing_reason_is_a_numbered_entry_and_its_label_reads_too(upload, school):
    field = cols.fields_of(cols.STUDENTS)[_column("family.1.missing_reason")]
    assert field.choices[0] == ("1", "已故")
    assert all(code.isdigit() for code, _label in field.choices)
    job = upload(xlsx_bytes([row_of(**{**MISSING_MOTHER, "family.1.missing_reason": "已故"})]))
    assert job.state == JobState.IMPORTED, job.errors
    assert Student.objects.get().family.get(ordinal=1).missing_reason == "1"


def test_an_entry_of_the_former_drop_down_is_answered_with_the_new_one(upload, school):
    """A template downloaded before the codes were numbers offers "deceased 已故"."""
    cells = {**MISSING_MOTHER, "family.1.missing_reason": "deceased 已故"}
    job = upload(xlsx_bytes([row_of(**cells)]))
    assert job.state == JobState.INVALID
    [error] = [e for e in job.errors if e[3] == "invalid_choice"]
    assert HEADERS[error[1]].startswith("家庭成员2缺失原因")
    assert "“1 已故”" in error[4]


def test_a_sheet_without_the_template_headers_is_refused_as_a_whole(upload, school):
    job = upload(xlsx_bytes([["张三", "1"]], head=["name", "sex"]))
    assert job.state == JobState.INVALID
    assert "姓名" in job.message
