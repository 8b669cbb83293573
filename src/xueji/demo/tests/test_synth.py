"""Synthetic students are valid by every rule of the registry, on SQLite and on PostgreSQL."""

import datetime
import random
import re
from collections import Counter

import pytest
from django.db import IntegrityError, connection

from xueji.audit.models import AuditEntry
from xueji.core import codes
from xueji.core.errors import ServiceError
from xueji.core.idnumbers import make_resident_id, mask_student_number, validate_resident_id
from xueji.demo import synth
from xueji.demo.services import students_synthesize
from xueji.geo.selectors import division_exists
from xueji.schools.models import School, SchoolClass
from xueji.students.identity import FAMILY_ID_NUMBER, unseal
from xueji.students.models import FamilyMember, Placement, Student
from xueji.students.pinyin import name_initials, name_pinyin
from xueji.students.validation import (
    FamilyMemberData,
    StudentData,
    age_on,
    expected_age_range,
    validate_student_data,
)
from xueji.testing.database import as_database_owner

pytestmark = pytest.mark.django_db

STUDENTS = 2_000
START = datetime.date(2026, 9, 1)


@pytest.fixture
def synthesized():
    return students_synthesize(actor=None, province_code="440000", students=STUDENTS, seed=7)


def test_counts_schools_classes_and_one_open_placement_per_student(synthesized):
    assert synthesized.students == Student.objects.count() == STUDENTS
    assert synthesized.family_members == FamilyMember.objects.count() == 2 * STUDENTS
    assert Placement.objects.filter(end_date__isnull=True).count() == STUDENTS
    assert Placement.objects.values("student").distinct().count() == STUDENTS
    # About one school per 500 students, across the province's counties, of several kinds.
    assert synthesized.schools == School.objects.count() == 4
    assert School.objects.filter(county__code__startswith="44").count() == 4
    assert School.objects.values("kind").distinct().count() >= 2
    codes_ = list(School.objects.values_list("code", flat=True))
    assert len(set(codes_)) == len(codes_)
    assert all(re.fullmatch(r"(11|21|31|34|51)44\d{6}", code) for code in codes_)
    # Classes of about 45, each placement in its school's class of the right grade.
    sizes = Counter(Placement.objects.values_list("school_class_id", flat=True))
    assert max(sizes.values()) <= 60
    assert sum(sizes.values()) / len(sizes) > 30
    for placement in Placement.objects.select_related("school_class", "student"):
        assert placement.grade == placement.school_class.grade
        assert (
            placement.school_id == placement.school_class.school_id == placement.student.school_id
        )
        assert placement.start_date == START and placement.reason == "registration"


def test_every_id_number_passes_the_full_check_with_birth_date_and_sex(synthesized):
    numbers = set()
    for student in Student.objects.all():
        id_number = student.reveal_id_number()
        checked = validate_resident_id(id_number, birth_date=student.birth_date, sex=student.sex)
        assert student.reveal_student_number() == "G" + id_number and student.number_kind == "G"
        assert student.number_masked == mask_student_number("G" + id_number)
        assert checked.area_code == student.birthplace_id and student.birthplace_id.startswith("44")
        numbers.add(id_number)
    assert len(numbers) == STUDENTS
    # Family members' numbers pass the check too.
    for sealed in FamilyMember.objects.exclude(id_number_sealed="").values_list(
        "id_number_sealed", flat=True
    ):
        validate_resident_id(unseal(sealed, context=FAMILY_ID_NUMBER))


def test_birth_dates_fit_the_grade(synthesized):
    for birth_date, grade in Placement.objects.values_list("student__birth_date", "grade"):
        low, high = expected_age_range(grade)
        assert low <= age_on(birth_date, START) <= high


def test_pinyin_is_the_registry_spelling_of_each_name(synthesized):
    for name, pinyin, initials in Student.objects.values_list(
        "name", "name_pinyin", "name_initials"
    ):
        assert (pinyin, initials) == (name_pinyin(name), name_initials(name))
        assert 2 <= len(name) <= 4


