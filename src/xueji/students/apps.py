from django.apps import AppConfig


class StudentsConfig(AppConfig):
    name = "xueji.students"
    label = "students"

    def ready(self) -> None:
        # The school system closes and merges schools; their pupils are the record's.
        from xueji.schools.pupils import register_pupils
        from xueji.students.school_roll import SchoolRoll

        register_pupils(SchoolRoll())
