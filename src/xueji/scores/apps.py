from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScoresConfig(AppConfig):
    name = "xueji.scores"
    label = "scores"

    def ready(self) -> None:
        # These modules import models, which may be imported only once the apps are loaded.
        from xueji.access.policy import Limit
        from xueji.access.scope import register_class_limit
        from xueji.scores.limits import ASSIGNED_CLASSES

        register_class_limit(Limit.ASSIGNED_CLASSES, ASSIGNED_CLASSES)

        # The menu (xueji.access.menu): entering scores and who teaches what (成绩).
        from xueji.access.menu import MenuEntry, menu_register
        from xueji.access.policy import Action

        menu_register(
            MenuEntry(
                "scores", _("Score entry"), "scores:home", order=10, action=Action.SCORE_ENTER
            ),
            MenuEntry(
                "scores",
                _("Teaching"),
                "scores:teaching",
                order=20,
                action=Action.TEACHING_MANAGE,
            ),
        )
