"""Writes of synthetic and demo data: each in one transaction with one audit entry."""

from __future__ import annotations

import datetime
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.access.models import Membership, Role, ScopeLevel
from xueji.audit.models import AuditEntry
from xueji.audit.services import audit_record
from xueji.core.errors import ServiceError
from xueji.geo.models import Division, DivisionLevel
from xueji.schools.models import AcademicYear, School, SchoolClass, SchoolKind, Term
from xueji.schools.services import terms_of
from xueji.scores.models import Subject
from xueji.scores.services import teaching_assign
from xueji.verification.services import window_open

from . import bulkload, demo, names, synth
from .archive import archive_demo
from .attendance import attendance_demo
from .identity import identity_demo
from .reporting import reporting_demo
from .synth import ACADEMIC_YEAR, BATCH_SIZE, STUDENTS_PER_SCHOOL
from .welfare import welfare_demo

# Below this many students, or when the tables already hold more rows than are being added,
# rows go straight into the indexed tables; above it, indexes are built after the load.
REBUILD_MIN_STUDENTS = 100_000

Progress = Callable[[str, int, int], None]


@dataclass
class SynthResult:
    students: int = 0
    family_members: int = 0
    placements: int = 0
    schools: int = 0
    classes: int = 0
    teachers: int = 0
    seconds: float = 0.0
    index_mode: str = "keep"
    workers: int = 1
    phases: dict[str, float] = field(default_factory=dict)
    index_timings: list[tuple[str, float]] = field(default_factory=list)
    school_ids: list[int] = field(default_factory=list)


def _quiet(_stage: str, _done: int, _total: int) -> None:
    pass


def academic_year_ensure(start_year: int = ACADEMIC_YEAR) -> AcademicYear:
    """The academic year and its two terms (autumn to January, February to August)."""
    year, _created = AcademicYear.objects.get_or_create(start_year=start_year)
    if not Term.objects.filter(academic_year=year).exists():
        Term.objects.bulk_create(terms_of(year))
    return year


def _auto_plan(
    counties: Sequence[Division], students: int, rng: random.Random
) -> list[tuple[Division, str]]:
    count = max(1, round(students / STUDENTS_PER_SCHOOL))
    kinds = synth.school_kinds_for(count, rng)
    order = list(counties)
    rng.shuffle(order)
    return [(order[i % len(order)], kind) for i, kind in enumerate(kinds)]


def _teacher_username(school: School, school_class: SchoolClass) -> str:
    grade = f"k{school_class.grade + 3}" if school_class.grade <= 0 else str(school_class.grade)
    return f"t{school.code}-{grade}-{school_class.number}"


def _create_class_teachers(
    classes: list[SchoolClass], password_hash: str, rng: random.Random
) -> int:
    """One teacher per class: a user with a class-teacher membership at the class's school."""
    user_model = get_user_model()
    users = []
    for school_class in classes:
        male = rng.random() < 0.3
        given = rng.choice(names.ADULT_MALE_GIVEN_NAMES if male else names.ADULT_FEMALE_GIVEN_NAMES)
        users.append(
            user_model(
                username=_teacher_username(school_class.school, school_class),
                password=password_hash,
                last_name=rng.choices(names.SURNAMES, weights=names.SURNAME_WEIGHTS)[0],
                first_name=given,
            )
        )
    created = user_model.objects.bulk_create(users, batch_size=1000)
    for school_class, user in zip(classes, created, strict=True):
        school_class.class_teacher = user
    Membership.objects.bulk_create(
        [
            Membership(
                user=user,
                role=Role.CLASS_TEACHER,
                scope_level=ScopeLevel.SCHOOL,
                school=school_class.school,
            )
            for school_class, user in zip(classes, created, strict=True)
        ],
        batch_size=1000,
    )
    return len(created)


