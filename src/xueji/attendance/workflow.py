"""The dropout-control case as a state machine (控辍保学).

        open ──lose_contact──▶ lost_contact ──(escalates at once, stays open)
         ▲  ◀──regain_contact──    │
         │                         │
         ├──confirm_dropout (county)──▶ dropped_out (辍学: the record leaves the roll)
         │                         │            │
         └──────close(end)─────────┴────────────┴──▶ closed (one of CaseEnd, never "lost contact")

A closed case is never reopened: a relapse opens a new case linked to it (`previous`).
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from xueji.attendance.models import CaseState
from xueji.core.errors import Conflict
from xueji.core.workflow import next_state


class CaseEvent(models.TextChoices):
    LOSE_CONTACT = "lose_contact", _("record lost contact")
    REGAIN_CONTACT = "regain_contact", _("record contact again")
    CONFIRM_DROPOUT = "confirm_dropout", _("confirm the dropout")
    CLOSE = "close", _("close")


TRANSITIONS: dict[tuple[str | None, str], str] = {
    (CaseState.OPEN, CaseEvent.LOSE_CONTACT): CaseState.LOST_CONTACT,
    (CaseState.LOST_CONTACT, CaseEvent.REGAIN_CONTACT): CaseState.OPEN,
    (CaseState.OPEN, CaseEvent.CONFIRM_DROPOUT): CaseState.DROPPED_OUT,
    (CaseState.LOST_CONTACT, CaseEvent.CONFIRM_DROPOUT): CaseState.DROPPED_OUT,
    (CaseState.OPEN, CaseEvent.CLOSE): CaseState.CLOSED,
    (CaseState.LOST_CONTACT, CaseEvent.CLOSE): CaseState.CLOSED,
    (CaseState.DROPPED_OUT, CaseEvent.CLOSE): CaseState.CLOSED,
}


def case_next_state(state: str, event: str) -> str:
    found: Any = next_state(
        TRANSITIONS,
        state,
        event,
        events=CaseEvent,
        states=CaseState,
        refusal=Conflict,
        message=_("A case that is %(state)s cannot %(event)s."),
    )
    return str(found)
