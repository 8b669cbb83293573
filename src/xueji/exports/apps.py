from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExportsConfig(AppConfig):
    name = "xueji.exports"
    label = "exports"

    def ready(self) -> None:
        # A job's criteria are sealed: `xueji rotate_keys` moves them with the registry's other
        # sealed values (imported here: models load only once the apps are).
        from xueji.exports.models import ExportJob
        from xueji.exports.services import CRITERIA_CONTEXT
        from xueji.students.sealing import SealedColumn, sealed_column_register

        sealed_column_register(SealedColumn(ExportJob, "criteria_sealed", CRITERIA_CONTEXT))

        # The menu (xueji.access.menu): the user's background exports (导入导出).
        from xueji.access.menu import MenuEntry, menu_register
        from xueji.access.policy import Action

        menu_register(
            MenuEntry("data", _("Your exports"), "exports:jobs", order=20, action=Action.EXPORT)
        )
