from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    name = "xueji.imports"
    label = "imports"

    def ready(self) -> None:
        # A registrar who leaves hands the imports still queued or running to the successor.
        from xueji.access.handover import register_open_items
        from xueji.imports.handover import OPEN_IMPORTS

        register_open_items(OPEN_IMPORTS)

        # The menu (xueji.access.menu): the spreadsheet imports (导入导出).
        from xueji.access.menu import MenuEntry, menu_register
        from xueji.access.policy import Action

        menu_register(
            MenuEntry("data", _("Imports"), "imports:index", order=10, action=Action.IMPORT_VIEW)
        )
