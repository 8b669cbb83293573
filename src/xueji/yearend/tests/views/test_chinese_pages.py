"""The year-end pages speak Chinese on the Chinese site (issue 20, item 12: the run page showed
"graduated: 77" and "6: 77 graduated"): the dry run's outcomes, the states of those not moved,
the grades, and the teaching points' lists are shown by their Chinese names, never by code."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from xueji.access.models import Role
from xueji.schools.models import SchoolKind
from xueji.testing.factories import SchoolClassFactory, SchoolFactory, member
from xueji.yearend.models import Outcome, RunKind
from xueji.yearend.services import run_plan

from ..conftest import FROM_YEAR, Registry, register, suspend

pytestmark = pytest.mark.django_db

# The codes a run's report keeps, which must never reach a Chinese page as words.
CODES = re.compile(
    r"\b(graduated|promoted|repeated|skipped|completed|incomplete|to_central|suspended|"
    r"transferring|enrolled|no_central_school)\b"
)


def chinese(user) -> Client:
    client = Client(headers={"accept-language": "zh-hans"})
    client.force_login(user)
    return client


def visible_text(html: str) -> str:
    """The page's words: no tags, attributes or scripts (a class name is not a word shown)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_the_graduation_dry_run_reads_in_chinese(registry: Registry) -> None:
    suspend(registry.student(0, 6, 1))
    run = run_plan(
        actor=registry.approver, kind=RunKind.GRADUATE, scope="440304", from_year=FROM_YEAR
    )
    assert run.report["totals"] == {Outcome.GRADUATED: 3}
    page = chinese(registry.approver).get(reverse("yearend:detail", args=[run.pk]))
    text = visible_text(page.content.decode())
    assert "毕业：3 人" in text
    assert "六年级：毕业 1 人" in text and "六年级：毕业 2 人" in text
    assert "休学：1 人" in text
    assert not CODES.search(text), CODES.search(text)


def test_the_promotion_dry_run_and_the_teaching_points_read_in_chinese(registry: Registry) -> None:
    point = SchoolFactory(
        name="新村教学点", kind=SchoolKind.TEACHING_POINT, central_school=registry.primaries[0]
    )
    incomplete = SchoolFactory(name="初级小学", kind=SchoolKind.PRIMARY, last_grade=4)
    for school, n in ((point, 0), (incomplete, 1)):
        school_class = SchoolClassFactory(school=school, grade=4, number=1, name="4班")
        register(member(Role.REGISTRAR, school=school), school_class, 4, n)
    run = run_plan(
        actor=registry.approver, kind=RunKind.PROMOTE, scope="440304", from_year=FROM_YEAR
    )
    text = visible_text(
        chinese(registry.approver).get(reverse("yearend:detail", args=[run.pk])).content.decode()
    )
    assert "升级：福田区" in text
    assert "升级：20 人" in text and "升入中心校：1 人" in text
    assert "一年级：升级 2 人" in text
    assert "升入中心校" in text and "没有可以升入的学校" in text and "本校没有中心校" in text
    assert not CODES.search(text), CODES.search(text)


def test_the_index_and_the_other_pages_have_no_english_left(registry: Registry) -> None:
    client = chinese(registry.approver)
    run_plan(actor=registry.approver, kind=RunKind.PROMOTE, scope="440304", from_year=FROM_YEAR)
    for name in ("yearend:index", "yearend:periods"):
        page = client.get(reverse(name))
        assert page.status_code == 200, name
        text = visible_text(page.content.decode())
        assert not re.search(r"\b(Dry run|Promotion|Graduation|Runs|Students)\b", text), name
