from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "xueji.core"
    label = "core"
