from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "xueji.reporting"
    label = "reporting"
