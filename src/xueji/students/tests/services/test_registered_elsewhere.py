"""A registration refused because another school holds the ID number is a look-up of a record
outside the registrar's scope: the school is named only when the name typed is the record's
(traditional characters and the middle dot folded), else only "registered elsewhere"; either
answer is audited and counted against the registrar's hourly limit. A duplicate of the
registrar's own school is told as before."""

import pytest

from xueji.access.lookups import LOOKUP_ACTION, LOOKUP_REFUSED_ACTION, LookupLimitReached
from xueji.audit.models import AuditEntry
from xueji.core.errors import Conflict
from xueji.students.models import Student
from xueji.students.services import (
    RegisteredElsewhere,
    student_assign_resident_id,
    student_register,
)
from xueji.testing.api import World
from xueji.testing.factories import resident_id, student_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return World()


def _register_again(world, registrar, school_class, *, name, id_number=None):
    """Register a child with student_a's ID number (Futian) under `name`."""
    data = student_data(name=name, id_number=id_number or world.student_a.reveal_id_number())
    return student_register(actor=registrar, school_class_id=school_class.pk, data=data)


def _lookups(user):
    return list(AuditEntry.objects.filter(actor=user, action=LOOKUP_ACTION).order_by("id"))


@pytest.mark.parametrize("name", ["张春铭", "張春銘", " 张春铭"])
def test_the_school_is_named_when_the_name_is_the_records(world, name):
    with pytest.raises(Conflict) as refused:
        _register_again(world, world.registrar_c, world.class_c, name=name)
    assert refused.value.code == "id_number_registered"
    assert world.school_a.name in str(refused.value.message)
    assert world.student_a.number_masked in str(refused.value.message)
    [entry] = _lookups(world.registrar_c)
    assert entry.object_type == "student" and entry.object_id == world.student_a.pk
    assert entry.detail["kind"] == "registration"
    assert entry.detail["outcome"] == "school_named"


def test_another_name_learns_only_that_the_child_is_registered_elsewhere(world):
    with pytest.raises(RegisteredElsewhere) as refused:
        _register_again(world, world.registrar_c, world.class_c, name="王小明")
    message = str(refused.value.message)
    assert refused.value.code == "registered_elsewhere" and refused.value.status == 409
    assert refused.value.details == {"field": "id_number"}
    assert world.school_a.name not in message
    assert world.student_a.number_masked not in message
    [entry] = _lookups(world.registrar_c)
    assert entry.detail["outcome"] == "registered_elsewhere"
    assert entry.object_id == world.student_a.pk
    # The trail holds no plaintext number: the ID number is masked.
    plain = world.student_a.reveal_id_number()
    assert plain not in str(entry.detail) and entry.detail["id_number"].count("*") == 8
    assert Student.objects.count() == 3


def test_a_minority_name_with_another_middle_dot_is_the_same_name(world):
    id_number = resident_id()
    student_register(
        actor=world.registrar_a,
        school_class_id=world.class_a.pk,
        data=student_data(name="阿依古丽·买买提", id_number=id_number),
    )
    for typed in ("阿依古丽•买买提", "阿依古麗．買買提", "阿依古丽 买买提"):
        with pytest.raises(Conflict) as refused:
            _register_again(
                world, world.registrar_c, world.class_c, name=typed, id_number=id_number
            )
        assert refused.value.code == "id_number_registered", typed
        assert world.school_a.name in str(refused.value.message)


def test_a_duplicate_of_the_registrars_own_school_is_named_and_is_no_lookup(world):
    with pytest.raises(Conflict) as refused:
        _register_again(world, world.registrar_a, world.class_a, name="王小明")
    assert refused.value.code == "id_number_registered"
    assert world.school_a.name in str(refused.value.message)
    assert _lookups(world.registrar_a) == []


def test_the_answers_count_against_the_limit_of_the_hour(world, settings):
    settings.XUEJI_LOOKUP_LIMIT_PER_HOUR = 2
    with pytest.raises(RegisteredElsewhere):
        _register_again(world, world.registrar_c, world.class_c, name="王小明")
    with pytest.raises(Conflict):
        _register_again(world, world.registrar_c, world.class_c, name="张春铭")
    # Over the limit the answer is withheld, whatever the name.
    for name in ("张春铭", "王小明"):
        with pytest.raises(LookupLimitReached) as limited:
            _register_again(world, world.registrar_c, world.class_c, name=name)
        assert world.school_a.name not in str(limited.value.message)
    assert len(_lookups(world.registrar_c)) == 2
    refusals = AuditEntry.objects.filter(actor=world.registrar_c, action=LOOKUP_REFUSED_ACTION)
    assert refusals.count() == 2
    assert {e.object_id for e in refusals} == {world.student_a.pk}
    # A child nobody holds is registered as ever: registering is not a look-up.
    student_register(actor=world.registrar_c, school_class_id=world.class_c.pk, data=student_data())
    # Duplicates in the registrar's own school are not limited either.
    with pytest.raises(Conflict) as own:
        _register_again(world, world.registrar_a, world.class_a, name="王小明")
    assert own.value.code == "id_number_registered"


def test_a_resident_id_held_elsewhere_is_answered_the_same_way_for_a_j_numbered_child(world):
    j_child = student_register(
        actor=world.registrar_c,
        school_class_id=world.class_c.pk,
        data=student_data(name="王小明", id_doc_type="Z", id_number=""),
    ).student
    with pytest.raises(RegisteredElsewhere):
        student_assign_resident_id(
            actor=world.registrar_c,
            student_id=j_child.pk,
            id_number=world.student_a.reveal_id_number(),
        )
    [entry] = _lookups(world.registrar_c)
    assert entry.detail["outcome"] == "registered_elsewhere"
    j_child.refresh_from_db()
    assert j_child.number_kind == "J"
