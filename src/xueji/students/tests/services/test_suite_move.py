"""`xueji rotate_keys` moves the registry from one suite to the other and back: every value
re-sealed and every blind index recomputed, batch by batch, resumable, every record readable and
found by its numbers before, during and after the move."""

import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from xueji.access.models import Role
from xueji.audit.models import AuditEntry
from xueji.core import codes, crypto
from xueji.students import sealing
from xueji.students.identity import STUDENT_NUMBER, number_index
from xueji.students.models import FamilyMember, Student, StudentNumberAlias
from xueji.students.selectors import student_by_number
from xueji.students.services import student_assign_resident_id, student_register
from xueji.students.validation import FamilyMemberData
from xueji.testing.crypto import Suites
from xueji.testing.factories import SchoolClassFactory, member, resident_id, student_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def suites(monkeypatch):
    yield Suites(monkeypatch)
    crypto.reset_keyring()


class Interrupted(Exception):
    pass


@pytest.fixture
def registry(suites):
    """Under intl: three children with a mother each, and a child whose J number became a
    former number when the resident ID came."""
    suites.use("intl")
    school_class = SchoolClassFactory(grade=1)
    registrar = member(Role.REGISTRAR, school=school_class.school)
    numbers = []
    for name in ("张三", "李四", "王五"):
        data = student_data(
            name=name,
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
            ],
        )
        student_register(actor=registrar, school_class_id=school_class.pk, data=data)
        numbers.append(data.id_number)
    passport = student_data(name="赵六", id_doc_type=codes.IdDocType.PASSPORT, id_number="E1")
    late = student_register(actor=registrar, school_class_id=school_class.pk, data=passport)
    j_number = late.student.reveal_student_number()
    new_id = resident_id(birth_date=late.student.birth_date)
    student_assign_resident_id(actor=registrar, student_id=late.student.pk, id_number=new_id)
    numbers.append(new_id)
    return registrar, numbers, j_number


def _every_value() -> list[str]:
    values = [
        *Student.objects.values_list("number_sealed", flat=True),
        *Student.objects.exclude(id_number_sealed="").values_list("id_number_sealed", flat=True),
        *FamilyMember.objects.exclude(id_number_sealed="").values_list(
            "id_number_sealed", flat=True
        ),
        *StudentNumberAlias.objects.values_list("number_sealed", flat=True),
    ]
    return values


def _all_found(registrar, numbers, j_number) -> None:
    for number in numbers:
        student = student_by_number(registrar, number)
        assert student is not None, number
        assert student_by_number(registrar, "G" + number) == student
        assert student.reveal_id_number() == number
        assert student.reveal_student_number() == "G" + number
        for relative in student.family.exclude(id_number_sealed=""):
            assert len(crypto.decrypt(relative.id_number_sealed, context="family.id_number")) == 18
    assert student_by_number(registrar, j_number) is not None


def _indexes_under(suite: str) -> bool:
    """Every stored index is the one the suite computes from the stored value."""
    keys = crypto.keyring().of(suite)
    for student in Student.objects.all():
        if student.number_index != keys.index(student.reveal_student_number(), STUDENT_NUMBER):
            return False
        if student.id_number_index != keys.index(
            f"{student.id_doc_type}:{student.reveal_id_number()}", "document"
        ):
            return False
    for alias in StudentNumberAlias.objects.all():
        plain = crypto.decrypt(alias.number_sealed, context=STUDENT_NUMBER)
        if alias.number_index != keys.index(plain, STUDENT_NUMBER):
            return False
    return True


def test_intl_to_sm_and_back_keeps_every_record_readable_and_findable(registry, suites):
    registrar, numbers, j_number = registry
    assert {value[:6] for value in _every_value()} == {"v1.k1."}

    suites.use("sm")  # sm writes; intl still reads; lookups ask for both digests
    _all_found(registrar, numbers, j_number)

    # A run stopped after its first batch leaves the registry half moved: still all found.
    def stop(label: str, done: int) -> None:
        raise Interrupted

    with pytest.raises(Interrupted):
        sealing.sealed_values_rotate(actor=None, batch_size=2, progress=stop)
    tags = [value[:4] for value in _every_value()]
    assert tags.count("sm1.") == 2 and tags.count("v1.k") == len(tags) - 2
    _all_found(registrar, numbers, j_number)

    out = io.StringIO()
    call_command("rotate_keys", batch_size=2, stdout=out)
    assert "moving sealed values to the sm (SM4-GCM fields, HMAC-SM3 blind index" in out.getvalue()
    assert {value[:7] for value in _every_value()} == {"sm1.m1."}
    assert _indexes_under("sm")
    # The intl keys can go: everything reads and is found under sm alone.
    suites.use("sm", intl=False)
    _all_found(registrar, numbers, j_number)
    status = io.StringIO()
    call_command("crypto", "status", stdout=status)
    assert "cryptographic suite in force: sm (SM4-GCM fields" in status.getvalue()
    assert "students_student.number_sealed: 4 sm/m1" in status.getvalue()
    assert "every sealed value is under the active key sm/m1." in status.getvalue()

    # And back.
    suites.use("intl")
    call_command("rotate_keys", stdout=io.StringIO())
    assert {value[:6] for value in _every_value()} == {"v1.k1."}
    assert _indexes_under("intl")
    suites.use("intl", sm=False)
    _all_found(registrar, numbers, j_number)

    moved = AuditEntry.objects.filter(action="keys.rotate_batch")
    assert {entry.detail["to_suite"] for entry in moved} == {"sm", "intl"}


