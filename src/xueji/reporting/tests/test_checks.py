"""Every check fires on a planted error and names its class (and its children)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from xueji.reporting import checks
from xueji.reporting.services import unit_prepare
from xueji.schools.models import Term
from xueji.testing.factories import academic_year, member
from xueji.verification.models import CheckOutcome, StudentCheck, VerificationWindow

from .conftest import CENSUS, DEADLINES, Province

pytestmark = pytest.mark.django_db

LATER = datetime.date(2026, 10, 31)


def _prepared(province: Province, report_round: Any, school: Any) -> Any:
    unit = province.unit(report_round, school)
    unit_prepare(actor=province.users[f"registrar_{school.code}"], unit_id=unit.pk)
    unit.refresh_from_db()
    return unit


def _class_names(findings: list[checks.Finding]) -> set[str]:
    return {c.name for f in findings for c in f.classes}


def test_a_cell_changed_beyond_the_threshold_names_its_class(province: Province) -> None:
    first = province.open_round()
    _prepared(province, first, province.a)
    # Three more children in class 2 (one before): the grade-1 boys aged 6 go from 2 to 5.
    for name in ("孙小明", "周小刚", "吴小军"):
        province.register(province.class_a2, name, on=datetime.date(2026, 10, 10))
    later = {level: day + datetime.timedelta(days=45) for level, day in DEADLINES.items()}
    second = province.open_round(census=LATER, title="十月", deadlines=later)
    assert second.previous_id == first.pk
    unit = _prepared(province, second, province.a)
    found = checks.changed_cells(unit)
    assert found, "the change is pointed out"
    assert any(n.endswith("2班") for n in _class_names(found))
    assert all("1班" not in c.name or c.count for f in found for c in f.classes)
    children = {c.name for f in found for c in f.children}
    assert "孙*明" in children


def test_an_age_impossible_for_the_grade_names_class_and_child(province: Province) -> None:
    province.register(province.class_a1, "钱老大", birth_date=datetime.date(2012, 1, 1))
    report_round = province.open_round()
    unit = _prepared(province, report_round, province.a)
    found = checks.impossible_ages(unit)
    assert len(found) == 1
    assert [c.name for c in found[0].classes] == [found[0].classes[0].name]
    assert "1班" in found[0].classes[0].name
    assert [c.name for c in found[0].children] == ["钱*大"]
    # The county sees the same finding among its schools' classes.
    county = checks.impossible_ages(unit.parent)
    assert [c.school for f in county for c in f.classes] == ["福田第一小学"]


def test_classes_with_no_confirmed_verification_are_named(province: Province) -> None:
    term = Term.objects.create(
        academic_year=academic_year(2026),
        number=1,
        start_date=datetime.date(2026, 9, 1),
        end_date=datetime.date(2027, 1, 20),
    )
    window = VerificationWindow.objects.create(
        county_id="440304",
        term=term,
        opens_on=datetime.date(2026, 9, 20),
        closes_on=datetime.date(2026, 9, 25),
        opened_by=province.users["futian"],
    )
    teacher = member("class_teacher", school=province.a)
    StudentCheck.objects.create(
        window=window,
        student=province.children["张春铭"],
        school_class=province.class_a1,
        outcome=CheckOutcome.CONFIRMED,
        checked_by=teacher,
    )
    report_round = province.open_round()
    unit = _prepared(province, report_round, province.a)
    found = checks.unverified_classes(unit)
    assert len(found) == 1
    assert [c.name for c in found[0].classes] == [found[0].classes[0].name]
    assert "2班" in found[0].classes[0].name
    assert [c.name for c in found[0].children] == ["王*山"]
    assert window.opens_on <= CENSUS


def test_children_with_open_anomalies_are_named(
    province: Province, monkeypatch: pytest.MonkeyPatch
) -> None:
    report_round = province.open_round()
    unit = _prepared(province, report_round, province.a)
    planted = province.children["王大山"]
    monkeypatch.setattr(
        checks,
        "_anomaly_sources",
        lambda on: ({"duplicate": {planted.pk}, "hollow": set()}, []),
    )
    found, _skipped = checks.open_anomalies(unit)
    assert [f.kind for f in found] == ["duplicate"]
    assert [c.name for c in found[0].children] == ["王*山"]
    assert ["2班" in c.name for c in found[0].classes] == [True]


def test_open_duplicates_and_hollow_records_from_identity_and_attendance(
    province: Province,
) -> None:
    from xueji.attendance.models import HollowPeriod
    from xueji.identity.models import DuplicatePair

    first, second = sorted(
        [province.children["王大山"], province.children["赵小燕"]], key=lambda s: str(s.pk)
    )
    DuplicatePair.objects.create(
        student_a=first,
        student_b=second,
        county_a="440304",
        county_b="440304",
        score=0.9,
        due_on=datetime.date(2026, 10, 30),
    )
    hollow = province.children["李小红"]
    HollowPeriod.objects.create(
        student=hollow, school=province.a, start_date=datetime.date(2026, 9, 10)
    )
    report_round = province.open_round()
    unit = _prepared(province, report_round, province.a)
    found = {
        f.kind: f for f in checks.unit_checks(unit).findings if f.kind in ("duplicate", "hollow")
    }
    assert [c.name for c in found["duplicate"].children] == ["王*山"]  # 赵小燕 is at school B
    assert [c.name.endswith("2班") for c in found["duplicate"].classes] == [True]
    assert [c.name for c in found["hollow"].children] == ["李*红"]
    assert [c.name.endswith("1班") for c in found["hollow"].classes] == [True]


def test_checks_say_which_capability_is_missing(province: Province) -> None:
    report_round = province.open_round()
    unit = _prepared(province, report_round, province.a)
    result = checks.unit_checks(unit)
    try:
        import xueji.identity.selectors  # noqa: F401
    except ImportError:
        assert any("identity" in note or "身份" in note for note in result.skipped)
