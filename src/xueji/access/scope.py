"""Who sees what: a user's scope, and the filters every selector and service applies.

The permission matrix (xueji.access.policy) says whether a role may perform an action at its
scope level and within which limit; this module turns that into database filters and checks:
- AREA: the school (school staff), the division (county, city, province) or the nation;
- OWN_CLASSES_IN_WINDOW: the class teacher's own classes, and only while a verification window
  of the school's county is open today;
- ASSIGNED_CLASSES: the classes a subject teacher is assigned to teach.
A user without a membership, or a role without the grant, sees nothing.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.access.models import Membership, ScopeLevel
from xueji.access.policy import Action, Limit, allowed, limit
from xueji.core.errors import ServiceError

NOTHING = Q(pk__in=[])

# The number of leading digits of a division code that name a province, a city, a county.
PREFIX_DIGITS: dict[str, int] = {
    ScopeLevel.PROVINCE: 2,
    ScopeLevel.CITY: 4,
    ScopeLevel.COUNTY: 6,
}


@dataclass(frozen=True)
class Scope:
    role: str
    level: str
    school_id: int | None = None
    division_code: str | None = None
    user_id: int | None = None

    @property
    def is_school(self) -> bool:
        return self.level == ScopeLevel.SCHOOL


class PermissionRefused(ServiceError):
    """The user's role does not allow the action at all (HTTP 403)."""

    status = 403


def scope_of(user: Any) -> Scope | None:
    """The scope a user acts in, or None for a user who may see nothing."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if hasattr(user, "_xueji_scope"):
        cached: Scope | None = user._xueji_scope
        return cached
    membership = Membership.objects.filter(user=user).first()
    scope = (
        None
        if membership is None
        else Scope(
            role=membership.role,
            level=membership.scope_level,
            school_id=membership.school_id,
            division_code=membership.division_id,
            user_id=user.pk,
        )
    )
    user._xueji_scope = scope
    return scope


def may(scope: Scope | None, action: str) -> bool:
    """Does the matrix grant the action to the scope's role at its level (limits aside)?"""
    return scope is not None and allowed(scope.role, action, scope.level)


def require(user: Any, action: str) -> Scope:
    """The user's scope, or PermissionRefused (403) when the role may not perform the action."""
    scope = scope_of(user)
    if scope is None or not may(scope, action):
        raise PermissionRefused("forbidden", _("Your role does not allow this."), action=action)
    return scope


def today() -> datetime.date:
    """The date in the registry's time zone (Asia/Shanghai): windows open and close by it."""
    return timezone.localdate()


# ---- the area ----------------------------------------------------------------------------------


def _area_q(scope: Scope, prefix: str) -> Q:
    """Filter on a model reaching School through `prefix` ("" for School itself)."""
    if scope.level == ScopeLevel.NATION:
        return Q()
    if scope.level == ScopeLevel.SCHOOL:
        return Q(**{f"{prefix}id": scope.school_id})
    return Q(**{f"{prefix}{scope.level}_id": scope.division_code})


def area_q(scope: Scope | None, prefix: str = "") -> Q:
    """The user's area, whatever the action: for models hanging off a school."""
    return NOTHING if scope is None else _area_q(scope, prefix)


def school_in_area(scope: Scope | None, school: Any) -> bool:
    """Is this School (an instance) inside the scope's area?"""
    if scope is None or school is None:
        return False
    if scope.level == ScopeLevel.NATION:
        return True
    if scope.level == ScopeLevel.SCHOOL:
        return bool(school.pk == scope.school_id)
    return bool(getattr(school, f"{scope.level}_id") == scope.division_code)


def division_in_area(scope: Scope | None, code: str) -> bool:
    """Is the division with this code inside (or equal to) the scope's division?"""
    if scope is None:
        return False
    if scope.level == ScopeLevel.NATION:
        return True
    digits = PREFIX_DIGITS.get(scope.level)
    if digits is None or scope.division_code is None:
        return False
    return code[:digits] == scope.division_code[:digits]


def may_act_at(scope: Scope | None, action: str, school: Any) -> bool:
    """May the scope perform an AREA-limited action on something of this school?"""
    return (
        may(scope, action)
        and limit(scope.role if scope else None, action) == Limit.AREA
        and school_in_area(scope, school)
    )


