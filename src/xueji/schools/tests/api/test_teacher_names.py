"""The class teacher's name in the API is written as on the pages: family name first, no space
(issue 20, item 8: /api/classes/{id} gave "金凤 王")."""

import pytest

from xueji.testing.api import api_as

pytestmark = pytest.mark.django_db


def test_the_class_teacher_is_named_in_chinese_order(world):
    teacher = world.class_a.class_teacher or world.registrar_a
    teacher.first_name, teacher.last_name = "金凤", "王"
    teacher.save(update_fields=["first_name", "last_name"])
    world.class_a.class_teacher = teacher
    world.class_a.save(update_fields=["class_teacher"])
    body = api_as(world.registrar_a).get(f"/api/classes/{world.class_a.pk}").json()
    assert body["school_class"]["class_teacher"] == "王金凤"
