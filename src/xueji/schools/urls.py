from django.urls import path

from xueji.schools.views import classes, registry

app_name = "schools"
urlpatterns: list = [
    # The registry of schools (views/registry.py).
    path("schools/", registry.registry_list, name="registry"),
    path("schools/new/", registry.registry_new, name="new"),
    path("schools/<int:school_id>/", registry.registry_detail, name="detail"),
    path("schools/<int:school_id>/edit/", registry.registry_edit, name="edit"),
    path("schools/<int:school_id>/close/", registry.registry_close, name="close"),
    path("schools/<int:school_id>/merge/", registry.registry_merge, name="merge"),
    # The registrar's set-up of a school year (views/classes.py).
    path("classes/setup/", classes.classes, name="classes"),
    path("classes/setup/add/", classes.class_add, name="class_add"),
    path("classes/setup/copy/", classes.copy_up, name="classes_copy"),
    path("classes/<int:class_id>/class-teacher/", classes.class_teacher, name="class_teacher"),
    path("classes/<int:class_id>/remove/", classes.class_delete, name="class_remove"),
]
