from django.apps import AppConfig


class ArchiveConfig(AppConfig):
    name = "xueji.archive"
    label = "archive"
