"""Registration through students.services.student_register vs bare INSERTs of the same rows.

Both sides commit once per registration, as a registrar's form does. The baseline writes the rows
the service writes (student, family members, placement, history event, audit entry) with
hand-written INSERT statements. Both sides register children made by the same generator in the
same way, but not the same children: the records are append-only and the numbers unique, so the
baseline's rows stay, and the service gets children of its own. The baseline's audit row goes to
a copy of the audit table (same columns and indexes): a row slipped into the real one would
break its hash chain.
"""

from __future__ import annotations

import datetime
import json
import time
import uuid
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from xueji.access.models import Role
from xueji.demo import synth
from xueji.schools.models import SchoolClass, SchoolKind
from xueji.students import bulk
from xueji.students.identity import (
    FAMILY_ID_NUMBER,
    STUDENT_ID_NUMBER,
    document_fields,
    student_number_fields,
    unseal,
)
from xueji.students.services import student_register
from xueji.students.validation import FamilyMemberData, StudentData


def _registrar(school: Any) -> Any:
    from django.contrib.auth import get_user_model

    from xueji.access.models import Membership, ScopeLevel

    user = get_user_model().objects.create(username=f"bench-registrar-{uuid.uuid4().hex[:8]}")
    Membership.objects.create(
        user=user, role=Role.REGISTRAR, scope_level=ScopeLevel.SCHOOL, school=school
    )
    return user


def generated_children(school_class: SchoolClass, count: int, seed: int) -> list[StudentData]:
    """`count` new grade-appropriate children with families, unique against the database."""
    return generated_children_in([(school_class, count)], seed)[school_class.pk]


def generated_children_in(
    wanted: list[tuple[SchoolClass, int]], seed: int
) -> dict[int, list[StudentData]]:
    """For each (class, count), `count` new children for the class (by the class's id), all from
    one synth run of their province (synth.next_run takes one of the few a province has). The
    classes are of schools of one province, one class a school."""
    schools = {school_class.school_id: school_class for school_class, _count in wanted}
    provinces = {school_class.school.province_id for school_class, _count in wanted}
    if len(schools) != len(wanted) or len(provinces) != 1:
        raise ValueError("one class a school, all in one province")
    (province,) = provinces
    generator = synth.RowGenerator(
        province_code=province,
        seed=seed,
        dialect=synth.SQLITE,
        held_sequences={},
        current_counties=[c.code for c in synth.province_counties(province)],
        now="",
        start_date=datetime.date(2026, 9, 1),
        # A run of its own, so that these children's numbers differ from the loaded ones.
        lane=synth.run_lane(synth.next_run(province), 0),
    )
    slots = [
        synth.ClassSlot(
            school_id=school_class.school_id,
            class_id=school_class.pk,
            grade=school_class.grade,
            county_code=school_class.school.county_id,
            county_name=school_class.school.county.name,
            kind=school_class.school.kind,
            size=count,
        )
        for school_class, count in wanted
    ]
    batch = generator.batch(slots)
    columns = bulk.STUDENT_COLUMNS
    family: dict[str, list[FamilyMemberData]] = {}
    for rows in batch.rows[synth.FAMILY_TABLE]:
        for row in rows:
            member = dict(zip(bulk.FAMILY_COLUMNS, row, strict=True))
            family.setdefault(member["student_id"], []).append(
                FamilyMemberData(
                    relation=member["relation"],
                    name=member["name"],
                    id_doc_type=member["id_doc_type"],
                    id_number=unseal(member["id_number_sealed"], context=FAMILY_ID_NUMBER),
                    phone=member["phone"],
                    employer=member["employer"],
                    is_guardian=bool(member["is_guardian"]),
                    missing_reason=member["missing_reason"],
                )
            )
    children: dict[int, list[StudentData]] = {
        school_class.pk: [] for school_class, _count in wanted
    }
    for rows in batch.rows[synth.STUDENT_TABLE]:
        for row in rows:
            s = dict(zip(columns, row, strict=True))
            children[schools[int(s["school_id"])].pk].append(
                StudentData(
                    name=s["name"],
                    sex=s["sex"],
                    birth_date=datetime.date.fromisoformat(s["birth_date"]),
                    birthplace_code=s["birthplace_id"],
                    ethnicity=s["ethnicity"],
                    id_doc_type=s["id_doc_type"],
                    id_number=unseal(s["id_number_sealed"], context=STUDENT_ID_NUMBER),
                    nationality=s["nationality"],
                    native_place_code=s["native_place_id"] or "",
                    overseas_status=s["overseas_status"],
                    health=s["health"],
                    hukou_division_code=s["hukou_division_id"] or "",
                    hukou_nature=s["hukou_nature"],
                    address=s["address"],
                    phone=s["phone"],
                    attendance_mode=s["attendance_mode"],
                    entry_method=s["entry_method"],
                    only_child=bool(s["only_child"]),
                    attended_preschool=bool(s["attended_preschool"]),
                    left_behind=s["left_behind"],
                    migrant_child=bool(s["migrant_child"]),
                    orphan=bool(s["orphan"]),
                    martyr_family=bool(s["martyr_family"]),
                    inclusive_education=bool(s["inclusive_education"]),
                    disability_type=s["disability_type"],
                    needs_aid=bool(s["needs_aid"]),
                    needs_school_bus=bool(s["needs_school_bus"]),
                    family=family[s["id"]],
                )
            )
    return children


