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
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from xueji.core.errors import Conflict
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

    # ---- identity (issue 21): the duplicate scan's rows --------------------------------------
    def match_rows(self, *, area_prefix: str = "") -> Iterator[dict[str, Any]]:
        """What the duplicate scan compares of every record not merged away (of the schools
        whose county code starts with `area_prefix`; all when empty), parents by blind index.
        At the hub the same scan runs where the rows are, over every province."""

    # ---- end identity ------------------------------------------------------------------------

    # ---- federation (issue 25): reservations at the national hub ----------------------------
    def reserve(self, request: ReservationRequest) -> Reservation:
        """Reserve the request's numbers nationally before the registration commits: RESERVED,
        HELD (another province's record holds one: `holder` names it) or PENDING (the hub could
        not be reached: the reservation is completed later, the registration goes on)."""

    # ---- end federation ----------------------------------------------------------------------


def _holder(student: Student) -> NationalHolder:
    return NationalHolder(
        student_id=student.pk,
        province_code=student.school.province_id[:2] if student.school_id else "",
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

    # ---- identity (issue 21) -----------------------------------------------------------------
    def match_rows(self, *, area_prefix: str = "") -> Iterator[dict[str, Any]]:
        from xueji.students.identity import STUDENT_ID_NUMBER, unseal
        from xueji.students.models import FamilyMember

        students = Student.objects.exclude(state__in=["merged", "reg_withdrawn"])
        members = FamilyMember.objects.exclude(name="")
        if area_prefix:
            students = students.filter(school__county__code__startswith=area_prefix)
            members = members.filter(student__school__county__code__startswith=area_prefix)
        parents: dict[Any, list[tuple[str, str, str]]] = {}
        for student_id, relation, name, index in members.values_list(
            "student_id", "relation", "name", "id_number_index"
        ):
            parents.setdefault(student_id, []).append((relation, name, index))
        for row in students.values_list(
            "pk", "name", "sex", "birth_date", "id_doc_type", "id_number_sealed",
            "birthplace_id", "ethnicity", "school__county_id",
        ).iterator(chunk_size=5000):  # fmt: skip
            pk, name, sex, born, doc, sealed, birthplace, ethnicity, county = row
            found = {"father_name": "", "father_id": "", "mother_name": "", "mother_id": ""}
            for relation, parent, index in parents.get(pk, []):
                role = {"51": "father", "55": "father", "57": "father"}.get(relation)
                role = role or {"52": "mother", "56": "mother", "58": "mother"}.get(relation)
                if role and not found[f"{role}_name"]:
                    found[f"{role}_name"], found[f"{role}_id"] = parent, index
            yield {
                "key": str(pk),
                "name": name,
                "sex": sex,
                "birth_date": born,
                "id_type": doc,
                "id_number": unseal(sealed, context=STUDENT_ID_NUMBER),
                "birthplace": birthplace,
                "ethnicity": ethnicity,
                "county": county,
                **found,
            }

    # ---- end identity ------------------------------------------------------------------------

    # ---- federation (issue 25) ---------------------------------------------------------------
    def reserve(self, request: ReservationRequest) -> Reservation:
        # One database holds the country: its unique indexes are the national reservation.
        return Reservation(RESERVED)

    # ---- end federation ----------------------------------------------------------------------


@cache
def _configured(path: str) -> NationalIndex:
    index: NationalIndex = import_string(path)()
    return index


def national_index() -> NationalIndex:
    """The national interface this deployment uses (XUEJI_NATIONAL_INDEX)."""
    return _configured(
        getattr(settings, "XUEJI_NATIONAL_INDEX", "xueji.students.national.LocalNationalIndex")
    )


# ---- federation (issue 25): reserving a registration's numbers at the national hub ----------
# student_register calls national_reserve inside its transaction, once the record and its family
# are written: the hub (xueji.federation.client.HubNationalIndex) answers before the commit, so
# that two provinces registering the same child at the same moment end with one record and the
# other refused, naming the province. The request speaks in blind indexes and masked numbers.

RESERVED = "reserved"
HELD = "held"
PENDING = "pending"
MATCH_KEYS = "national.match"


@dataclass(frozen=True)
class ReservationRequest:
    record: str
    province: str
    entries: tuple[tuple[str, str], ...]  # (kind: "document" | "number", blind index)
    keys_index: str
    parents: tuple[str, ...]
    school_name: str
    number_masked: str

    def as_json(self) -> dict[str, Any]:
        return {
            "record": self.record,
            "province": self.province,
            "entries": [list(entry) for entry in self.entries],
            "keys_index": self.keys_index,
            "parents": list(self.parents),
            "school_name": self.school_name,
            "number_masked": self.number_masked,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReservationRequest:
        return cls(
            record=str(data["record"]),
            province=str(data["province"]),
            entries=tuple((str(kind), str(index)) for kind, index in data["entries"]),
            keys_index=str(data.get("keys_index", "")),
            parents=tuple(str(parent) for parent in data.get("parents", [])),
            school_name=str(data.get("school_name", "")),
            number_masked=str(data.get("number_masked", "")),
        )


@dataclass(frozen=True)
class Reservation:
    outcome: str  # RESERVED, HELD or PENDING
    holder: NationalHolder | None = None


def match_keys_index(keys: MatchKeys) -> str:
    """The sealed matching keys (a blind index of name pinyin, birth date and sex): the hub
    compares them without holding any of the three."""
    from xueji.core.crypto import blind_index

    text = f"{keys.name_pinyin.strip().lower()}|{keys.birth_date.isoformat()}|{keys.sex}"
    return blind_index(text, context=MATCH_KEYS)


def reservation_request(student: Student) -> ReservationRequest:
    # A registration waiting for the county's review has no number yet: its document is
    # reserved now, its number when the county approves (xueji.students.review).
    entries = [("number", student.number_index)] if student.number_index else []
    if student.id_number_index:
        entries.append(("document", student.id_number_index))
    parents = tuple(
        sorted(index for index in student.family.values_list("id_number_index", flat=True) if index)
    )
    keys = MatchKeys(student.name_pinyin, student.birth_date, student.sex)
    return ReservationRequest(
        record=str(student.pk),
        province=student.school.province_id[:2] if student.school_id else "",
        entries=tuple(entries),
        keys_index=match_keys_index(keys),
        parents=parents,
        school_name=student.school.name if student.school_id else "",
        number_masked=student.number_masked,
    )


def province_name(code: str) -> str:
    from xueji.geo.models import Division

    name = Division.objects.filter(code=f"{code}0000").values_list("name", flat=True).first()
    return name or code


class HeldInProvince(Conflict):
    """Another province's record holds the number (the hub decided between two registrations)."""


def national_reserve(*, student: Student) -> Reservation:
    """Reserve a new record's numbers nationally, inside its registration's transaction."""
    reservation = national_index().reserve(reservation_request(student))
    if reservation.outcome == HELD:
        holder = reservation.holder
        province = holder.province_code if holder is not None else ""
        raise HeldInProvince(
            "registered_in_province",
            _(
                "This child is already registered in %(province)s: the registration is refused. "
                "To take the child in, file a transfer."
            )
            % {"province": province_name(province)},
            field="id_number",
            province=province,
        )
    if reservation.outcome == PENDING and student.number_kind == "G":
        # The hub is unreachable: the child is registered under an L number (临时学籍号) and
        # takes the G number once the hub has reserved it (xueji.federation.client.pending_retry)
        # or goes to the duplicate review when another province holds it.
        from xueji.students.identity import student_number_fields
        from xueji.students.numbering import student_number_allocate_l

        assert student.birth_date is not None and student.school is not None
        temporary = student_number_allocate_l(student.school.county_id, student.birth_date)
        for field, value in student_number_fields(temporary).items():
            setattr(student, field, value)
        student.number_kind = "L"
        student.save(
            update_fields=["number_masked", "number_sealed", "number_index", "number_kind"]
        )
    return reservation
