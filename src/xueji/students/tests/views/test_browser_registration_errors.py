"""In a real headless Chromium (xueji.testing.browser): the ID number is checked as soon as its
field is left and fills in the birth date and the sex; a form with several problems is answered
with all of them at once, listed at the top with links to their fields (issue 20, item 1).

With XUEJI_SCREENSHOTS=<directory> (e.g. docs/screenshots) the test also saves the form showing
its errors as registration-errors.png, the README's picture of it."""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from xueji.access.models import Role
from xueji.geo.models import Division
from xueji.students.models import Student
from xueji.testing.browser import chromium_context, sign_in_session
from xueji.testing.factories import SchoolClassFactory, SchoolFactory, member, resident_id

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def page(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with chromium_context(monkeypatch, locale="zh-CN", height=1300) as context:
        school = SchoolFactory(name="福田实验小学", county=Division.objects.get(code="440304"))
        SchoolClassFactory(school=school, grade=1, number=1, name="1班")
        sign_in_session(context, live_server, member(Role.REGISTRAR, school=school))
        yield context.new_page()


def test_the_id_number_fills_in_and_every_problem_is_shown_at_once(page, live_server):
    from playwright.sync_api import expect

    page.goto(f"{live_server.url}/students/register/")
    expect(page.locator("h1")).to_have_text("新生注册")

    # Leaving the ID number field checks it and fills in the birth date and the sex.
    girl = resident_id(birth_date=datetime.date(2019, 11, 2), male=False)
    page.fill("#id_id_number", girl)
    page.locator("#id_id_number").press("Tab")
    expect(page.locator("#id_birth_date")).to_have_value("2019-11-02")
    expect(page.locator("#id_sex_1")).to_be_checked()
    expect(page.locator("#id_id_number_note")).to_contain_text("2019-11-02")

    # A mistyped number is refused next to its field as soon as it is left.
    mistyped = girl[:-1] + ("1" if girl[-1] == "0" else "0")
    page.fill("#id_id_number", mistyped)
    page.locator("#id_id_number").press("Tab")
    expect(page.locator("#field-id_number .errorlist")).to_contain_text("校验码")

    # A name with a digit, no class, the father's row left empty, nobody the guardian: one
    # submit answers all of it, with the birthplace and the household type not chosen either.
    page.fill("#id_name", "王2明")
    page.click("button[type=submit].primary")
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    items = summary.locator("li")
    texts = items.all_inner_texts()
    for wanted in ("班级", "姓名", "身份证件号", "出生地", "户口性质", "家庭成员 1", "监护人"):
        assert any(wanted in text for text in texts), (wanted, texts)
    assert Student.objects.count() == 0

    # The typed values stay; each error is said again next to its field.
    expect(page.locator("#id_name")).to_have_value("王2明")
    expect(page.locator("#field-name .errorlist")).to_be_visible()
    if os.environ.get("XUEJI_SCREENSHOTS"):
        folder = Path(os.environ["XUEJI_SCREENSHOTS"])
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / "registration-errors.png"))

    # A link of the list leads to its field.
    summary.get_by_role("link", name="家庭成员 1 · 姓名").click()
    expect(page).to_have_url(f"{live_server.url}/students/register/#field-family-0-name")
    expect(page.locator("#field-family-0-name")).to_be_in_viewport()
