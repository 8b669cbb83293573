from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IdentityConfig(AppConfig):
    name = "xueji.identity"
    label = "identity"

    def ready(self) -> None:
        # Registration asks identity, through students' registry, whether a child gets an L
        # number (the population check) and has its identity checked once the record exists.
        from xueji.identity.services import (
            registration_identity_check,
            registration_needs_l_number,
        )
        from xueji.students.numbering import (
            register_after_registration,
            register_temporary_number_policy,
        )

        register_temporary_number_policy(registration_needs_l_number)
        register_after_registration(registration_identity_check)

        # The menu (xueji.access.menu): identity and duplicates (身份核验与一人多籍).
        from xueji.access.menu import MenuEntry, menu_register
        from xueji.access.policy import Action

        menu_register(
            MenuEntry(
                "identity",
                _("Identity check"),
                "identity:statuses",
                order=10,
                action=Action.IDENTITY_STATUS_VIEW,
            ),
            MenuEntry(
                "identity",
                _("Possible duplicates"),
                "identity:pairs",
                order=20,
                action=Action.DUPLICATE_VIEW,
            ),
            MenuEntry(
                "identity",
                _("Children with no record"),
                "identity:unrecorded",
                order=30,
                action=Action.UNRECORDED_VIEW,
            ),
            MenuEntry(
                "identity",
                _("Records away from the child"),
                "identity:anomalies",
                order=40,
                action=Action.UNRECORDED_VIEW,
            ),
            MenuEntry(
                "identity",
                _("Population roll"),
                "identity:roll",
                order=50,
                action=Action.IDENTITY_ROLL_VIEW,
            ),
        )
