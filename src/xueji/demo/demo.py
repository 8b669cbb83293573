"""What the demo holds: one province, two cities, four counties, about 40 schools, 20,000 students,
and one account per role, all with the same password."""

from __future__ import annotations

import os
from dataclasses import dataclass

from xueji.access.models import Role, ScopeLevel
from xueji.schools.models import SchoolKind

URL = "http://127.0.0.1:8000"
PASSWORD = os.environ.get("XUEJI_DEMO_PASSWORD", "xueji-demo-2026")
AUDIT_ACTION = "demo.load"
ADVISORY_LOCK = 2026_0002
SEED = 2026
STUDENTS = 20_000

PROVINCE = "440000"  # 广东省
CITIES = ("440100", "440300")  # 广州市, 深圳市
# 越秀区 and 天河区 in Guangzhou, 福田区 and 南山区 in Shenzhen.
COUNTIES = ("440104", "440106", "440304", "440305")
ACCOUNT_COUNTY = "440304"
ACCOUNT_CITY = "440300"

_COUNTY_SCHOOLS = (
    [SchoolKind.PRIMARY] * 4
    + [SchoolKind.JUNIOR] * 2
    + [
        SchoolKind.NINE_YEAR,
        SchoolKind.SENIOR,
        SchoolKind.COMPLETE_SECONDARY,
        SchoolKind.KINDERGARTEN,
    ]
)


def school_plan() -> list[tuple[str, str]]:
    """Ten schools per county; in the last county one primary school is a special school."""
    plan: list[tuple[str, str]] = []
    for county in COUNTIES:
        kinds = list(_COUNTY_SCHOOLS)
        if county == COUNTIES[-1]:
            kinds[3] = SchoolKind.SPECIAL
        plan.extend((county, str(kind)) for kind in kinds)
    return plan


# The school-level accounts work at the first primary school of 福田区 (ACCOUNT_COUNTY).
ACCOUNT_SCHOOL_INDEX = COUNTIES.index(ACCOUNT_COUNTY) * len(_COUNTY_SCHOOLS)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    level: str
    division: str | None = None


ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("registrar", Role.REGISTRAR, ScopeLevel.SCHOOL),
    DemoAccount("principal", Role.PRINCIPAL, ScopeLevel.SCHOOL),
    DemoAccount("class_teacher", Role.CLASS_TEACHER, ScopeLevel.SCHOOL),
    DemoAccount("subject_teacher", Role.SUBJECT_TEACHER, ScopeLevel.SCHOOL),
    DemoAccount("county_viewer", Role.BUREAU_VIEWER, ScopeLevel.COUNTY, ACCOUNT_COUNTY),
    DemoAccount("county_approver", Role.BUREAU_APPROVER, ScopeLevel.COUNTY, ACCOUNT_COUNTY),
    DemoAccount("city_viewer", Role.BUREAU_VIEWER, ScopeLevel.CITY, ACCOUNT_CITY),
    DemoAccount("province_viewer", Role.BUREAU_VIEWER, ScopeLevel.PROVINCE, PROVINCE),
    # Registers schools anywhere in 广东 (a new one in 珠海, say) and approves at the province.
    DemoAccount("province_approver", Role.BUREAU_APPROVER, ScopeLevel.PROVINCE, PROVINCE),
    DemoAccount("nation_viewer", Role.BUREAU_VIEWER, ScopeLevel.NATION),
    DemoAccount("auditor", Role.AUDITOR, ScopeLevel.NATION),
    DemoAccount("admin", Role.ADMIN, ScopeLevel.NATION),
    # 三员分立: accounts are the security administrator's, not the system administrator's.
    DemoAccount("security_admin", Role.SECURITY_ADMIN, ScopeLevel.NATION),
)
