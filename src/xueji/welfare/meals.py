"""Nutrition meals (营养改善计划): programme schools, the daily subsidy, the canteen's day (menu,
who ate, the teachers who ate with the pupils), the lookup of one child and day, the week's
public menu and the monthly claim."""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from xueji.access.models import ScopeLevel
from xueji.access.scope import Scope
from xueji.audit.services import audit_record
from xueji.core.errors import Conflict, FieldErrors, NotFound
from xueji.geo.models import Division
from xueji.schools.models import School, SchoolKind
from xueji.students.models import Placement
from xueji.welfare import presence
from xueji.welfare.funding import placed_on
from xueji.welfare.models import MealCounty, MealDay, MealRate, MealServed
from xueji.welfare.validation import field_error

COMPULSORY_KINDS = (
    SchoolKind.PRIMARY,
    SchoolKind.JUNIOR,
    SchoolKind.NINE_YEAR,
    SchoolKind.TEACHING_POINT,
    SchoolKind.SPECIAL,
)
# Rural classifications by default (2xx), and town–village fringes and special areas (122, 123).
DEFAULT_URBAN_RURAL = ["122", "123", "210", "220"]


def programme_schools(on: datetime.date) -> Q:
    """Filter on School: compulsory schools of the listed counties whose urban–rural
    classification is listed for the county, on `on`."""
    condition = Q(pk__in=[])
    for county in MealCounty.objects.filter(since__lte=on):
        codes = county.urban_rural or DEFAULT_URBAN_RURAL
        condition |= Q(county_id=county.county_id, urban_rural__in=codes)
    return condition & Q(kind__in=COMPULSORY_KINDS)


def is_programme_school(school: School, on: datetime.date) -> bool:
    return School.objects.filter(programme_schools(on), pk=school.pk).exists()


def meal_county_set(
    *, actor: Any, scope: Scope, county_code: str, since: datetime.date, urban_rural: list[str]
) -> MealCounty:
    """A province (or the ministry) lists one of its counties in the programme."""
    county = Division.objects.filter(code=county_code, county_level=True).first()
    if county is None or (
        scope.level == ScopeLevel.PROVINCE and county_code[:2] != (scope.division_code or "")[:2]
    ):
        raise FieldErrors(
            {"county_code": [field_error("not_found", _("No such county in your area."))]}
        )
    from xueji.schools.models import UrbanRural

    if any(code not in UrbanRural.values for code in urban_rural):
        raise FieldErrors(
            {"urban_rural": [field_error("invalid_choice", _("Choose classification codes."))]}
        )
    with transaction.atomic():
        found, _created = MealCounty.objects.update_or_create(
            county=county, defaults={"since": since, "urban_rural": sorted(set(urban_rural))}
        )
        audit_record(
            actor=actor,
            action="welfare.meal_county_set",
            object_type="county",
            detail={"county": county_code, "since": str(since), "urban_rural": urban_rural},
        )
    return found


def meal_rate_set(*, actor: Any, daily_fen: int, valid_from: datetime.date) -> MealRate:
    if isinstance(daily_fen, bool) or not isinstance(daily_fen, int) or not 0 < daily_fen <= 10_000:
        raise FieldErrors(
            {
                "daily_fen": [
                    field_error("invalid", _("Give the subsidy per day in fen, 1 to 10000."))
                ]
            }
        )
    with transaction.atomic():
        rate, _created = MealRate.objects.update_or_create(
            valid_from=valid_from, defaults={"daily_fen": daily_fen}
        )
        audit_record(
            actor=actor,
            action="welfare.meal_rate_set",
            object_type="meal_rate",
            after={"daily_fen": daily_fen, "valid_from": str(valid_from)},
        )
    return rate


def daily_fen_on(day: datetime.date) -> int:
    rate = MealRate.objects.filter(valid_from__lte=day).order_by("-valid_from").first()
    return rate.daily_fen if rate else 0


def present_children(school_id: int, day: datetime.date) -> dict[uuid.UUID, int]:
    """Children placed at the school that day whose class took the roll and who were not absent
    (child → class): the default of who ate."""
    placed: dict[int, list[uuid.UUID]] = defaultdict(list)
    for student_id, class_id in Placement.objects.filter(
        placed_on(day), school_id=school_id
    ).values_list("student_id", "school_class_id"):
        placed[class_id].append(student_id)
    present: dict[uuid.UUID, int] = {}
    for class_id, children in placed.items():
        if not presence.roll_taken(school_class_id=class_id, day=day):
            continue
        absent = presence.absent_student_ids(school_class_id=class_id, day=day)
        present.update({child: class_id for child in children if child not in absent})
    return present


