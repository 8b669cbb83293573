from django.urls import path

from xueji.imports import export_views

app_name = "exports"
urlpatterns = [
    path("exports/students.<slug:fmt>", export_views.records, name="records"),
    path("exports/classes/<int:class_id>/roster.<slug:fmt>", export_views.roster, name="roster"),
    path("exports/", export_views.jobs, name="jobs"),
    path("exports/<uuid:export_id>/", export_views.job, name="job"),
    path("exports/<uuid:export_id>/progress/", export_views.job_progress, name="job_progress"),
    path("exports/<uuid:export_id>/file", export_views.job_file, name="job_file"),
]
