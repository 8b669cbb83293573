"""Opening a round, preparing, confirming and returning a unit's report, revisions.

Each service takes its actor, runs in one transaction with its audit entry, and locks the rows
whose state it moves (select_for_update; a parent before its unit, always in that order).
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from xueji.access.models import ScopeLevel
from xueji.access.policy import Action
from xueji.access.scope import Scope, require
from xueji.audit.services import audit_record
from xueji.core.errors import Conflict, FieldErrors, NotFound
from xueji.geo.models import Division
from xueji.reporting import snapshot
from xueji.reporting.models import (
    LEVELS,
    ReportRound,
    ReportTable,
    Revision,
    RevisionState,
    Submission,
    UnitLevel,
    UnitReport,
    UnitState,
)
from xueji.reporting.selectors import acts_for, period_start, unit_name, unit_visible
from xueji.reporting.workflow import Event, transition
from xueji.schools.models import School
from xueji.stats import dates

UNIT = UnitReport._meta.db_table
SUBMISSION = Submission._meta.db_table
SCHOOL = School._meta.db_table


def _no_such_unit() -> NotFound:
    return NotFound("report_not_found", _("No such report."))


def _field_error(field: str, message: str, code: str = "invalid") -> FieldErrors:
    return FieldErrors({field: [ValidationError(message, code=code)]})


# ---- opening a round ---------------------------------------------------------------------------


def _checked_round(
    *,
    scope: Scope,
    census_date: datetime.date,
    tables: list[str],
    deadlines: Mapping[str, datetime.date | None],
    province_code: str | None,
) -> tuple[str, Division | None]:
    errors: dict[str, list[ValidationError]] = {}
    problem = dates.date_problem(census_date, "date")
    if problem:
        errors["census_date"] = [ValidationError(problem, code="bad_date")]
    unknown = [t for t in tables if t not in ReportTable.values]
    if not tables or unknown:
        errors["tables"] = [
            ValidationError(_("Choose at least one of the tables."), code="bad_tables")
        ]
    division: Division | None = None
    if scope.level == ScopeLevel.PROVINCE:
        province_code = scope.division_code
    if province_code:
        division = Division.objects.filter(code=province_code, level="province").first()
        if division is None:
            errors["province_code"] = [ValidationError(_("No such province."), code="bad_province")]
    top = "nation" if division is None else "province"
    wanted = ["school", "county", "city", "province"] + (["nation"] if top == "nation" else [])
    previous: datetime.date | None = None
    for level in wanted:
        day = deadlines.get(level)
        field = f"deadline_{level}"
        if day is None:
            errors[field] = [ValidationError(_("Give the deadline."), code="required")]
            continue
        if day < census_date:
            errors[field] = [
                ValidationError(
                    _("A deadline cannot be before the census date."), code="bad_deadline"
                )
            ]
        elif previous is not None and day < previous:
            errors[field] = [
                ValidationError(
                    _("A level's deadline cannot be before the deadline of the level below."),
                    code="bad_deadline",
                )
            ]
        previous = day
    if errors:
        raise FieldErrors(errors)
    return top, division


def _insert_units(report_round: ReportRound) -> None:
    """Every unit of the round, set-based: the schools open on the census date in its area,
    their counties, cities and provinces, and the nation for a national round."""
    census = report_round.census_date
    fence = "1 = 1"
    params: list[Any] = []
    if report_round.division_id:
        fence, params = "sc.province_id = %s", [report_round.division_id]
    open_schools = f"(sc.closed_on IS NULL OR sc.closed_on > %s) AND {fence}"
    school_params = [census, *params]
    columns = "round_id, level, school_id, division_id, parent_id, state, return_reason"
    rid = report_round.pk
    with connection.cursor() as cursor:
        if report_round.level == "nation":
            cursor.execute(
                f"INSERT INTO {UNIT} ({columns}) VALUES (%s, 'nation', NULL, NULL, NULL, "
                "'not_started', '')",
                [rid],
            )
            cursor.execute(
                f"INSERT INTO {UNIT} ({columns}) SELECT %s, 'province', NULL, x.d, n.id, "
                "'not_started', '' FROM (SELECT DISTINCT sc.province_id AS d FROM "
                f"{SCHOOL} sc WHERE {open_schools}) x JOIN {UNIT} n ON n.round_id = %s "
                "AND n.level = 'nation'",
                [rid, *school_params, rid],
            )
        else:
            cursor.execute(
                f"INSERT INTO {UNIT} ({columns}) VALUES (%s, 'province', NULL, %s, NULL, "
                "'not_started', '')",
                [rid, report_round.division_id],
            )
        for level, above in (("city", "province"), ("county", "city")):
            cursor.execute(
                f"INSERT INTO {UNIT} ({columns}) SELECT %s, '{level}', NULL, x.d, u.id, "
                f"'not_started', '' FROM (SELECT DISTINCT sc.{level}_id AS d, "
                f"sc.{above}_id AS up FROM {SCHOOL} sc WHERE {open_schools}) x "
                f"JOIN {UNIT} u ON u.round_id = %s AND u.level = '{above}' "
                "AND u.division_id = x.up",
                [rid, *school_params, rid],
            )
        cursor.execute(
            f"INSERT INTO {UNIT} ({columns}) SELECT %s, 'school', sc.id, NULL, u.id, "
            f"'not_started', '' FROM {SCHOOL} sc JOIN {UNIT} u ON u.round_id = %s "
            f"AND u.level = 'county' AND u.division_id = sc.county_id WHERE {open_schools}",
            [rid, rid, *school_params],
        )


def _previous_round(census: datetime.date, division: Division | None) -> ReportRound | None:
    rounds = ReportRound.objects.filter(census_date__lt=census)
    if division is not None:
        rounds = rounds.filter(Q(level="nation") | Q(division_id=division.code))
    else:
        rounds = rounds.filter(level="nation")
    return rounds.order_by("-census_date", "-id").first()


def round_open(
    *,
    actor: Any,
    title: str,
    census_date: datetime.date,
    tables: list[str],
    deadlines: Mapping[str, datetime.date | None],
    province_code: str | None = None,
    threshold_percent: int = 10,
    prefill: bool = False,
) -> ReportRound:
    """Open a round for the nation (the ministry) or a province (the ministry or the province
    itself): one report per school, county, city and province of the area (and the nation).
    With `prefill`, every school's report is prepared from the registry at once."""
    scope = require(actor, Action.REPORT_ROUND_OPEN)
    if scope.level not in (ScopeLevel.NATION, ScopeLevel.PROVINCE):
        raise Conflict("not_round_level", _("Rounds are opened by the ministry or a province."))
    if scope.level == ScopeLevel.PROVINCE and province_code not in (None, "", scope.division_code):
        raise _field_error("province_code", _("A province opens rounds for itself only."))
    top, division = _checked_round(
        scope=scope,
        census_date=census_date,
        tables=tables,
        deadlines=deadlines,
        province_code=province_code or None,
    )
    title = (title or "").strip() or _("Statistics report on %(day)s") % {
        "day": census_date.isoformat()
    }
    due = {level: day for level, day in deadlines.items() if day is not None}
    with transaction.atomic():
        report_round = ReportRound.objects.create(
            title=title[:100],
            level=top,
            division=division,
            census_date=census_date,
            tables=[t for t in ReportTable.values if t in tables],
            deadline_school=due["school"],
            deadline_county=due["county"],
            deadline_city=due["city"],
            deadline_province=due["province"],
            deadline_nation=deadlines.get("nation") if top == "nation" else None,
            threshold_percent=max(1, min(int(threshold_percent), 100)),
            previous=_previous_round(census_date, division),
            opened_by=actor,
        )
        _insert_units(report_round)
        prepared = 0
        if prefill:
            prepared = prepare_schools(report_round=report_round, actor=actor)
        audit_record(
            actor=actor,
            action="reporting.round_open",
            object_type="reporting.round",
            detail={
                "round": report_round.pk,
                "census_date": census_date.isoformat(),
                "area": division.code if division else "nation",
                "tables": report_round.tables,
                "units": report_round.units.count(),
                "prepared": prepared,
            },
        )
    return report_round


