"""What a background job (an import, an export) keeps and shows: its message in Chinese and in
English, read in the reader's language, and its progress. Pure: no model, no query."""

from __future__ import annotations

from typing import Any

from django.utils import translation


def in_both_languages(message: Any, params: dict[str, Any] | None = None) -> tuple[str, str]:
    """The message (formatted with `params`) in Chinese and in English."""
    texts = []
    for language in ("zh-hans", "en"):
        with translation.override(language):
            text = str(message)
            texts.append(text % params if params else text)
    return texts[0], texts[1]


class JobShown:
    """What the pages of a background job show: its progress and its message, which is kept in
    Chinese and in English."""

    state: str
    message: str
    message_en: str
    rows_total: int
    rows_done: int

    @property
    def finished(self) -> bool:
        # Both kinds of job wait as "queued" and work as "running"; every other state is an end.
        return self.state not in ("queued", "running")

    @property
    def message_shown(self) -> str:
        """The message in the language active (English where the reader's is)."""
        english = not (translation.get_language() or "zh").startswith("zh")
        return self.message_en if english and self.message_en else self.message

    @property
    def percent(self) -> int:
        if not self.rows_total:
            return 100 if self.finished else 0
        return min(100, round(100 * self.rows_done / self.rows_total))
