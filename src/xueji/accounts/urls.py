from django.urls import include, path

from xueji.accounts import views
from xueji.accounts.second_factor import views as second_factor

app_name = "accounts"
urlpatterns = [
    path("account/second-factor/", second_factor.second_factor, name="second_factor"),
    path(
        "account/second-factor/setup/",
        second_factor.second_factor_setup,
        name="second_factor_setup",
    ),
    path(
        "account/second-factor/recovery/",
        second_factor.second_factor_recovery,
        name="second_factor_recovery",
    ),
    path(
        "accounts/<int:user_id>/second-factor/",
        second_factor.second_factor_manage,
        name="second_factor_manage",
    ),
    path("accounts/sealed/", views.sealed, name="sealed"),
    # Creating, editing, sealing, removing accounts; the user's own password.
    path("", include("xueji.accounts.administration.urls")),
]
