from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CorrectionsConfig(AppConfig):
    name = "xueji.corrections"
    label = "corrections"

    def ready(self) -> None:
        # These modules import models, which may be imported only once the apps are loaded.
        from xueji.access.docs import DocumentedWorkflow, document_workflow
        from xueji.corrections.workflow import TRANSITIONS, Event, State

        # docs/permissions.md lists who takes each step of the correction workflow.
        document_workflow(
            DocumentedWorkflow(
                title="Key-data corrections (关键数据变更)",
                source="src/xueji/corrections/workflow.py",
                transitions=TRANSITIONS,
                states=State,
                events=Event,
                closing=(
                    "School steps are taken at the school that holds the request, county steps "
                    "by an",
                    "approver of that school's county. Any other transition is refused (409).",
                ),
            )
        )

        # The evidence (up to 2 MB each, hence small batches) is moved by `xueji rotate_keys`
        # with the registry's other sealed values.
        from xueji.corrections.evidence import CONTEXT as EVIDENCE_CONTEXT
        from xueji.corrections.models import Evidence
        from xueji.students.sealing import SealedColumn, sealed_column_register

        sealed_column_register(SealedColumn(Evidence, "sealed", EVIDENCE_CONTEXT, batch_rows=10))

        # A registrar who leaves hands the corrections they asked for to the successor.
        from xueji.access.handover import register_open_items
        from xueji.corrections.handover import OPEN_CORRECTIONS

        register_open_items(OPEN_CORRECTIONS)

        # A school with corrections open cannot close or merge (xueji.schools.pupils).
        from xueji.corrections.school_closure import corrections_open
        from xueji.schools.pupils import register_closure_check

        register_closure_check("corrections", corrections_open)

        # The menu (xueji.access.menu): the key-data corrections (核查); asking for one, or
        # editing other information, is a page of the student's record (under 查找学生).
        from xueji.access.menu import MenuEntry, menu_attach, menu_register
        from xueji.access.policy import Action

        menu_register(
            MenuEntry(
                "checks",
                _("Corrections"),
                "corrections:list",
                order=20,
                action=Action.CORRECTION_VIEW,
            )
        )
        menu_attach("students:search", "corrections:new", "corrections:other_info")
