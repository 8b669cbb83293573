"""The record page offers only what the user may do (issue 20, item 13): a class teacher, who
may open the records of the own class while the window is open but not reveal their numbers, is
not offered 显示完整号码; every button and link the page offers any role leads somewhere that
role may go (no 403)."""

from __future__ import annotations

import re
from html import unescape

import pytest

from xueji.access.models import Role
from xueji.testing.factories import member

from .conftest import client_as

pytestmark = pytest.mark.django_db

REVEAL = "Show full numbers"


def _content(page: str) -> str:
    """The page's own part: the menu and breadcrumbs beside it are not its offers."""
    main = page[page.index('<main id="main"') :]
    return re.sub(r'<nav class="breadcrumbs".*?</nav>', "", main, flags=re.S)


def test_a_class_teacher_is_not_offered_the_full_numbers(registry, class_teacher):
    url = f"/students/{registry.student_a.pk}/"
    response = client_as(class_teacher).get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert REVEAL not in page and "/reveal/" not in page
    assert client_as(class_teacher).post(f"{url}reveal/").status_code == 403
    chinese = client_as(class_teacher, "zh-hans").get(url).content.decode()
    assert "显示完整号码" not in chinese
    # The registrar, who may, is offered it.
    assert REVEAL in client_as(registry.registrar_a).get(url).content.decode()


def test_a_bureau_viewer_is_not_offered_them_an_approver_is(registry):
    url = f"/students/{registry.student_a.pk}/"
    assert REVEAL not in client_as(registry.futian).get(url).content.decode()
    approver = member(Role.BUREAU_APPROVER, division=registry.school_a.county)
    assert REVEAL in client_as(approver).get(url).content.decode()


def test_everything_the_record_page_offers_each_role_is_allowed_to_it(registry, class_teacher):
    """Each link is followed and each form sent (empty) as the role: none answers 403."""
    roles = {
        "registrar": registry.registrar_a,
        "class teacher": class_teacher,
        "principal": member(Role.PRINCIPAL, school=registry.school_a),
        "county viewer": registry.futian,
        "county approver": member(Role.BUREAU_APPROVER, division=registry.school_a.county),
        "city viewer": registry.shenzhen,
    }
    url = f"/students/{registry.student_a.pk}/"
    refused = []
    for role, user in roles.items():
        client = client_as(user)
        page = client.get(url)
        assert page.status_code == 200, role
        content = _content(page.content.decode())
        links = {unescape(h) for h in re.findall(r'href="(/[^"#]*)"', content)}
        forms = {
            unescape(action)
            for action in re.findall(r'<form method="post" action="(/[^"]*)"', content)
        }
        for link in sorted(links):
            if client.get(link).status_code == 403:
                refused.append(f"{role}: link {link}")
        for action in sorted(forms):
            if client.post(action, {}).status_code == 403:
                refused.append(f"{role}: form {action}")
    assert not refused, refused
