from django.urls import path

from xueji.exports import change_queues, views

app_name = "exports"
urlpatterns = [
    path("exports/students.<slug:fmt>", views.records, name="records"),
    path("exports/classes/<int:class_id>/roster.<slug:fmt>", views.roster, name="roster"),
    path("exports/changes.<slug:fmt>", change_queues.change_queue_export, name="changes_queue"),
    path("exports/", views.jobs, name="jobs"),
    path("exports/<uuid:export_id>/", views.job, name="job"),
    path("exports/<uuid:export_id>/progress/", views.job_progress, name="job_progress"),
    path("exports/<uuid:export_id>/file", views.job_file, name="job_file"),
]
