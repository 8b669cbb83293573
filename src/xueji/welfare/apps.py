from django.apps import AppConfig


class WelfareConfig(AppConfig):
    name = "xueji.welfare"
    label = "welfare"
