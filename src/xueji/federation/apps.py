from django.apps import AppConfig


class FederationConfig(AppConfig):
    name = "xueji.federation"
    label = "federation"
