"""The account administration's pages, included by xueji.accounts.urls (namespace "accounts")."""

from django.urls import path

from xueji.accounts.administration import views

urlpatterns = [
    path("accounts/", views.account_list_page, name="account_list"),
    path("accounts/new/", views.account_create_page, name="account_create"),
    path("accounts/bulk/", views.bulk_page, name="bulk"),
    path("accounts/bulk/create/", views.bulk_create_page, name="bulk_create"),
    path("accounts/bulk/template.xlsx", views.bulk_template, name="bulk_template"),
    path("accounts/<int:user_id>/", views.account_page, name="account"),
    path("accounts/<int:user_id>/edit/", views.account_edit_page, name="account_edit"),
    path("accounts/<int:user_id>/seal/", views.account_seal_page, name="account_seal"),
    path("accounts/<int:user_id>/reopen/", views.account_reopen_page, name="account_reopen"),
    path("accounts/<int:user_id>/remove/", views.account_remove_page, name="account_remove"),
    path("accounts/<int:user_id>/password/", views.account_password_page, name="account_password"),
    path(
        "accounts/<int:user_id>/hand-over/", views.account_hand_over_page, name="account_hand_over"
    ),
    path("account/password/", views.password_change_page, name="password_change"),
]