STUDENT_INSERT = (
    f"INSERT INTO students_student ({', '.join(bulk.STUDENT_COLUMNS)}) "
    f"VALUES ({', '.join(['%s'] * len(bulk.STUDENT_COLUMNS))})"
)
FAMILY_INSERT = (
    f"INSERT INTO students_familymember ({', '.join(bulk.FAMILY_COLUMNS)}) "
    f"VALUES ({', '.join(['%s'] * len(bulk.FAMILY_COLUMNS))})"
)
PLACEMENT_INSERT = (
    f"INSERT INTO students_placement ({', '.join(bulk.PLACEMENT_COLUMNS)}) "
    f"VALUES ({', '.join(['%s'] * len(bulk.PLACEMENT_COLUMNS))})"
)
EVENT_INSERT = (
    "INSERT INTO students_recordevent (id, student_id, kind, occurred_on, recorded_at, actor_id,"
    " detail) VALUES (%s, %s, 'registered', %s, %s, %s, %s)"
)
AUDIT_COPY = "bench_audit_entry"


def _audit_template() -> tuple[list[str], dict[str, Any]]:
    """A copy of the audit table, and one real entry (synth's) as the model of the row to write."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {AUDIT_COPY}")
        cursor.execute(f"CREATE TABLE {AUDIT_COPY} (LIKE audit_auditentry INCLUDING ALL)")
        cursor.execute("SELECT * FROM audit_auditentry ORDER BY id LIMIT 1")
        columns = [column.name for column in cursor.description]
        row = cursor.fetchone()
    if row is None:
        raise RuntimeError("no audit entry to model the baseline's on")
    return columns, dict(zip(columns, row, strict=True))


def _audit_row(template: dict[str, Any], number: int, student_id: uuid.UUID) -> list[Any]:
    values = dict(template)
    values.update(id=number, object_id=student_id, at=timezone.now(), action="bench.baseline")
    for name in ("seq", "request_id"):
        if name in values:
            values[name] = number if name == "seq" else uuid.uuid4()
    return [json.dumps(v) if isinstance(v, (dict, list)) else v for v in values.values()]


def _bare_rows(
    child: StudentData, school_class: SchoolClass, actor: Any, audit: dict[str, Any], number: int
) -> dict[str, Any]:
    """The rows the service would write for this child, computed ahead of the timed inserts."""
    from xueji.students.pinyin import name_initials, name_pinyin

    now = timezone.now()
    today = timezone.localdate()
    student_id = uuid.uuid4()
    values = [
        student_id,
        *student_number_fields("G" + child.id_number).values(),
        "G",
        child.name,
        name_pinyin(child.name),
        name_initials(child.name),
        child.sex,
        child.birth_date,
        child.birthplace_code,
        child.native_place_code or None,
        child.ethnicity,
        child.nationality,
        child.id_doc_type,
        *document_fields(child.id_doc_type, child.id_number, context=STUDENT_ID_NUMBER).values(),
        child.overseas_status,
        child.health,
        child.hukou_division_code or None,
        child.hukou_nature,
        child.former_name,
        child.address,
        child.phone,
        child.attendance_mode,
        child.entry_method,
        child.only_child,
        child.attended_preschool,
        child.left_behind,
        child.migrant_child,
        child.orphan,
        child.martyr_family,
        child.inclusive_education,
        child.disability_type,
        child.needs_aid,
        child.needs_school_bus,
        "enrolled",
        school_class.school_id,
        now,
        now,
    ]
    detail = json.dumps({"school": school_class.school.code, "class": school_class.pk})
    return {
        "id": student_id,
        "student": values,
        "family": [
            [
                uuid.uuid4(),
                student_id,
                ordinal,
                m.relation,
                m.name,
                m.id_doc_type,
                *document_fields(m.id_doc_type, m.id_number, context=FAMILY_ID_NUMBER).values(),
                m.phone,
                m.employer,
                m.is_guardian,
                m.missing_reason,
            ]
            for ordinal, m in enumerate(child.family)
        ],
        "placement": [
            uuid.uuid4(),
            student_id,
            school_class.school_id,
            school_class.pk,
            school_class.grade,
            today,
            None,
            "registration",
        ],
        "event": [uuid.uuid4(), student_id, today, now, actor.pk, detail],
        "audit": _audit_row(audit, number, student_id),
    }


def _bare_insert(rows: dict[str, Any], audit_insert: str) -> None:
    """One registration's rows as hand-written INSERTs, committed together."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(STUDENT_INSERT, rows["student"])
        cursor.executemany(FAMILY_INSERT, rows["family"])
        cursor.execute(PLACEMENT_INSERT, rows["placement"])
        cursor.execute(EVENT_INSERT, rows["event"])
        cursor.execute(audit_insert, rows["audit"])


