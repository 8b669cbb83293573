from django.apps import AppConfig
from django.core import checks

from xueji.audit.context import note_refusal
from xueji.core.errors import listen_for_refusals


class AuditConfig(AppConfig):
    name = "xueji.audit"
    label = "audit"

    def ready(self) -> None:
        # The check reads the audit services, which import the models: only once apps are ready.
        from xueji.audit.checks import check_retention

        checks.register(check_retention)
        # Every 403/404 refusal a service raises is noted for the request's audit entry.
        listen_for_refusals(note_refusal)
