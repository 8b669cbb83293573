from typing import Any

import pytest
from django.db.models import QuerySet

from xueji.access.models import Role
from xueji.schools.models import SchoolClass
from xueji.students.models import Student
from xueji.students.services import student_register
from xueji.testing.factories import SchoolClassFactory, SchoolFactory, member, student_data


@pytest.fixture(autouse=True)
def _exports_in_tmp(settings, tmp_path):  # type: ignore[no-untyped-def]
    """Written exports kept in a temporary folder; background exports run at once (django-tasks'
    immediate backend runs the same task function the database worker runs)."""
    settings.XUEJI_EXPORT_DIR = tmp_path / "exports"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def school(db):  # type: ignore[no-untyped-def]
    school = SchoolFactory()
    for number in (1, 2):
        SchoolClassFactory(school=school, grade=1, number=number)
    SchoolClassFactory(school=school, grade=2, number=1)
    return school


@pytest.fixture
def registrar(school):  # type: ignore[no-untyped-def]
    return member(Role.REGISTRAR, school=school)


def class_of(school: Any, grade: int, number: int) -> SchoolClass:
    """The school's class of that grade and number (the school fixture has 1-1, 1-2, 2-1)."""
    return SchoolClass.objects.get(school=school, grade=grade, number=number)


def register(school: Any, registrar: Any, names: tuple[str, ...]) -> QuerySet[Student]:
    """Children of these names registered into the school's class 1-1; the school's records."""
    first = class_of(school, 1, 1)
    for name in names:
        student_register(actor=registrar, school_class_id=first.pk, data=student_data(name=name))
    return Student.objects.filter(school=school)
