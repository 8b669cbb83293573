from django.urls import path

from xueji.stats import views

app_name = "stats"
urlpatterns = [
    path("stats/", views.dashboard, name="dashboard"),
    path("stats/grade-age-sex/", views.grade_age_sex, name="grade_age_sex"),
    path("stats/breakdown/", views.breakdown, name="breakdown"),
    path("stats/annual/", views.annual, name="annual"),
    path("stats/mobility/", views.mobility, name="mobility"),
    path(
        "stats/<slug:page>/export/<slug:key>.<slug:fmt>",
        views.export,
        name="export",
    ),
]
