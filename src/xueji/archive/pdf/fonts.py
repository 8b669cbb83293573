"""The CJK font of the archive's PDFs: WenQuanYi Zen Hei (Debian's fonts-wqy-zenhei), a
TrueType collection whose first face ReportLab embeds (subset). ReportLab cannot embed the CFF
outlines of Noto CJK, so it is this font.

It covers the CJK Unified Ideographs and Extension A (e.g. 䶮 U+4DAE), not Extension B and later
(e.g. 𠮷 U+20BB7): a character the font lacks is printed as its code point, 〔U+20BB7〕, rather
than as an empty box, so that the reader sees what the record holds.
"""

from __future__ import annotations

import os
from functools import lru_cache

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_NAME = "WQYZenHei"
DEFAULT_FONT_PATH = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"


def font_path() -> str:
    return os.environ.get("XUEJI_PDF_FONT", DEFAULT_FONT_PATH)


@lru_cache(maxsize=1)
def cjk_font() -> str:
    """Register the font once per process; its name for ReportLab."""
    pdfmetrics.registerFont(TTFont(FONT_NAME, font_path(), subfontIndex=0))
    return FONT_NAME


@lru_cache(maxsize=1)
def _covered() -> frozenset[int]:
    cjk_font()
    font = pdfmetrics.getFont(FONT_NAME)
    return frozenset(font.face.charToGlyph)  # type: ignore[attr-defined]


def covers(char: str) -> bool:
    """Does the font have a glyph for this character?"""
    return ord(char) in _covered() or char in "\n\r\t"


def printable(text: str) -> str:
    """The text with every character the font lacks written as its code point."""
    if all(covers(char) for char in text):
        return text
    return "".join(char if covers(char) else f"〔U+{ord(char):04X}〕" for char in text)
