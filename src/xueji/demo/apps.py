from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "xueji.demo"
    label = "demo"