def meal_day_record(
    *,
    actor: Any,
    scope: Scope,
    day: datetime.date,
    menu: str,
    companions: str,
    student_ids: list[uuid.UUID] | None = None,
) -> MealDay:
    """The canteen's day at the actor's school: the menu, the teachers who ate with the pupils,
    and who ate (by default the children present in the day's attendance; else the list, each
    a child placed at the school that day). Recorded once a day."""
    school = (
        School.objects.filter(pk=scope.school_id or 0).first()
        if scope.level == ScopeLevel.SCHOOL
        else None
    )
    if school is None:
        raise NotFound("school_not_found", _("Meals are recorded by a school."))
    errors: dict[str, list[Any]] = {}
    menu = (menu or "").strip()
    if not menu or len(menu) > 300:
        errors["menu"] = [
            field_error("required", _("Write the day's menu (300 characters at most)."))
        ]
    companions = (companions or "").strip()
    if not companions or len(companions) > 200:
        errors["companions"] = [
            field_error("required", _("Name the teachers who ate with the pupils (陪餐)."))
        ]
    if not is_programme_school(school, day):
        errors["day"] = [
            field_error(
                "not_programme_school", _("The school is not in the meals programme on this day.")
            )
        ]
    elif not presence.is_school_day(school_id=school.pk, day=day):
        errors["day"] = [field_error("not_school_day", _("This day is not a school day."))]
    if errors:
        raise FieldErrors(errors)
    if student_ids is None:
        eaters = present_children(school.pk, day)
    else:
        placed = dict(
            Placement.objects.filter(
                placed_on(day), school_id=school.pk, student_id__in=student_ids
            ).values_list("student_id", "school_class_id")
        )
        if len(placed) != len(set(student_ids)):
            raise FieldErrors(
                {
                    "student_ids": [
                        field_error(
                            "not_placed", _("A child listed was not at the school that day.")
                        )
                    ]
                }
            )
        eaters = placed
    with transaction.atomic():
        try:
            with transaction.atomic():
                meal_day = MealDay.objects.create(
                    school=school,
                    day=day,
                    menu=menu,
                    companions=companions,
                    daily_fen=daily_fen_on(day),
                    recorded_by=actor,
                )
                MealServed.objects.bulk_create(
                    MealServed(
                        meal_day=meal_day,
                        student_id=child,
                        school=school,
                        school_class_id=class_id,
                        day=day,
                    )
                    for child, class_id in eaters.items()
                )
        except IntegrityError as error:
            raise Conflict(
                "meal_day_exists",
                _("The day's meals are already recorded (or a child ate elsewhere that day)."),
            ) from error
        audit_record(
            actor=actor,
            action="welfare.meal_day_record",
            object_type="meal_day",
            object_id=meal_day.pk,
            detail={"school": school.code, "day": str(day), "children": len(eaters)},
        )
    return meal_day


def meal_lookup(student_id: Any, day: datetime.date) -> dict[str, Any]:
    """Did the child eat the subsidised meal that day, and what was served."""
    served = (
        MealServed.objects.filter(student_id=student_id, day=day)
        .select_related("meal_day__school")
        .first()
    )
    if served is None:
        placement = (
            Placement.objects.filter(placed_on(day), student_id=student_id)
            .select_related("school")
            .first()
        )
        meal_day = (
            MealDay.objects.filter(school_id=placement.school_id, day=day).first()
            if placement
            else None
        )
        return {
            "ate": False,
            "day": day,
            "school": placement.school.name if placement else "",
            "menu": meal_day.menu if meal_day else "",
        }
    return {
        "ate": True,
        "day": day,
        "school": served.meal_day.school.name,
        "menu": served.meal_day.menu,
    }


def week_menu(school_id: int, any_day: datetime.date) -> list[MealDay]:
    monday = any_day - datetime.timedelta(days=any_day.weekday())
    return list(
        MealDay.objects.filter(
            school_id=school_id, day__gte=monday, day__lt=monday + datetime.timedelta(days=7)
        ).order_by("day")
    )


@dataclass
class MonthlyClaim:
    school: School
    year: int
    month: int
    days: list[dict[str, Any]]

    @property
    def meals(self) -> int:
        return sum(d["meals"] for d in self.days)

    @property
    def amount_fen(self) -> int:
        return sum(d["amount_fen"] for d in self.days)

    @property
    def children(self) -> int:
        return len({c for d in self.days for c in d.get("children", ())})


def monthly_claim(
    school: School, year: int, month: int, *, with_children: bool = False
) -> MonthlyClaim:
    """Meals times the day's rate, by day, with the children behind each day."""
    first = datetime.date(year, month, 1)
    after = datetime.date(year + (month == 12), month % 12 + 1, 1)
    days = list(
        MealDay.objects.filter(school=school, day__gte=first, day__lt=after)
        .order_by("day")
        .values("id", "day", "menu", "daily_fen")
    )
    counts = dict(
        MealServed.objects.filter(school=school, day__gte=first, day__lt=after)
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    children: dict[datetime.date, list[uuid.UUID]] = defaultdict(list)
    if with_children:
        for day, student_id in MealServed.objects.filter(
            school=school, day__gte=first, day__lt=after
        ).values_list("day", "student_id"):
            children[day].append(student_id)
    result = []
    for row in days:
        meals = counts.get(row["day"], 0)
        result.append(
            {
                "day": row["day"],
                "menu": row["menu"],
                "meals": meals,
                "daily_fen": row["daily_fen"],
                "amount_fen": meals * row["daily_fen"],
                "children": children.get(row["day"], []),
            }
        )
    return MonthlyClaim(school, year, month, result)
