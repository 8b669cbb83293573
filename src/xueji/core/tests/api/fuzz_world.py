"""The small, demo-like registry the API fuzzer runs on, and the real values it feeds it.

福田区 (440304): a junior high school J (grades 7-9) whose registrar is the fuzzer's school
account, with a grade-7 class for new entrants and a grade-8 class of four pupils (one with a J
number, waiting for a resident ID), a class teacher, a sealed account and the registrar's
successor; a primary school P whose grade-6 pupils of last year graduated (a year-end run done,
still reversible) and wait for an intake; a primary school without pupils (to close, or to merge
into P). 南山区 (440305): a junior high school N with its registrar, its county's approver and
two pupils. The county bureau's approver and the county's auditor of 福田区 are the fuzzer's
other accounts.

Under way: a transfer from N into J, waiting for 福田区's decision (J may withdraw it); a transfer
from J into N, waiting for J's decision; a suspension of a pupil of J, waiting for the county; a
promotion of P planned (a dry run, not started); an import of J. Each is what one or more
operations need to answer 2xx.

`FuzzWorld.rows` are the real values as coherent rows (a pupil's number with that pupil's name,
a class of the school the account works at, a whole registration): the fuzzer sends each row
that fits an operation, and fills some generated requests' path, query and body fields of the
same name from one row. An operation whose 2xx needs a coherent body gets a row here.
"""

from __future__ import annotations

import base64
import datetime
from dataclasses import dataclass, field
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from xueji.access.models import Role
from xueji.access.scope import today
from xueji.access.tests.world import ensure_terms
from xueji.accounts.administration.services import account_seal
from xueji.archive.tests import fuzz_objects as archive_fuzz
from xueji.attendance.tests import fuzz_objects as attendance_fuzz
from xueji.changes.services import change_decide, change_file, transfer_file
from xueji.corrections.evidence import Upload
from xueji.corrections.tests.files import PDF, png
from xueji.geo.models import Division
from xueji.imports.services import import_job_create
from xueji.reporting.tests import fuzz_objects as reporting_fuzz
from xueji.schools.models import SchoolKind, academic_start_year
from xueji.students.models import Student
from xueji.students.services import student_register
from xueji.testing.factories import (
    SchoolClassFactory,
    SchoolFactory,
    academic_year,
    member,
    resident_id,
    student_data,
)
from xueji.welfare.tests import fuzz_objects as welfare_fuzz
from xueji.yearend.models import RunKind
from xueji.yearend.services import run_execute, run_plan, run_start

FUTIAN = "440304"
NANSHAN = "440305"
PUPILS = ("王小明", "李小红", "张大山")


@dataclass
class FuzzWorld:
    registrar: Any
    county: Any
    auditor: Any
    rows: list[dict[str, Any]] = field(default_factory=list)


def _pupil(registrar: Any, school_class: Any, name: str, *, born: int, **data: Any) -> Student:
    birth = datetime.date(born, 3, 5)
    values: dict[str, Any] = {"id_number": resident_id(birth_date=birth)}
    values.update(data)
    return student_register(
        actor=registrar,
        school_class_id=school_class.pk,
        data=student_data(name=name, birth_date=birth, **values),
        start_date=datetime.date(school_class.academic_year.start_year, 9, 1),
    ).student


def _file(content: bytes, name: str) -> dict[str, str]:
    return {"name": name, "content_base64": base64.b64encode(content).decode()}


