"""Pinyin of names for search: 张春铭 → zhangchunming, initials zcm."""

import re

from pypinyin import Style, lazy_pinyin

_NOT_ALNUM = re.compile(r"[^a-z0-9]")


def name_pinyin(name: str) -> str:
    return _NOT_ALNUM.sub("", "".join(lazy_pinyin(name, errors="default")).lower())


def name_initials(name: str) -> str:
    return _NOT_ALNUM.sub(
        "", "".join(lazy_pinyin(name, style=Style.FIRST_LETTER, errors="default")).lower()
    )
