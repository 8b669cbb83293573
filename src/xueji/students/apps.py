from django.apps import AppConfig


class StudentsConfig(AppConfig):
    name = "xueji.students"
    label = "students"
