from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "xueji.accounts"
    label = "accounts"

    def ready(self) -> None:
        from django.core import checks

        from xueji.accounts import signals  # noqa: F401  (connects the receivers)
        from xueji.accounts.checks import check_account_security

        checks.register(check_account_security, checks.Tags.security, deploy=True)