# ---- the snapshot of schools -------------------------------------------------------------------


def prepare_schools(
    *,
    report_round: ReportRound,
    actor: Any,
    unit_id: int | None = None,
    move: bool = True,
) -> int:
    """Snapshot school reports of a round from the registry, set-based: each gets a new
    submission with its cells. All schools not yet confirmed (or one, `unit_id`). With `move`
    the reports become prepared and their submission the new one; without, the submission is
    only stored (a revision's). Returns the submissions taken. In the caller's transaction."""
    batch = uuid.uuid4()
    batch_value = Submission._meta.get_field("batch").get_db_prep_value(batch, connection)
    now = timezone.now()
    only, only_params = ("AND u.id = %s", [unit_id]) if unit_id is not None else ("", [])
    states = "" if unit_id is not None else "AND u.state IN ('not_started', 'prepared', 'returned')"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {SUBMISSION} (unit_id, number, is_revision, taken_by_id, taken_at, "
            "batch, school_id) SELECT u.id, COALESCE((SELECT MAX(x.number) FROM "
            f"{SUBMISSION} x WHERE x.unit_id = u.id), 0) + 1, %s, %s, %s, %s, u.school_id "
            f"FROM {UNIT} u WHERE u.round_id = %s AND u.level = 'school' {states} {only}",
            [not move, actor.pk, now, batch_value, report_round.pk, *only_params],
        )
        taken = int(cursor.rowcount or 0)
    snapshot.insert_school_cells(
        batch=batch,
        tables=list(report_round.tables),
        census=report_round.census_date,
        period_start=period_start(report_round),
    )
    if move:
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {UNIT} SET submission_id = (SELECT sub.id FROM {SUBMISSION} sub "
                f"WHERE sub.batch = %s AND sub.unit_id = {UNIT}.id), state = 'prepared', "
                "prepared_by_id = %s, prepared_at = %s "
                f"WHERE id IN (SELECT sub.unit_id FROM {SUBMISSION} sub WHERE sub.batch = %s)",
                [batch_value, actor.pk, now, batch_value],
            )
    return taken


