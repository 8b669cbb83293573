"""Closed periods set at run time, on the page of the ministry (for the nation, or for one
province) and of each province (for itself): added, changed and lifted, each in one transaction
with its audit entry. Lifted periods stay, as the page's history.

The settings' periods are defaults: the first period a level adds for an operation takes the
defaults of that operation over as rows of its own (so that adding a second period does not
silently drop the first), which can then be changed or lifted like any other.

Whatever changes, the requests held by the operation in the area are given their date again
(one UPDATE per pair of provinces): a lifted period lets them proceed at once (the daily tick is
queued), a longer one makes them wait longer, visibly.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.access.models import ScopeLevel
from xueji.access.policy import Action
from xueji.access.scope import PermissionRefused, Scope, require
from xueji.audit.services import audit_record
from xueji.changes.models import (
    OPERATIONS,
    ChangeKind,
    ChangeRequest,
    ChangeState,
    ClosedPeriod,
)
from xueji.changes.rules import RulesError, closed_periods_validate
from xueji.changes.services.common import as_id, day_of
from xueji.changes.windows import (
    default_periods,
    periods_for,
    province_division,
    reopens_on,
)
from xueji.core.errors import FieldErrors, NotFound
from xueji.geo.models import Division, DivisionLevel

# A closed period stops an operation for a while, not for good: at most a year.
MAX_DAYS = 366


def _no_such_period() -> NotFound:
    return NotFound("period_not_found", _("No such closed period."))


def _managing(actor: Any) -> Scope:
    scope = require(actor, Action.CHANGE_WINDOW_MANAGE)
    if scope.level not in (ScopeLevel.NATION, ScopeLevel.PROVINCE):
        raise PermissionRefused("forbidden", _("Your role does not allow this."))
    return scope


def _target(scope: Scope, province_code: str | None) -> Division | None:
    """Whose period: the ministry's for the nation (no province named) or for a province; a
    province's for itself only."""
    code = (province_code or "").strip()
    if scope.level == ScopeLevel.PROVINCE:
        own = scope.division_code or ""
        if code and province_division(code) != own:
            raise NotFound("province_not_found", _("No such province in your area."))
        return Division.objects.get(pk=own)
    if not code:
        return None
    division = Division.objects.filter(
        pk=province_division(code), level=DivisionLevel.PROVINCE
    ).first()
    if division is None or not code.isdigit():
        raise FieldErrors(
            {"province": [ValidationError(_("Choose a province of the list."), code="invalid")]}
        )
    return division


def _reach(scope: Scope) -> Q:
    """The periods a manager may change: all (the ministry), or its province's."""
    if scope.level == ScopeLevel.NATION:
        return Q()
    return Q(division_id=scope.division_code)


def _check(
    *,
    operation: str,
    starts_on: datetime.date | None,
    ends_on: datetime.date | None,
    every_year: bool,
    on: datetime.date,
) -> tuple[datetime.date, datetime.date]:
    """The period's own checks, each reported next to its field; nothing is written on any."""
    problems: dict[str, list[ValidationError]] = {}

    def problem(field: str, message: Any, code: str, **params: Any) -> None:
        problems.setdefault(field, []).append(
            ValidationError(message, code=code, params=params or None)
        )

    if operation not in OPERATIONS:
        problem("operation", _("Choose an operation of the list."), "invalid_choice")
    if starts_on is None:
        problem("starts_on", _("Give the first day."), "required")
    if ends_on is None:
        problem("ends_on", _("Give the last day."), "required")
    if starts_on is not None and ends_on is not None:
        if ends_on < starts_on:
            problem("ends_on", _("The last day cannot come before the first day."), "dates_order")
        elif every_year and (ends_on - starts_on).days >= 364:
            problem(
                "ends_on",
                _("A period that comes back every year lasts less than a year."),
                "yearly_too_long",
            )
        elif (ends_on - starts_on).days + 1 > MAX_DAYS:
            problem(
                "ends_on",
                _("A closed period lasts at most %(days)d days."),
                "too_long",
                days=MAX_DAYS,
            )
        elif not every_year and ends_on < on:
            problem("ends_on", _("The last day has already passed."), "in_the_past")
        elif operation in OPERATIONS:
            # The settings' schema, once more: the page sets nothing the settings could not.
            try:
                closed_periods_validate(
                    {
                        "nation": [
                            {
                                "kind": operation,
                                "from": f"{starts_on:%m-%d}",
                                "to": f"{ends_on:%m-%d}",
                            }
                        ]
                    }
                )
            except RulesError as error:
                problem("starts_on", error.reason, error.code)
    if problems:
        raise FieldErrors(problems)
    assert starts_on is not None and ends_on is not None
    return starts_on, ends_on


