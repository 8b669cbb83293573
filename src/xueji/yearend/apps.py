from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class YearEndConfig(AppConfig):
    name = "xueji.yearend"
    label = "yearend"

    def ready(self) -> None:
        # The menu (xueji.access.menu): the year end's pages (毕业升级).
        from xueji.access.menu import MenuEntry, menu_register
        from xueji.access.policy import Action

        menu_register(
            MenuEntry(
                "year", _("School year"), "yearend:index", order=10, action=Action.YEAREND_VIEW
            ),
            MenuEntry("year", _("Intake"), "yearend:intake", order=20, action=Action.INTAKE_ADMIT),
            MenuEntry(
                "year",
                _("Graduating students"),
                "yearend:outcomes",
                order=30,
                action=Action.YEAREND_OUTCOME,
            ),
            MenuEntry(
                "year",
                _("Promotion periods"),
                "yearend:periods",
                order=50,
                action=Action.CHANGE_WINDOW_VIEW,
                also=("yearend:period_set", "yearend:period_clear"),
            ),
        )
