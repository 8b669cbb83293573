from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WelfareConfig(AppConfig):
    name = "xueji.welfare"
    label = "welfare"

    def ready(self) -> None:
        # The sealed account numbers move with the registry's own at a change of keys.
        from xueji.students.sealing import SealedColumn, sealed_column_register
        from xueji.welfare.aid import ACCOUNT, account_index_of
        from xueji.welfare.models import AidApplication, AidPayment

        sealed_column_register(
            SealedColumn(
                AidApplication, "account_sealed", ACCOUNT, "account_index", account_index_of
            )
        )
        sealed_column_register(SealedColumn(AidPayment, "account_sealed", ACCOUNT))

        # The menu (xueji.access.menu): money that follows the record (经费与资助).
        from xueji.access.menu import MenuEntry, menu_register
        from xueji.access.policy import Action

        views = "welfare:"
        menu_register(
            MenuEntry(
                "money", _("Funding"), views + "funding", order=10, action=Action.WELFARE_VIEW,
                also=(views + "flows", views + "rates", views + "rate_new", views + "census"),
            ),
            MenuEntry(
                "money", _("Student aid"), views + "aid", order=20, action=Action.WELFARE_VIEW,
                also=(views + "programme_new", views + "need_new", views + "apply",
                      views + "application_decide", views + "notice"),
            ),
            MenuEntry(
                "money", _("Aid payments"), views + "payments", order=30,
                action=Action.WELFARE_COUNTY, also=(views + "entitled", views + "finance"),
            ),
            MenuEntry(
                "money", _("Nutrition meals"), views + "meals", order=40,
                action=Action.WELFARE_VIEW,
                also=(views + "meal_record", views + "meal_settings", views + "meal_week",
                      views + "meal_claim", views + "meal_lookup"),
            ),
            MenuEntry(
                "money", _("Consistency checks"), views + "checks", order=50,
                action=Action.WELFARE_VIEW, also=(views + "finding",),
            ),
        )  # fmt: skip
