from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "xueji.core"
    label = "core"

    def ready(self) -> None:
        from xueji.core import checks  # noqa: F401  (registers the system checks)
