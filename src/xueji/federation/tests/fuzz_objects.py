"""Federation's objects for the API fuzzer (xueji.core.tests.api.fuzz_world): transfers between
provinces of pupils of J, one waiting for J (the sending school), one for its county, one that J
filed from another province (J may withdraw it), and a pupil's part of a pair across provinces,
which the county decides."""

from __future__ import annotations

import uuid
from typing import Any

# Operations of federation the fuzzer leaves out, with the reason.
EXCLUDED = {
    # The fuzzer's registry is one database for the country (no XUEJI_NODE): a transfer between
    # provinces is filed on a province's node only (409 not_a_province here); filing is tested
    # in xueji.federation's tests and on the cluster.
    "POST /api/federation/transfers": "filed on a province's node only (federation.transfers)",
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
    ]
