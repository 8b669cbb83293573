"""Writes of the growth record (成长记录): the class teacher's term comment and 综合素质评价 and the
factual records (写实记录) entered on behalf of pupils and parents; the registrar's awards and
sanctions (奖惩), health check-ups and vaccinations. Every write is audited; nothing is deleted
(a sanction is lifted, a factual record withdrawn)."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.access.policy import Action
from xueji.access.scope import require
from xueji.archive.access import archive_students
from xueji.archive.models import (
    LAST_COMPULSORY_GRADE,
    Conduct,
    ConductKind,
    Dimension,
    FactualRecord,
    HealthCheck,
    Level,
    RecordSource,
    SanctionLevel,
    TermReport,
    Vaccination,
)
from xueji.audit.services import audit_record
from xueji.core.errors import Conflict, FieldErrors, NotFound
from xueji.schools.models import Term
from xueji.students.models import Placement, Student

DEFAULT_NOTICE_DAYS = 5


def notice_days() -> int:
    return int(getattr(settings, "XUEJI_FACTUAL_RECORD_NOTICE_DAYS", DEFAULT_NOTICE_DAYS))


def _student(scope: Any, action: str, student_id: Any) -> tuple[Student, Placement]:
    """A child the scope may write for, with its current placement (404 otherwise)."""
    student = (
        Student.objects.select_for_update()
        .filter(
            pk__in=Student.objects.filter(archive_students(scope, action), pk=student_id).values(
                "pk"
            )
        )
        .first()
    )
    placement = (
        None
        if student is None
        else Placement.objects.filter(student=student, end_date__isnull=True)
        .select_related("school_class")
        .first()
    )
    if student is None or placement is None:
        raise NotFound("student_not_found", _("No such student in your care."))
    return student, placement


class _Errors:
    def __init__(self) -> None:
        self.errors: dict[str, list[ValidationError]] = {}

    def add(self, field: str, message: Any, code: str) -> None:
        self.errors.setdefault(field, []).append(ValidationError(message, code=code))

    def text(self, data: dict[str, Any], field: str, limit: int, *, required: bool = True) -> str:
        value = str(data.get(field) or "").strip()
        if required and not value:
            self.add(field, _("This field is required."), "required")
        elif len(value) > limit:
            self.add(
                field,
                _("At most %(limit)d characters.") % {"limit": limit},
                "max_length",
            )
        return value

    def date(self, data: dict[str, Any], field: str) -> datetime.date | None:
        value = data.get(field)
        if isinstance(value, datetime.date):
            return value
        try:
            parsed = datetime.date.fromisoformat(str(value or "").strip())
        except ValueError:
            self.add(field, _("Enter a date (YYYY-MM-DD)."), "invalid_date")
            return None
        if parsed > timezone.localdate():
            self.add(field, _("A date in the future is not allowed."), "future_date")
        return parsed

    def choice(self, data: dict[str, Any], field: str, choices: list[str]) -> str:
        value = str(data.get(field) or "").strip()
        if value not in choices:
            self.add(field, _("Choose a value of the list."), "invalid_choice")
        return value

    def decimal(
        self, data: dict[str, Any], field: str, low: str, high: str, *, required: bool = True
    ) -> Decimal | None:
        text = str(data.get(field) or "").strip()
        if not text:
            if required:
                self.add(field, _("This field is required."), "required")
            return None
        try:
            value = Decimal(text)
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite() or not Decimal(low) <= value <= Decimal(high):
            self.add(
                field,
                _("A number from %(low)s to %(high)s.") % {"low": low, "high": high},
                "invalid_number",
            )
            return None
        return value.quantize(Decimal("0.1"))

    def raise_if_any(self) -> None:
        if self.errors:
            raise FieldErrors(self.errors)


def _term(term_id: Any, errors: _Errors) -> Term | None:
    term = Term.objects.filter(pk=term_id).first() if str(term_id or "").isdigit() else None
    if term is None:
        errors.add("term", _("Choose a term."), "invalid_term")
    return term


def term_report_save(*, actor: Any, student_id: Any, data: dict[str, Any]) -> TermReport:
    """The class teacher writes the term's comment and the five levels of 综合素质评价."""
    scope = require(actor, Action.GROWTH_WRITE)
    with transaction.atomic():
        student, placement = _student(scope, Action.GROWTH_WRITE, student_id)
        errors = _Errors()
        term = _term(data.get("term"), errors)
        comment = errors.text(data, "comment", 500, required=False)
        levels = {}
        for dimension in Dimension.values:
            value = str(data.get(dimension) or "").strip()
            if value and value not in Level.values:
                errors.add(dimension, _("Choose a level of the list."), "invalid_choice")
            levels[dimension] = value
        errors.raise_if_any()
        assert term is not None
        report, created = TermReport.objects.select_for_update().get_or_create(
            student=student,
            term=term,
            defaults={
                "school_id": placement.school_id,
                "school_class": placement.school_class,
                "comment": comment,
                "written_by": actor,
                **levels,
            },
        )
        before = None
        if not created:
            if report.school_id != placement.school_id:
                raise Conflict(
                    "written_elsewhere",
                    _("Another school wrote this term's report; it is kept as written."),
                )
            before = {"comment": report.comment, **{d: getattr(report, d) for d in levels}}
            report.comment = comment
            for name, value in levels.items():
                setattr(report, name, value)
            report.written_by = actor
            report.save()
        audit_record(
            actor=actor,
            action="growth.term_report",
            object_type="student",
            object_id=student.pk,
            detail={"term": term.pk},
            before=before,
            after={"comment": comment, **levels},
        )
    return report


