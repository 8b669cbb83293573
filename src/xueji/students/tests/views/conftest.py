"""A small registry for page tests: two schools in Futian, one in Nanshan, users of each scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from xueji.access.models import Role
from xueji.geo.models import Division
from xueji.schools.models import School, SchoolClass
from xueji.students.models import Student
from xueji.students.services import student_register
from xueji.testing.factories import SchoolClassFactory, SchoolFactory, member, student_data
from xueji.testing.pages import client_as as logged_in


@dataclass
class Registry:
    school_a: School
    school_b: School
    school_c: School
    class_a: SchoolClass
    class_b: SchoolClass
    class_c: SchoolClass
    registrar_a: Any
    registrar_b: Any
    teacher_a: Any
    futian: Any
    nanshan: Any
    shenzhen: Any
    student_a: Student
    student_b: Student
    student_c: Student


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def registry(db: Any) -> Registry:
    futian = Division.objects.get(code="440304")
    nanshan = Division.objects.get(code="440305")
    school_a = SchoolFactory(name="福田实验小学", county=futian)
    school_b = SchoolFactory(name="福田第二小学", county=futian)
    school_c = SchoolFactory(name="南山海滨小学", county=nanshan)
    class_a = SchoolClassFactory(school=school_a, grade=1, number=1, name="1班")
    class_b = SchoolClassFactory(school=school_b, grade=1, number=1, name="1班")
    class_c = SchoolClassFactory(school=school_c, grade=1, number=1, name="1班")
    registrar_a = member(Role.REGISTRAR, school=school_a)
    registrar_b = member(Role.REGISTRAR, school=school_b)
    registrar_c = member(Role.REGISTRAR, school=school_c)

    def register(registrar: Any, school_class: SchoolClass, name: str) -> Student:
        return student_register(
            actor=registrar, school_class_id=school_class.pk, data=student_data(name=name)
        ).student

    return Registry(
        school_a=school_a,
        school_b=school_b,
        school_c=school_c,
        class_a=class_a,
        class_b=class_b,
        class_c=class_c,
        registrar_a=registrar_a,
        registrar_b=registrar_b,
        teacher_a=member(Role.CLASS_TEACHER, school=school_a),
        futian=member(Role.BUREAU_VIEWER, division=futian),
        nanshan=member(Role.BUREAU_VIEWER, division=nanshan),
        shenzhen=member(Role.BUREAU_VIEWER, division=futian.parent),
        student_a=register(registrar_a, class_a, "张春铭"),
        student_b=register(registrar_b, class_b, "李小红"),
        student_c=register(registrar_c, class_c, "王大山"),
    )


def client_as(user: Any, language: str = "en") -> Client:
    """A logged-in client; English unless asked otherwise, so assertions read as the msgids."""
    return logged_in(user, language)


@pytest.fixture
def class_teacher(registry: Registry) -> Any:
    """The class teacher of class A, who sees its roster and may search it while the county's
    verification window is open, and may not export."""
    from xueji.access.tests.world import window_open_today

    registry.class_a.class_teacher = registry.teacher_a
    registry.class_a.save(update_fields=["class_teacher"])
    window_open_today(registry.school_a.county_id, registry.futian)
    return registry.teacher_a
