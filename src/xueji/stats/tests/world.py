"""Generated registries for the statistics tests: synthetic students in two provinces, with a
history of transfers, dropouts and other departures written the way the transfer service will
write them (the open placement closed on day D, a new one opened at another school on D with the
reason PlacementReason.TRANSFER)."""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field

from xueji.demo.services import students_synthesize
from xueji.schools.models import School, SchoolClass
from xueji.students.models import (
    ON_ROLL_STATES,
    Placement,
    PlacementReason,
    RecordEvent,
    RecordState,
    Student,
)

START = datetime.date(2026, 9, 1)
GUANGDONG_PLAN = [
    ("440304", "primary"),
    ("440304", "primary"),
    ("440304", "junior"),
    ("440305", "primary"),
    ("440305", "nine_year"),
    ("440106", "primary"),
    ("440106", "senior"),
]
GUANGXI_PLAN = [
    ("450102", "primary"),
    ("450103", "junior"),
    ("450203", "primary"),
]


def transfer(
    student: Student,
    school_class: SchoolClass,
    on: datetime.date,
    reason: str = PlacementReason.TRANSFER,
) -> Placement:
    """Close the child's open placement on `on` and open one in `school_class` from `on`."""
    Placement.objects.filter(student=student, end_date__isnull=True).update(end_date=on)
    placement = Placement.objects.create(
        student=student,
        school=school_class.school,
        school_class=school_class,
        grade=school_class.grade,
        start_date=on,
        reason=reason,
    )
    Student.objects.filter(pk=student.pk).update(school=school_class.school)
    student.school = school_class.school
    return placement


def leave(
    student: Student,
    state: str,
    on: datetime.date,
    *,
    close: bool = True,
    event: datetime.date | None = None,
) -> None:
    """The child leaves the roll in `state`: the placement closed on `on` (unless close is
    False), and an event of the state's name dated `event` when given."""
    if close:
        Placement.objects.filter(student=student, end_date__isnull=True).update(end_date=on)
    Student.objects.filter(pk=student.pk).update(state=state)
    student.state = state
    if event is not None:
        RecordEvent.objects.create(student=student, kind=state, occurred_on=event)


@dataclass
class World:
    schools: list[School]
    students: list[Student]
    moves: list[tuple[Student, School, School, datetime.date]] = field(default_factory=list)


def synthesize(students: int = 360, seed: int = 7) -> World:
    """About three quarters of the children in Guangdong, the rest in Guangxi, all placed on
    1 September 2026; then, in the autumn, random transfers (some across counties and
    provinces, some twice), dropouts, other departures, a pending transfer and records that
    left with their placement still open."""
    rng = random.Random(seed)
    guangdong = students_synthesize(
        actor=None,
        province_code="440000",
        students=students * 3 // 4,
        seed=seed,
        plan=GUANGDONG_PLAN,
    )
    guangxi = students_synthesize(
        actor=None,
        province_code="450000",
        students=students - students * 3 // 4,
        seed=seed + 1,
        plan=GUANGXI_PLAN,
    )
    school_ids = guangdong.school_ids + guangxi.school_ids
    schools = list(School.objects.filter(pk__in=school_ids).order_by("pk"))
    classes: dict[int, list[SchoolClass]] = {}
    for school_class in SchoolClass.objects.filter(school_id__in=school_ids).order_by("pk"):
        classes.setdefault(school_class.grade, []).append(school_class)
    children = list(
        Student.objects.filter(school_id__in=school_ids).select_related("school").order_by("pk")
    )
    world = World(schools=schools, students=children)
    for student in children:
        roll = rng.random()
        if roll < 0.30:
            _random_transfers(world, student, classes, rng)
        elif roll < 0.36:
            on = START + datetime.timedelta(days=rng.randint(5, 80))
            event = on if rng.random() < 0.5 else None
            leave(student, RecordState.DROPPED_OUT, on, event=event)
        elif roll < 0.39:
            on = START + datetime.timedelta(days=rng.randint(5, 80))
            leave(student, rng.choice([RecordState.WITHDRAWN, RecordState.ABROAD]), on)
        elif roll < 0.41:
            # Left with the placement still open: not counted on any date.
            leave(student, RecordState.LEFT_OTHER, START, close=False)
        elif roll < 0.44:
            Student.objects.filter(pk=student.pk).update(state=RecordState.TRANSFERRING)
    return world


def _random_transfers(
    world: World,
    student: Student,
    classes: dict[int, list[SchoolClass]],
    rng: random.Random,
) -> None:
    on = START
    placement = Placement.objects.get(student=student, end_date__isnull=True)
    for _ in range(rng.choice([1, 1, 1, 2])):
        on = on + datetime.timedelta(days=rng.randint(3, 40))
        choices = [
            c for c in classes.get(placement.grade, []) if c.school_id != placement.school_id
        ]
        if not choices:
            return
        target = rng.choice(choices)
        origin = placement.school
        placement = transfer(student, target, on)
        world.moves.append((student, origin, target.school, on))


def counted_on(student: Student, on: datetime.date) -> Placement | None:
    """The oracle: the placement a child is counted in on a date, worked out one by one."""
    placement = (
        Placement.objects.filter(student=student, start_date__lte=on)
        .exclude(end_date__lte=on)
        .select_related("school")
        .first()
    )
    if placement is None:
        return None
    student.refresh_from_db(fields=["state"])
    if placement.end_date is None and student.state not in ON_ROLL_STATES:
        return None
    return placement
