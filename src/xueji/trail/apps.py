from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrailConfig(AppConfig):
    """The auditors' pages and API over the audit trail (xueji.audit writes it)."""

    name = "xueji.trail"
    label = "trail"

    def ready(self) -> None:
        # The menu (xueji.access.menu): the audit trail, the auditor's (审计).
        from xueji.access.menu import MenuEntry, menu_register
        from xueji.access.policy import Action

        menu_register(
            MenuEntry("audit", _("Audit trail"), "audit:search", order=10, action=Action.AUDIT_VIEW)
        )