def build() -> FuzzWorld:
    year = academic_start_year(today())
    for start in (year - 1, year):
        ensure_terms(start)
    futian = Division.objects.get(code=FUTIAN)
    nanshan = Division.objects.get(code=NANSHAN)

    junior = SchoolFactory(name="福田第一初级中学", kind=SchoolKind.JUNIOR, county=futian)
    entrants = SchoolClassFactory(school=junior, grade=7, number=1, name="初一1班")
    grade8 = SchoolClassFactory(school=junior, grade=8, number=1, name="初二1班")
    primary = SchoolFactory(name="福田第一小学", kind=SchoolKind.PRIMARY, county=futian)
    last_year_6 = SchoolClassFactory(
        school=primary, grade=6, number=1, name="六年级1班", academic_year=academic_year(year - 1)
    )
    # A school without pupils, to close or to merge into P.
    empty = SchoolFactory(name="福田第二小学", kind=SchoolKind.PRIMARY, county=futian)
    other = SchoolFactory(name="南山第一初级中学", kind=SchoolKind.JUNIOR, county=nanshan)
    other_8 = SchoolClassFactory(school=other, grade=8, number=1, name="初二1班")

    registrar = member(Role.REGISTRAR, school=junior, username="fuzz_registrar")
    county = member(Role.BUREAU_APPROVER, division=futian, username="fuzz_county")
    auditor = member(Role.AUDITOR, division=futian, username="fuzz_auditor")
    primary_registrar = member(Role.REGISTRAR, school=primary)
    # School accounts the county manages: a teacher, a sealed one, J's next registrar.
    teacher = member(Role.CLASS_TEACHER, school=junior, username="fuzz_teacher")
    sealed = member(Role.SUBJECT_TEACHER, school=junior, username="fuzz_sealed")
    successor = member(Role.REGISTRAR, school=junior, username="fuzz_successor")
    other_registrar = member(Role.REGISTRAR, school=other)
    nanshan_approver = member(Role.BUREAU_APPROVER, division=nanshan)

    born8 = year - 13
    pupils = [_pupil(registrar, grade8, name, born=born8) for name in PUPILS]
    j_numbered = _pupil(
        registrar, grade8, "赵小燕", born=born8, id_doc_type="Z", id_number="", sex="2"
    )
    incoming = _pupil(other_registrar, other_8, "刘一鸣", born=born8)
    staying = _pupil(other_registrar, other_8, "陈思远", born=born8)
    graduates = [
        _pupil(primary_registrar, last_year_6, name, born=year - 1 - 11)
        for name in ("周子涵", "吴雨桐")
    ]

    # Last year's graduation of P: done, still reversible, its graduates admitted nowhere yet.
    # (Whatever the day: outside the promotion period a run is confirmed as such.)
    graduation = run_plan(
        actor=county,
        kind=RunKind.GRADUATE,
        scope=primary.code,
        from_year=year - 1,
        outside_period_confirmed=True,
    )
    run_start(actor=county, run_id=graduation.pk, enqueue=False, outside_period_confirmed=True)
    run_execute(run_id=graduation.pk)
    promotion = run_plan(
        actor=county,
        kind=RunKind.PROMOTE,
        scope=primary.code,
        from_year=year,
        outside_period_confirmed=True,
    )

    guardian = Upload("申请书.pdf", PDF)
    transfer_in = transfer_file(
        actor=registrar,
        student_number=incoming.reveal_student_number(),
        name=incoming.name,
        to_class_id=grade8.pk,
        reason="随父母工作调动",
        guardian_request=guardian,
    )
    transfer_out = transfer_file(
        actor=other_registrar,
        student_number=pupils[2].reveal_student_number(),
        name=pupils[2].name,
        to_class_id=other_8.pk,
        reason="随父母工作调动",
        guardian_request=guardian,
    )
    while (step := transfer_out.steps.get(state="pending")).school_id != junior.pk:
        decider = nanshan_approver if step.division_id == NANSHAN else county
        transfer_out = change_decide(actor=decider, change_id=transfer_out.pk, approve=True)
    suspension = change_file(
        actor=registrar,
        student_id=pupils[1].pk,
        kind="suspend",
        reason="病休",
        guardian_request=guardian,
        evidence=[Upload("证明.png", png())],
    )
    account_seal(actor=county, user_id=sealed.pk, note="调离")
    imported = import_job_create(
        actor=registrar,
        purpose="students",
        upload=SimpleUploadedFile("students.csv", "姓名\n".encode()),
        filename="students.csv",
        size=len("姓名\n".encode()),
    )

    born7 = datetime.date(year - 12, 6, 1)
    changes = [transfer_in, transfer_out, suspension]
    common: dict[str, Any] = {
        "school_id": junior.pk,
        "school": junior.pk,
        "class_id": grade8.pk,
        "grade": 8,
        "code": FUTIAN,
        "division": FUTIAN,
        "purpose": "students",
        "from_year": year - 1,
        "year": year - 1,
        "date": today().isoformat(),
        "start": (today() - datetime.timedelta(days=30)).isoformat(),
        "end": today().isoformat(),
        "job_id": str(imported.pk),
        "decision": "approve",
        "confirm_outside_period": True,
        # The registry entry J lacks (the factories leave them empty).
        "address": "深圳市福田区福华路2号",
        "urban_rural": "111",
    }
    rows: list[dict[str, Any]] = []
    for index, change in enumerate(changes):
        pupil = pupils[index % len(pupils)]
        rows.append(
            {
                **common,
                "student_id": str(pupil.pk),
                "number": pupil.reveal_student_number(),
                "change_id": str(change.pk),
                "run_id": str((graduation if index else promotion).pk),
                "scope": ("county:" + FUTIAN) if index else f"school:{junior.pk}",
            }
        )
    rows += [
        # A new entrant of grade 7 (新生注册).
        {
            "school_class_id": entrants.pk,
            "name": "孙浩然",
            "sex": "1",
            "birth_date": born7.isoformat(),
            "birthplace_code": FUTIAN,
            "ethnicity": "01",
            "id_doc_type": "1",
            "id_number": resident_id(birth_date=born7),
            "family": [
                {"relation": "51", "name": "孙伟", "is_guardian": True, "phone": "13800138000"},
                {"relation": "52", "name": "李娜"},
            ],
        },
        # The J-numbered pupil's resident ID.
        {
            "student_id": str(j_numbered.pk),
            "id_number": resident_id(birth_date=datetime.date(born8, 3, 5), male=False),
        },
        # The transfer of N's other pupil into J, and its look-up.
        {
            "student_number": staying.reveal_student_number(),
            "name": staying.name,
            "to_class_id": grade8.pk,
            "reason": "随父母工作调动",
            "guardian_request": _file(PDF, "申请书.pdf"),
        },
        # A suspension of a pupil of J.
        {
            "student_id": str(pupils[0].pk),
            "kind": "suspend",
            "reason": "病休",
            "guardian_request": _file(PDF, "申请书.pdf"),
            "evidence": [_file(png(), "证明.png")],
        },
        # The graduates' intake into grade 7, and year-end runs of the county.
        {
            "school_class_id": entrants.pk,
            "student_numbers": [g.reveal_student_number() for g in graduates],
        },
        # The registry of schools: a new school of the county, one closed or merged.
        {
            "code": "2144030499",
            "name": "福田第三小学",
            "kind": "primary",
            "county_code": FUTIAN,
            "address": "深圳市福田区福华路1号",
            "urban_rural": "111",
        },
        {"school_id": empty.pk, "into_school_id": primary.pk, "pupils": 0},
        {"kind": "promote", "scope": FUTIAN, "from_year": year, "confirm_outside_period": True},
        {
            "kind": "graduate",
            "scope": primary.code,
            "from_year": year,
            "confirm_outside_period": True,
        },
        {"scope": "nation"},
        # A spreadsheet upload of J (a CSV of the students template's first columns).
        {"file": "姓名,性别\n孙小明,男\n".encode(), "purpose": "students"},
        # The county's accounts: a new teacher of J, the teacher edited, sealed, removed or given
        # a new password, the sealed account reopened, the registrar's items handed over.
        {
            "user_id": teacher.pk,
            "login_name": "fuzz_new_teacher",
            "name": "王老师",
            "role": "class_teacher",
            "school_code": junior.code,
            "phone": "13800138001",
            "note": "调离",
            "reason": "调离",
        },
        {"user_id": sealed.pk},
        {"user_id": registrar.pk, "successor_id": successor.pk},
    ]
    # The statistics reports (reporting, issue 26).
    rows += reporting_fuzz.rows(junior=junior, primary=primary, primary_registrar=primary_registrar)
    # Money that follows the record (welfare, issue 23).
    rows += welfare_fuzz.rows(
        junior=junior, grade8=grade8, registrar=registrar, pupils=[*pupils, j_numbered]
    )
    # The child's archive (issue 24).
    rows += archive_fuzz.rows(registrar=registrar, pupils=pupils)
    # Daily attendance and dropout control (issue 22).
    rows += attendance_fuzz.rows(junior=junior, grade8=grade8, pupils=pupils)
    # Identity and duplicates (issue 21): a pair to decide, a merge to undo, a child with no record.
    from xueji.identity.tests import fuzz_objects as identity_fuzz

    rows += identity_fuzz.rows(
        county=county,
        county_code=FUTIAN,
        registrar=registrar,
        school_class=grade8,
        pupils=pupils,
        png=png(),
    )
    # Two-level deployment (issue 25): a transfer between provinces, a pair across provinces.
    from xueji.federation.tests import fuzz_objects as federation_fuzz

    rows += federation_fuzz.rows(pupils=pupils, county_code=FUTIAN)
    # Closed periods and province rules (issue 19): 广东's closing of transfers some months
    # ahead (nothing filed today is held by it), read by the county; its province's rules.
    from xueji.changes.models import ClosedPeriod

    ahead = today() + datetime.timedelta(days=200)
    period = ClosedPeriod.objects.create(
        operation="transfer",
        division_id=FUTIAN[:2] + "0000",
        starts_on=ahead,
        ends_on=ahead + datetime.timedelta(days=10),
        created_by=county,
    )
    rows.append({"period_id": period.pk, "province_code": FUTIAN[:2], "province": FUTIAN[:2]})
    # The school year's set-up by J's registrar (issue 19): a class opened with its class
    # teacher, grade 8's class teacher named, a class opened by mistake removed, and this year's
    # classes copied one grade up into the next (the number of classes the plan makes).
    from xueji.schools.classes import classes_copy_plan

    mistake = SchoolClassFactory(
        school=junior, grade=9, number=5, name="初三5班", academic_year=academic_year(year)
    )
    plan = classes_copy_plan(actor=registrar, to_year=year + 1, keep_class_teachers=True)
    rows += [
        {"year": year, "grade": 9, "number": 3, "name": "初三3班", "class_teacher_id": teacher.pk},
        {"class_id": grade8.pk, "class_teacher_id": teacher.pk},
        {"class_id": mistake.pk},
        {"year": year + 1, "keep_class_teachers": True, "confirmed": len(plan.make)},
    ]
    # Subject assignments of J (issue 19): a subject teacher given Chinese in grade 8, and an
    # assignment to end.
    from xueji.scores.services import teaching_assign

    subject_teacher = member(Role.SUBJECT_TEACHER, school=junior, username="fuzz_subject")
    taught = teaching_assign(
        actor=registrar, school_class_id=grade8.pk, subject="math", teacher_id=subject_teacher.pk
    )
    rows += [
        {"class_id": grade8.pk, "subject": "chinese", "teacher_id": subject_teacher.pk},
        {"assignment_id": taught.pk},
        # A guardian's check sheet of a pupil of J, returned confirmed.
        {"student_id": str(pupils[0].pk), "outcome": "confirmed", "signed_by": "王伟"},
    ]
    return FuzzWorld(registrar=registrar, county=county, auditor=auditor, rows=rows)
