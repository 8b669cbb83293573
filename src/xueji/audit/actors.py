"""Who an entry's actor was when they acted: the role and the place they acted in.

Accounts are renamed and memberships move, so an entry keeps them as they were. The trail reads
no other app: xueji.access, which knows roles and scopes, registers at start-up how to ask
(xueji.access.apps). No database access and no imports from other apps here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class ActingAs:
    role: str
    school_id: int | None = None
    # The bureau's division (county, city or province); empty for school staff and the nation.
    division: str = ""
    # The county of the actor's school (school staff): the chain their entries go to.
    county: str = ""


ActingAsLookup = Callable[[Any], ActingAs | None]

_lookup: list[ActingAsLookup] = []


def register_acting_as(lookup: ActingAsLookup) -> None:
    """Say how to learn a user's role and place (None: a user without one). The last one
    registered answers."""
    _lookup[:] = [lookup]


def acting_as(user: Any) -> ActingAs | None:
    if not _lookup:
        raise ImproperlyConfigured(
            "Nobody told the audit trail how to learn an actor's role: install xueji.access, "
            "which registers it when the apps are ready."
        )
    return _lookup[0](user)
