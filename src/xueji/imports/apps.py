from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "xueji.imports"
    label = "imports"

    def ready(self) -> None:
        # A registrar who leaves hands the imports still queued or running to the successor.
        from xueji.access.handover import register_open_items
        from xueji.imports.handover import OPEN_IMPORTS

        register_open_items(OPEN_IMPORTS)