def test_families_have_a_guardian_and_missing_members_have_reasons(synthesized):
    members = list(FamilyMember.objects.values())
    by_student: dict = {}
    for member in members:
        by_student.setdefault(member["student_id"], []).append(member)
    assert all(len(family) == 2 for family in by_student.values())
    missing = [m for m in members if not m["name"]]
    assert missing, "some single-parent families"
    for member in missing:
        assert member["missing_reason"] in codes.MissingReason.values
        assert not member["is_guardian"] and not member["id_number_sealed"]
    for family in by_student.values():
        assert any(m["is_guardian"] and m["name"] for m in family)
    single = sum(1 for family in by_student.values() if any(not m["name"] for m in family))
    grandparents = sum(
        1
        for family in by_student.values()
        if any(m["is_guardian"] and m["relation"] in ("61", "62", "63", "64") for m in family)
    )
    # About 8% single parents (plus a few orphans in grandparents' care) and 10% grandparents.
    assert 0.05 * STUDENTS < single < 0.13 * STUDENTS
    assert 0.07 * STUDENTS < grandparents < 0.13 * STUDENTS


def test_generated_records_pass_the_registration_rules(synthesized):
    """A sample of the records, read back as registration data, passes validate_student_data."""
    students = list(Student.objects.prefetch_related("family").order_by("?")[:150])
    for student in students:
        data = StudentData(
            name=student.name,
            sex=student.sex,
            birth_date=student.birth_date,
            birthplace_code=student.birthplace_id,
            ethnicity=student.ethnicity,
            id_doc_type=student.id_doc_type,
            id_number=student.reveal_id_number(),
            nationality=student.nationality,
            native_place_code=student.native_place_id or "",
            overseas_status=student.overseas_status,
            health=student.health,
            hukou_division_code=student.hukou_division_id or "",
            hukou_nature=student.hukou_nature,
            address=student.address,
            phone=student.phone,
            attendance_mode=student.attendance_mode,
            entry_method=student.entry_method,
            left_behind=student.left_behind,
            disability_type=student.disability_type,
            family=[
                FamilyMemberData(
                    relation=m.relation,
                    name=m.name,
                    id_doc_type=m.id_doc_type,
                    id_number=unseal(m.id_number_sealed, context=FAMILY_ID_NUMBER),
                    phone=m.phone,
                    employer=m.employer,
                    is_guardian=m.is_guardian,
                    missing_reason=m.missing_reason,
                )
                for m in student.family.all()
            ],
        )
        validate_student_data(data, division_exists=division_exists)


def test_one_audit_entry_for_the_run(synthesized):
    entries = AuditEntry.objects.filter(action="students.synthesize")
    assert entries.count() == 1
    assert entries.get().detail["students"] == STUDENTS


def test_a_second_run_adds_students_without_reusing_numbers_or_school_codes():
    students_synthesize(actor=None, province_code="440000", students=600, seed=1)
    # The same seed again: names repeat, numbers and codes must not.
    students_synthesize(actor=None, province_code="440000", students=600, seed=1)
    assert Student.objects.count() == 1200
    assert Student.objects.values("id_number_index").distinct().count() == 1200
    assert School.objects.values("code").distinct().count() == School.objects.count() == 2


def test_an_explicit_plan_places_schools_of_the_kinds_asked_in_the_counties_asked():
    plan = [("440304", "kindergarten"), ("440305", "special"), ("440305", "senior")]
    students_synthesize(actor=None, province_code="440000", students=400, plan=plan, seed=3)
    assert sorted(School.objects.values_list("county_id", "kind")) == sorted(plan)
    kindergarten = School.objects.get(kind="kindergarten")
    assert set(SchoolClass.objects.filter(school=kindergarten).values_list("grade", flat=True)) == {
        -2,
        -1,
        0,
    }
    special = Student.objects.filter(school__kind="special")
    assert special.exists()
    assert not special.filter(disability_type="0").exists()


def test_unknown_province_and_bad_counts_are_refused():
    with pytest.raises(ServiceError) as refused:
        students_synthesize(actor=None, province_code="990000", students=10)
    assert refused.value.code == "unknown_province"
    with pytest.raises(ServiceError) as refused:
        students_synthesize(actor=None, province_code="440000", students=0)
    assert refused.value.code == "bad_count"
    with pytest.raises(ServiceError) as refused:
        students_synthesize(
            actor=None, province_code="440000", students=10, plan=[("110101", "primary")]
        )
    assert refused.value.code == "unknown_county"


def test_fast_check_characters_equal_make_resident_id():
    generator = synth.RowGenerator(
        province_code="440000",
        seed=1,
        dialect=synth.SQLITE,
        held_sequences={},
        current_counties=["440304"],
        now="",
        start_date=START,
    )
    rng = random.Random(5)
    areas = list(synth.area_periods("440000"))
    for _ in range(3000):
        area = rng.choice(areas)
        day = datetime.date(1950, 1, 1) + datetime.timedelta(days=rng.randrange(27000))
        sequence = rng.randrange(1000)
        compact = f"{day:%Y%m%d}"
        fast = f"{area}{compact}{sequence:03d}" + generator.check_character(area, compact, sequence)
        assert fast == make_resident_id(area, day, sequence)


