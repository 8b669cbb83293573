"""The menu (xueji.access.menu): each app registers its pages with the action that shows them;
a role sees, grouped by task, the pages it may open and nothing else; the page's entry is marked
and the breadcrumb passes through its group and entry."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client, RequestFactory
from django.urls import resolve, reverse

from xueji.access.menu import GROUPS, TOP, MenuEntry, menu_entries, menu_for, menu_register
from xueji.access.models import Role
from xueji.access.policy import Action
from xueji.testing.factories import SchoolFactory, UserFactory, member

from .world import World

pytestmark = pytest.mark.django_db


def _menu(user: Any, path: str = "/") -> Any:
    request = RequestFactory().get(path)
    request.user = user
    request.resolver_match = resolve(path)
    return menu_for(request)


def _labels(menu: Any) -> dict[str, list[str]]:
    return {
        (section.group.key if section.group else TOP): [i.entry.url_name for i in section.items]
        for section in menu.sections
    }


def test_every_entry_names_a_page_and_a_group():
    entries = menu_entries()
    assert len(entries) >= 20
    for entry in entries:
        reverse(entry.url_name)  # NoReverseMatch for a page that does not exist
        assert entry.group == TOP or entry.group in GROUPS
        assert entry.action is None or entry.action in Action.values, entry.url_name


def test_an_entry_in_no_known_group_or_an_inbox_without_its_template_is_refused():
    with pytest.raises(ValueError, match="no menu group"):
        menu_register(MenuEntry("nowhere", "x", "students:home", order=1))
    with pytest.raises(ValueError, match="inbox_template"):
        menu_register(MenuEntry("changes", "x", "changes:queue", order=1, inbox=lambda user: 1))


def test_an_entry_is_shown_by_its_action_and_its_predicate():
    from xueji.access.scope import Scope

    registrar = Scope(role=Role.REGISTRAR, level="school", school_id=1)
    teacher = Scope(role=Role.CLASS_TEACHER, level="school", school_id=1)
    register = MenuEntry("records", "x", "students:register", 1, action=Action.STUDENT_REGISTER)
    assert register.shown_to(registrar) and not register.shown_to(teacher)
    assert not register.shown_to(None)
    own_school = MenuEntry(
        "records", "x", "students:home", 1, visible=lambda scope: bool(scope and scope.school_id)
    )
    assert own_school.shown_to(teacher) and not own_school.shown_to(None)
    assert MenuEntry(TOP, "x", "students:home", 0).shown_to(None)


def test_each_role_sees_its_own_tasks_in_the_order_of_the_groups(db):
    school: Any = SchoolFactory()
    registrar = _labels(_menu(member(Role.REGISTRAR, school=school)))
    assert next(iter(registrar)) == TOP and registrar[TOP] == ["students:home"]
    assert registrar["records"] == ["students:search", "students:register", "schools:classes"]
    assert "changes:queue" in registrar["changes"] and "imports:index" in registrar["data"]
    assert "audit" not in registrar and "administration" not in registrar
    order = [GROUPS[key].order for key in registrar if key != TOP]
    assert order == sorted(order)

    subject_teacher = _labels(_menu(member(Role.SUBJECT_TEACHER, school=school)))
    assert subject_teacher == {
        TOP: ["students:home"],
        # A teacher whose pupils ride a bus may stand in for its monitor (issue 22).
        "attendance": ["attendance:board_home"],
        "scores": ["scores:home"],
        "account": ["access:my_role", "accounts:password_change"],
    }
    class_teacher = _labels(_menu(member(Role.CLASS_TEACHER, school=school)))
    assert "students:register" not in class_teacher["records"]
    assert class_teacher["checks"] == ["verification:my_classes"]

    # 三员分立: the auditor reads the trail, the security administrator keeps the accounts.
    auditor = _labels(_menu(member(Role.AUDITOR)))
    assert auditor == {
        TOP: ["students:home"],
        "audit": ["audit:search"],
        "account": ["access:my_role", "accounts:password_change"],
    }
    security = _labels(_menu(member(Role.SECURITY_ADMIN)))
    assert security["administration"] == ["accounts:account_list"]
    assert "audit" not in security and "records" not in security

    # Without a role: the home page and the own account only.
    assert _labels(_menu(UserFactory())) == {
        TOP: ["students:home"],
        "account": ["access:my_role", "accounts:password_change"],
    }


def test_the_page_s_entry_is_marked_and_a_page_below_it_marks_it_too(db):
    approver = member(Role.BUREAU_APPROVER)
    queue = _menu(approver, "/changes/")
    assert queue.current.entry.url_name == "changes:queue" and queue.exact
    assert queue.current_group.key == "changes"
    below = _menu(approver, "/changes/periods/add/")
    assert below.current.entry.url_name == "changes:periods" and not below.exact
    assert below.current.current == "true"
    # A page that names its entry (the record page, under 查找学生).
    record = _menu(approver, "/students/00000000-0000-0000-0000-000000000000/")
    assert record.current.entry.url_name == "students:search"
    home = _menu(approver, "/")
    assert home.current.entry.group == TOP and home.exact


def test_the_queue_s_entry_counts_what_waits_for_the_user(db):
    world = World()
    principal_menu = _menu(world.principal, "/")
    queue = next(i for s in principal_menu.sections for i in s.items if i.entry.element_id)
    assert queue.entry.url_name == "changes:queue" and queue.inbox == 0
    county = _menu(world.county_approver, "/")
    queue = next(i for s in county.sections for i in s.items if i.entry.url_name == "changes:queue")
    # World files a suspension at schools A and B of 福田区, waiting for the county.
    assert queue.inbox >= 2
    page = Client()
    page.force_login(world.county_approver)
    content = page.get("/").content.decode()
    assert re.search(r'id="changes-nav">.*?id="inbox-count"', content, re.S)


def test_every_entry_of_every_role_s_menu_opens_for_that_role(db):
    """The menu shows nothing the role may not open (each page answers, not 403 or 404)."""
    world = World()
    failures = []
    for actor in world.actors:
        client = Client()
        client.force_login(actor.user)
        for section in _menu(actor.user).sections:
            for item in section.items:
                status = client.get(item.url).status_code
                if status not in (200, 302):
                    failures.append(f"{actor.name}: {item.url} → {status}")
    assert not failures, failures


def test_the_breadcrumb_names_the_group_and_the_entry_of_the_page(db):
    world = World()
    client = Client()
    client.force_login(world.county_approver)
    content = client.get("/changes/periods/").content.decode()
    crumbs = re.search(r'<nav class="breadcrumbs" id="breadcrumbs".*?</nav>', content, re.S)
    assert crumbs is not None
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", crumbs.group(0))).strip()
    assert text == "首页 异动 业务暂停期"
    assert 'href="/changes/periods/" aria-current="page"' in crumbs.group(0)
    # The menu marks the same entry.
    menu = re.search(r'<nav class="side-nav".*?</nav>', content, re.S)
    assert menu is not None
    assert 'href="/changes/periods/" aria-current="page"' in menu.group(0)
