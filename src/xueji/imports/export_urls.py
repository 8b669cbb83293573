from django.urls import path

from xueji.imports import export_views

app_name = "exports"
urlpatterns = [
    path("exports/students.<slug:fmt>", export_views.records, name="records"),
    path("exports/classes/<int:class_id>/roster.<slug:fmt>", export_views.roster, name="roster"),
]
