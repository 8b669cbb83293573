"""Fixtures of the trail's tests: auditors of each level beside the world they audit."""

from __future__ import annotations

from typing import Any

import pytest

from xueji.access.models import Role
from xueji.geo.models import Division
from xueji.testing.api import World
from xueji.testing.factories import member


class AuditWorld(World):
    """World's schools, students and staff (each registration is audited), plus auditors of the
    nation, of Futian (440304, schools A and B), of Nanshan (440305, school C) and of Shenzhen
    (4403), and a national system administrator."""

    def __init__(self) -> None:
        super().__init__()
        futian = Division.objects.get(code="440304")
        nanshan = Division.objects.get(code="440305")
        self.auditor = member(Role.AUDITOR, username="auditor-nation")
        self.futian_auditor = member(Role.AUDITOR, division=futian, username="auditor-futian")
        self.nanshan_auditor = member(Role.AUDITOR, division=nanshan, username="auditor-nanshan")
        self.city_auditor = member(Role.AUDITOR, division=futian.parent, username="auditor-sz")
        self.admin = member(Role.ADMIN, username="admin-nation")


@pytest.fixture
def world(db: Any) -> AuditWorld:
    return AuditWorld()
