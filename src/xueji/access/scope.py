"""Who sees what: a user's scope, and the filters every selector applies (first cut of the policy).

A user without a membership sees nothing. Bureau staff see the schools and students of their
division; school staff see their school; the nation sees everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from xueji.access.models import Membership, Role, ScopeLevel


@dataclass(frozen=True)
class Scope:
    role: str
    level: str
    school_id: int | None = None
    division_code: str | None = None

    @property
    def is_school(self) -> bool:
        return self.level == ScopeLevel.SCHOOL


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
        )
    )
    user._xueji_scope = scope
    return scope


def _school_q(scope: Scope | None, prefix: str) -> Q:
    if scope is None:
        return Q(pk__in=[])
    if scope.level == ScopeLevel.NATION:
        return Q()
    if scope.level == ScopeLevel.SCHOOL:
        return Q(**{f"{prefix}id": scope.school_id})
    return Q(**{f"{prefix}{scope.level}_id": scope.division_code})


def schools_visible(scope: Scope | None) -> Q:
    """Filter on School: the schools inside the scope."""
    return _school_q(scope, "")


def students_visible(scope: Scope | None) -> Q:
    """Filter on Student: records held by a school inside the scope."""
    return _school_q(scope, "school__")


def divisions_visible(scope: Scope | None) -> Q:
    """Filter on Division: the divisions inside (or, for a school, holding) the scope."""
    if scope is None:
        return Q(pk__in=[])
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
        scope is not None
        and scope.role == Role.REGISTRAR
        and scope.level == ScopeLevel.SCHOOL
        and scope.school_id == school_id
    )
