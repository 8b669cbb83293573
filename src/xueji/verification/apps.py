from django.apps import AppConfig


class VerificationConfig(AppConfig):
    name = "xueji.verification"
    label = "verification"

    def ready(self) -> None:
        # These modules import models, which may be imported only once the apps are loaded.
        from xueji.access.policy import Limit
        from xueji.access.scope import register_class_limit
        from xueji.verification.limits import OWN_CLASSES_IN_WINDOW

        register_class_limit(Limit.OWN_CLASSES_IN_WINDOW, OWN_CLASSES_IN_WINDOW)
