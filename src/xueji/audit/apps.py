from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "xueji.audit"
    label = "audit"
