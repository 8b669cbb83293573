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

        # 县级审核: whether a school's registrations wait for the county, the duplicate check of
        # a registration under review, and its pairs closed when the school withdraws it.
        from xueji.identity.review import registration_duplicate_check
        from xueji.identity.services import registration_needs_review, registration_withdrawn
        from xueji.students.numbering import register_after_withdrawal, register_review_policy

        register_review_policy(registration_needs_review)
        register_after_registration(registration_duplicate_check)
        register_after_withdrawal(registration_withdrawn)

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
                _("Registrations to review"),
                "identity:reviews",
                order=15,
                action=Action.REGISTRATION_REVIEW,
            ),
            MenuEntry(
                "identity",
                _("Registrations under review"),
                "identity:registrations",
                order=16,
                action=Action.STUDENT_REGISTER,
            ),
            MenuEntry(
                "identity",
                _("Population roll"),
                "identity:roll",
                order=50,
                action=Action.IDENTITY_ROLL_VIEW,
            ),
        )
