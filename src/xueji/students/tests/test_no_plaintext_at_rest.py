"""Dump the whole database and look for any identity number in the clear: there must be none."""

import datetime
import subprocess

import pytest
from django.db import connection

from xueji.access.models import Role
from xueji.core import codes
from xueji.students.selectors import student_by_number
from xueji.students.services import student_assign_resident_id, student_register
from xueji.students.validation import FamilyMemberData
from xueji.testing.factories import SchoolClassFactory, member, resident_id, student_data

pytestmark = pytest.mark.django_db(transaction=True)


def database_dump() -> str:
    if connection.vendor == "postgresql":
        settings = connection.settings_dict
        return subprocess.run(
            [
                "pg_dump",
                "--data-only",
                "-h",
                settings["HOST"] or "127.0.0.1",
                "-p",
                str(settings["PORT"] or 5432),
                "-U",
                settings["USER"],
                settings["NAME"],
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    return "\n".join(connection.connection.iterdump())


def test_no_id_number_or_student_number_is_stored_in_the_clear():
    school_class = SchoolClassFactory(grade=1)
    registrar = member(Role.REGISTRAR, school=school_class.school)
    father_id = resident_id(birth_date=datetime.date(1988, 4, 9))
    with_id = student_data(
        family=[
            FamilyMemberData(
                relation=codes.Relation.FATHER,
                name="张伟",
                is_guardian=True,
                id_doc_type=codes.IdDocType.RESIDENT_ID,
                id_number=father_id,
            ),
            FamilyMemberData(
                relation=codes.Relation.MOTHER, missing_reason=codes.MissingReason.DECEASED
            ),
        ]
    )
    g_student = student_register(
        actor=registrar, school_class_id=school_class.pk, data=with_id
    ).student
    j_student = student_register(
        actor=registrar,
        school_class_id=school_class.pk,
        data=student_data(name="李四", id_doc_type=codes.IdDocType.NONE, id_number=""),
    ).student
    j_number = j_student.reveal_student_number()
    later_id = resident_id(birth_date=j_student.birth_date)
    student_assign_resident_id(actor=registrar, student_id=j_student.pk, id_number=later_id)
    student_by_number(registrar, with_id.id_number)  # a lookup leaves nothing behind either

    dump = database_dump()
    assert "students_student" in dump  # the dump did read the tables
    secrets = {
        "student ID": with_id.id_number,
        "G number": "G" + with_id.id_number,
        "father's ID": father_id,
        "J number": j_number,
        "later ID": later_id,
    }
    for what, value in secrets.items():
        assert value not in dump, f"{what} found in the clear"
        assert value[6:14] + value[14:] not in dump, f"{what}'s tail found in the clear"

    # Exact lookups still find the records, through the blind index.
    assert student_by_number(registrar, with_id.id_number) == g_student
    assert student_by_number(registrar, "G" + with_id.id_number) == g_student
    assert student_by_number(registrar, later_id) == j_student
    assert student_by_number(registrar, j_number) == j_student
