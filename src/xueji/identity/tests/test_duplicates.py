"""The duplicate scan over the registry, the counties' decisions and the merge: a J/G pair, a
homophone pair, a traditional-character pair and a swapped-parents pair are found; twins and
namesakes are not; a merge keeps both histories, resolves both numbers and is undone cleanly."""

from __future__ import annotations

import datetime

import pytest

from xueji.access.models import Role
from xueji.core import codes
from xueji.core.errors import Conflict, FieldErrors, NotFound
from xueji.corrections.evidence import Upload
from xueji.geo.models import Division
from xueji.identity.models import DuplicatePair, PairState
from xueji.identity.scan import duplicate_scan
from xueji.identity.selectors import (
    identity_status_counts,
    pair_detail,
    students_in_open_duplicate_pairs,
)
from xueji.identity.services import pair_decide, pair_undo
from xueji.students.models import Placement, PlacementReason, RecordState, Student
from xueji.students.national import national_index
from xueji.students.validation import FamilyMemberData
from xueji.testing.factories import SchoolClassFactory, SchoolFactory, member, resident_id

from .helpers import county_approver, register

pytestmark = pytest.mark.django_db

BORN = datetime.date(2020, 3, 5)
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
    b"\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00"
    b"\x00IEND\xaeB`\x82"
)


def family(father: str, mother: str) -> list[FamilyMemberData]:
    return [
        FamilyMemberData(
            relation=codes.Relation.FATHER, name=father, is_guardian=True, phone="13800138000"
        ),
        FamilyMemberData(relation=codes.Relation.MOTHER, name=mother),
    ]


def j(**data):
    return register(id_doc_type=codes.IdDocType.NONE, id_number="", **data)


def pair_of(first: Student, second: Student) -> DuplicatePair | None:
    a, b = sorted([first.pk, second.pk])
    return DuplicatePair.objects.filter(student_a_id=a, student_b_id=b).first()


def test_the_scan_finds_j_g_homophone_traditional_and_swapped_parent_pairs_but_not_twins():
    g = register(name="张春铭", family=family("张伟", "李娜"))
    j_twin_of_g = j(name="张春铭", family=family("张伟", "李娜"))
    homophone = j(name="王春明", family=family("王强", "刘芳"))
    homophone_g = register(name="王春铭", family=family("王强", "刘芳"))
    traditional = register(name="陈伟", family=family("陈刚", "周敏"))
    traditional_j = j(name="陳偉", family=family("陈刚", "周敏"))
    swapped = register(name="赵丽", sex="2", family=family("赵军", "孙霞"))
    swapped_j = j(name="赵丽", sex="2", family=family("孙霞", "赵军"))
    # Twins: same parents and birth date, another given name; namesakes: same name and day,
    # other parents.
    twin_1 = register(name="李一帆", family=family("李强", "何静"))
    twin_2 = register(name="李一航", family=family("李强", "何静"))
    namesake_1 = register(name="刘洋", family=family("刘建", "吴梅"))
    namesake_2 = register(name="刘洋", family=family("刘勇", "郑红"))

    result = duplicate_scan(actor=None)

    for first, second in [
        (g, j_twin_of_g),
        (homophone, homophone_g),
        (traditional, traditional_j),
        (swapped, swapped_j),
    ]:
        found = pair_of(first, second)
        assert found is not None, (first.name, second.name)
        assert found.score >= 7
        assert "name" in found.contributions and "birth_date" in found.contributions
    assert pair_of(twin_1, twin_2) is None
    assert pair_of(namesake_1, namesake_2) is None
    assert result.proposed == DuplicatePair.objects.count()
    # A second scan proposes nothing new.
    assert duplicate_scan(actor=None).proposed == 0
    assert {g.pk, j_twin_of_g.pk} <= students_in_open_duplicate_pairs()
    assert identity_status_counts(county_code="440304")["open_pairs"] == 4


def _merge_pair():
    g_class = SchoolClassFactory(grade=1)
    j_class = SchoolClassFactory(grade=1)
    g = register(school_class=g_class, name="张春铭")
    jr = j(school_class=j_class, name="张春铭")
    duplicate_scan(actor=None)
    pair = pair_of(g, jr)
    assert pair is not None
    return g, jr, pair


