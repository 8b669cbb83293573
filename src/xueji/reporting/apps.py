from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportingConfig(AppConfig):
    name = "xueji.reporting"
    label = "reporting"

    def ready(self) -> None:
        # The menu (xueji.access.menu): the term's statistics report (事业统计上报).
        from xueji.access.menu import MenuEntry, menu_register
        from xueji.access.policy import Action

        menu_register(
            MenuEntry(
                "statistics",
                _("Statistics reports"),
                "reporting:index",
                order=80,
                action=Action.REPORT_VIEW,
                also=(
                    "reporting:open",
                    "reporting:unit",
                    "reporting:checks",
                    "reporting:cell",
                    "reporting:export",
                ),
            ),
        )
