from django.apps import AppConfig


class StatsConfig(AppConfig):
    name = "xueji.stats"
    label = "stats"
