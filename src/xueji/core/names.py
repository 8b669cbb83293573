"""A person's full name as people write it: the one place a user's (a teacher's, a
registrar's, an approver's) name is composed from its parts, for pages, the API, exports and
messages alike.

Django's `User.get_full_name()` joins `first_name` and `last_name` with a space in Western
order, which gives "金凤 王" for 王金凤. The registry writes names the way their script does:

- A name in an East Asian script (Han characters, as Chinese names are; Hangul and kana too)
  is the family name then the given name, with no space: 王 + 金凤 → 王金凤.
- A name in any other script (a foreign teacher's Latin-script name) is the given name, a
  space, then the family name, as its owner writes it: Anna + Schmidt → Anna Schmidt.
- A name kept whole in one field (the account pages keep the full name in `last_name`) is
  shown as it was typed, so a minority name written with its middle dot (阿依古丽·买买提) keeps
  its own order.
- A user with no name is shown by the login name.

Pure: it reads `first_name`, `last_name` and `get_username()` of whatever it is given.
"""

from __future__ import annotations

import re
from typing import Any

# Han (the CJK ideographs with extension A, the compatibility ideographs and the
# supplementary planes' extensions), Hangul syllables and jamo, and the kana.
_EAST_ASIAN = re.compile(
    "[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u1100-\u11ff\uac00-\ud7af"
    "\U00020000-\U0003134f]"
)


def is_east_asian(text: str) -> bool:
    """Does the text hold a character of a script that writes the family name first?"""
    return bool(_EAST_ASIAN.search(text or ""))


def full_name(family_name: str, given_name: str) -> str:
    """The full name from its parts: 王 + 金凤 → 王金凤; Schmidt + Anna → Anna Schmidt."""
    family, given = (family_name or "").strip(), (given_name or "").strip()
    if is_east_asian(family + given):
        return family + given
    return " ".join(part for part in (given, family) if part)


def person_name(user: Any, missing: str | None = None) -> str:
    """A user's name as people write it (see the module); for a user with no name, `missing`
    if given, else the login name; "" for no user."""
    if user is None:
        return ""
    name = full_name(getattr(user, "last_name", ""), getattr(user, "first_name", ""))
    if name:
        return name
    return missing if missing is not None else str(user.get_username())