def students_synthesize(
    *,
    actor: Any,
    province_code: str,
    students: int,
    seed: int | None = None,
    plan: Sequence[tuple[str, str]] | None = None,
    class_teachers: bool = False,
    password_hash: str = "",
    index_mode: str = "auto",
    batch_size: int = BATCH_SIZE,
    workers: int | None = None,
    progress: Progress | None = None,
) -> SynthResult:
    """Generate `students` students of a province with families, schools, classes, placements.

    `plan` lists (county code, school kind) per school; without it the schools (one per
    STUDENTS_PER_SCHOOL students, of several kinds) are spread over the province's counties.
    `index_mode` is "keep" (insert into the indexed tables), "rebuild" (PostgreSQL: build indexes
    and keys after the rows, see bulkload) or "auto" (rebuild for large loads into small tables).
    `workers` forked processes generate the rows on PostgreSQL (default: one per CPU for large
    loads); with 0 or 1 a single thread does, alongside the writing.
    """
    progress = progress or _quiet
    started = time.perf_counter()
    result = SynthResult()
    if students < 1:
        raise ServiceError("bad_count", _("Give a number of students of at least 1."))
    if index_mode not in ("auto", "keep", "rebuild"):
        raise ServiceError("bad_index_mode", _("The index mode is auto, keep or rebuild."))
    province = Division.objects.filter(code=province_code, level=DivisionLevel.PROVINCE).first()
    if province is None:
        raise ServiceError(
            "unknown_province",
            _("%(code)s is not a province code.") % {"code": province_code},
        )
    counties = synth.province_counties(province.code)
    by_code = {county.code: county for county in counties}
    rng = random.Random(seed)
    if plan is None:
        if not counties:
            raise ServiceError(
                "no_counties", _("%(code)s has no counties.") % {"code": province_code}
            )
        school_plan = _auto_plan(counties, students, rng)
    else:
        unknown = [code for code, _kind in plan if code not in by_code]
        if unknown:
            raise ServiceError(
                "unknown_county",
                _("%(codes)s are not counties of this province.") % {"codes": ", ".join(unknown)},
            )
        bad_kinds = [kind for _code, kind in plan if kind not in SchoolKind.values]
        if bad_kinds:
            raise ServiceError(
                "unknown_school_kind",
                _("%(kinds)s are not kinds of school.") % {"kinds": ", ".join(bad_kinds)},
            )
        school_plan = [(by_code[code], kind) for code, kind in plan]

    postgres = connection.vendor == "postgresql"
    with transaction.atomic():
        phase = time.perf_counter()
        year = academic_year_ensure()
        schools = synth.create_schools(school_plan, province.code)
        classes, sizes = synth.plan_classes(schools, students, year, rng)
        if class_teachers:
            result.teachers = _create_class_teachers(classes, password_hash, rng)
        classes = SchoolClass.objects.bulk_create(classes, batch_size=2000)
        school_county = {school.pk: county for school, county in schools}
        slots = [
            synth.ClassSlot(
                school_id=c.school_id,
                class_id=c.pk,
                grade=c.grade,
                county_code=school_county[c.school_id].code,
                county_name=school_county[c.school_id].name,
                kind=c.school.kind,
                size=size,
            )
            for c, size in zip(classes, sizes, strict=True)
            if size
        ]
        result.schools, result.classes = len(schools), len(classes)
        result.school_ids = [school.pk for school, _county in schools]
        result.phases["schools and classes"] = time.perf_counter() - phase
        progress("schools", len(schools), len(classes))

        with connection.cursor() as cursor:
            writer: synth.Writer
            if postgres:
                writer = synth.PostgresWriter(cursor)
                # Memory for building indexes and for the joins that validate foreign keys.
                cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
                cursor.execute("SET LOCAL work_mem = '256MB'")
            else:
                writer = synth.SqliteWriter(connection.connection)
                cursor.execute("PRAGMA cache_size = -262144")
            deferred = None
            if postgres and _rebuild(cursor, index_mode, students):
                result.index_mode = "rebuild"
                phase = time.perf_counter()
                deferred = bulkload.drop(
                    cursor, [synth.STUDENT_TABLE, synth.FAMILY_TABLE, synth.PLACEMENT_TABLE]
                )
                result.phases["drop indexes and keys"] = time.perf_counter() - phase

            phase = time.perf_counter()
            run = synth.next_run(province.code)
            county_codes = [c.code for c in counties]
            now = synth.now_text(writer.dialect)

            def make_generator(lane: int, lanes: int) -> synth.RowGenerator:
                return synth.RowGenerator(
                    province_code=province.code,
                    seed=None if seed is None else seed * 1000 + lane,
                    dialect=writer.dialect,
                    held_sequences={},
                    current_counties=county_codes,
                    now=now,
                    start_date=year.start_date,
                    lane=synth.run_lane(run, lane),
                )

            if workers is None:
                workers = synth.default_workers(students) if postgres else 0
            # Batches of a tenth of the load, so that progress shows even for small loads.
            batch_size = min(batch_size, max(5_000, students // 10))
            written, family = synth.stream(
                make_generator,
                synth.group_slots(slots, batch_size),
                writer,
                workers=workers,
                on_batch=lambda done: progress("students", done, students),
            )
            result.phases["generate and write rows"] = time.perf_counter() - phase
            result.students = result.placements = written
            result.family_members = family
            result.workers = max(workers, 1)

            if deferred is not None:
                phase = time.perf_counter()
                progress("indexes", 0, len(deferred.definitions))
                bulkload.recreate(cursor, deferred)
                result.index_timings = deferred.timings
                result.phases["build indexes and keys"] = time.perf_counter() - phase
            if postgres:
                phase = time.perf_counter()
                cursor.execute(
                    "ANALYZE schools_school, schools_schoolclass, "
                    f"{synth.STUDENT_TABLE}, {synth.FAMILY_TABLE}, {synth.PLACEMENT_TABLE}"
                )
                result.phases["analyze"] = time.perf_counter() - phase

        audit_record(
            actor=actor,
            action="students.synthesize",
            detail={
                "province": province.code,
                "students": result.students,
                "family_members": result.family_members,
                "schools": result.schools,
                "classes": result.classes,
                "seed": seed,
                "index_mode": result.index_mode,
            },
        )
        phase = time.perf_counter()
    result.phases["commit"] = time.perf_counter() - phase
    result.seconds = time.perf_counter() - started
    return result


def _rebuild(cursor: Any, index_mode: str, students: int) -> bool:
    if index_mode != "auto":
        return index_mode == "rebuild"
    if students < REBUILD_MIN_STUDENTS:
        return False
    cursor.execute(
        "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = %s::regclass",
        [synth.STUDENT_TABLE],
    )
    row = cursor.fetchone()
    return students >= (row[0] if row else 0)


# ---------------------------------------------------------------------------------------------
# The demo


@dataclass
class DemoResult:
    synth: SynthResult
    accounts: list[str]
    school: School


def demo_is_loaded() -> bool:
    """The demo's audit entry, or (once the audit retention has purged it) its accounts."""
    return (
        AuditEntry.objects.filter(action=demo.AUDIT_ACTION).exists()
        or get_user_model()
        .objects.filter(username__in=[account.username for account in demo.ACCOUNTS])
        .exists()
    )


def demo_load(*, actor: Any, progress: Progress | None = None) -> DemoResult | None:
    """Load the demo province once: schools, classes with teachers, students, one account per
    role. Returns None, changing nothing, when the demo is already loaded."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [demo.ADVISORY_LOCK])
        if demo_is_loaded():
            return None
        password_hash = make_password(demo.PASSWORD)
        result = students_synthesize(
            actor=actor,
            province_code=demo.PROVINCE,
            students=demo.STUDENTS,
            seed=demo.SEED,
            plan=demo.school_plan(),
            class_teachers=True,
            password_hash=password_hash,
            index_mode="keep",
            progress=progress,
        )
        school = School.objects.get(pk=result.school_ids[demo.ACCOUNT_SCHOOL_INDEX])
        accounts = _demo_accounts_create(school, password_hash)
        _demo_duties_open(school)
        identity_demo(school)  # the population roll, duplicates, 有人无籍 (issue 21)
        attendance_demo(school)  # daily attendance and dropout control (issue 22)
        welfare_demo(school)  # funding, aid, meals and the checks (issue 23)
        archive_demo(school)  # growth record and a 学籍证明 (issue 24)
        reporting_demo(school)  # the term's statistics report, level by level (issue 26)
        audit_record(
            actor=actor,
            action=demo.AUDIT_ACTION,
            detail={
                "students": result.students,
                "schools": result.schools,
                "accounts": accounts,
            },
        )
    return DemoResult(synth=result, accounts=accounts, school=school)


def _demo_duties_open(school: School) -> None:
    """What the teachers' demo accounts need to see anything: the county's verification window
    open from today (two weeks, inside the current term) and a subject taught by the subject
    teacher in the school's first class, both through the services a bureau and a registrar use."""
    users = get_user_model().objects
    today = timezone.localdate()
    term = Term.objects.filter(start_date__lte=today, end_date__gte=today).first()
    if term is not None:
        window_open(
            actor=users.get(username="county_approver"),
            opens_on=today,
            closes_on=min(today + datetime.timedelta(days=13), term.end_date),
        )
    first_class = SchoolClass.objects.filter(school=school).order_by("grade", "number").first()
    if first_class is not None:
        teaching_assign(
            actor=users.get(username="registrar"),
            school_class_id=first_class.pk,
            subject=Subject.MATH,
            teacher_id=users.get(username="subject_teacher").pk,
        )


def _demo_accounts_create(school: School, password_hash: str) -> list[str]:
    user_model = get_user_model()
    created = []
    for account in demo.ACCOUNTS:
        if account.role == Role.CLASS_TEACHER:
            # The generated teacher of the school's first class becomes the demo class teacher.
            first_class = (
                SchoolClass.objects.filter(school=school)
                .select_related("class_teacher")
                .order_by("grade", "number")
                .first()
            )
            if first_class is not None and first_class.class_teacher is not None:
                user = first_class.class_teacher
                user.username = account.username
                user.save(update_fields=["username"])
                created.append(account.username)
                continue
        # No superuser: a flag that bypassed the matrix would join the three separated duties.
        user = user_model.objects.create(username=account.username, password=password_hash)
        division = (
            Division.objects.get(code=account.division) if account.division is not None else None
        )
        Membership.objects.create(
            user=user,
            role=account.role,
            scope_level=account.level,
            school=school if account.level == ScopeLevel.SCHOOL else None,
            division=division,
        )
        created.append(account.username)
    return created
