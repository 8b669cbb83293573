from django.urls import path

from xueji.archive import views

app_name = "archive"
urlpatterns = [
    path("archive/", views.home, name="home"),
    path("archive/students/<uuid:student_id>/", views.student, name="student"),
    path("archive/students/<uuid:student_id>/term/", views.term_report, name="term_report"),
    path("archive/students/<uuid:student_id>/factual/", views.factual_add, name="factual_add"),
    path("archive/students/<uuid:student_id>/conduct/", views.conduct_new, name="conduct_add"),
    path("archive/conduct/<uuid:conduct_id>/lift/", views.conduct_lift_view, name="conduct_lift"),
    path("archive/students/<uuid:student_id>/health/", views.health_new, name="health_add"),
    path(
        "archive/students/<uuid:student_id>/vaccination/",
        views.vaccination_new,
        name="vaccination_add",
    ),
    path("archive/certificates/", views.certificates, name="certificates"),
    path(
        "archive/students/<uuid:student_id>/certificate/",
        views.certificate_new,
        name="certificate_new",
    ),
    path("archive/certificates/<uuid:certificate_id>/", views.certificate, name="certificate"),
    path(
        "archive/certificates/<uuid:certificate_id>/pdf/",
        views.certificate_download,
        name="certificate_pdf",
    ),
    path(
        "archive/certificates/<uuid:certificate_id>/withdraw/",
        views.certificate_withdraw,
        name="certificate_withdraw",
    ),
    path("archive/students/<uuid:student_id>/file/", views.file_new, name="file_new"),
    path("archive/classes/<int:class_id>/file/", views.class_file_new, name="class_file_new"),
    path("archive/files/<uuid:file_job_id>/", views.file_job, name="file_job"),
    path("archive/files/<uuid:file_job_id>/pdf/", views.file_download, name="file_download"),
    path("archive/fitness/", views.fitness, name="fitness"),
    path("archive/fitness/export/", views.fitness_export, name="fitness_export"),
    # Public: no account (the QR code's page and the published keys).
    path("certificates/v/<str:token>/", views.certificate_public, name="certificate_public"),
    path("certificates/keys.json", views.signing_keys, name="signing_keys"),
]
