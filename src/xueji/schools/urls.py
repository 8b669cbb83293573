from django.urls import path

from xueji.schools.views import classes

app_name = "schools"
urlpatterns: list = [
    # The registrar's set-up of a school year (views/classes.py).
    path("classes/setup/", classes.classes, name="classes"),
    path("classes/setup/add/", classes.class_add, name="class_add"),
    path("classes/setup/copy/", classes.copy_up, name="classes_copy"),
    path("classes/<int:class_id>/class-teacher/", classes.class_teacher, name="class_teacher"),
    path("classes/<int:class_id>/remove/", classes.class_delete, name="class_remove"),
]
