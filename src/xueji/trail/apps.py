from django.apps import AppConfig


class TrailConfig(AppConfig):
    """The auditors' pages and API over the audit trail (xueji.audit writes it)."""

    name = "xueji.trail"
    label = "trail"
