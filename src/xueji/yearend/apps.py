from django.apps import AppConfig


class YearEndConfig(AppConfig):
    name = "xueji.yearend"
    label = "yearend"
