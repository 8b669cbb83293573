from django.apps import AppConfig
from django.core import checks
from django.db.models.signals import post_migrate

from xueji.audit.context import note_refusal
from xueji.core.errors import listen_for_refusals


class AuditConfig(AppConfig):
    name = "xueji.audit"
    label = "audit"

    def ready(self) -> None:
        # The check reads the audit services, which import the models: only once apps are ready.
        from xueji.audit.checks import check_database_role, check_retention
        from xueji.audit.roles import grant_after_migrate

        checks.register(check_retention)
        checks.register(check_database_role, checks.Tags.database, deploy=True)
        post_migrate.connect(grant_after_migrate, sender=self)
        # Every 403/404 refusal a service raises is noted for the request's audit entry.
        listen_for_refusals(note_refusal)
