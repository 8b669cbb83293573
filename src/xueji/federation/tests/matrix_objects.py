"""Objects and bodies of federation for the permission matrix (xueji.access.tests.test_matrix)."""

from __future__ import annotations

import datetime
from typing import Any


def transfer(place: Any) -> Any:
    """A transfer between provinces of the place's child, as its (sending) node holds it, waiting
    for the sending school (made once a place)."""
    from xueji.changes.models import StepState
    from xueji.federation.models import CrossSide, CrossState, CrossStep, CrossTransfer

    found = CrossTransfer.objects.filter(record=place.student.pk).first()
    if found is not None:
        return found
    made = CrossTransfer.objects.create(
        side=CrossSide.SENDING,
        state=CrossState.PENDING,
        record=place.student.pk,
        number_masked=place.student.number_masked,
        from_province=place.county.code[:2],
        to_province="11",
        from_school=place.school,
        from_school_name=place.school.name,
        from_county=place.county.code,
        to_school_name="北京市东城区第一小学",
        to_county="110101",
        grade=place.school_class.grade,
        reason="矩阵",
        filed_on=datetime.date(2026, 10, 9),
    )
    parties = [
        ("school", "receiver", "", None, StepState.APPROVED),
        ("county", "receiver", "110101", None, StepState.APPROVED),
        ("province", "receiver", "110000", None, StepState.APPROVED),
        ("school", "sender", "", place.school, StepState.PENDING),
        ("county", "sender", place.county.code, None, StepState.WAITING),
        ("province", "sender", place.county.code[:2] + "0000", None, StepState.WAITING),
    ]
    CrossStep.objects.bulk_create(
        [
            CrossStep(
                transfer=made,
                ordinal=ordinal,
                level=level,
                side=side,
                division_code=division,
                school=school,
                state=state,
            )
            for ordinal, (level, side, division, school, state) in enumerate(parties, start=1)
        ]
    )
    return made


def evidence(place: Any) -> Any:
    """The guardian's request filed with the place's transfer, sealed as filed (once a place)."""
    import hashlib

    from django.utils import timezone

    from xueji.corrections.evidence import seal
    from xueji.corrections.tests.files import PDF
    from xueji.federation.models import CrossEvidence

    made = transfer(place)
    return CrossEvidence.objects.filter(transfer=made).first() or CrossEvidence.objects.create(
        transfer=made,
        purpose="guardian_request",
        file_name="监护人申请.pdf",
        content_type="application/pdf",
        size=len(PDF),
        sha256=hashlib.sha256(PDF).hexdigest(),
        sealed=seal(PDF),
        uploaded_by_name="王老师",
        uploaded_at=timezone.now(),
    )


def receiving_transfer(school_class: Any) -> Any:
    """A transfer between provinces filed by the class's school (this node receiving), waiting
    for its county: the school may withdraw it."""
    import uuid

    from xueji.changes.models import StepState
    from xueji.federation.models import CrossSide, CrossState, CrossStep, CrossTransfer

    school = school_class.school
    made = CrossTransfer.objects.create(
        side=CrossSide.RECEIVING,
        state=CrossState.PENDING,
        record=uuid.uuid4(),
        number_masked="G110101********0011",
        from_province="11",
        to_province=school.county_id[:2],
        from_school_name="北京市东城区第一小学",
        from_county="110101",
        to_school=school,
        to_class=school_class,
        to_school_name=school.name,
        to_county=school.county_id,
        grade=school_class.grade,
        reason="随父母工作调动",
        filed_on=datetime.date(2026, 10, 9),
    )
    parties = [
        ("school", "receiver", "", school, StepState.APPROVED),
        ("county", "receiver", school.county_id, None, StepState.PENDING),
        ("province", "receiver", school.county_id[:2] + "0000", None, StepState.WAITING),
        ("school", "sender", "", None, StepState.WAITING),
        ("county", "sender", "110101", None, StepState.WAITING),
        ("province", "sender", "110000", None, StepState.WAITING),
    ]
    CrossStep.objects.bulk_create(
        CrossStep(
            transfer=made,
            ordinal=ordinal,
            level=level,
            side=side,
            division_code=division,
            school=party_school,
            state=state,
        )
        for ordinal, (level, side, division, party_school, state) in enumerate(parties, start=1)
    )
    return made


def bodies(place: Any) -> dict[str, Any]:
    return {
        "cross_transfer_file": lambda: {
            "student_number": "G440304201803050012",
            "name": "张春铭",
            "to_class_id": place.school_class.pk,
            "reason": "矩阵",
        },
        "cross_transfer_withdraw": lambda: {"reason": "矩阵"},
        "cross_transfer_school_decision": lambda: {"decision": "approve"},
        "cross_transfer_bureau_decision": lambda: {"decision": "approve"},
        "remote_duplicate_decision": lambda: {"decision": "not_same"},
        # Undoing a merge across provinces takes no body (the pair of the URL).
        "remote_duplicate_undo": lambda: {},
        "national_duplicate_settle": lambda: {"decision": "not_same", "note": "矩阵"},
    }


def remote_pair(place: Any) -> Any:
    """The place's child paired by the hub with a record of province 11 (once a place): the
    province's part, and the hub's pair of the same id, which the two provinces dispute."""
    import uuid

    from xueji.federation.models import NationalDuplicate, RemoteDuplicate

    found = RemoteDuplicate.objects.filter(record=place.student.pk).first()
    if found is not None:
        return found
    other = uuid.uuid4()
    a, b = sorted([(str(place.student.pk), place.county.code[:2]), (str(other), "11")])
    national = NationalDuplicate.objects.create(
        record_a=a[0],
        province_a=a[1],
        record_b=b[0],
        province_b=b[1],
        score=7.0,
        outcome="disputed",
        round=2,
    )
    return RemoteDuplicate.objects.create(
        pair=national.pk,
        record=place.student.pk,
        county=place.county.code,
        remote_record=other,
        remote_province="11",
        remote_school_name="北京市东城区第一小学",
        remote_number_masked="G110101********0011",
        score=7.0,
        contributions={"name_birth_sex": 7.0},
    )
