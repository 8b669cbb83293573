from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "xueji.imports"
    label = "imports"
