from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchoolsConfig(AppConfig):
    name = "xueji.schools"
    label = "schools"

    def ready(self) -> None:
        # The menu (xueji.access.menu): the registrar's classes of the year (学籍), and the
        # registry of schools for those who keep it (管理).
        from xueji.access.menu import MenuEntry, menu_register
        from xueji.access.policy import Action

        menu_register(
            MenuEntry(
                "records",
                _("Classes of the school year"),
                "schools:classes",
                order=30,
                action=Action.CLASS_MANAGE,
            ),
            MenuEntry(
                "administration",
                _("Schools"),
                "schools:registry",
                order=10,
                action=Action.SCHOOL_MANAGE,
                element_id="schools-nav",
            ),
        )
