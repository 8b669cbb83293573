from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AttendanceConfig(AppConfig):
    name = "xueji.attendance"
    label = "attendance"

    def ready(self) -> None:
        # The students app tells attendance when a record leaves a school's roll: a
        # compulsory-age child left with nowhere to go gets a case in the same transaction.
        from xueji.attendance.services.scan import case_open_on_leaving
        from xueji.students.record import register_after_leave

        register_after_leave(case_open_on_leaving)

        # The menu (xueji.access.menu): the roll, the mornings, the cases (考勤与控辍保学).
        from xueji.access.menu import MenuEntry, menu_register
        from xueji.access.models import ScopeLevel
        from xueji.access.policy import Action

        def school_level(scope: object) -> bool:
            return getattr(scope, "level", None) == ScopeLevel.SCHOOL

        def bureau_level(scope: object) -> bool:
            return scope is not None and not school_level(scope)

        menu_register(
            MenuEntry(
                "attendance",
                _("Daily roll"),
                "attendance:roll_home",
                order=10,
                action=Action.ATTENDANCE_TAKE,
                also=("attendance:roll",),
            ),
            MenuEntry(
                "attendance",
                _("Roll from a card system"),
                "attendance:roll_import",
                order=15,
                action=Action.ATTENDANCE_CORRECT,
            ),
            MenuEntry(
                "attendance",
                _("This morning"),
                "attendance:morning",
                order=20,
                action=Action.ATTENDANCE_VIEW,
                visible=school_level,
            ),
            MenuEntry(
                "attendance",
                _("Attendance in the area"),
                "attendance:area",
                order=25,
                action=Action.ATTENDANCE_VIEW,
                visible=bureau_level,
            ),
            MenuEntry(
                "attendance",
                _("Dropout-control cases"),
                "attendance:cases",
                order=30,
                action=Action.CASE_VIEW,
                also=(
                    "attendance:case",
                    "attendance:case_close",
                    "attendance:case_dropout",
                ),
            ),
            MenuEntry(
                "attendance",
                _("Monthly ledger"),
                "attendance:ledger",
                order=35,
                action=Action.CASE_VIEW,
            ),
            MenuEntry(
                "attendance",
                _("Dropout-control rates"),
                "attendance:rates",
                order=40,
                action=Action.ATTENDANCE_VIEW,
            ),
            MenuEntry(
                "attendance",
                _("Hollow records and guests"),
                "attendance:hollow",
                order=45,
                action=Action.ATTENDANCE_VIEW,
            ),
            MenuEntry(
                "attendance",
                _("School buses"),
                "attendance:buses",
                order=60,
                action=Action.BUS_MANAGE,
                also=("attendance:bus_route",),
            ),
            MenuEntry(
                "attendance",
                _("Bus boarding check"),
                "attendance:board_home",
                order=12,
                action=Action.BUS_BOARD,
                also=("attendance:board",),
            ),
            MenuEntry(
                "attendance",
                _("Dropout-control settings"),
                "attendance:settings",
                order=55,
                action=Action.ATTENDANCE_SETTINGS,
            ),
            MenuEntry(
                "attendance",
                _("Closure days"),
                "attendance:calendar",
                order=50,
                action=Action.CALENDAR_MANAGE,
            ),
        )
