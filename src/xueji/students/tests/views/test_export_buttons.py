"""Export buttons where a registrar and a bureau look for them (a class roster, the school's
home, the bureau's list of schools, the search page), for the roles allowed to export only; the
links lead to the files they name."""

from __future__ import annotations

import pytest

from xueji.access.models import Role
from xueji.testing.factories import member

from .conftest import client_as

pytestmark = pytest.mark.django_db


def _links(html: str, prefix: str) -> set[str]:
    """The page's own links (the menu beside it may link to the list of exports)."""
    import re

    content = html[html.index('<main id="main"') :]
    return {href.replace("&amp;", "&") for href in re.findall(rf'href="({prefix}[^"]*)"', content)}


def test_the_roster_offers_its_export_and_the_link_gives_the_roster(registry):
    client = client_as(registry.registrar_a)
    html = client.get(f"/classes/{registry.class_a.pk}/").content.decode()
    base = f"/exports/classes/{registry.class_a.pk}/roster."
    assert _links(html, "/exports/") == {base + "xlsx", base + "csv"}
    assert "Export roster (Excel)" in html and "Export roster (CSV)" in html
    response = client.get(base + "csv")
    assert response.status_code == 200
    assert "张春铭" in b"".join(response.streaming_content).decode("utf-8-sig")


def test_a_class_teacher_sees_the_roster_without_buttons_and_may_not_export(
    registry, class_teacher
):
    client = client_as(class_teacher)
    response = client.get(f"/classes/{registry.class_a.pk}/")
    assert response.status_code == 200 and "张春铭" in response.content.decode()
    assert _links(response.content.decode(), "/exports/") == set()
    for fmt in ("xlsx", "csv"):
        assert client.get(f"/exports/classes/{registry.class_a.pk}/roster.{fmt}").status_code == 403
        assert client.get(f"/exports/students.{fmt}").status_code == 403


def test_a_class_teacher_finds_no_export_on_the_search_page(registry, class_teacher):
    html = client_as(class_teacher).get("/students/search/").content.decode()
    assert _links(html, "/exports/") == set()


def test_the_school_home_offers_the_school_records_by_its_code(registry):
    for user in (registry.registrar_a, member(Role.PRINCIPAL, school=registry.school_a)):
        client = client_as(user)
        html = client.get("/").content.decode()
        code = registry.school_a.code
        assert _links(html, "/exports/") == {
            f"/exports/students.xlsx?school={code}",
            f"/exports/students.csv?school={code}",
        }
        response = client.get(f"/exports/students.csv?school={code}")
        assert response.status_code == 200
        assert "张春铭" in b"".join(response.streaming_content).decode("utf-8-sig")


def test_the_bureau_home_offers_the_area_and_each_school(registry):
    client = client_as(registry.futian)
    html = client.get("/").content.decode()
    links = _links(html, "/exports/")
    assert {"/exports/students.xlsx", "/exports/students.csv"} <= links
    for school in (registry.school_a, registry.school_b):
        assert f"/exports/students.xlsx?school={school.code}" in links
        assert f"/exports/students.csv?school={school.code}" in links
    assert not any(registry.school_c.code in link for link in links)  # Nanshan's
    response = client.get(f"/exports/students.csv?school={registry.school_b.code}")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "李小红" in text and "张春铭" not in text


def test_the_search_page_offers_the_records_to_a_registrar(registry):
    html = client_as(registry.registrar_a).get("/students/search/").content.decode()
    assert _links(html, "/exports/") == {
        "/exports/students.xlsx",
        "/exports/students.csv",
        "/exports/",  # the list of one's background exports
    }
