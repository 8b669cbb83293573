from django.urls import path

from xueji.identity import views

app_name = "identity"
urlpatterns = [
    path("identity/", views.statuses, name="statuses"),
    path("identity/roll/", views.roll, name="roll"),
    path("identity/roll/upload/", views.roll_upload, name="roll_upload"),
    path("identity/settings/", views.settings_save, name="settings"),
    path("identity/pairs/", views.pairs, name="pairs"),
    path("identity/pairs/scan/", views.scan, name="scan"),
    path("identity/pairs/<uuid:pair_id>/", views.pair, name="pair"),
    path("identity/pairs/<uuid:pair_id>/decision/", views.pair_decision, name="pair_decision"),
    path("identity/pairs/<uuid:pair_id>/undo/", views.pair_undo_view, name="pair_undo"),
    path("identity/unrecorded/", views.unrecorded, name="unrecorded"),
    path(
        "identity/unrecorded/<uuid:unrecorded_id>/decision/",
        views.unrecorded_decision,
        name="unrecorded_decision",
    ),
    path("identity/anomalies/", views.anomaly_list, name="anomalies"),
    # 县级审核: the county's review of new registrations, and the registrar's side of it.
    path("identity/reviews/", views.reviews, name="reviews"),
    path("identity/reviews/<uuid:registration_id>/", views.review, name="review"),
    path(
        "identity/reviews/<uuid:registration_id>/approve/",
        views.review_approve,
        name="review_approve",
    ),
    path(
        "identity/reviews/<uuid:registration_id>/return/", views.review_return, name="review_return"
    ),
    path("identity/registrations/", views.registrations, name="registrations"),
    path(
        "identity/registrations/<uuid:registration_id>/",
        views.registration,
        name="registration",
    ),
    path(
        "identity/registrations/<uuid:registration_id>/resubmit/",
        views.registration_resubmit_view,
        name="registration_resubmit",
    ),
    path(
        "identity/registrations/<uuid:registration_id>/withdraw/",
        views.registration_withdraw_view,
        name="registration_withdraw",
    ),
]