def _take_division(unit: UnitReport, actor: Any, *, revision: bool) -> Submission:
    number = (unit.submissions.order_by("-number").values_list("number", flat=True).first()) or 0
    submission = Submission.objects.create(
        unit=unit,
        number=number + 1,
        is_revision=revision,
        taken_by=actor,
        taken_at=timezone.now(),
    )
    snapshot.insert_division_cells(submission_id=submission.pk, parent_id=unit.pk)
    return submission


# ---- one unit ----------------------------------------------------------------------------------


def _locked(actor: Any, unit_id: int, action: str) -> tuple[Scope, UnitReport]:
    scope = require(actor, action)
    found = UnitReport.objects.filter(pk=unit_id).select_related("round", "school").first()
    if found is None or not unit_visible(scope, found):
        raise _no_such_unit()
    # A parent is locked before its unit, in every service.
    if found.parent_id is not None:
        list(UnitReport.objects.select_for_update(of=("self",)).filter(pk=found.parent_id))
    unit = (
        UnitReport.objects.select_for_update(of=("self",))
        .select_related("round", "school")
        .get(pk=unit_id)
    )
    return scope, unit


def _not_yours(unit: UnitReport) -> Conflict:
    return Conflict(
        "not_your_report",
        _("This is the report of %(unit)s: only its own staff act on it.")
        % {"unit": unit_name(unit)},
    )


def unit_prepare(*, actor: Any, unit_id: int) -> UnitReport:
    """A school's registrar (or principal) takes the school's figures from the registry on the
    census date: the report waits for the principal's confirmation."""
    with transaction.atomic():
        scope, unit = _locked(actor, unit_id, Action.REPORT_PREPARE)
        if unit.level != UnitLevel.SCHOOL or not acts_for(scope, unit):
            raise _not_yours(unit)
        transition(unit.level, unit.state, Event.PREPARE)
        prepare_schools(report_round=unit.round, actor=actor, unit_id=unit.pk)
        unit.refresh_from_db()
        audit_record(
            actor=actor,
            action="reporting.prepare",
            object_type="reporting.unit",
            detail={"unit": unit.pk, "round": unit.round_id, "submission": unit.submission_id},
        )
    return unit


def _unconfirmed_children(unit: UnitReport) -> list[UnitReport]:
    return list(
        UnitReport.objects.select_for_update(of=("self",))
        .filter(parent=unit)
        .exclude(state=UnitState.CONFIRMED)
        .select_related("school", "division")
        .order_by("division_id", "school_id")
    )


def unit_confirm(*, actor: Any, unit_id: int) -> UnitReport:
    """Confirm a report: a school's principal the school's prepared figures; a bureau approver
    the sum of its units' confirmed reports (each must be confirmed). The figures are locked."""
    with transaction.atomic():
        scope, unit = _locked(actor, unit_id, Action.REPORT_CONFIRM)
        if not acts_for(scope, unit):
            raise _not_yours(unit)
        if unit.level == UnitLevel.SCHOOL and scope.role != "principal":
            raise Conflict("principal_confirms", _("The school's principal confirms its report."))
        transition(unit.level, unit.state, Event.CONFIRM)
        if unit.level != UnitLevel.SCHOOL:
            waiting = _unconfirmed_children(unit)
            if waiting:
                names = "、".join(unit_name(u) for u in waiting[:5])
                raise Conflict(
                    "units_not_confirmed",
                    _("%(count)s reports below are not confirmed yet: %(names)s.")
                    % {"count": len(waiting), "names": names},
                    units=[u.pk for u in waiting],
                )
            unit.submission = _take_division(unit, actor, revision=False)
        unit.state = UnitState.CONFIRMED
        unit.confirmed_by = actor
        unit.confirmed_at = timezone.now()
        unit.save(update_fields=["state", "submission", "confirmed_by", "confirmed_at"])
        audit_record(
            actor=actor,
            action="reporting.confirm",
            object_type="reporting.unit",
            detail={"unit": unit.pk, "round": unit.round_id, "submission": unit.submission_id},
        )
    return unit