def _shown(period: ClosedPeriod) -> dict[str, Any]:
    return {
        "period": period.pk,
        "operation": period.operation,
        "province": period.division_id or "nation",
        "starts_on": period.starts_on.isoformat(),
        "ends_on": period.ends_on.isoformat(),
        "every_year": period.every_year,
        "note": period.note,
    }


def _adopt_defaults(
    division: Division | None, operation: str, actor: Any, on: datetime.date
) -> list[ClosedPeriod]:
    """The settings' periods of the operation for this level, as rows (every year), if the
    level has none yet. An occurrence under way today is covered: they start a year back."""
    if ClosedPeriod.objects.filter(operation=operation, division=division).exists():
        return []
    adopted = []
    for default in default_periods(operation, None if division is None else division.code):
        first = datetime.date(on.year - 1, *default.start)
        last = datetime.date(on.year - 1 + (default.start > default.end), *default.end)
        adopted.append(
            ClosedPeriod.objects.create(
                operation=operation,
                division=division,
                starts_on=first,
                ends_on=last,
                every_year=True,
                from_settings=True,
                created_by=actor,
            )
        )
    if adopted:
        audit_record(
            actor=actor,
            action="closed_period.adopt_defaults",
            object_type="closed_period",
            detail={
                "operation": operation,
                "province": division.code if division else "nation",
                "periods": [_shown(p) for p in adopted],
            },
        )
    return adopted


def held_requests_redate(
    *, operation: str, division_id: str | None, on: datetime.date | None = None
) -> int:
    """Give the requests held by a kind of change in an area (a province's, or all) the date
    they now resume, from the periods in force: one UPDATE per pair of provinces. The number
    of requests that may proceed today; the daily tick is queued for them (after commit)."""
    on = day_of(on)
    if operation not in ChangeKind.values:
        return 0
    held = ChangeRequest.objects.filter(state=ChangeState.HELD, kind=operation)
    if division_id is not None:
        held = held.filter(
            Q(from_school__province_id=division_id) | Q(to_school__province_id=division_id)
        )
    pairs = set(held.values_list("from_school__province_id", "to_school__province_id"))
    due = 0
    for sender, receiver in sorted(pairs, key=lambda pair: (pair[0], pair[1] or "")):
        provinces = [code for code in (sender, receiver) if code]
        resumes = reopens_on(on, periods_for(operation, provinces)) or on
        group = held.filter(from_school__province_id=sender).filter(
            Q(to_school__isnull=True) if receiver is None else Q(to_school__province_id=receiver)
        )
        group.exclude(resumes_on=resumes).update(resumes_on=resumes)
        if resumes <= on:
            due += group.count()
    if due:
        day = on.isoformat()

        def queue_tick() -> None:
            # Not at the top: the task module imports the services to run them.
            from xueji.changes.tasks import changes_tick

            changes_tick.enqueue(day)

        transaction.on_commit(queue_tick)
    return due


