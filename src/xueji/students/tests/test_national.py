"""The national interface: callers ask national_index(), whatever answers it."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from xueji.access.models import Role
from xueji.core import codes
from xueji.core.errors import Conflict
from xueji.students import national
from xueji.students.national import LocalNationalIndex, MatchKeys, NationalHolder, national_index
from xueji.students.services import RegisteredElsewhere, student_register
from xueji.testing.factories import SchoolClassFactory, member, student_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def registered() -> Any:
    school_class = SchoolClassFactory(grade=1)
    registrar = member(Role.REGISTRAR, school=school_class.school)
    data = student_data()
    registration = student_register(actor=registrar, school_class_id=school_class.pk, data=data)
    return registration, data


def test_the_local_index_finds_the_holder_of_a_document_and_of_a_number(registered) -> None:
    registration, data = registered
    student = registration.student
    index = national_index()
    assert isinstance(index, LocalNationalIndex)
    holder = index.holder_of_document(codes.IdDocType.RESIDENT_ID, data.id_number)
    assert holder is not None
    assert holder.student_id == student.pk
    assert holder.school_name == student.school.name
    assert "*" in holder.number_masked
    assert (
        index.holder_of_document(codes.IdDocType.RESIDENT_ID, data.id_number, exclude=student.pk)
        is None
    )
    assert index.holder_of_number("G" + data.id_number).student_id == student.pk  # type: ignore[union-attr]
    assert index.holder_of_number("G440304202003050000") is None


def test_the_duplicate_search_compares_name_birth_date_and_sex(registered) -> None:
    registration, data = registered
    student = registration.student
    keys = MatchKeys(name_pinyin=student.name_pinyin, birth_date=data.birth_date, sex=data.sex)
    assert [h.student_id for h in national_index().similar_records(keys)] == [student.pk]
    other = MatchKeys(name_pinyin=student.name_pinyin, birth_date=data.birth_date, sex="2")
    assert national_index().similar_records(other) == []


def test_a_claim_holds_once_in_the_country() -> None:
    index = national_index()
    with transaction.atomic():
        assert index.claim_once(purpose="aid", key="student-1:2026-1", holder="44") is True
        assert index.claim_once(purpose="aid", key="student-1:2026-1", holder="45") is False
        assert index.claim_once(purpose="aid", key="student-1:2026-2", holder="45") is True


class _Hub:
    """A stand-in national hub: every document is held in another province, by 张春铭."""

    def holder_of_document(self, id_doc_type: str, id_number: str, *, exclude: Any = None) -> Any:
        return NationalHolder(
            student_id=None, province_code="45", school_name="南宁市第一小学", number_masked="G45*"
        )

    def holder_named(self, holder: NationalHolder, name: str) -> bool:
        return name == "张春铭"


def test_registration_asks_the_configured_national_index(settings) -> None:
    settings.XUEJI_NATIONAL_INDEX = f"{__name__}._Hub"
    national._configured.cache_clear()
    try:
        school_class = SchoolClassFactory(grade=1)
        registrar = member(Role.REGISTRAR, school=school_class.school)
        with pytest.raises(Conflict, match="南宁市第一小学"):
            student_register(actor=registrar, school_class_id=school_class.pk, data=student_data())
        # Whether the name is the record's is the hub's answer too.
        with pytest.raises(RegisteredElsewhere):
            student_register(
                actor=registrar,
                school_class_id=school_class.pk,
                data=student_data(name="王小明"),
            )
    finally:
        national._configured.cache_clear()


def test_the_local_index_compares_the_holders_name_folded(registered) -> None:
    _registration, data = registered
    holder = national_index().holder_of_document(data.id_doc_type, data.id_number)
    assert holder is not None
    assert national_index().holder_named(holder, "張春銘")
    assert not national_index().holder_named(holder, "张春明")
