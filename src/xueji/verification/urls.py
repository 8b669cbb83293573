from django.urls import path

from xueji.verification import views

app_name = "verification"
urlpatterns = [
    path("verification/", views.my_classes_page, name="my_classes"),
    path("verification/classes/<int:class_id>/", views.sheet, name="sheet"),
    path(
        "verification/classes/<int:class_id>/students/<uuid:student_id>/",
        views.record,
        name="record",
    ),
    path("verification/students/<uuid:student_id>/confirm/", views.confirm, name="confirm"),
    path("verification/students/<uuid:student_id>/report/", views.report, name="report"),
    path("verification/windows/", views.windows, name="windows"),
    path("verification/windows/open/", views.open_window, name="open_window"),
    path("verification/windows/<int:window_id>/close/", views.close_window, name="close_window"),
    # The guardians' record check sheets (核对表).
    path("verification/guardian-sheets/", views.guardian_classes_page, name="guardian_classes"),
    path(
        "verification/classes/<int:class_id>/guardian-sheets/",
        views.guardian_sheets_page,
        name="guardian_sheets",
    ),
    path(
        "verification/students/<uuid:student_id>/guardian-check/",
        views.guardian_check,
        name="guardian_check",
    ),
]
