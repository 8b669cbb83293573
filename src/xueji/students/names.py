"""When two spellings are one name: 張偉 and 张伟, 阿依古丽·买买提 and 阿依古丽•买买提.

A registrar types a name as the guardian writes it: in traditional characters (a child born in
Hong Kong, Macao or Taiwan, a hukou book written so), or a minority name with whichever middle dot
the keyboard gives (·, •, ．, a full stop, a space). Comparing names for a decision (is the child
of this ID number the child the registrar has in front of them?) compares their keys: simplified
characters (OpenCC's t2s), full-width forms made half-width, the dots and spaces taken out, Latin
letters case-folded.
"""

from __future__ import annotations

import unicodedata
from functools import cache

import opencc

# The separators of a minority name's parts as they are typed: the middle dot (U+00B7) and its
# look-alikes, the full stop (half- and full-width; NFKC makes the latter a full stop), spaces.
_SEPARATORS = frozenset(
    "\u00b7"  # · middle dot, the standard one
    "\u2022"  # • bullet
    "\u2027"  # ‧ hyphenation point
    "\u2219"  # ∙ bullet operator
    "\u22c5"  # ⋅ dot operator
    "\u30fb"  # ・ katakana middle dot
    "\uff65"  # ･ half-width katakana middle dot
    "\u0387"  # · Greek ano teleia
    "\uff0e"  # ． full-width full stop
    "."
)


@cache
def _to_simplified() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def name_key(name: str) -> str:
    """The form two spellings of one name share: 張偉 → 张伟, 阿依古丽 · 买买提 → 阿依古丽买买提."""
    text = unicodedata.normalize("NFKC", name or "")
    return _without_separators(_to_simplified().convert(text))


def name_keys(names: list[str]) -> list[str]:
    """name_key of each name, OpenCC called once for the lot rather than once a name (a
    population roll folds hundreds of thousands)."""
    if any("\n" in (name or "") for name in names):
        return [name_key(name) for name in names]
    normal = [unicodedata.normalize("NFKC", name or "") for name in names]
    simplified = _to_simplified().convert("\n".join(normal)).split("\n")
    if len(simplified) != len(names):
        return [name_key(name) for name in names]
    return [_without_separators(text) for text in simplified]


def _without_separators(text: str) -> str:
    if not text.isalnum():  # a dot or a space to take out
        text = "".join(ch for ch in text if ch not in _SEPARATORS and not ch.isspace())
    return text.casefold()


def names_match(typed: str, recorded: str) -> bool:
    """Is `typed` the recorded name, written in traditional or simplified characters, with any
    middle dot or none? An empty name matches nothing."""
    key = name_key(typed)
    return bool(key) and key == name_key(recorded)
