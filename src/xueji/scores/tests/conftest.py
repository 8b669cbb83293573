import pytest

from xueji.access.models import Role
from xueji.access.tests.fixtures import school, today  # noqa: F401
from xueji.scores.models import Subject
from xueji.scores.services import teaching_assign
from xueji.testing.factories import member


@pytest.fixture
def taught(school):  # noqa: F811
    """`school` with a subject teacher assigned mathematics in the first class."""
    teacher = member(Role.SUBJECT_TEACHER, school=school["school"])
    assignment = teaching_assign(
        actor=school["registrar"],
        school_class_id=school["mine"].pk,
        subject=Subject.MATH,
        teacher_id=teacher.pk,
    )
    return {**school, "subject_teacher": teacher, "assignment": assignment}
