from django.urls import path

from xueji.yearend import views

app_name = "yearend"

urlpatterns = [
    path("yearend/", views.index, name="index"),
    path("yearend/plan/", views.plan, name="plan"),
    path("yearend/runs/<uuid:run_id>/", views.detail, name="detail"),
    path("yearend/runs/<uuid:run_id>/progress/", views.progress, name="progress"),
    path("yearend/runs/<uuid:run_id>/start/", views.start, name="start"),
    path("yearend/runs/<uuid:run_id>/reverse/", views.reverse_run, name="reverse"),
    path("yearend/intake/", views.intake, name="intake"),
    path("yearend/dropouts/", views.dropouts, name="dropouts"),
    path("yearend/outcomes/", views.outcomes, name="outcomes"),
    path("yearend/outcome/<uuid:student_id>/", views.outcome, name="outcome"),
    path("yearend/periods/", views.periods, name="periods"),
    path("yearend/periods/set/", views.period_set, name="period_set"),
    path("yearend/periods/clear/", views.period_clear, name="period_clear"),
]