def factual_record_add(*, actor: Any, student_id: Any, data: dict[str, Any]) -> FactualRecord:
    """The class teacher enters a factual record brought by the pupil or a parent; it is noticed
    to the class for XUEJI_FACTUAL_RECORD_NOTICE_DAYS days before it counts."""
    scope = require(actor, Action.GROWTH_WRITE)
    with transaction.atomic():
        student, placement = _student(scope, Action.GROWTH_WRITE, student_id)
        errors = _Errors()
        term = _term(data.get("term"), errors)
        dimension = errors.choice(data, "dimension", Dimension.values)
        title = errors.text(data, "title", 100)
        description = errors.text(data, "description", 500, required=False)
        occurred_on = errors.date(data, "occurred_on")
        source = errors.choice(data, "source", RecordSource.values)
        errors.raise_if_any()
        assert term is not None and occurred_on is not None
        record = FactualRecord.objects.create(
            student=student,
            term=term,
            school_id=placement.school_id,
            school_class=placement.school_class,
            dimension=dimension,
            title=title,
            description=description,
            occurred_on=occurred_on,
            source=source,
            entered_by=actor,
            notice_until=timezone.localdate() + datetime.timedelta(days=notice_days()),
        )
        audit_record(
            actor=actor,
            action="growth.factual_record",
            object_type="student",
            object_id=student.pk,
            after={"record": str(record.pk), "dimension": dimension, "title": title},
        )
    return record


def counts(record: FactualRecord, today: datetime.date | None = None) -> bool:
    """A factual record counts once its notice period is over (and it was not withdrawn)."""
    return record.withdrawn_at is None and record.notice_until < (today or timezone.localdate())


def conduct_add(*, actor: Any, student_id: Any, data: dict[str, Any]) -> Conduct:
    """The registrar enters an award or a sanction with its date, issuer and evidence.
    Expulsion (开除) does not exist in compulsory education."""
    scope = require(actor, Action.CONDUCT_RECORD)
    with transaction.atomic():
        student, placement = _student(scope, Action.CONDUCT_RECORD, student_id)
        errors = _Errors()
        kind = errors.choice(data, "kind", ConductKind.values)
        level = str(data.get("level") or "").strip()
        if kind == ConductKind.SANCTION:
            level = errors.choice(data, "level", SanctionLevel.values)
            if level == SanctionLevel.EXPULSION and placement.grade <= LAST_COMPULSORY_GRADE:
                errors.add(
                    "level",
                    _("Expulsion (开除) does not exist in compulsory education."),
                    "no_expulsion_in_compulsory_education",
                )
        elif level:
            errors.add("level", _("An award has no sanction level."), "invalid_choice")
        title = errors.text(data, "title", 100)
        decided_on = errors.date(data, "decided_on")
        issuer = errors.text(data, "issuer", 100)
        evidence = errors.text(data, "evidence", 200)
        errors.raise_if_any()
        assert decided_on is not None
        conduct = Conduct.objects.create(
            student=student,
            school_id=placement.school_id,
            grade=placement.grade,
            kind=kind,
            level=level,
            title=title,
            decided_on=decided_on,
            issuer=issuer,
            evidence=evidence,
            entered_by=actor,
        )
        audit_record(
            actor=actor,
            action="growth.conduct",
            object_type="student",
            object_id=student.pk,
            after={
                "conduct": str(conduct.pk),
                "kind": kind,
                "level": level,
                "title": title,
                "decided_on": decided_on.isoformat(),
                "issuer": issuer,
                "evidence": evidence,
            },
        )
    return conduct


