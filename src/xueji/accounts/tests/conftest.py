"""Fixtures of the account tests: staff of a school and of Futian's bureau, and a client."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from xueji.access.models import Role
from xueji.geo.models import Division
from xueji.testing.factories import SchoolFactory, member

PASSWORD = "correct-horse-battery"  # xueji.testing.factories.UserFactory's


@pytest.fixture
def futian(db: Any) -> Division:
    return Division.objects.get(code="440304")


@pytest.fixture
def registrar(futian: Division) -> Any:
    return member(Role.REGISTRAR, school=SchoolFactory(county=futian), username="registrar-a")


@pytest.fixture
def bureau(futian: Division) -> Any:
    return member(Role.BUREAU_VIEWER, division=futian, username="futian-viewer")


def english_client(**defaults: Any) -> Client:
    client = Client(**defaults)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def log_in(client: Client, username: str, password: str = PASSWORD) -> Any:
    return client.post("/login/", {"username": username, "password": password})
