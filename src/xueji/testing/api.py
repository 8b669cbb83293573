"""Helpers for API tests: a client that calls the API as a user through a real bearer token."""

from __future__ import annotations

import json
from typing import Any, cast

from django.test import Client, override_settings

from xueji.access.services import api_token_create

FAST_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"


class ApiClient:
    """Calls /api/... with `Authorization: Bearer <raw token>` (or none, with raw=None)."""

    def __init__(self, raw: str | None, *, language: str | None = None):
        self.raw = raw
        self.language = language
        # CSRF is enforced as in production: a token client must not need it.
        self.client = Client(enforce_csrf_checks=True)

    def _headers(self) -> dict[str, str]:
        headers = {}
        if self.raw is not None:
            headers["Authorization"] = f"Bearer {self.raw}"
        if self.language is not None:
            headers["Accept-Language"] = self.language
        return headers

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.client.get(path, params or {}, headers=self._headers())

    def post(self, path: str, body: Any) -> Any:
        content = body if isinstance(body, str) else json.dumps(body, default=str)
        return self.client.post(
            path, content, content_type="application/json", headers=self._headers()
        )


def api_as(user: Any, *, language: str | None = None) -> ApiClient:
    """An API client acting as `user` through a token made by the real service."""
    _, raw = api_token_create(actor=None, user=user, name="test client")
    return ApiClient(raw, language=language)


class World:
    """Two schools in county 440304 (Futian) and one in 440305 (Nanshan), each with a grade-1
    class and a registered student; users of every kind of scope, and one with no membership."""

    def __init__(self) -> None:
        # Seven accounts: hashing their passwords at full strength would dominate the tests.
        with override_settings(PASSWORD_HASHERS=[FAST_HASHER]):
            self._build()

    def _build(self) -> None:
        from xueji.access.models import Role
        from xueji.geo.models import Division
        from xueji.students.services import student_register
        from xueji.testing.factories import (
            SchoolClassFactory,
            SchoolFactory,
            UserFactory,
            member,
            student_data,
        )

        futian = Division.objects.get(code="440304")
        nanshan = Division.objects.get(code="440305")
        self.school_a: Any = cast(Any, SchoolFactory(name="福田第一小学", county=futian))
        self.school_b: Any = cast(Any, SchoolFactory(name="福田第二小学", county=futian))
        self.school_c: Any = cast(Any, SchoolFactory(name="南山第一小学", county=nanshan))
        self.class_a: Any = cast(Any, SchoolClassFactory(school=self.school_a, grade=1))
        self.class_b: Any = cast(Any, SchoolClassFactory(school=self.school_b, grade=1))
        self.class_c: Any = cast(Any, SchoolClassFactory(school=self.school_c, grade=1))
        self.registrar_a = member(Role.REGISTRAR, school=self.school_a)
        self.registrar_b = member(Role.REGISTRAR, school=self.school_b)
        self.registrar_c = member(Role.REGISTRAR, school=self.school_c)
        self.futian_bureau = member(Role.BUREAU_VIEWER, division=futian)
        self.nanshan_bureau = member(Role.BUREAU_VIEWER, division=nanshan)
        self.nation = member(Role.BUREAU_VIEWER)
        self.nobody = UserFactory()
        self.student_a = student_register(
            actor=self.registrar_a,
            school_class_id=self.class_a.pk,
            data=student_data(name="张春铭"),
        ).student
        self.student_b = student_register(
            actor=self.registrar_b,
            school_class_id=self.class_b.pk,
            data=student_data(name="李小红"),
        ).student
        self.student_c = student_register(
            actor=self.registrar_c,
            school_class_id=self.class_c.pk,
            data=student_data(name="王大山"),
        ).student
