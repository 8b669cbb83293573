from django.apps import AppConfig


class ScoresConfig(AppConfig):
    name = "xueji.scores"
    label = "scores"
