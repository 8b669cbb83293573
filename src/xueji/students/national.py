"""The national interface: what must hold for the whole country, asked in one place.

One number per child (一人一号), the duplicate search across provinces and "only once per term"
facts (one aid payment per child and term) are national: a province alone cannot answer them.
Every caller asks `national_index()`; today it answers from this database (`LocalNationalIndex`),
and the two-level deployment replaces it by the hub's client through the setting
`XUEJI_NATIONAL_INDEX` (a dotted path to a class implementing `NationalIndex`), without touching
a caller.

The interface speaks in blind indexes and masked numbers, never in plaintext identity numbers, so
that the same calls can cross the network to the hub.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.module_loading import import_string

from xueji.students.identity import document_indexes, number_indexes
from xueji.students.models import NationalClaim, Student, StudentNumberAlias
from xueji.students.names import names_match


@dataclass(frozen=True)
class NationalHolder:
    """The record that holds a number somewhere in the country."""

    student_id: Any
    province_code: str
    school_name: str
    number_masked: str


@dataclass(frozen=True)
class MatchKeys:
    """What the duplicate search compares (一人多籍 without a shared ID number)."""

    name_pinyin: str
    birth_date: datetime.date
    sex: str


class NationalIndex(Protocol):
    def holder_of_document(
        self, id_doc_type: str, id_number: str, *, exclude: Any = None
    ) -> NationalHolder | None:
        """Who holds this identity document, anywhere in the country."""

    def holder_of_number(self, student_number: str) -> NationalHolder | None:
        """Who holds this student number (current or former), anywhere in the country."""

    def holder_named(self, holder: NationalHolder, name: str) -> bool:
        """Is `name` the holder's recorded name (traditional or simplified characters, any
        middle dot: xueji.students.names)? The name is compared where the record is."""

    def similar_records(self, keys: MatchKeys, *, limit: int = 20) -> list[NationalHolder]:
        """Records anywhere in the country that may be the same child (the duplicate search)."""

    def claim_once(self, *, purpose: str, key: str, holder: str) -> bool:
        """Claim `key` for `purpose` nationally (e.g. an aid payment for a child and term): True
        the first time, False when it was claimed before (by anyone), inside the caller's
        transaction."""


def _holder(student: Student) -> NationalHolder:
    return NationalHolder(
        student_id=student.pk,
        province_code=student.school.code[:2] if student.school_id else "",
        school_name=student.school.name if student.school_id else "",
        number_masked=student.number_masked,
    )


class LocalNationalIndex:
    """The national interface answered from this database: right while one database holds the
    country (the demo, a single deployment), and the reference for the hub's answers."""

    def holder_of_document(
        self, id_doc_type: str, id_number: str, *, exclude: Any = None
    ) -> NationalHolder | None:
        # Every held suite's digest: a record not yet re-indexed by a change of suite is found
        # too (xueji.students.sealing), so a duplicate across the two digests is refused.
        holders = Student.objects.select_related("school").filter(
            id_doc_type=id_doc_type,
            id_number_index__in=document_indexes(id_doc_type, id_number),
        )
        if exclude is not None:
            holders = holders.exclude(pk=exclude)
        found = holders.first()
        return _holder(found) if found is not None else None

    def holder_of_number(self, student_number: str) -> NationalHolder | None:
        indexes = number_indexes(student_number)
        found = Student.objects.select_related("school").filter(number_index__in=indexes).first()
        if found is None:
            alias = (
                StudentNumberAlias.objects.select_related("student__school")
                .filter(number_index__in=indexes)
                .first()
            )
            found = alias.student if alias is not None else None
        return _holder(found) if found is not None else None

    def holder_named(self, holder: NationalHolder, name: str) -> bool:
        recorded = (
            Student.objects.filter(pk=holder.student_id).values_list("name", flat=True).first()
        )
        return recorded is not None and names_match(name, recorded)

    def similar_records(self, keys: MatchKeys, *, limit: int = 20) -> list[NationalHolder]:
        found = Student.objects.select_related("school").filter(
            name_pinyin=keys.name_pinyin, birth_date=keys.birth_date, sex=keys.sex
        )
        return [_holder(student) for student in found.order_by("pk")[:limit]]

    def claim_once(self, *, purpose: str, key: str, holder: str) -> bool:
        try:
            with transaction.atomic():
                NationalClaim.objects.create(purpose=purpose, key=key, holder=holder)
        except IntegrityError:
            return False
        return True


@cache
def _configured(path: str) -> NationalIndex:
    index: NationalIndex = import_string(path)()
    return index


def national_index() -> NationalIndex:
    """The national interface this deployment uses (XUEJI_NATIONAL_INDEX)."""
    return _configured(
        getattr(settings, "XUEJI_NATIONAL_INDEX", "xueji.students.national.LocalNationalIndex")
    )
