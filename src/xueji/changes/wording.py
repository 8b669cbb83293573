"""What a change of status does to the child's record, in one sentence for the person about to
approve it ("张*铭 will leave 第一小学 for 第二小学 on approval"): the final approval's confirmation
says it before the placement moves or the record's state changes."""

from __future__ import annotations

from typing import Any

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from xueji.changes.kinds import Chain, Effect, spec_of
from xueji.changes.models import ChangeKind, ChangeRequest
from xueji.students.models import RecordState
from xueji.students.templatetags.student_tags import grade_label


def _day(value: Any) -> str:
    return str(date_format(value, "SHORT_DATE_FORMAT"))


def _class(school_class: Any) -> str:
    return f"{grade_label(school_class.grade)} {school_class.name}"


def effect_on_approval(change: ChangeRequest, name: str) -> str:
    """The effect of approving `change` now, naming the child as `name` (full or masked)."""
    spec = spec_of(change.kind)
    school = change.from_school.name
    if spec.effect == Effect.MOVES and spec.chain == Chain.TRANSFER:
        assert change.to_school is not None and change.to_class is not None
        return _(
            "%(name)s will leave %(from)s for %(to)s (%(class)s) on approval: the record moves "
            "with the child."
        ) % {
            "name": name,
            "from": school,
            "to": change.to_school.name,
            "class": _class(change.to_class),
        }
    if spec.effect == Effect.MOVES:
        assert change.to_class is not None
        return _("%(name)s will move to %(class)s on approval.") % {
            "name": name,
            "class": _class(change.to_class),
        }
    if change.kind == ChangeKind.SUSPEND:
        first = change.suspended_from or change.filed_on
        if change.suspended_until:
            return _(
                "%(name)s will be suspended (休学) from %(first)s to %(last)s on approval, and "
                "stays on the roll of %(school)s."
            ) % {
                "name": name,
                "first": _day(first),
                "last": _day(change.suspended_until),
                "school": school,
            }
        return _(
            "%(name)s will be suspended (休学) from %(first)s until resumed on approval, and "
            "stays on the roll of %(school)s."
        ) % {"name": name, "first": _day(first), "school": school}
    if change.kind == ChangeKind.RESUME:
        return _("%(name)s will be back in school (在籍) at %(school)s on approval.") % {
            "name": name,
            "school": school,
        }
    if spec.effect == Effect.CLOSES:
        assert spec.result is not None
        return _(
            "%(name)s will leave the roll of %(school)s on approval: the record becomes "
            "“%(state)s”."
        ) % {"name": name, "school": school, "state": RecordState(spec.result).label}
    if change.kind == ChangeKind.REPEAT:
        return _(
            "%(name)s will repeat %(grade)s on approval: the next promotion keeps the child in "
            "the same grade."
        ) % {"name": name, "grade": grade_label(change.from_grade)}
    return _(
        "%(name)s will skip a grade on approval: the next promotion moves the child up two "
        "grades, from %(grade)s."
    ) % {"name": name, "grade": grade_label(change.from_grade)}
