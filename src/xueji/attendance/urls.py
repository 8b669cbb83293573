from django.urls import path

from xueji.attendance import bus_views, views

app_name = "attendance"
urlpatterns = [
    path("attendance/roll/", views.roll_home, name="roll_home"),
    path("attendance/roll/import/", views.roll_import, name="roll_import"),
    path("attendance/roll/<int:class_id>/", views.roll, name="roll"),
    path("attendance/morning/", views.morning, name="morning"),
    path("attendance/area/", views.area, name="area"),
    path("attendance/hollow/", views.hollow, name="hollow"),
    path("attendance/guests/", views.guests, name="guests"),
    path("attendance/rates/", views.rates, name="rates"),
    path("attendance/calendar/", views.calendar, name="calendar"),
    path("attendance/cases/", views.cases, name="cases"),
    path("attendance/cases/<uuid:case_id>/", views.case, name="case"),
    path("attendance/cases/<uuid:case_id>/step/", views.case_step, name="case_step"),
    path("attendance/cases/<uuid:case_id>/assign/", views.case_assign_view, name="case_assign"),
    path("attendance/cases/<uuid:case_id>/close/", views.case_close_view, name="case_close"),
    path("attendance/cases/<uuid:case_id>/dropout/", views.case_dropout_view, name="case_dropout"),
    path("attendance/ledger/", views.ledger, name="ledger"),
    path("attendance/settings/", views.settings_page, name="settings"),
    path("attendance/buses/", bus_views.buses, name="buses"),
    path("attendance/buses/<int:bus_route_id>/", bus_views.bus_route, name="bus_route"),
    path("attendance/board/", bus_views.board_home, name="board_home"),
    path("attendance/board/<int:bus_route_id>/", bus_views.board, name="board"),
]
