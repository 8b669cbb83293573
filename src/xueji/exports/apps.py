from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "xueji.exports"
    label = "exports"
