"""What the state machines' transition functions share: the lookup of an event from a state,
and the refusal of an unexpected one, naming both in the reader's language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import models

from xueji.core.errors import Conflict


def next_state(
    transitions: Mapping[tuple[str | None, str], str],
    state: str | None,
    event: str,
    *,
    events: type[models.TextChoices],
    states: type[models.TextChoices],
    refusal: type[Conflict],
    message: Any,
    no_state: Any = "-",
) -> str:
    """The state `event` leads to from `state`; `refusal` (HTTP 409) with `message` (naming
    %(event)s and %(state)s, `no_state` before the first transition) when the machine has no
    such transition."""
    target = transitions.get((state or None, event))
    if target is None:
        raise refusal(
            "invalid_transition",
            message
            % {
                "event": events(event).label if event in events.values else event,
                "state": states(state).label if state in states.values else no_state,
            },
        )
    return target
