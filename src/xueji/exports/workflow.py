"""A background export's state machine, and who may download its file. Pure: the services
lock the job and fire the events.

(new) --request--> queued --start--> running --finish--> ready --expire--> expired
queued, running --fail--> failed --expire--> expired (nothing to delete; the job leaves the list)
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from xueji.core.errors import Conflict
from xueji.core.workflow import next_state
from xueji.exports.models import ExportState


class Event(models.TextChoices):
    REQUEST = "request", _("Request")
    START = "start", _("Start")
    FINISH = "finish", _("Finish")
    FAIL = "fail", _("Fail")
    EXPIRE = "expire", _("Expire")


TRANSITIONS: dict[tuple[str | None, str], str] = {
    (None, Event.REQUEST): ExportState.QUEUED,
    (ExportState.QUEUED, Event.START): ExportState.RUNNING,
    (ExportState.RUNNING, Event.FINISH): ExportState.READY,
    (ExportState.QUEUED, Event.FAIL): ExportState.FAILED,
    (ExportState.RUNNING, Event.FAIL): ExportState.FAILED,
    (ExportState.READY, Event.EXPIRE): ExportState.EXPIRED,
    (ExportState.FAILED, Event.EXPIRE): ExportState.EXPIRED,
}


class InvalidTransition(Conflict):
    """The event cannot happen in the export's current state (HTTP 409)."""


def transition(state: str | None, event: str) -> str:
    """The state an event leads to from a state; an unexpected transition is an error."""
    return next_state(
        TRANSITIONS,
        state,
        event,
        events=Event,
        states=ExportState,
        refusal=InvalidTransition,
        message=_("“%(event)s” is not possible while the export is “%(state)s”."),
    )


def may_download(
    *, requester_id: int, user_id: int, may_export: bool, may_reveal: bool, revealed: bool
) -> bool:
    """Only whoever asked for the file, while their role still may export (and, for a file
    with the numbers in full, still may reveal them): the file holds their area's records."""
    return requester_id == user_id and may_export and (may_reveal or not revealed)
