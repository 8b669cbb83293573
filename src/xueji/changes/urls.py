from django.urls import path

from xueji.changes import views

app_name = "changes"
urlpatterns = [
    path("changes/", views.queue, name="queue"),
    path("changes/transfer/", views.transfer, name="transfer"),
    path("changes/students/<uuid:student_id>/new/", views.new, name="new"),
    path("changes/<uuid:change_id>/", views.detail, name="detail"),
    path(
        "changes/<uuid:change_id>/school-decision/",
        views.school_decision,
        name="school_decision",
    ),
    path(
        "changes/<uuid:change_id>/bureau-decision/",
        views.bureau_decision,
        name="bureau_decision",
    ),
    path("changes/<uuid:change_id>/withdraw/", views.withdraw, name="withdraw"),
    path(
        "changes/<uuid:change_id>/evidence/<uuid:change_evidence_id>/",
        views.evidence,
        name="evidence",
    ),
    path("changes/notice/<int:school_id>/", views.notice, name="notice"),
]
