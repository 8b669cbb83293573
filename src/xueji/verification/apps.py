from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VerificationConfig(AppConfig):
    name = "xueji.verification"
    label = "verification"

    def ready(self) -> None:
        # These modules import models, which may be imported only once the apps are loaded.
        from xueji.access.policy import Limit
        from xueji.access.scope import register_class_limit
        from xueji.verification.limits import OWN_CLASSES_IN_WINDOW

        register_class_limit(Limit.OWN_CLASSES_IN_WINDOW, OWN_CLASSES_IN_WINDOW)

        # The menu (xueji.access.menu): a class teacher's classes, the guardians' check sheets
        # and the bureau's windows (核查).
        from xueji.access.menu import MenuEntry, menu_register
        from xueji.access.policy import Action

        menu_register(
            MenuEntry(
                "checks",
                _("My classes"),
                "verification:my_classes",
                order=10,
                action=Action.CLASS_VERIFY,
            ),
            MenuEntry(
                "checks",
                _("Record check sheets for guardians"),
                "verification:guardian_classes",
                order=15,
                action=Action.GUARDIAN_CHECK,
                also=("verification:guardian_sheets", "verification:guardian_check"),
            ),
            MenuEntry(
                "checks",
                _("Verification windows"),
                "verification:windows",
                order=30,
                action=Action.WINDOW_VIEW,
            ),
        )
