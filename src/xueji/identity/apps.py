from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "xueji.identity"
    label = "identity"
