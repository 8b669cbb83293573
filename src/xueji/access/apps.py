from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "xueji.access"
    label = "access"
