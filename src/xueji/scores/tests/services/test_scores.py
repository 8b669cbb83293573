"""Teaching assignments by the registrar; scores by the assigned teacher, for the class's
current students only."""

from decimal import Decimal

import pytest

from xueji.access.models import Role
from xueji.access.scope import PermissionRefused
from xueji.audit.models import AuditEntry
from xueji.core.errors import Conflict, FieldErrors, NotFound
from xueji.schools.models import Term
from xueji.scores.models import Score, Subject, TeachingAssignment
from xueji.scores.selectors import my_assignments, score_sheet
from xueji.scores.services import scores_enter, teaching_assign, teaching_unassign
from xueji.students.selectors import student_get, students_in_scope
from xueji.testing.factories import SchoolFactory, member

pytestmark = pytest.mark.django_db


def term1():
    return Term.objects.get(academic_year__start_year=2026, number=1)


def test_the_registrar_assigns_subject_teachers_of_the_school_only(taught):
    assert list(my_assignments(taught["subject_teacher"])) == [taught["assignment"]]
    with pytest.raises(Conflict):
        teaching_assign(
            actor=taught["registrar"],
            school_class_id=taught["mine"].pk,
            subject=Subject.MATH,
            teacher_id=taught["subject_teacher"].pk,
        )
    stranger = member(Role.SUBJECT_TEACHER, school=SchoolFactory())
    with pytest.raises(FieldErrors):
        teaching_assign(
            actor=taught["registrar"],
            school_class_id=taught["mine"].pk,
            subject=Subject.CHINESE,
            teacher_id=stranger.pk,
        )
    with pytest.raises(PermissionRefused):
        teaching_assign(
            actor=taught["principal"],
            school_class_id=taught["mine"].pk,
            subject=Subject.CHINESE,
            teacher_id=taught["subject_teacher"].pk,
        )
    other_registrar = member(Role.REGISTRAR, school=SchoolFactory())
    with pytest.raises(NotFound):
        teaching_assign(
            actor=other_registrar,
            school_class_id=taught["mine"].pk,
            subject=Subject.CHINESE,
            teacher_id=taught["subject_teacher"].pk,
        )


def test_scores_are_entered_changed_and_removed_with_before_and_after(taught):
    pupil = str(taught["pupil"].pk)
    teacher, assignment = taught["subject_teacher"], taught["assignment"]
    scores_enter(
        actor=teacher, assignment_id=assignment.pk, term_id=term1().pk, scores={pupil: "95.5"}
    )
    assert Score.objects.get().score == Decimal("95.5")
    scores_enter(
        actor=teacher, assignment_id=assignment.pk, term_id=term1().pk, scores={pupil: "97"}
    )
    entry = AuditEntry.objects.filter(action="score.enter").latest("id")
    assert (entry.before, entry.after) == ({pupil: "95.5"}, {pupil: "97"})
    scores_enter(actor=teacher, assignment_id=assignment.pk, term_id=term1().pk, scores={pupil: ""})
    assert not Score.objects.exists()


@pytest.mark.parametrize("value", ["150.5", "-1", "abc", "88.25", "NaN", "Infinity"])
def test_a_score_out_of_range_or_not_a_number_is_refused(taught, value):
    pupil = str(taught["pupil"].pk)
    with pytest.raises(FieldErrors) as refused:
        scores_enter(
            actor=taught["subject_teacher"],
            assignment_id=taught["assignment"].pk,
            term_id=term1().pk,
            scores={pupil: value},
        )
    assert pupil in refused.value.errors
    assert not Score.objects.exists()


def test_a_score_for_a_student_of_another_class_is_refused(taught):
    with pytest.raises(FieldErrors):
        scores_enter(
            actor=taught["subject_teacher"],
            assignment_id=taught["assignment"].pk,
            term_id=term1().pk,
            scores={str(taught["other"].pk): "90"},
        )


def test_only_the_assigned_teacher_enters_scores(taught):
    colleague = member(Role.SUBJECT_TEACHER, school=taught["school"])
    with pytest.raises(NotFound):
        scores_enter(
            actor=colleague,
            assignment_id=taught["assignment"].pk,
            term_id=term1().pk,
            scores={},
        )
    for user in (taught["registrar"], taught["teacher"], taught["principal"]):
        with pytest.raises(PermissionRefused):
            scores_enter(
                actor=user, assignment_id=taught["assignment"].pk, term_id=term1().pk, scores={}
            )


def test_a_subject_teacher_sees_names_of_the_assigned_class_and_nothing_else(taught):
    teacher = taught["subject_teacher"]
    sheet = score_sheet(teacher, taught["assignment"].pk)
    assert [row.name for row in sheet.rows] == ["张春铭"]
    assert sheet.term == term1()
    assert students_in_scope(teacher).count() == 0
    assert student_get(teacher, taught["pupil"].pk) is None


def test_an_ended_assignment_ends_access_and_keeps_the_scores(taught):
    pupil = str(taught["pupil"].pk)
    scores_enter(
        actor=taught["subject_teacher"],
        assignment_id=taught["assignment"].pk,
        term_id=term1().pk,
        scores={pupil: "80"},
    )
    teaching_unassign(actor=taught["registrar"], assignment_id=taught["assignment"].pk)
    assert not TeachingAssignment.objects.exists()
    assert Score.objects.count() == 1
    assert score_sheet(taught["subject_teacher"], taught["assignment"].pk) is None
