from django.apps import AppConfig


class ScoresConfig(AppConfig):
    name = "xueji.scores"
    label = "scores"

    def ready(self) -> None:
        # These modules import models, which may be imported only once the apps are loaded.
        from xueji.access.policy import Limit
        from xueji.access.scope import register_class_limit
        from xueji.scores.limits import ASSIGNED_CLASSES

        register_class_limit(Limit.ASSIGNED_CLASSES, ASSIGNED_CLASSES)