def unit_return(*, actor: Any, unit_id: int, reason: str) -> UnitReport:
    """The level above sends a confirmed report back with a reason, while its own report is not
    confirmed; the unit prepares (a school) or confirms (a division) it again."""
    reason = (reason or "").strip()
    with transaction.atomic():
        scope, unit = _locked(actor, unit_id, Action.REPORT_CONFIRM)
        parent = unit.parent
        if parent is None or not acts_for(scope, parent):
            raise Conflict("not_the_level_above", _("Only the level above returns a report."))
        if not reason:
            raise _field_error("reason", _("Say why the report goes back."), "required")
        if parent.state == UnitState.CONFIRMED:
            raise Conflict(
                "above_confirmed",
                _("Your own report is confirmed: a correction now needs a revision."),
            )
        unit.state = transition(unit.level, unit.state, Event.RETURN)
        unit.returned_by = actor
        unit.returned_at = timezone.now()
        unit.return_reason = reason[:1000]
        unit.save(update_fields=["state", "returned_by", "returned_at", "return_reason"])
        audit_record(
            actor=actor,
            action="reporting.return",
            object_type="reporting.unit",
            detail={"unit": unit.pk, "round": unit.round_id, "reason": unit.return_reason},
        )
    return unit


# ---- revisions ---------------------------------------------------------------------------------


def revision_request(*, actor: Any, unit_id: int, reason: str) -> Revision:
    """A correction of a confirmed report: the figures taken again (a school's from the
    registry, a division's from its units) with a reason, for the level above to approve. The
    confirmed figures stay in force until then, and are kept after."""
    reason = (reason or "").strip()
    with transaction.atomic():
        scope, unit = _locked(actor, unit_id, Action.REPORT_REVISE)
        if not acts_for(scope, unit):
            raise _not_yours(unit)
        if unit.state != UnitState.CONFIRMED or unit.submission_id is None:
            raise Conflict(
                "not_confirmed", _("Only a confirmed report is revised; this one is not.")
            )
        if unit.parent_id is None:
            raise Conflict(
                "no_level_above",
                _("The round's top report has no level above to approve a revision."),
            )
        if not reason:
            raise _field_error("reason", _("Say why the figures are corrected."), "required")
        if unit.revisions.filter(state=RevisionState.REQUESTED).exists():
            raise Conflict("revision_open", _("A revision of this report awaits approval."))
        if unit.level == UnitLevel.SCHOOL:
            prepare_schools(report_round=unit.round, actor=actor, unit_id=unit.pk, move=False)
            submission = unit.submissions.order_by("-number").first()
            assert submission is not None
        else:
            submission = _take_division(unit, actor, revision=True)
        revision = Revision.objects.create(
            unit=unit,
            submission=submission,
            previous_id=unit.submission_id,
            reason=reason[:2000],
            requested_by=actor,
        )
        audit_record(
            actor=actor,
            action="reporting.revision_request",
            object_type="reporting.unit",
            detail={"unit": unit.pk, "revision": str(revision.pk), "reason": revision.reason},
        )
    return revision


def revision_decide(*, actor: Any, unit_id: int, approve: bool, note: str = "") -> Revision:
    """The level above approves the revision awaiting it (its figures come into force; the
    confirmed ones are kept beside them) or rejects it."""
    with transaction.atomic():
        scope, unit = _locked(actor, unit_id, Action.REPORT_CONFIRM)
        if unit.parent is None or not acts_for(scope, unit.parent):
            raise Conflict("not_the_level_above", _("Only the level above decides on a revision."))
        revision = (
            Revision.objects.select_for_update(of=("self",))
            .filter(unit=unit, state=RevisionState.REQUESTED)
            .first()
        )
        if revision is None:
            raise Conflict("no_revision", _("No revision of this report awaits a decision."))
        if not approve and not (note or "").strip():
            raise _field_error("note", _("Say why the revision is rejected."), "required")
        revision.state = RevisionState.APPROVED if approve else RevisionState.REJECTED
        revision.decided_by = actor
        revision.decided_at = timezone.now()
        revision.decision_note = (note or "").strip()[:1000]
        revision.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
        if approve:
            unit.submission_id = revision.submission_id
            unit.save(update_fields=["submission"])
        audit_record(
            actor=actor,
            action="reporting.revision_decide",
            object_type="reporting.unit",
            detail={
                "unit": unit.pk,
                "revision": str(revision.pk),
                "approved": approve,
                "previous": revision.previous_id,
                "submission": revision.submission_id,
            },
        )
    return revision


__all__ = [
    "LEVELS",
    "prepare_schools",
    "revision_decide",
    "revision_request",
    "round_open",
    "unit_confirm",
    "unit_prepare",
    "unit_return",
]
