from django.apps import AppConfig


class AttendanceConfig(AppConfig):
    name = "xueji.attendance"
    label = "attendance"
