from django.apps import AppConfig


class CorrectionsConfig(AppConfig):
    name = "xueji.corrections"
    label = "corrections"