def conduct_lift(*, actor: Any, conduct_id: Any, reason: str) -> Conduct:
    """The registrar of the school that decided a sanction lifts it (解除)."""
    scope = require(actor, Action.CONDUCT_RECORD)
    reason = (reason or "").strip()
    with transaction.atomic():
        conduct = (
            Conduct.objects.select_for_update()
            .filter(pk=conduct_id, school_id=scope.school_id)
            .first()
            if scope.is_school and scope.school_id is not None
            else None
        )
        if conduct is None:
            raise NotFound("conduct_not_found", _("No such record of your school."))
        if not reason:
            raise FieldErrors({"reason": [ValidationError(_("Give the reason."), code="required")]})
        if conduct.kind != ConductKind.SANCTION or conduct.lifted_on is not None:
            raise Conflict("not_liftable", _("Only a sanction in force can be lifted."))
        conduct.lifted_on = timezone.localdate()
        conduct.lifted_by = actor
        conduct.lift_reason = reason[:200]
        conduct.save(update_fields=["lifted_on", "lifted_by", "lift_reason"])
        audit_record(
            actor=actor,
            action="growth.conduct_lift",
            object_type="student",
            object_id=conduct.student_id,
            detail={"conduct": str(conduct.pk), "reason": conduct.lift_reason},
        )
    return conduct


def health_check_add(*, actor: Any, student_id: Any, data: dict[str, Any]) -> HealthCheck:
    scope = require(actor, Action.HEALTH_RECORD)
    with transaction.atomic():
        student, placement = _student(scope, Action.HEALTH_RECORD, student_id)
        errors = _Errors()
        checked_on = errors.date(data, "checked_on")
        height = errors.decimal(data, "height_cm", "30.1", "249.9")
        weight = errors.decimal(data, "weight_kg", "5.1", "249.9")
        left = errors.decimal(data, "vision_left", "3.0", "5.3", required=False)
        right = errors.decimal(data, "vision_right", "3.0", "5.3", required=False)
        notes = errors.text(data, "notes", 200, required=False)
        errors.raise_if_any()
        assert checked_on is not None and height is not None and weight is not None
        check = HealthCheck.objects.create(
            student=student,
            school_id=placement.school_id,
            checked_on=checked_on,
            height_cm=height,
            weight_kg=weight,
            vision_left=left,
            vision_right=right,
            notes=notes,
            entered_by=actor,
        )
        audit_record(
            actor=actor,
            action="growth.health_check",
            object_type="student",
            object_id=student.pk,
            after={"check": str(check.pk), "checked_on": str(checked_on)},
        )
    return check


def vaccination_add(*, actor: Any, student_id: Any, data: dict[str, Any]) -> Vaccination:
    scope = require(actor, Action.HEALTH_RECORD)
    with transaction.atomic():
        student, placement = _student(scope, Action.HEALTH_RECORD, student_id)
        errors = _Errors()
        vaccine = errors.text(data, "vaccine", 64)
        dose_text = str(data.get("dose") or "").strip()
        if not dose_text.isdigit() or not 1 <= int(dose_text) <= 9:
            errors.add("dose", _("A dose is a number from 1 to 9."), "invalid_number")
        given_on = errors.date(data, "given_on")
        errors.raise_if_any()
        assert given_on is not None
        try:
            with transaction.atomic():
                dose = Vaccination.objects.create(
                    student=student,
                    school_id=placement.school_id,
                    vaccine=vaccine,
                    dose=int(dose_text),
                    given_on=given_on,
                    entered_by=actor,
                )
        except IntegrityError:
            raise Conflict("dose_recorded", _("This dose is already recorded.")) from None
        audit_record(
            actor=actor,
            action="growth.vaccination",
            object_type="student",
            object_id=student.pk,
            after={"vaccine": vaccine, "dose": int(dose_text), "given_on": str(given_on)},
        )
    return dose
