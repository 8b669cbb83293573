"""What is attached to a user and still open: the items a designated registrar (学籍管理员)
hands over to the successor when they leave.

Each domain that keeps work under a user's name registers its kind of open item when its app is
ready (changes: the changes of status it filed and that are still under way; corrections: the
key-data corrections it asked for; imports: the spreadsheet imports queued or running), so that
the account administration finds every kind without importing the domains (imports sits beside
it). `pass_on` runs inside the hand-over's transaction, which writes the one audit entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class OpenItemKind:
    key: str  # stable, for the audit entry and the API: "changes", "corrections", "imports"
    label: Any  # what the pages call them (translated)
    # The ids of the user's open items of this kind (as text), oldest first.
    open_of: Callable[[Any], list[str]]
    # Put the open items of `from_user` under `to_user`'s name, inside the caller's transaction
    # (rows locked); returns the ids passed on.
    pass_on: Callable[[Any, Any], list[str]]


_kinds: dict[str, OpenItemKind] = {}


def register_open_items(kind: OpenItemKind) -> None:
    """Count `kind` among a user's open items from now on (its app calls it when ready)."""
    _kinds[kind.key] = kind


def open_item_kinds() -> list[OpenItemKind]:
    """Every registered kind, in the order of their keys."""
    return [_kinds[key] for key in sorted(_kinds)]