def test_each_run_of_a_province_takes_lanes_of_its_own():
    """Numbers are sealed, so runs cannot see each other's sequences: each run is counted and
    draws from lanes no other run uses, and a province refuses runs once its lanes are used."""
    assert [synth.next_run("440000") for _ in range(synth.MAX_SYNTH_RUNS)] == list(
        range(synth.MAX_SYNTH_RUNS)
    )
    with pytest.raises(synth.SynthError) as refused:
        synth.next_run("440000")
    assert refused.value.code == "synth_runs_exhausted"
    assert synth.next_run("450000") == 0  # another province counts its own runs


# A rebuild drops and recreates the record's indexes and keys: an operator's bulk load, made as
# the owner of the tables (the application's role may not alter them).
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_rebuild_mode_restores_every_index_and_key_identically():
    def definitions():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
                "WHERE indrelid = ANY(%s::regclass[]) ORDER BY 1",
                [[table for table, _columns in synth.TABLES]],
            )
            indexes = cursor.fetchall()
            cursor.execute(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
                "FROM pg_constraint WHERE conrelid = ANY(%s::regclass[]) "
                "OR confrelid = ANY(%s::regclass[]) ORDER BY 1, 2",
                [[t for t, _c in synth.TABLES], [t for t, _c in synth.TABLES]],
            )
            return indexes, cursor.fetchall()

    before = definitions()
    with as_database_owner():
        result = students_synthesize(
            actor=None, province_code="440000", students=500, seed=4, index_mode="rebuild"
        )
    assert result.index_mode == "rebuild" and result.index_timings
    assert definitions() == before
    assert Placement.objects.filter(end_date__isnull=True).count() == 500


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_rebuild_mode_still_refuses_a_duplicate_number(monkeypatch):
    """Keys built after the load still hold: a duplicate makes the whole load fail."""
    students_synthesize(actor=None, province_code="440000", students=200, seed=5)
    held = Student.objects.values_list("id_number_index", flat=True).first()
    # Pretend this is the first run again: the same seed then generates the same numbers.
    monkeypatch.setattr(synth, "next_run", lambda province_code: 0)
    with pytest.raises(IntegrityError, match="one_record_per"), as_database_owner():
        students_synthesize(
            actor=None, province_code="440000", students=200, seed=5, index_mode="rebuild"
        )
    assert Student.objects.filter(id_number_index=held).count() == 1
    assert Student.objects.count() == 200


def test_generators_in_different_lanes_never_give_the_same_number():
    held = {"44030420180305": 7}
    numbers = []
    for lane in range(3):
        generator = synth.RowGenerator(
            province_code="440000",
            seed=1,
            dialect=synth.SQLITE,
            held_sequences=held,
            current_counties=["440304"],
            now="",
            start_date=START,
            lane=(lane, 3),
        )
        # Same seed in every lane: the same areas and dates are drawn, the sequences differ.
        lane_numbers, _areas, _births = generator.child_ids(
            ["440304"] * 400, [8] * 400, [i % 2 == 0 for i in range(400)]
        )
        numbers += lane_numbers
    assert len(set(numbers)) == len(numbers) == 1200
    held_prefix = [n for n in numbers if n.startswith("44030420180305")]
    assert all(int(n[14:17]) > 7 for n in held_prefix)


@pytest.mark.postgres
def test_forked_generating_processes_write_valid_unique_rows():
    result = students_synthesize(
        actor=None, province_code="440000", students=1500, seed=6, workers=2, batch_size=200
    )
    assert result.workers == 2
    assert Student.objects.count() == 1500
    assert FamilyMember.objects.count() == 3000
    assert Placement.objects.filter(end_date__isnull=True).count() == 1500
    for student in Student.objects.all():
        validate_resident_id(
            student.reveal_id_number(), birth_date=student.birth_date, sex=student.sex
        )
    # The connection the workers inherited is still this process's, in its transaction.
    assert AuditEntry.objects.filter(action="students.synthesize").count() == 1


def test_lanes_of_runs_and_workers_never_overlap():
    lanes = {synth.run_lane(run, worker) for run in range(3) for worker in range(synth.MAX_WORKERS)}
    assert len({index for index, _count in lanes}) == 3 * synth.MAX_WORKERS
    assert {count for _index, count in lanes} == {synth.MAX_WORKERS * synth.MAX_SYNTH_RUNS}
    with pytest.raises(ValueError):
        synth.run_lane(0, synth.MAX_WORKERS)
