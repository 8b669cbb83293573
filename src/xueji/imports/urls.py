from django.urls import path

from xueji.imports import views

app_name = "imports"
urlpatterns = [
    path("imports/", views.import_index, name="index"),
    path("imports/upload/", views.upload, name="upload"),
    path(
        "imports/templates/updates-prefilled.xlsx",
        views.template_prefilled,
        name="template_prefilled",
    ),
    path("imports/templates/<str:purpose>.xlsx", views.template, name="template"),
    path("imports/<uuid:job_id>/", views.detail, name="detail"),
    path("imports/<uuid:job_id>/progress/", views.progress, name="progress"),
    path("imports/<uuid:job_id>/report.xlsx", views.report, name="report"),
]
