"""The archive's part of the API fuzzer's registry (xueji.core.tests.api.fuzz_world): a
certificate of J's first pupil to withdraw, a sanction to lift, and coherent bodies for the
growth record's writes, so that each archive operation the fuzzer's accounts may perform is
tried on real things."""

from __future__ import annotations

from typing import Any

from xueji.access.scope import today
from xueji.archive.models import Conduct
from xueji.archive.services.certificates import certificate_issue

# The class teacher's writes: none of the fuzzer's accounts (a registrar, a county approver, an
# auditor) leads a class, so none may write them (the permission matrix tries them).
EXCLUDED: dict[str, str] = {
    "POST /api/archive/students/{student_id}/term-reports": "a class teacher's own (growth.write)",
    "POST /api/archive/students/{student_id}/factual-records": (
        "a class teacher's own (growth.write)"
    ),
}


def rows(*, registrar: Any, pupils: list[Any]) -> list[dict[str, Any]]:
    pupil = pupils[0]
    certificate = certificate_issue(actor=registrar, student_id=pupil.pk, requested_by="孙伟")
    conduct = Conduct.objects.create(
        student=pupil,
        school_id=pupil.school_id,
        grade=8,
        kind="sanction",
        level="warning",
        title="迟到",
        decided_on=today(),
        issuer="学校",
        evidence="校发〔2026〕1号",
        entered_by=registrar,
    )
    day = today().isoformat()
    return [
        {
            "student_id": str(pupil.pk),
            "certificate_id": str(certificate.pk),
            "conduct_id": str(conduct.pk),
            "requested_by": "孙伟",
            "province_years": True,
            "reason": "信息有误",
            # 奖惩, a check-up and a vaccination of the pupil.
            "kind": "award",
            "title": "三好学生",
            "decided_on": day,
            "issuer": "学校",
            "evidence": "校发〔2026〕2号",
            "checked_on": day,
            "height_cm": "160.5",
            "weight_kg": "50",
            "vaccine": "乙肝疫苗",
            "dose": "1",
            "given_on": day,
        }
    ]