def run(count: int, seed: int) -> dict[str, Any]:
    school_class = (
        SchoolClass.objects.select_related("school__county")
        .filter(grade=1, school__kind=SchoolKind.PRIMARY)
        .order_by("pk")
        .first()
    )
    if school_class is None:
        raise RuntimeError("no grade-1 class of a primary school to register into")
    registrar = _registrar(school_class.school)
    children = generated_children(school_class, 2 * count, seed)
    for_baseline, for_service = children[:count], children[count:]
    audit_columns, audit = _audit_template()
    audit_insert = (
        f"INSERT INTO {AUDIT_COPY} ({', '.join(audit_columns)}) "
        f"VALUES ({', '.join(['%s'] * len(audit_columns))})"
    )
    prepared = [
        _bare_rows(child, school_class, registrar, audit, number)
        for number, child in enumerate(for_baseline, start=1)
    ]
    started = time.perf_counter()
    for rows in prepared:
        _bare_insert(rows, audit_insert)
    bare_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {AUDIT_COPY}")

    started = time.perf_counter()
    for child in for_service:
        student_register(actor=registrar, school_class_id=school_class.pk, data=child)
    service_seconds = time.perf_counter() - started
    return {
        "registrations": count,
        "service_seconds": service_seconds,
        "bare_seconds": bare_seconds,
        "service_per_second": count / service_seconds,
        "bare_per_second": count / bare_seconds,
    }
