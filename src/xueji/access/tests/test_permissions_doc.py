"""docs/permissions.md is rendered from the matrix and committed up to date."""

import pytest
from django.core.management import CommandError, call_command

from xueji.access.docs import default_path, render
from xueji.access.policy import Action


def test_the_committed_document_is_up_to_date():
    assert default_path().read_text(encoding="utf-8") == render(), (
        "docs/permissions.md is out of date: run `xueji render_permissions`"
    )


def test_the_document_names_every_action_and_the_window_limit():
    text = render()
    for action in Action:
        assert f"`{action.value}`" in text
    assert "only while the county's verification window is open" in text


def test_the_command_writes_the_file_and_checks_it(tmp_path):
    target = tmp_path / "permissions.md"
    call_command("render_permissions", "--output", str(target))
    assert target.read_text(encoding="utf-8") == render()
    call_command("render_permissions", "--output", str(target), "--check")
    target.write_text("stale", encoding="utf-8")
    with pytest.raises(CommandError, match="out of date"):
        call_command("render_permissions", "--output", str(target), "--check")
