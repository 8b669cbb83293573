"""An intake admission counts as a new entrant (新生): a child who graduated from grade 6 and is
admitted by a junior high school through the year-end intake is one of that school's (and its
county's) entrants of the school year, as the definition on the page says."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from xueji.access.models import Role
from xueji.core import codes
from xueji.geo.models import Division
from xueji.schools.models import SchoolKind
from xueji.stats.selectors import annual_report, dashboard_report
from xueji.stats.targets import TargetSpec
from xueji.students.models import ENTRY_REASONS, Placement, PlacementReason
from xueji.testing.factories import SchoolClassFactory, SchoolFactory, academic_year, member
from xueji.yearend.models import RunKind
from xueji.yearend.services import intake_admit, run_execute, run_plan, run_start

pytestmark = pytest.mark.django_db

ADMITTED_ON = datetime.date(2027, 9, 1)


def _entrants(report: Any) -> Any:
    row = next(row for row in report.flows.rows if row.key == "entrants")
    return row.cells[0].value


@pytest.fixture
def admitted(small: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A child of 福田一小's grade 6 graduates at the year end of 2026-2027 and is admitted into
    grade 7 of a junior high school of the same county for 2027-2028."""
    sixth = SchoolClassFactory(school=small.futian, grade=6, number=1, name="6年级1班")
    child = small.register(sixth, birth_date=datetime.date(2015, 3, 5), sex=codes.Sex.FEMALE)
    county = Division.objects.get(code="440304")
    approver = member(Role.BUREAU_APPROVER, division=county)
    # Whatever day the suite runs: outside the promotion period the run must be confirmed.
    run = run_plan(
        actor=approver,
        kind=RunKind.GRADUATE,
        scope="440304",
        from_year=2026,
        outside_period_confirmed=True,
    )
    run_start(actor=approver, run_id=run.pk, enqueue=False, outside_period_confirmed=True)
    run_execute(run_id=run.pk)

    junior = SchoolFactory(name="福田第一初级中学", county=county, kind=SchoolKind.JUNIOR)
    seventh = SchoolClassFactory(
        school=junior, grade=7, number=1, name="初一1班", academic_year=academic_year(2027)
    )
    result = intake_admit(
        actor=member(Role.REGISTRAR, school=junior),
        school_class_id=seventh.pk,
        student_numbers=[child.reveal_student_number()],
    )
    assert result.admitted == 1
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: datetime.date(2027, 10, 20))
    return junior


def test_the_intake_opens_a_placement_whose_reason_is_an_entry(admitted):
    placement = Placement.objects.get(school=admitted)
    assert placement.reason == PlacementReason.INTAKE
    assert PlacementReason.INTAKE in ENTRY_REASONS


def test_an_intake_admission_is_a_new_entrant_of_the_school_and_the_county(small, admitted):
    viewer = small.users["futian_viewer"]  # county staff: exact figures
    school = annual_report(viewer, TargetSpec("school", school_id=admitted.pk), 2027)
    assert _entrants(school) == 1
    # The child's registration at the primary school was in 2026: the county's entrants of
    # 2027-2028 are the one admitted.
    county = annual_report(viewer, TargetSpec("county", code="440304"), 2027)
    assert _entrants(county) == 1


def test_the_dashboard_counts_the_intake_among_the_weeks_entrants(small, admitted):
    report = dashboard_report(
        small.users["futian_viewer"],
        TargetSpec("school", school_id=admitted.pk),
        ADMITTED_ON + datetime.timedelta(days=2),
    )
    entrants = next(f for f in report.movement if f.key == "entrants")
    assert entrants.cell.value == 1
