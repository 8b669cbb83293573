"""End to end in a real headless Chromium (xueji.testing.browser): log in, register (correcting
an error), find, switch."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from typing import Any

import pytest

from xueji.access.models import Role
from xueji.geo.models import Division
from xueji.students.models import Student
from xueji.testing.browser import chromium_context
from xueji.testing.factories import SchoolClassFactory, SchoolFactory, member, resident_id

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def page(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    # An English browser: the pages are Chinese all the same until the user switches.
    with chromium_context(monkeypatch, locale="en-US") as context:
        yield context.new_page()


def test_registrar_registers_a_student_finds_them_and_switches_language(page, live_server):
    from playwright.sync_api import expect

    school = SchoolFactory(name="福田实验小学", county=Division.objects.get(code="440304"))
    school_class = SchoolClassFactory(school=school, grade=1, number=1, name="1班")
    member(Role.REGISTRAR, school=school, username="registrar")
    good_id = resident_id(birth_date=datetime.date(2020, 3, 5))
    bad_id = good_id[:-1] + ("1" if good_id[-1] == "0" else "0")  # wrong check character

    # Log in (the login page is Chinese by default).
    page.goto(f"{live_server.url}/login/")
    expect(page.locator("h1")).to_contain_text("登录")
    page.fill("#id_username", "registrar")
    page.fill("#id_password", "correct-horse-battery")
    page.click("button[type=submit].primary")
    expect(page.locator("h1")).to_have_text("福田实验小学")

    # Register: the form, with a mistyped ID number first.
    page.get_by_role("link", name="新生注册").first.click()
    expect(page.locator("h1")).to_have_text("新生注册")
    page.select_option("#id_school_class", str(school_class.pk))
    page.fill("#id_name", "赵小龙")
    page.check("#id_sex_0")
    page.fill("#id_birth_date", "2020-03-05")
    page.select_option("#id_ethnicity", "01")
    page.fill("#id_id_number", bad_id)
    page.select_option("#id_hukou_nature", "2")
    # The birthplace cascades: province, then (loaded by htmx) city, then county.
    picker = page.locator("#id_birthplace_code_picker")
    # htmx listens on a swapped-in picker only once it has settled (htmx-added is removed then):
    # a choice made before that sends no request, and the picker keeps showing the city.
    settled = re.compile(r"htmx-(added|settling)")
    page.select_option("#id_birthplace_code__province", "440000")
    expect(page.locator("#id_birthplace_code__city")).to_be_enabled()
    expect(picker).not_to_have_class(settled)
    page.select_option("#id_birthplace_code__city", "440300")
    # Wait for the city's counties to arrive: choosing one before htmx swaps them in is lost.
    expect(page.locator("#id_birthplace_code option[value='440304']")).to_have_count(1)
    expect(page.locator("#id_birthplace_code")).to_be_enabled()
    expect(picker).not_to_have_class(settled)
    page.select_option("#id_birthplace_code", "440304")
    expect(page.locator("#id_birthplace_code_picker .division-code")).to_have_text("440304")
    # The father is named and the guardian; the mother is missing, with the reason.
    page.fill("#id_family-0-name", "赵大龙")
    page.fill("#id_family-0-phone", "13800138000")
    page.check("#id_family-0-is_guardian")
    page.select_option("#id_family-1-missing_reason", "2")
    page.click("button[type=submit].primary")

    # The refusal stands next to the ID number field, and what was typed is kept.
    error = page.locator("#id_id_number_error")
    expect(error).to_contain_text("校验码不符")
    expect(page.locator("#id_name")).to_have_value("赵小龙")
    expect(page.locator("#id_birthplace_code")).to_have_value("440304")
    assert not Student.objects.filter(name="赵小龙").exists()

    page.fill("#id_id_number", good_id)
    page.click("button[type=submit].primary")
    expect(page).to_have_url(re.compile(r"/students/[0-9a-f-]{36}/$"))
    expect(page.locator(".message.success")).to_contain_text("注册成功")
    student = Student.objects.get(name="赵小龙")
    assert student.reveal_student_number() == "G" + good_id
    expect(page.locator("#family")).to_contain_text("缺失")
    expect(page.locator("#family")).to_contain_text("离异，无联系")

    # Find the student by the pinyin initials, live, and open the record.
    page.get_by_role("link", name="查找学生").first.click()
    page.fill("#id_q", "zxl")
    result = page.locator("#results a", has_text="赵小龙")
    expect(result).to_be_visible()
    expect(page.locator("#results")).to_contain_text("G440304********" + good_id[-4:])
    result.click()
    expect(page).to_have_url(f"{live_server.url}/students/{student.pk}/")
    expect(page.locator("#basic")).to_contain_text("基本信息")

    # Switch to English: the same record, in English.
    page.click(".lang-switch button[value=en]")
    expect(page.locator("#basic h2")).to_have_text("Basic information")
    expect(page).to_have_url(f"{live_server.url}/students/{student.pk}/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#family")).to_contain_text("Divorced, no contact")
