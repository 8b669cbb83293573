from django.apps import AppConfig


class StatsConfig(AppConfig):
    name = "xueji.stats"
    label = "stats"

    def ready(self) -> None:
        # The menu (xueji.access.menu): each statistics page the role may open (统计), in the
        # order of its tabs.
        from django.utils.functional import lazy

        from xueji.access.menu import MenuEntry, menu_register
        from xueji.stats.registry import STATISTICS

        menu_register(
            *(
                MenuEntry(
                    "statistics",
                    lazy(statistic.tab, str)(),
                    f"stats:{statistic.name}",
                    order=number * 10,
                    action=statistic.action,
                )
                for number, statistic in enumerate(STATISTICS.values(), start=1)
            )
        )
