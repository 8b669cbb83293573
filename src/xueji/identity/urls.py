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
]
