from django.urls import path

from xueji.accounts import views

app_name = "accounts"
urlpatterns = [
    path("account/second-factor/", views.second_factor, name="second_factor"),
    path("account/second-factor/setup/", views.second_factor_setup, name="second_factor_setup"),
    path("accounts/sealed/", views.sealed, name="sealed"),
]
