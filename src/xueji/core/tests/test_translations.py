"""Every text the code marks for translation has its Chinese: the pages are in Chinese by default,
and an English sentence left on one (the record page's "Show full numbers" was, and so were the
record history's event kinds) reads as a broken page to a registrar.

Both kinds of source are read the way `makemessages` reads them: templates through Django's own
`templatize` (so `{% blocktranslate %}` bodies come out as the msgid Django looks up: variables
as %(name)s, `trimmed` collapsed), Python modules through `ast`, following how each module
imports the gettext functions (`from django.utils.translation import gettext_lazy as _`,
`from django.utils import translation` then `translation.gettext(...)`)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import polib
from django.utils.translation.template import templatize

from xueji.core.compile_messages import PACKAGE_DIR, catalogues

# A message: its context (None when it has none) and its msgid (the singular of a plural).
Message = tuple[str | None, str]

TRANSLATION_MODULE = "django.utils.translation"

# Each gettext function: where its context and its msgid are among the positional arguments.
GETTEXT_FUNCTIONS: dict[str, tuple[int | None, int]] = {
    "gettext": (None, 0),
    "gettext_lazy": (None, 0),
    "gettext_noop": (None, 0),
    "ngettext": (None, 0),
    "ngettext_lazy": (None, 0),
    "pgettext": (0, 1),
    "pgettext_lazy": (0, 1),
    "npgettext": (0, 1),
    "npgettext_lazy": (0, 1),
}

# The calls `templatize` writes for {% translate %} and {% blocktranslate %} (a function name
# then string literals, its reprs, and for a plural `count`) and for a `_("text")` argument of a
# variable or of another tag (`{% include … with title=_("No students") %}`).
_LITERAL = r"""u?(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
TEMPLATIZED_CALL = re.compile(
    rf"\b(npgettext|ngettext|pgettext|gettext|_)\(\s*((?:{_LITERAL}\s*,\s*)*{_LITERAL})"
)
TEMPLATIZED_FUNCTIONS = {**GETTEXT_FUNCTIONS, "_": GETTEXT_FUNCTIONS["gettext"]}


def _translated() -> set[Message]:
    found: set[Message] = set()
    for path in catalogues():
        if "zh_Hans" not in path.parts:
            continue
        for entry in polib.pofile(str(path)):
            if entry.translated():
                found.add((entry.msgctxt, entry.msgid))
    return found


# ---------------------------------------------------------------------------------------------
# Templates


def _template_messages(source: str) -> Iterator[Message]:
    for match in TEMPLATIZED_CALL.finditer(templatize(source)):
        function, arguments = match.groups()
        strings = [ast.literal_eval(s) for s in re.findall(_LITERAL, arguments)]
        context, msgid = TEMPLATIZED_FUNCTIONS[function]
        yield (strings[context] if context is not None else None), strings[msgid]


def _templates() -> list[Path]:
    return sorted(Path(PACKAGE_DIR).glob("*/templates/**/*.html"))


def test_template_messages_are_read_as_django_looks_them_up():
    source = (
        '{% load i18n %}{% translate "Save" context "verb" %}{{ _("Close") }}'
        '{% include "empty.html" with title=_("No students") %}'
        "{% blocktranslate with name=s.name %}Record of {{ name }}{% endblocktranslate %}"
        "{% blocktranslate trimmed count counter=n %}\n  {{ counter }} row\n  written"
        "{% plural %}{{ counter }} rows written{% endblocktranslate %}"
    )
    assert list(_template_messages(source)) == [
        ("verb", "Save"),
        (None, "Close"),
        (None, "No students"),
        (None, "Record of %(name)s"),
        (None, "%(counter)s row written"),
    ]


def test_every_translate_and_blocktranslate_of_every_template_has_its_chinese():
    templates = _templates()
    assert templates, "no template found: the check would pass on nothing"
    translated = _translated()
    missing = [
        f"{template.relative_to(PACKAGE_DIR)}: {message!r}"
        for template in templates
        for message in _template_messages(template.read_text(encoding="utf-8"))
        if message not in translated
    ]
    assert missing == []


# ---------------------------------------------------------------------------------------------
# Python modules


def _gettext_names(tree: ast.Module) -> tuple[dict[str, str], set[str]]:
    """The names a module binds to gettext functions (name → function), and those it binds to
    the django.utils.translation module itself."""
    functions: dict[str, str] = {}
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == TRANSLATION_MODULE:
            for alias in node.names:
                if alias.name in GETTEXT_FUNCTIONS:
                    functions[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module == "django.utils":
            modules.update(a.asname or a.name for a in node.names if a.name == "translation")
        elif isinstance(node, ast.Import):
            modules.update(
                a.asname for a in node.names if a.name == TRANSLATION_MODULE and a.asname
            )
    return functions, modules


def _called_function(call: ast.Call, functions: dict[str, str], modules: set[str]) -> str | None:
    target = call.func
    if isinstance(target, ast.Name):
        return functions.get(target.id)
    if (
        isinstance(target, ast.Attribute)
        and target.attr in GETTEXT_FUNCTIONS
        and isinstance(target.value, ast.Name)
        and target.value.id in modules
    ):
        return target.attr
    return None


def _python_messages(source: str) -> list[tuple[int, str | None, str]]:
    """(line, message) of each gettext call whose message is a string literal (implicitly
    concatenated literals are one constant to `ast`); calls on variables or f-strings are not
    the catalogue's business."""
    tree = ast.parse(source)
    functions, modules = _gettext_names(tree)
    found: list[tuple[int, str | None, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        function = _called_function(node, functions, modules)
        if function is None:
            continue
        context_at, msgid_at = GETTEXT_FUNCTIONS[function]
        if len(node.args) <= msgid_at:
            continue
        msgid = node.args[msgid_at]
        context = node.args[context_at] if context_at is not None else None
        if not (isinstance(msgid, ast.Constant) and isinstance(msgid.value, str)):
            continue
        if context is not None and not (
            isinstance(context, ast.Constant) and isinstance(context.value, str)
        ):
            continue
        found.append((node.lineno, context.value if context is not None else None, msgid.value))
    return sorted(found, key=lambda item: item[0])


# The package and the project's settings (the site's title is translated there).
SOURCE_DIRS = (Path(PACKAGE_DIR), Path(PACKAGE_DIR).parent / "config")


def _modules() -> list[Path]:
    return sorted(
        path
        for directory in SOURCE_DIRS
        for path in directory.rglob("*.py")
        if not {"tests", "migrations"} & set(path.relative_to(directory).parts[:-1])
    )


def test_python_messages_are_found_however_gettext_is_imported():
    source = (
        "from django.utils import translation\n"
        "from django.utils.translation import gettext_lazy as _, npgettext as np_\n"
        "from django.utils.translation import pgettext\n"
        "class Kind:\n"
        '    FIXED = "fixed", _("Basic information "\n'
        '                        "corrected")\n'
        "label = f\"{_('Key-data correction')}: x\"\n"
        'a = pgettext("month", "May")\n'
        'b = np_("file", "%(n)s row", "%(n)s rows", 2)\n'
        'c = translation.gettext("Saved")\n'
        "d = _(variable)\n"
        'e = str("not a message")\n'
    )
    assert [message for _line, *message in _python_messages(source)] == [
        [None, "Basic information corrected"],
        [None, "Key-data correction"],
        ["month", "May"],
        ["file", "%(n)s row"],
        [None, "Saved"],
    ]


def test_every_message_of_every_python_module_has_its_chinese():
    modules = _modules()
    assert modules, "no module found: the check would pass on nothing"
    translated = _translated()
    missing = [
        f"{module.relative_to(PACKAGE_DIR.parent)}:{line}: {(context, msgid)!r}"
        for module in modules
        for line, context, msgid in _python_messages(module.read_text(encoding="utf-8"))
        if (context, msgid) not in translated
    ]
    assert missing == []