def test_a_county_approver_merges_with_evidence_both_histories_kept_both_numbers_resolve():
    g, jr, pair = _merge_pair()
    approver = county_approver()
    view = pair_detail(approver, pair.pk)
    assert view is not None and view.may_decide
    attends = "a" if pair.student_a_id == jr.pk else "b"  # the child sits in the J record's school
    with pytest.raises(FieldErrors):
        pair_decide(actor=approver, pair_id=pair.pk, decision="same", attends=attends)
    j_number = jr.reveal_student_number()
    decided = pair_decide(
        actor=approver,
        pair_id=pair.pk,
        decision="same",
        attends=attends,
        evidence=[Upload(name="在读证明.png", content=PNG)],
    )
    assert decided.state == PairState.SAME
    assert decided.survivor_id == g.pk  # G before J
    g.refresh_from_db()
    jr.refresh_from_db()
    assert jr.state == RecordState.MERGED and jr.merged_into_id == g.pk
    # The child's place at the school it attends is carried onto the survivor.
    open_placement = Placement.objects.get(student=g, end_date__isnull=True)
    assert open_placement.reason == PlacementReason.DUPLICATE_MERGE
    assert g.school_id == jr.school_id
    assert Placement.objects.filter(student=g).count() == 3
    assert g.events.filter(kind="registered").count() == 2
    assert national_index().holder_of_number(j_number).student_id == g.pk
    assert national_index().holder_of_number(g.reveal_student_number()).student_id == g.pk
    assert decided.evidence.count() == 1

    undone = pair_undo(actor=approver, pair_id=pair.pk)
    assert undone.state == PairState.UNDONE
    g.refresh_from_db()
    jr.refresh_from_db()
    assert jr.state == RecordState.ENROLLED and jr.merged_into_id is None
    assert g.school_id != jr.school_id
    assert Placement.objects.filter(student=g).count() == 1
    assert Placement.objects.filter(student=jr, end_date__isnull=True).count() == 1
    assert Placement.objects.filter(student=g, end_date__isnull=True).count() == 1
    assert national_index().holder_of_number(j_number).student_id == jr.pk
    assert jr.events.filter(kind="registered").count() == 1


def test_not_the_same_child_is_never_proposed_again():
    g, jr, pair = _merge_pair()
    pair_decide(actor=county_approver(), pair_id=pair.pk, decision="not_same")
    pair.refresh_from_db()
    assert pair.state == PairState.NOT_SAME
    assert duplicate_scan(actor=None).proposed == 0
    assert pair_of(g, jr).state == PairState.NOT_SAME


def test_records_of_two_counties_need_both_and_a_disagreement_goes_to_the_city():
    here = SchoolClassFactory(grade=1)
    there = SchoolClassFactory(
        grade=1, school=SchoolFactory(county=Division.objects.get(code="440305"))
    )
    g = register(school_class=here, name="张春铭")
    jr = j(school_class=there, name="张春铭")
    duplicate_scan(actor=None)
    pair = pair_of(g, jr)
    futian, nanshan = county_approver("440304"), county_approver("440305")
    other = county_approver("440106")
    with pytest.raises(NotFound):
        pair_decide(actor=other, pair_id=pair.pk, decision="not_same")
    pair_decide(actor=futian, pair_id=pair.pk, decision="not_same")
    pair.refresh_from_db()
    assert pair.state == PairState.PROPOSED and pair.decision_a == "not_same"
    pair_decide(
        actor=nanshan,
        pair_id=pair.pk,
        decision="same",
        attends="a",
        evidence=[Upload(name="证明.png", content=PNG)],
    )
    pair.refresh_from_db()
    assert pair.state == PairState.ESCALATED
    city = member(Role.BUREAU_APPROVER, division=Division.objects.get(code="440300"), level="city")
    with pytest.raises(Conflict):  # escalated: no longer the county's to decide
        pair_decide(actor=futian, pair_id=pair.pk, decision="not_same")
    pair_decide(actor=city, pair_id=pair.pk, decision="not_same")
    pair.refresh_from_db()
    assert pair.state == PairState.NOT_SAME


def test_a_merge_is_not_undone_once_a_record_moved():
    g, _jr, pair = _merge_pair()
    approver = county_approver()
    pair_decide(
        actor=approver,
        pair_id=pair.pk,
        decision="same",
        attends="a" if pair.student_a_id == g.pk else "b",
        evidence=[Upload(name="证明.png", content=PNG)],
    )
    from django.db import transaction

    from xueji.students.record import record_state_set

    with transaction.atomic():
        record_state_set(
            actor=None,
            student=Student.objects.get(pk=g.pk),
            state=RecordState.SUSPENDED,
            event="suspended",
        )
    with pytest.raises(Conflict):
        pair_undo(actor=approver, pair_id=pair.pk)


def test_check_file_writes_the_pairs_with_their_reasons(tmp_path):
    from django.core.management import call_command

    rows = [
        "record_id,name,sex,birth_date,id_type,id_number,birthplace,ethnicity,father_name,"
        "father_id,mother_name,mother_id,school_county",
        f"r1,张春铭,M,2020-03-05,resident_id,{resident_id()},440304,01,张伟,,李娜,,440304",
        "r2,张春明,M,2020-03-05,none,,440304,01,张伟,,李娜,,440305",
        "r3,李一帆,M,2020-03-05,none,,440304,01,李强,,何静,,440304",
        "r4,李一航,M,2020-03-05,none,,440304,01,李强,,何静,,440304",
    ]
    source = tmp_path / "records.csv"
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    output = tmp_path / "pairs.csv"
    call_command("duplicates", "check-file", str(source), "--output", str(output))
    lines = output.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "record_id_a,record_id_b,score,reasons"
    assert len(lines) == 2 and lines[1].startswith("r1,r2,")
    assert "name +3.0" in lines[1]
    registered = register(name="张春铭")
    assert registered is not None
    call_command(
        "duplicates", "check-file", str(source), "--output", str(output), "--against-registry"
    )
    lines = output.read_text(encoding="utf-8").splitlines()
    assert any("registry:G440304" in line for line in lines)
