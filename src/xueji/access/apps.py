from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from xueji.audit.actors import register_acting_as


class AccessConfig(AppConfig):
    name = "xueji.access"
    label = "access"

    def ready(self) -> None:
        # scope imports the models, which may be imported only once the apps are loaded.
        from xueji.access.scope import acting_as

        # Audit entries keep the actor's role and place as access knows them.
        register_acting_as(acting_as)

        from django.core import checks

        from xueji.access.checks import check_separation_of_duties

        checks.register(check_separation_of_duties)

        # The menu (xueji.access.menu): what the user's role may do (我的).
        from xueji.access.menu import MenuEntry, menu_register

        menu_register(MenuEntry("account", _("My permissions"), "access:my_role", order=10))
