"""The demo's identity part (issue 21): `make run` shows the identity pages populated: the roll
loaded for the province, records confirmed, disagreeing and not in the roll, the four kinds of
proposed pairs for 福田区's reviewer, children with no record; the registrar still registers
with a number at once (the county review stays off)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from xueji.identity.models import (
    DuplicatePair,
    IdentityStatus,
    PairState,
    ProvinceIdentityRule,
    RollLoad,
    UnrecordedChild,
)
from xueji.identity.selectors import identity_status_counts
from xueji.schools.models import SchoolClass
from xueji.students.models import RecordState, Student
from xueji.students.services import student_register
from xueji.testing.factories import student_data

pytestmark = pytest.mark.django_db


def test_the_identity_pages_of_the_demo_show_something(capsys: Any) -> None:
    call_command("load_demo")
    capsys.readouterr()
    assert RollLoad.objects.filter(province_code="440000", state="loaded").count() == 1
    statuses = set(IdentityStatus.objects.values_list("status", flat=True))
    assert {"confirmed", "disagrees", "not_in_roll"} <= statuses
    counts = identity_status_counts(county_code="440304")
    assert counts["confirmed"] > 1000 and counts["disagrees"] > 0 and counts["not_in_roll"] > 0
    assert counts["unrecorded_open"] > 0
    assert UnrecordedChild.objects.filter(county_code="440304").count() >= 3
    # The four children registered twice are proposed, each pair with a record of 福田区.
    names = {
        frozenset((pair.student_a.name, pair.student_b.name))
        for pair in DuplicatePair.objects.select_related("student_a", "student_b").filter(
            state=PairState.PROPOSED
        )
    }
    for pair in (("林子涵",), ("张春铭", "张春明"), ("陈伟豪", "陳偉豪"), ("黄诗琪",)):
        assert frozenset(pair) in names, pair
    across = DuplicatePair.objects.get(student_a__name="黄诗琪")
    assert {across.county_a, across.county_b} == {"440304", "440305"}

    users = get_user_model().objects
    page = Client()
    page.force_login(users.get(username="county_approver"))
    listed = page.get("/identity/pairs/").content.decode()
    assert "张春明" in listed and "陳偉豪" in listed
    assert page.get("/identity/unrecorded/").status_code == 200
    # The registrar's registration is as before: a number at once.
    assert not ProvinceIdentityRule.objects.filter(county_review=True).exists()
    registrar = users.get(username="registrar")
    school_class = SchoolClass.objects.filter(
        school_id=registrar.membership.school_id, grade=1
    ).first()
    student = student_register(
        actor=registrar,
        school_class_id=school_class.pk,
        data=student_data(name="演示新生", id_doc_type="Z", id_number=""),
        age_confirmation="演示",
    ).student
    assert Student.objects.get(pk=student.pk).state == RecordState.ENROLLED
    assert student.number_masked.startswith("J")
