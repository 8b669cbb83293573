"""The nightly refresh: the command runs the checks of the term for the whole registry."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
from django.core.management import call_command

from xueji.welfare.models import CheckRun, Finding, FindingKind
from xueji.welfare.tests.test_meals import MONDAY, in_programme, record

pytestmark = pytest.mark.django_db


def test_the_nightly_command_refreshes_the_findings(registry: Any, attendance: Any) -> None:
    in_programme(registry)
    present, absent = registry.register("a", 2)
    record(registry, "a", MONDAY, student_ids=[present.pk, absent.pk])
    attendance.absent[(registry.classes["a"].pk, MONDAY)] = {absent.pk}
    out = io.StringIO()
    call_command("welfare_checks", "--term", str(registry.autumn.pk), stdout=out)
    assert "1 findings" in out.getvalue()
    assert Finding.objects.get().kind == FindingKind.MEAL_ABSENT
    assert CheckRun.objects.get().area == "nation"
    assert datetime.date(2026, 9, 7) == MONDAY
