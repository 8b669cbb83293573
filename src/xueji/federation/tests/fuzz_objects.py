"""Federation's objects for the API fuzzer (xueji.core.tests.api.fuzz_world): transfers between
provinces of pupils of J, one waiting for J (the sending school), one for its county, one that J
filed from another province (J may withdraw it), a pupil's part of a pair across provinces,
which the county decides, and a record merged into its record in another province, whose merge
the county may undo."""

from __future__ import annotations

import uuid
from typing import Any

# Operations of federation the fuzzer leaves out, with the reason.
EXCLUDED = {
    # The fuzzer's registry is one database for the country (no XUEJI_NODE): a transfer between
    # provinces is filed on a province's node only (409 not_a_province here); filing is tested
    # in xueji.federation's tests and on the cluster.
    "POST /api/federation/transfers": "filed on a province's node only (federation.transfers)",
    # The national bureau's ruling on pairs across provinces the provinces dispute: no fuzzer
    # account has national scope (registrar, county, auditor); tested in
    # xueji.federation.tests.test_duplicates and the permission matrix.
    "GET /api/federation/national-duplicates": "no fuzzer account has national scope",
    "POST /api/federation/national-duplicates/{remote_pair_id}/settle": (
        "no fuzzer account has national scope"
    ),
}


def rows(*, pupils: list[Any], county_code: str) -> list[dict[str, Any]]:
    from xueji.federation.models import RemoteDuplicate

    from .matrix_objects import transfer

    class _Place:
        def __init__(self, student: Any) -> None:
            from xueji.geo.models import Division
            from xueji.students.models import Placement

            placement = Placement.objects.get(student=student, end_date__isnull=True)
            self.student = student
            self.school = placement.school
            self.school_class = placement.school_class
            self.county = Division.objects.get(code=placement.school.county_id)

    from xueji.changes.models import StepState

    at_school = transfer(_Place(pupils[0]))  # waiting for J (the sending school)
    at_county = transfer(_Place(pupils[1]))  # J has approved: waiting for the county
    at_county.steps.filter(ordinal=4).update(state=StepState.APPROVED)
    at_county.steps.filter(ordinal=5).update(state=StepState.PENDING)
    from .matrix_objects import receiving_transfer

    filed_by_j = receiving_transfer(_Place(pupils[0]).school_class)  # J may withdraw it
    pair = RemoteDuplicate.objects.create(
        pair=uuid.uuid4(),
        record=pupils[-1].pk,
        county=county_code,
        remote_record=uuid.uuid4(),
        remote_province="11",
        score=7.0,
    )
    return [
        {"transfer_id": str(at_school.pk), "decision": "approve", "reason": ""},
        {"transfer_id": str(at_county.pk), "decision": "approve", "reason": ""},
        {"transfer_id": str(filed_by_j.pk), "reason": "家长改变主意"},
        {"remote_pair_id": str(pair.pk), "decision": "not_same", "note": ""},
        {"remote_pair_id": str(_merged_away(pupils[-1], county_code).pk)},
    ]


def _merged_away(beside: Any, county_code: str) -> Any:
    """A child of the same class as `beside` whose record here was merged into its record in
    province 11 (both counties said "same", kept by 11): its county may undo the merge."""
    from django.db import transaction
    from django.utils import timezone

    from xueji.access.models import Role
    from xueji.federation.models import RemoteDuplicate, RemoteDuplicateState
    from xueji.students.merge import record_merge_away
    from xueji.students.models import Placement
    from xueji.students.services import student_register
    from xueji.testing.factories import member, resident_id, student_data

    place = Placement.objects.get(student=beside, end_date__isnull=True)
    registrar = member(Role.REGISTRAR, school=place.school)
    born = beside.birth_date  # of the class's age
    child = student_register(
        actor=registrar,
        school_class_id=place.school_class_id,
        data=student_data(birth_date=born, id_number=resident_id(birth_date=born)),
        start_date=place.start_date,
    ).student
    with transaction.atomic():
        undo = record_merge_away(
            actor=None, student=child, on=timezone.localdate(), detail={"province": "11"}
        )
    return RemoteDuplicate.objects.create(
        pair=uuid.uuid4(),
        record=child.pk,
        county=county_code,
        remote_record=uuid.uuid4(),
        remote_province="11",
        score=7.0,
        state=RemoteDuplicateState.MERGED_AWAY,
        keeps="11",
        note="在北京就读",
        settled_at=timezone.now(),
        merge_undo=undo,
    )