def test_a_run_again_moves_nothing_more(registry, suites):
    suites.use("sm")
    first = sealing.sealed_values_rotate(actor=None)
    assert first.moved == len(_every_value()) and first.left == 0
    second = sealing.sealed_values_rotate(actor=None)
    assert second.moved == 0 and second.left == 0


def test_a_value_changed_while_being_moved_is_not_overwritten(registry, suites):
    """The batch's UPDATE holds only where the row still has the value that was read: a
    correction written meanwhile stays, and the next run moves it."""
    _registrar, numbers, _j = registry
    suites.use("sm")
    student = Student.objects.get(
        id_number_index=crypto.keyring().of("intl").index(f"1:{numbers[0]}", "document")
    )
    column = sealing.sealed_columns()[0]  # the student number
    read = student.number_sealed
    moved = crypto.encrypt("G" + numbers[0], context=STUDENT_NUMBER)
    corrected = crypto.encrypt("G" + numbers[0], context=STUDENT_NUMBER)
    Student.objects.filter(pk=student.pk).update(number_sealed=corrected)  # someone else's write
    report = sealing.ColumnMove(column.label)
    with transaction.atomic():
        written = sealing._write_batch(
            column, [(student.pk, read, moved, number_index("G" + numbers[0]))], report
        )
    assert written == 0
    assert Student.objects.get(pk=student.pk).number_sealed == corrected


def test_a_former_number_kept_without_its_sealed_value_is_recovered(registry, suites):
    """Aliases made before they kept their sealed number: the move recovers the number from its
    masked form, the birth date and the index, seals it and indexes it under the new suite."""
    registrar, _numbers, j_number = registry
    StudentNumberAlias.objects.update(number_sealed="")
    suites.use("sm")
    result = sealing.sealed_values_rotate(actor=None)
    alias_report = next(c for c in result.columns if c.label.endswith("alias.number_sealed"))
    assert (alias_report.recovered, alias_report.unrecoverable) == (1, 0)
    alias = StudentNumberAlias.objects.get()
    assert crypto.decrypt(alias.number_sealed, context=STUDENT_NUMBER) == j_number
    suites.use("sm", intl=False)
    assert student_by_number(registrar, j_number) == alias.student


def test_a_duplicate_across_the_two_digests_is_named_and_left(registry, suites):
    registrar, numbers, _j = registry
    suites.use("sm")
    holder = student_by_number(registrar, numbers[1])
    # A second record of the same number, written under sm by a process that did not look up
    # the intl digest (what the two-step deployment prevents).
    twin = Student.objects.get(pk=holder.pk)
    twin.pk = None
    twin.id = None
    twin.number_sealed = crypto.encrypt("G" + numbers[1], context=STUDENT_NUMBER)
    twin.number_index = number_index("G" + numbers[1])
    twin.id_number_sealed, twin.id_number_index = "", ""
    twin.id_doc_type = codes.IdDocType.NONE
    twin.number_kind = "L"
    twin.save()
    out = io.StringIO()
    with pytest.raises(CommandError, match="could not be"):
        call_command("rotate_keys", stdout=out)
    assert re.search(r"1 in conflict with another record's index", out.getvalue())
    assert str(holder.pk) in out.getvalue()
    # The holder keeps its intl index and value: still found while intl is held.
    assert student_by_number(registrar, numbers[1]) in (holder, twin)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the statement plan is PostgreSQL's")
def test_one_conditional_update_per_batch_on_postgresql(registry, suites):
    from django.test.utils import CaptureQueriesContext

    suites.use("sm")
    with CaptureQueriesContext(connection) as queries:
        sealing.sealed_values_rotate(actor=None, batch_size=100)
    updates = [q["sql"] for q in queries.captured_queries if "UPDATE" in q["sql"]]
    moving = [sql for sql in updates if "FROM (VALUES" in sql]
    # One per sealed column holding values (students' two, family, alias).
    assert len(moving) == 4


def test_a_value_under_a_key_no_longer_held_is_named_and_the_rest_moved(registry, suites):
    suites.use("sm")
    lost = Student.objects.order_by("pk").first()
    payload = lost.number_sealed.split(".", 2)[2]
    Student.objects.filter(pk=lost.pk).update(number_sealed=f"v1.gone.{payload}")
    out = io.StringIO()
    with pytest.raises(CommandError, match="keep the old keys"):
        call_command("rotate_keys", stdout=out)
    assert "students_student.number_sealed: 3 moved" in out.getvalue()
    assert "1 cannot be read" in out.getvalue()
    assert f"{lost.pk}: cannot be read (no key 'gone' of the intl suite" in out.getvalue()
    assert Student.objects.get(pk=lost.pk).number_sealed.startswith("v1.gone.")
