"""Who sees what: a user's scope, and the filters every selector and service applies.

The permission matrix (xueji.access.policy) says whether a role may perform an action at its
scope level and within which limit; this module turns that into database filters and checks:
- AREA: the school (school staff), the division (county, city, province) or the nation;
- OWN_CLASSES_IN_WINDOW: the class teacher's own classes, and only while a verification window
  of the school's county is open today (filters registered by xueji.verification);
- ASSIGNED_CLASSES: the classes a subject teacher is assigned to teach (registered by
  xueji.scores).
A user without a membership, or a role without the grant, sees nothing.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.access.models import Membership, ScopeLevel
from xueji.access.policy import Action, Limit, allowed, limit
from xueji.audit.actors import ActingAs
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
    # The county of a school's staff (their audit entries go to the county's chain).
    school_county: str | None = None

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
    membership = (
        Membership.objects.filter(user=user).annotate(school_county=F("school__county_id")).first()
    )
    scope = (
        None
        if membership is None
        else Scope(
            role=membership.role,
            level=membership.scope_level,
            school_id=membership.school_id,
            division_code=membership.division_id,
            user_id=user.pk,
            school_county=membership.school_county,
        )
    )
    user._xueji_scope = scope
    return scope


def acting_as(user: Any) -> ActingAs | None:
    """The role and place an audit entry keeps of its actor (registered with the trail by
    xueji.access.apps)."""
    scope = scope_of(user)
    if scope is None:
        return None
    return ActingAs(
        role=scope.role,
        school_id=scope.school_id,
        division=scope.division_code or "",
        county=scope.school_county or "",
    )


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
#
# A limit narrower than the area confines a role to some classes. Which classes is known to the
# domain that sets the limit, not to access: that domain registers the filters at start-up, in
# its AppConfig.ready() (verification: a class teacher's own classes while the county's window
# is open; scores: the classes a subject teacher is assigned to). Access never imports it.


@dataclass(frozen=True)
class ClassLimit:
    """The filters that apply one limit to a scope.

    classes(scope, prefix): a filter on SchoolClass, or on a model reaching it through `prefix`
    (e.g. "school_class__"): the classes the scope is limited to.
    students(scope): a filter on Student: the students placed now in those classes.
    """

    classes: Callable[[Scope, str], Q]
    students: Callable[[Scope], Q]


_class_limits: dict[str, ClassLimit] = {}


def register_class_limit(kind: Limit, class_limit: ClassLimit) -> None:
    """Apply `kind` with these filters from now on (a domain calls it when its app is ready)."""
    _class_limits[kind] = class_limit


def _class_limit(kind: str) -> ClassLimit:
    found = _class_limits.get(kind)
    if found is None:
        raise ImproperlyConfigured(
            f"No app registered the filters of the limit {kind!r}: the app that sets it "
            "registers them in its AppConfig.ready() (xueji.access.scope.register_class_limit)."
        )
    return found


def classes_visible(scope: Scope | None, action: str = Action.ROSTER_VIEW, prefix: str = "") -> Q:
    """Filter on SchoolClass (or on a model reaching it through `prefix`): the classes the
    scope may perform `action` on."""
    if scope is None or not may(scope, action):
        return NOTHING
    kind = limit(scope.role, action)
    if kind in (Limit.OWN_CLASSES_IN_WINDOW, Limit.ASSIGNED_CLASSES):
        return _class_limit(kind).classes(scope, prefix)
    return _area_q(scope, f"{prefix}school__")


def students_visible(scope: Scope | None, action: str = Action.STUDENT_VIEW) -> Q:
    """Filter on Student: the records the scope may perform `action` on.

    For the class teacher and the subject teacher: the students placed now in their classes.
    """
    if scope is None or not may(scope, action):
        return NOTHING
    kind = limit(scope.role, action)
    if kind in (Limit.OWN_CLASSES_IN_WINDOW, Limit.ASSIGNED_CLASSES):
        return Q(school_id=scope.school_id) & _class_limit(kind).students(scope)
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