def closed_period_add(
    *,
    actor: Any,
    operation: str,
    starts_on: datetime.date | None,
    ends_on: datetime.date | None,
    every_year: bool = False,
    note: str = "",
    province_code: str | None = None,
    on: datetime.date | None = None,
) -> ClosedPeriod:
    """A closed period of an operation: the ministry's for the nation (or for a province it
    names), a province's for itself. Requests of the kind filed in it are held until it ends;
    those already held in the area are given their new date."""
    on = day_of(on)
    scope = _managing(actor)
    division = _target(scope, province_code)
    first, last = _check(
        operation=operation, starts_on=starts_on, ends_on=ends_on, every_year=every_year, on=on
    )
    with transaction.atomic():
        if division is not None:
            # One writer at a time per province: the defaults are taken over once.
            Division.objects.select_for_update().filter(pk=division.pk).first()
        _adopt_defaults(division, operation, actor, on)
        period = ClosedPeriod.objects.create(
            operation=operation,
            division=division,
            starts_on=first,
            ends_on=last,
            every_year=every_year,
            note=(note or "").strip()[:200],
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action="closed_period.add",
            object_type="closed_period",
            after=_shown(period),
        )
        held_requests_redate(operation=operation, division_id=period.division_id, on=on)
    return period


def _locked(scope: Scope, period_id: Any) -> ClosedPeriod:
    period = (
        ClosedPeriod.objects.select_for_update(of=("self",))
        .filter(_reach(scope), pk=as_id(period_id), lifted_at__isnull=True)
        .order_by("pk")
        .first()
    )
    if period is None:
        raise _no_such_period()
    return period


def closed_period_edit(
    *,
    actor: Any,
    period_id: Any,
    starts_on: datetime.date | None,
    ends_on: datetime.date | None,
    every_year: bool = False,
    note: str = "",
    on: datetime.date | None = None,
) -> ClosedPeriod:
    """Change the days of a period in force (its operation and its level stay)."""
    on = day_of(on)
    scope = _managing(actor)
    with transaction.atomic():
        period = _locked(scope, period_id)
        first, last = _check(
            operation=period.operation,
            starts_on=starts_on,
            ends_on=ends_on,
            every_year=every_year,
            on=on,
        )
        before = _shown(period)
        period.starts_on, period.ends_on = first, last
        period.every_year = every_year
        period.note = (note or "").strip()[:200]
        after = _shown(period)
        if after == before:
            raise FieldErrors(
                {"__all__": [ValidationError(_("Nothing would change."), code="no_change")]}
            )
        period.changed_by = actor
        period.changed_at = timezone.now()
        period.save()
        audit_record(
            actor=actor,
            action="closed_period.edit",
            object_type="closed_period",
            detail={"period": period.pk},
            before=before,
            after=after,
        )
        held_requests_redate(operation=period.operation, division_id=period.division_id, on=on)
    return period


def closed_period_lift(
    *, actor: Any, period_id: Any, reason: str, on: datetime.date | None = None
) -> ClosedPeriod:
    """Lift a period in force: the operation is open again unless another period closes it;
    requests it held proceed (the daily tick is queued). The period stays in the history."""
    on = day_of(on)
    scope = _managing(actor)
    reason = (reason or "").strip()
    if not reason:
        raise FieldErrors(
            {"reason": [ValidationError(_("Say why the period is lifted."), code="required")]}
        )
    with transaction.atomic():
        period = _locked(scope, period_id)
        period.lifted_by = actor
        period.lifted_at = timezone.now()
        period.lift_reason = reason
        period.save(update_fields=["lifted_by", "lifted_at", "lift_reason"])
        audit_record(
            actor=actor,
            action="closed_period.lift",
            object_type="closed_period",
            before=_shown(period),
            detail={"period": period.pk, "reason": reason},
        )
        held_requests_redate(operation=period.operation, division_id=period.division_id, on=on)
    return period


def closed_period_defaults_adopt(
    *,
    actor: Any,
    operation: str,
    province_code: str | None = None,
    on: datetime.date | None = None,
) -> list[ClosedPeriod]:
    """Take the settings' periods of an operation over as rows of the level's own, to change
    or lift them; nothing when the level already has rows for it."""
    on = day_of(on)
    scope = _managing(actor)
    division = _target(scope, province_code)
    if operation not in OPERATIONS:
        raise FieldErrors(
            {
                "operation": [
                    ValidationError(_("Choose an operation of the list."), code="invalid_choice")
                ]
            }
        )
    with transaction.atomic():
        if division is not None:
            Division.objects.select_for_update().filter(pk=division.pk).first()
        return _adopt_defaults(division, operation, actor, on)
