from django.urls import path

from xueji.reporting import views

app_name = "reporting"

urlpatterns = [
    path("reporting/", views.index, name="index"),
    path("reporting/open/", views.open_round, name="open"),
    path("reporting/units/<int:unit_id>/", views.unit_page, name="unit"),
    path("reporting/units/<int:unit_id>/checks/", views.checks_page, name="checks"),
    path("reporting/units/<int:unit_id>/cell/", views.cell_page, name="cell"),
    path("reporting/units/<int:unit_id>/export.xlsx", views.export, name="export"),
    path("reporting/units/<int:unit_id>/prepare/", views.prepare, name="prepare"),
    path("reporting/units/<int:unit_id>/confirm/", views.confirm, name="confirm"),
    path("reporting/units/<int:unit_id>/return/", views.return_unit, name="return"),
    path("reporting/units/<int:unit_id>/revise/", views.revise, name="revise"),
    path("reporting/units/<int:unit_id>/revision/", views.decide, name="decide"),
]
