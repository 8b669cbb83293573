from django.urls import path

from xueji.corrections import views

app_name = "corrections"
urlpatterns = [
    path("corrections/", views.correction_index, name="list"),
    path("corrections/new/<uuid:student_id>/", views.new, name="new"),
    path("corrections/<uuid:correction_id>/", views.detail, name="detail"),
    path("corrections/<uuid:correction_id>/complete/", views.complete, name="complete"),
    path(
        "corrections/<uuid:correction_id>/school-decision/",
        views.school_decision,
        name="school_decision",
    ),
    path(
        "corrections/<uuid:correction_id>/county-decision/",
        views.county_decision,
        name="county_decision",
    ),
    path("corrections/<uuid:correction_id>/dismiss/", views.dismiss, name="dismiss"),
    path("corrections/<uuid:correction_id>/withdraw/", views.withdraw, name="withdraw"),
    path(
        "corrections/<uuid:correction_id>/evidence/<uuid:evidence_id>/",
        views.evidence,
        name="evidence",
    ),
    path("students/<uuid:student_id>/other-info/", views.other_info, name="other_info"),
]
