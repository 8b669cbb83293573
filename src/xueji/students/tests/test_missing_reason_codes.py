"""The reason a family member is missing became a numeric code (students migration 0003): the
stored English words are converted, and converted back when the migration is reversed."""

import importlib

import pytest
from django.apps import apps

from xueji.access.models import Role
from xueji.core import codes
from xueji.students.models import FamilyMember
from xueji.students.services import student_register
from xueji.students.validation import FamilyMemberData
from xueji.testing.factories import SchoolClassFactory, member, student_data

pytestmark = pytest.mark.django_db

migration = importlib.import_module("xueji.students.migrations.0003_missing_reason_numeric_codes")


def test_the_codes_are_numbers_like_every_other_list():
    assert codes.MissingReason.values == ["1", "2", "3", "4", "9"]
    assert set(codes.MISSING_REASON_FORMER_CODES.values()) == set(codes.MissingReason.values)
    # The migration keeps its own copy of the mapping: it must agree with the code list now.
    assert migration.WORD_TO_CODE == codes.MISSING_REASON_FORMER_CODES


def _family_with_every_reason() -> list[FamilyMember]:
    school_class = SchoolClassFactory(grade=1)
    registrar = member(Role.REGISTRAR, school=school_class.school)
    family = [FamilyMemberData(relation=codes.Relation.MOTHER, name="王芳", is_guardian=True)]
    family += [
        FamilyMemberData(relation=codes.Relation.FATHER, missing_reason=reason)
        for reason in codes.MissingReason.values
    ]
    student = student_register(
        actor=registrar, school_class_id=school_class.pk, data=student_data(family=family)
    ).student
    return list(student.family.order_by("ordinal"))


def test_the_migration_converts_the_words_to_codes_and_back():
    members = _family_with_every_reason()
    words = list(migration.WORD_TO_CODE)
    # Rows as the former code list stored them (written past validation, as the data was).
    for row, word in zip(members[1:], words, strict=True):
        FamilyMember.objects.filter(pk=row.pk).update(missing_reason=word)

    migration.words_to_codes(apps, None)
    stored = list(FamilyMember.objects.order_by("ordinal").values_list("missing_reason", flat=True))
    assert stored == ["", "1", "2", "3", "4", "9"]

    migration.codes_to_words(apps, None)
    stored = list(FamilyMember.objects.order_by("ordinal").values_list("missing_reason", flat=True))
    assert stored == ["", *words]


def test_a_value_already_a_code_is_left_alone():
    members = _family_with_every_reason()
    migration.words_to_codes(apps, None)
    assert [m.missing_reason for m in FamilyMember.objects.order_by("ordinal")] == [
        m.missing_reason for m in members
    ]
