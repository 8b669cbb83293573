from django.apps import AppConfig


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

        # A school with corrections open cannot close or merge (xueji.schools.pupils).
        from xueji.corrections.school_closure import corrections_open
        from xueji.schools.pupils import register_closure_check

        register_closure_check("corrections", corrections_open)
