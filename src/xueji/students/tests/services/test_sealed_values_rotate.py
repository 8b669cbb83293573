import base64
import io
import os

import pytest
from django.core.management import call_command

from xueji.access.models import Role
from xueji.core import codes, crypto
from xueji.students.models import FamilyMember, Student
from xueji.students.selectors import student_by_number
from xueji.students.services import student_register
from xueji.students.validation import FamilyMemberData
from xueji.testing.factories import SchoolClassFactory, member, resident_id, student_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def configure_keys(monkeypatch):
    def configure(spec: str) -> None:
        monkeypatch.setenv("XUEJI_FIELD_KEYS", spec)
        monkeypatch.setenv("XUEJI_INDEX_KEY", base64.b64encode(b"x" * 32).decode())
        crypto.reset_keyring()

    yield configure
    crypto.reset_keyring()


def test_rotation_re_encrypts_everything_and_the_old_key_can_go(configure_keys):
    old = base64.b64encode(os.urandom(32)).decode()
    new = base64.b64encode(os.urandom(32)).decode()
    configure_keys(f"k1:{old}")
    school_class = SchoolClassFactory(grade=1)
    registrar = member(Role.REGISTRAR, school=school_class.school)
    data = student_data(
        family=[
            FamilyMemberData(
                relation=codes.Relation.MOTHER,
                name="王芳",
                is_guardian=True,
                id_doc_type="1",
                id_number=resident_id(),
            ),
            FamilyMemberData(
                relation=codes.Relation.FATHER, missing_reason=codes.MissingReason.UNKNOWN
            ),
        ]
    )
    student = student_register(actor=registrar, school_class_id=school_class.pk, data=data).student

    configure_keys(f"k2:{new},k1:{old}")  # the new key is introduced; the old one still reads
    assert student_by_number(registrar, data.id_number) == student
    call_command("rotate_keys", batch_size=1, stdout=io.StringIO())

    configure_keys(f"k2:{new}")  # the old key is retired
    stored = Student.objects.get(pk=student.pk)
    assert crypto.key_id_of(stored.number_sealed) == "k2"
    assert stored.reveal_student_number() == "G" + data.id_number
    assert stored.reveal_id_number() == data.id_number
    mother = FamilyMember.objects.get(student=student, relation=codes.Relation.MOTHER)
    assert crypto.key_id_of(mother.id_number_sealed) == "k2"
    assert student_by_number(registrar, data.id_number) == student
