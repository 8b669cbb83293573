from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StudentsConfig(AppConfig):
    name = "xueji.students"
    label = "students"

    def ready(self) -> None:
        # The school system closes and merges schools; their pupils are the record's.
        from xueji.schools.pupils import register_pupils
        from xueji.students.school_roll import SchoolRoll

        register_pupils(SchoolRoll())

        # The menu (xueji.access.menu): the home page above the groups; finding and registering
        # students under 学籍.
        from xueji.access.menu import TOP, MenuEntry, menu_register
        from xueji.access.policy import Action

        menu_register(
            MenuEntry(TOP, _("Home"), "students:home", order=0),
            MenuEntry(
                "records",
                _("Find a student"),
                "students:search",
                order=10,
                action=Action.STUDENT_VIEW_LIST,
                also=("students:detail", "students:roster", "students:formal_number"),
            ),
            MenuEntry(
                "records",
                _("Register a new student"),
                "students:register",
                order=20,
                action=Action.STUDENT_REGISTER,
            ),
        )
