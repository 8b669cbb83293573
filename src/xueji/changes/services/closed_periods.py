"""Closed periods set at run time: the ministry's (for the nation) and a province's, yearly, in
which new requests of a kind are held (xueji.changes.windows reads them with the settings')."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from xueji.access.models import ScopeLevel
from xueji.access.policy import Action
from xueji.access.scope import PermissionRefused, require
from xueji.audit.services import audit_record
from xueji.changes.models import ChangeKind, ChangeRequest, ChangeState, ChangeWindow
from xueji.changes.services.common import as_id, day_of, field_error
from xueji.core.errors import NotFound
from xueji.geo.models import Division


def _month_day(field: str, text: str) -> tuple[int, int]:
    try:
        month, day = (int(part) for part in (text or "").strip().split("-"))
        datetime.date(2024, month, day)  # a leap year: 02-29 is a valid yearly date
    except ValueError:
        raise field_error(field, _("Give a date as MM-DD."), "invalid_date") from None
    return month, day


def change_window_add(
    *, actor: Any, kind: str, start: str, end: str, note: str = ""
) -> ChangeWindow:
    """A closed period of a kind of change, yearly, for the actor's province or the nation."""
    scope = require(actor, Action.CHANGE_WINDOW_MANAGE)
    if kind not in ChangeKind.values:
        raise field_error("kind", _("Choose a kind of change."), "unknown")
    (start_month, start_day), (end_month, end_day) = (
        _month_day("start", start),
        _month_day("end", end),
    )
    division = None
    if scope.level == ScopeLevel.PROVINCE:
        division = Division.objects.get(pk=scope.division_code)
    elif scope.level != ScopeLevel.NATION:
        raise PermissionRefused("forbidden", _("Your role does not allow this."))
    with transaction.atomic():
        window = ChangeWindow.objects.create(
            kind=kind,
            division=division,
            start_month=start_month,
            start_day=start_day,
            end_month=end_month,
            end_day=end_day,
            note=(note or "").strip()[:200],
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action="change.window_add",
            object_type="change_window",
            detail={"window": window.pk, "kind": kind, "from": start, "to": end},
        )
    return window


def change_window_remove(*, actor: Any, window_id: Any, on: datetime.date | None = None) -> None:
    """Remove a closed period of the actor's province (or a national one, for the ministry).
    Requests held by it proceed on the next tick."""
    on = day_of(on)
    scope = require(actor, Action.CHANGE_WINDOW_MANAGE)
    with transaction.atomic():
        window = (
            ChangeWindow.objects.select_for_update(of=("self",))
            .order_by("pk")
            .filter(
                pk=as_id(window_id),
                **(
                    {"division__isnull": True}
                    if scope.level == ScopeLevel.NATION
                    else {"division_id": scope.division_code}
                ),
            )
            .first()
        )
        if window is None:
            raise NotFound("window_not_found", _("No such closed period."))
        detail = {"window": window.pk, "kind": window.kind}
        window.delete()
        # Held requests of the kind may now be open: bring their date forward to today so
        # that the next tick reconsiders them (it re-checks every remaining period).
        ChangeRequest.objects.filter(
            state=ChangeState.HELD, kind=detail["kind"], resumes_on__gt=on
        ).update(resumes_on=on)
        audit_record(
            actor=actor, action="change.window_remove", object_type="change_window", detail=detail
        )
