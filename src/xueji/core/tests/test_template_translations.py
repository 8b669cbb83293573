"""Every text a template translates has its Chinese: the pages are in Chinese by default, and an
English sentence left on one (the record page's "Show full numbers" was) reads as a broken page
to a registrar."""

from __future__ import annotations

import re
from pathlib import Path

import polib

from xueji.core.compile_messages import PACKAGE_DIR, catalogues

# {% translate "text" %} or {% trans "text" context "ctx" %} (as …/noop and filters aside).
TRANSLATE_TAG = re.compile(r'{%\s*(?:translate|trans)\s+"([^"]+)"(?:\s+context\s+"([^"]+)")?')


def _translated() -> set[tuple[str | None, str]]:
    found: set[tuple[str | None, str]] = set()
    for path in catalogues():
        if "zh_Hans" not in path.parts:
            continue
        for entry in polib.pofile(str(path)):
            if entry.translated():
                found.add((entry.msgctxt, entry.msgid))
    return found


def test_every_translate_tag_of_every_template_has_its_chinese():
    translated = _translated()
    missing = [
        f"{template.relative_to(PACKAGE_DIR)}: {text!r}"
        for template in sorted(Path(PACKAGE_DIR).glob("*/templates/**/*.html"))
        for text, context in TRANSLATE_TAG.findall(template.read_text(encoding="utf-8"))
        if (context or None, text) not in translated
    ]
    assert missing == []
