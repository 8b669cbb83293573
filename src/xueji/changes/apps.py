from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


class ChangesConfig(AppConfig):
    name = "xueji.changes"
    label = "changes"

    def ready(self) -> None:
        # The rules' schema names the kinds of change, from the models: only once apps are ready.
        from xueji.changes.checks import check_change_rules

        # A wrong XUEJI_PROVINCE_RULES or XUEJI_CHANGE_CLOSED_PERIODS stops the server.
        checks.register(check_change_rules)

        # The evidence is sealed like the corrections' (their context): `xueji rotate_keys`
        # moves it with the registry's other sealed values.
        from xueji.changes.models import ChangeEvidence
        from xueji.corrections.evidence import CONTEXT as EVIDENCE_CONTEXT
        from xueji.students.sealing import SealedColumn, sealed_column_register

        sealed_column_register(
            SealedColumn(ChangeEvidence, "sealed", EVIDENCE_CONTEXT, batch_rows=10)
        )

        # A school with changes under way cannot close or merge (xueji.schools.pupils).
        from xueji.changes.school_closure import changes_under_way
        from xueji.schools.pupils import register_closure_check

        register_closure_check("changes", changes_under_way)

        # A registrar who leaves hands the changes they filed to the successor.
        from xueji.access.handover import register_open_items
        from xueji.changes.handover import OPEN_CHANGES

        register_open_items(OPEN_CHANGES)

        # The menu (xueji.access.menu): the queue with the number waiting for the user's
        # decision, closed periods and province rules (异动); filing a change is a page of the
        # student's record (under 查找学生).
        from xueji.access.menu import MenuEntry, menu_attach, menu_register
        from xueji.access.policy import Action
        from xueji.changes.selectors import inbox_count

        menu_register(
            MenuEntry(
                "changes",
                _("Changes of status"),
                "changes:queue",
                order=10,
                action=Action.CHANGE_VIEW,
                element_id="changes-nav",
                inbox=inbox_count,
                inbox_template="changes/_inbox_count.html",
            ),
            MenuEntry(
                "changes",
                _("Closed periods"),
                "changes:periods",
                order=20,
                action=Action.CHANGE_WINDOW_VIEW,
            ),
            MenuEntry(
                "changes",
                _("Province rules"),
                "changes:rules",
                order=30,
                action=Action.PROVINCE_RULES_VIEW,
            ),
        )
        menu_attach("students:search", "changes:new")
