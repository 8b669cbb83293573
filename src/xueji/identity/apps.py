from django.apps import AppConfig


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