# ---- the limits --------------------------------------------------------------------------------


def open_window_counties(on: datetime.date | None = None) -> QuerySet[Any]:
    """The codes of the counties whose class-teacher verification window is open on a date."""
    from xueji.verification.models import VerificationWindow

    return VerificationWindow.objects.open_on(on or today()).values("county_id")


def _classes_taught_now(scope: Scope, prefix: str = "") -> Q:
    """Filter on SchoolClass: the class teacher's classes at the school, window open."""
    return Q(
        **{
            f"{prefix}class_teacher_id": scope.user_id,
            f"{prefix}school_id": scope.school_id,
            f"{prefix}school__county_id__in": open_window_counties(),
        }
    )


def _classes_assigned(scope: Scope, prefix: str = "") -> Q:
    """Filter on SchoolClass: the classes the subject teacher is assigned to at the school."""
    from xueji.scores.models import TeachingAssignment

    assigned = TeachingAssignment.objects.filter(teacher_id=scope.user_id)
    return Q(
        **{
            f"{prefix}school_id": scope.school_id,
            f"{prefix}pk__in": assigned.values("school_class_id"),
        }
    )


def classes_visible(scope: Scope | None, action: str = Action.ROSTER_VIEW, prefix: str = "") -> Q:
    """Filter on SchoolClass (or on a model reaching it through `prefix`): the classes the
    scope may perform `action` on."""
    if scope is None or not may(scope, action):
        return NOTHING
    kind = limit(scope.role, action)
    if kind == Limit.OWN_CLASSES_IN_WINDOW:
        return _classes_taught_now(scope, prefix)
    if kind == Limit.ASSIGNED_CLASSES:
        return _classes_assigned(scope, prefix)
    return _area_q(scope, f"{prefix}school__")


def students_visible(scope: Scope | None, action: str = Action.STUDENT_VIEW) -> Q:
    """Filter on Student: the records the scope may perform `action` on.

    For the class teacher and the subject teacher: the students placed now in their classes.
    """
    if scope is None or not may(scope, action):
        return NOTHING
    kind = limit(scope.role, action)
    if kind in (Limit.OWN_CLASSES_IN_WINDOW, Limit.ASSIGNED_CLASSES):
        from xueji.schools.models import SchoolClass
        from xueji.students.models import Placement

        classes = SchoolClass.objects.filter(classes_visible(scope, action))
        placed = Placement.objects.filter(end_date__isnull=True, school_class__in=classes)
        return Q(school_id=scope.school_id, pk__in=placed.values("student_id"))
    return _area_q(scope, "school__")


def schools_visible(scope: Scope | None, action: str = Action.SCHOOL_VIEW) -> Q:
    """Filter on School: the schools inside the scope, for a role that may see schools."""
    if scope is None or not may(scope, action):
        return NOTHING
    return _area_q(scope, "")


def students_visible_in_area(scope: Scope | None) -> Q:
    """Filter on Student: every record held in the scope's area, whatever the role.

    Only for checks that are not reads (e.g. "is this student at my school?" before a write
    the policy already allowed); reads go through students_visible."""
    return area_q(scope, "school__")


def divisions_visible(scope: Scope | None) -> Q:
    """Filter on Division: the divisions inside (or, for a school, holding) the scope."""
    if scope is None or not may(scope, Action.DIVISION_VIEW):
        return NOTHING
    if scope.level in (ScopeLevel.NATION, ScopeLevel.SCHOOL):
        return Q()
    code = scope.division_code or ""
    if scope.level == ScopeLevel.PROVINCE:
        return Q(code__startswith=code[:2])
    if scope.level == ScopeLevel.CITY:
        return Q(code__startswith=code[:4])
    return Q(code=code)


def may_register_at(scope: Scope | None, school_id: int) -> bool:
    """Only the school's designated registrar registers new students (谁管理谁负责)."""
    return (
        may(scope, Action.STUDENT_REGISTER)
        and scope is not None
        and scope.level == ScopeLevel.SCHOOL
        and scope.school_id == school_id
    )


def may_at_school(scope: Scope | None, action: str, school_id: int) -> bool:
    """May a school-level scope perform an action at this school (its own)?"""
    return (
        may(scope, action)
        and scope is not None
        and scope.level == ScopeLevel.SCHOOL
        and scope.school_id == school_id
    )
