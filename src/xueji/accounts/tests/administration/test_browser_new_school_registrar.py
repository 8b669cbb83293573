"""Issue 19, in a real headless Chromium: a 珠海 bureau registers a new school on its page; the
security administrator, landing on the account list, creates the school's registrar and reads
the password off the page once; the registrar logs in with it, is sent to change it, then opens
a class and registers a child. Nobody used the shell."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from typing import Any

import pytest

from xueji.access.models import Membership, Role
from xueji.access.tests.world import ensure_terms
from xueji.accounts.administration.models import AccountProfile
from xueji.geo.models import Division
from xueji.schools.models import School
from xueji.students.models import Student
from xueji.testing.browser import chromium_context
from xueji.testing.factories import member, resident_id

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"  # the factories' accounts (the bureau, the security admin)
SCHOOL_CODE = "2144040201"
XIANGZHOU = "440402"  # 香洲区, 珠海市


@pytest.fixture
def page(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with chromium_context(monkeypatch, locale="zh-CN") as context:
        page = context.new_page()
        page.csp_violations = []  # type: ignore[attr-defined]
        page.on(
            "console",
            lambda message: (
                page.csp_violations.append(message.text)  # type: ignore[attr-defined]
                if "Content Security Policy" in message.text
                else None
            ),
        )
        yield page


def log_in(page: Any, live_server: Any, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit].primary")


def log_out(page: Any) -> None:
    page.locator("form[action='/logout/'] button").first.click()


def test_the_security_administrator_creates_a_registrar_for_a_new_zhuhai_school(page, live_server):
    from playwright.sync_api import expect

    ensure_terms(2026)
    member(Role.BUREAU_APPROVER, division=Division.objects.get(code=XIANGZHOU),
           username="xiangzhou")  # fmt: skip
    member(Role.SECURITY_ADMIN, username="security")

    # 1. The county bureau registers the school on its page.
    log_in(page, live_server, "xiangzhou", PASSWORD)
    page.goto(f"{live_server.url}/schools/new/")
    page.fill("#id_code", SCHOOL_CODE)
    page.fill("#id_name", "珠海市香洲区新城小学")
    page.select_option("#id_kind", "primary")
    page.select_option("#id_county", XIANGZHOU)
    page.fill("#id_address", "珠海市香洲区新城路1号")
    page.select_option("#id_urban_rural", "111")
    page.locator("form button[type=submit].primary").click()
    expect(page).to_have_url(re.compile(r"/schools/\d+/$"))
    school = School.objects.get(code=SCHOOL_CODE)
    assert school.county_id == XIANGZHOU and school.city_id == "440400"
    log_out(page)

    # 2. The security administrator lands on the accounts and creates the registrar.
    log_in(page, live_server, "security", PASSWORD)
    expect(page).to_have_url(f"{live_server.url}/accounts/")
    expect(page.locator("h1")).to_have_text("账号管理")
    page.get_by_role("link", name="新建账号").click()
    page.fill("#id_login_name", "xc_registrar")
    page.fill("#id_name", "陈晓燕")
    page.fill("#id_phone", "13926900001")
    page.select_option("#id_role", Role.REGISTRAR.value)
    page.fill("#id_school_code", SCHOOL_CODE)
    page.click("button[type=submit].primary")
    expect(page.locator("#initial-password")).to_be_visible()
    initial = page.locator("#password").inner_text().strip()
    assert len(initial) == 12
    registrar = Membership.objects.get(user__username="xc_registrar")
    assert (registrar.role, registrar.school_id) == (Role.REGISTRAR, school.pk)
    log_out(page)

    # 3. The registrar logs in with it and must choose a password of their own first.
    log_in(page, live_server, "xc_registrar", initial)
    expect(page).to_have_url(re.compile(r"/account/password/\?next="))
    page.goto(f"{live_server.url}/students/register/")
    expect(page).to_have_url(re.compile(r"/account/password/"))
    page.fill("#id_old_password", initial)
    page.fill("#id_new_password1", "Xincheng-2026-school")
    page.fill("#id_new_password2", "Xincheng-2026-school")
    page.click("button[type=submit].primary")
    expect(page.locator(".message.success")).to_contain_text("密码已修改")
    assert not AccountProfile.objects.get(user__username="xc_registrar").must_change_password

    # 4. The registrar opens grade 1 and registers a child.
    page.goto(f"{live_server.url}/classes/setup/")
    page.select_option("#id_grade", "1")
    page.fill("#id_number", "1")
    page.locator("form[action='/classes/setup/add/'] button[type=submit]").click()
    expect(page.locator(".message.success")).to_be_visible()
    school_class = school.classes.get(grade=1, number=1)

    child_id = resident_id(area_code=XIANGZHOU, birth_date=datetime.date(2020, 3, 5))
    page.goto(f"{live_server.url}/students/register/")
    expect(page.locator("h1")).to_have_text("新生注册")
    page.select_option("#id_school_class", str(school_class.pk))
    page.fill("#id_name", "黎小海")
    page.check("#id_sex_0")
    page.fill("#id_birth_date", "2020-03-05")
    page.select_option("#id_ethnicity", "01")
    page.fill("#id_id_number", child_id)
    page.select_option("#id_hukou_nature", "2")
    picker = page.locator("#id_birthplace_code_picker")
    settled = re.compile(r"htmx-(added|settling)")
    page.select_option("#id_birthplace_code__province", "440000")
    expect(page.locator("#id_birthplace_code__city")).to_be_enabled()
    expect(picker).not_to_have_class(settled)
    page.select_option("#id_birthplace_code__city", "440400")
    expect(page.locator(f"#id_birthplace_code option[value='{XIANGZHOU}']")).to_have_count(1)
    expect(page.locator("#id_birthplace_code")).to_be_enabled()
    expect(picker).not_to_have_class(settled)
    page.select_option("#id_birthplace_code", XIANGZHOU)
    page.fill("#id_family-0-name", "黎大海")
    page.fill("#id_family-0-phone", "13926900002")
    page.check("#id_family-0-is_guardian")
    page.select_option("#id_family-1-missing_reason", "2")
    page.click("button[type=submit].primary")
    expect(page).to_have_url(re.compile(r"/students/[0-9a-f-]{36}/$"))
    expect(page.locator(".message.success")).to_contain_text("注册成功")
    child = Student.objects.get(name="黎小海")
    assert child.school_id == school.pk
    assert child.reveal_student_number() == "G" + child_id
    assert page.csp_violations == []
