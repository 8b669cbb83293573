from django.apps import AppConfig


class SchoolsConfig(AppConfig):
    name = "xueji.schools"
    label = "schools"
