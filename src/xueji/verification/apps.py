from django.apps import AppConfig


class VerificationConfig(AppConfig):
    name = "xueji.verification"
    label = "verification"
