"""Federation's objects for the API fuzzer (xueji.core.tests.api.fuzz_world): a transfer between
provinces of a pupil of J, waiting for J (the sending school), and a pupil's part of a pair
across provinces, which the county decides."""

from __future__ import annotations

import uuid
from typing import Any


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

    moving = transfer(_Place(pupils[0]))
    pair = RemoteDuplicate.objects.create(
        pair=uuid.uuid4(),
        record=pupils[-1].pk,
        county=county_code,
        remote_record=uuid.uuid4(),
        remote_province="11",
        score=7.0,
    )
    return [{"transfer_id": str(moving.pk), "remote_pair_id": str(pair.pk)}]
