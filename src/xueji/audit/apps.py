from django.apps import AppConfig
from django.core import checks


class AuditConfig(AppConfig):
    name = "xueji.audit"
    label = "audit"

    def ready(self) -> None:
        from xueji.audit.checks import check_retention

        checks.register(check_retention)
