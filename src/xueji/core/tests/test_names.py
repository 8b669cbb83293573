"""A person's name is written the way its script writes it, in one place (xueji.core.names):
王 + 金凤 is 王金凤, never "金凤 王" (issue 20, item 8)."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.template import Context, Template

from xueji.core.names import full_name, person_name

XUEJI = Path(__file__).resolve().parents[2]


def user(first: str = "", last: str = "", username: str = "wangjf") -> SimpleNamespace:
    return SimpleNamespace(first_name=first, last_name=last, get_username=lambda: username)


@pytest.mark.parametrize(
    ("family", "given", "written"),
    [
        ("王", "金凤", "王金凤"),
        ("欧阳", "娜娜", "欧阳娜娜"),  # a two-character family name
        (" 王 ", " 金凤 ", "王金凤"),
        ("𠮷", "田", "𠮷田"),  # a character of the supplementary planes (extension B)
        ("김", "민준", "김민준"),  # Hangul: the family name first too
        ("Schmidt", "Anna", "Anna Schmidt"),  # a Western name: as its owner writes it
        ("", "Anna", "Anna"),
        ("王金凤", "", "王金凤"),  # kept whole in one field (the account pages)
        ("阿依古丽·买买提", "", "阿依古丽·买买提"),  # a minority name kept whole keeps its order
        ("", "", ""),
    ],
)
def test_a_full_name_is_written_the_way_its_script_writes_it(family, given, written):
    assert full_name(family, given) == written


def test_a_user_without_a_name_is_shown_by_login_name_or_what_the_page_asks():
    assert person_name(user("金凤", "王")) == "王金凤"
    assert person_name(user()) == "wangjf"
    assert person_name(user(), "—") == "—"
    assert person_name(None) == ""


def test_the_template_filter_is_the_same_rule():
    rendered = Template('{% load core_tags %}{{ a|person_name }}/{{ b|person_name:"—" }}').render(
        Context({"a": user("金凤", "王"), "b": user()})
    )
    assert rendered == "王金凤/—"


# A name composed anywhere else would drift from the rule: Django's get_full_name() (first, a
# space, last) and f-strings or templates joining first_name and last_name.
COMPOSED = re.compile(
    r"get_full_name|first_name\s*\}\}?\s*\{\{?\s*[\w.]*last_name|last_name\s*\}\}?\s*\{\{?\s*"
    r"[\w.]*first_name|first_name\s*\+|\+\s*[\w.]*first_name"
)


def test_no_code_or_page_composes_a_name_but_the_one_helper():
    found = []
    for path in sorted(XUEJI.rglob("*")):
        if path.suffix not in (".py", ".html", ".txt") or "tests" in path.parts:
            continue
        if path == XUEJI / "core" / "names.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if COMPOSED.search(line):
                found.append(f"{path.relative_to(XUEJI)}:{number}: {line.strip()}")
    assert not found, "use xueji.core.names.person_name (|person_name):\n" + "\n".join(found)
