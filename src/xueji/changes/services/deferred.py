"""留级 and 跳级 wait for the year end: its promotion applies them, and a reversed promotion
reopens them, each through the workflow's own step (APPLY, REOPEN) with a ChangeLog row per
request, set-based (the year end names its students by a SELECT over its own rows) and inside
the caller's transaction."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.db import connection, transaction

from xueji.changes.models import ChangeLog, ChangeRequest, ChangeState
from xueji.changes.workflow import DEFERRED_KINDS, Event, transition
from xueji.students.bulk import dialect


def _deferred_move(
    *,
    students: str,
    params: Mapping[str, Any],
    source: ChangeState,
    event: Event,
    actor: Any,
    note: str,
    done: tuple[str, str],
) -> int:
    """Move the requests of the deferred kinds in state `source` of the students `students`
    (a SELECT of student ids) by `event`, the target found by the workflow's own transition
    (per kind, so never spelled here); a ChangeLog row per request, first, by INSERT … SELECT.
    `done` is the (completed_at, effective_date) SQL the move sets. Returns how many moved."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("deferred changes move inside the caller's transaction")
    d = dialect()
    request_table = ChangeRequest._meta.db_table
    log_table = ChangeLog._meta.db_table
    by_target: dict[ChangeState, list[str]] = {}
    for kind in DEFERRED_KINDS:
        by_target.setdefault(transition(source, event, kind), []).append(kind.value)
    moved = 0
    with connection.cursor() as cursor:
        for target, kinds in by_target.items():
            values = {
                **params,
                "deferred_source": source.value,
                "deferred_target": target.value,
                "deferred_event": event.value,
                "deferred_actor": getattr(actor, "pk", actor),
                "deferred_note": note,
                "deferred_now": d.now(),
                **{f"deferred_kind_{n}": kind for n, kind in enumerate(kinds)},
            }
            kind_list = ", ".join(f"%(deferred_kind_{n})s" for n in range(len(kinds)))
            which = (
                f"state = %(deferred_source)s AND kind IN ({kind_list}) "
                f"AND student_id IN ({students})"
            )
            cursor.execute(
                f"""INSERT INTO {log_table} (request_id, event, from_state, to_state,
                    step_ordinal, actor_id, actor_role, note, at)
                SELECT id, %(deferred_event)s, %(deferred_source)s, %(deferred_target)s, NULL,
                    %(deferred_actor)s, '', %(deferred_note)s, %(deferred_now)s
                FROM {request_table} WHERE {which}""",
                values,
            )
            cursor.execute(
                f"""UPDATE {request_table} SET state = %(deferred_target)s,
                    completed_at = {done[0]}, effective_date = {done[1]},
                    updated_at = %(deferred_now)s
                WHERE {which}""",
                values,
            )
            moved += cursor.rowcount
    return moved


def deferred_changes_apply(
    *,
    students: str,
    params: Mapping[str, Any],
    on: datetime.date,
    actor: Any,
    note: str = "",
) -> int:
    """The approved 留级 and 跳级 of the students `students` (a SQL SELECT of student ids, with
    its `params`) are done by the promotion that moved them on `on`: each request takes the
    workflow's APPLY step (approved → completed), effective on `on`, with its ChangeLog row.
    Set-based (a fixed handful of statements), inside the caller's transaction; `actor` is the
    user (or user id, or None) who ran the promotion. Returns how many requests completed."""
    d = dialect()
    return _deferred_move(
        students=students,
        params={**params, "deferred_day": d.date(on)},
        source=ChangeState.APPROVED,
        event=Event.APPLY,
        actor=actor,
        note=note,
        done=("%(deferred_now)s", "%(deferred_day)s"),
    )


def deferred_changes_reopen(
    *, students: str, params: Mapping[str, Any], actor: Any, note: str = ""
) -> int:
    """A reversed promotion takes back what it applied: the completed 留级 and 跳级 of the
    students `students` (a SQL SELECT of student ids) are approved again, waiting for the next
    promotion (the workflow's REOPEN step, logged), their completion and effective date
    cleared. Set-based, inside the caller's transaction. Returns how many reopened."""
    return _deferred_move(
        students=students,
        params=params,
        source=ChangeState.COMPLETED,
        event=Event.REOPEN,
        actor=actor,
        note=note,
        done=("NULL", "NULL"),
    )
